/**
 * CPU hogs: processes that compute forever (stress -c N, while(1);), or, with
 * `workMs`, CPU-bound programs that need that much CPU time and then exit.
 * The time each program finished is recorded (`finishNs`, -1 while running).
 * Exit is modelled as leaving the runqueue for good (the task blocks on a
 * pipe nobody writes), which is what exit() looks like to the scheduler.
 */
import type { LinuxKernel, Pipe } from "../kernel/linux.js";
import { A_COMPUTE, A_PIPE_READ, type Program, type Task } from "../kernel/task.js";
import { MS } from "../engine/sim.js";
import type { TableSet } from "../results/tables.js";
import type { CpuHogSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

export class CpuHog implements Program {
  readonly tasks: Task[] = [];
  /** Finish time of each program, ns (-1 = not finished). */
  readonly finishNs: number[] = [];
  private readonly started: boolean[] = [];
  private readonly exitPipe: Pipe | null;

  constructor(kernel: LinuxKernel, readonly name: string, count: number, cpus: number[], nice: number, now: number, readonly workMs = Infinity) {
    this.exitPipe = Number.isFinite(workMs) ? kernel.newPipe() : null;
    for (let i = 0; i < count; i++) {
      const cpu = cpus[i % cpus.length];
      this.finishNs.push(-1);
      this.started.push(false);
      this.tasks.push(kernel.spawn(`${name}:hog${i}`, this, cpu, cpus, nice, now, i));
    }
  }

  next(t: Task, now: number): void {
    const i = t.tag;
    if (this.exitPipe === null) {
      t.act = A_COMPUTE;
      t.actArg = Infinity;
      return;
    }
    if (!this.started[i]) {
      this.started[i] = true;
      t.act = A_COMPUTE;
      t.actArg = this.workMs * 1e6;
      return;
    }
    if (this.finishNs[i] < 0) this.finishNs[i] = now;
    t.act = A_PIPE_READ; // exit: never runnable again
    t.actArg = this.exitPipe.id;
  }
}

/**
 * Workload kind `cpu-hog`: `count` hog processes named `guest/hog#index:hogN`.
 * Table `programs` (one row per process of the hogs with a finite work_ms).
 */
export const cpuHogWorkload: WorkloadModule<CpuHogSpec> = {
  kind: "cpu-hog",
  tables: ["programs"],
  start() {
    const hogs: { guest: string; w: CpuHog }[] = [];
    return {
      add(w, at) {
        hogs.push({ guest: at.guest.name, w: new CpuHog(at.kernel, `${at.guest.name}/hog#${at.index}`, w.count ?? 1, w.cpus ?? at.allCpus, w.nice ?? 0, at.now, w.work_ms ?? Infinity) });
      },
      tables(): TableSet {
        const finite = hogs.filter((h) => Number.isFinite(h.w.workMs));
        if (!finite.length) return {};
        const rows = finite.flatMap((h) => h.w.tasks.map((t, i) => ({ g: h.guest, t, work: h.w.workMs, fin: h.w.finishNs[i] })));
        return {
          programs: {
            domain: rows.map((x) => x.g), task: rows.map((x) => x.t.name), work_ms: rows.map((x) => x.work),
            finish_ms: rows.map((x) => (x.fin >= 0 ? x.fin / MS : null)),
          },
        };
      },
    };
  },
};
