/**
 * CPU hogs: processes that compute forever (stress -c N, while(1);), or, with
 * `workMs`, CPU-bound programs that need that much CPU time and then exit.
 * The time each program finished is recorded (`finishNs`, -1 while running).
 * Exit is modelled as leaving the runqueue for good (the task blocks on a
 * pipe nobody writes), which is what exit() looks like to the scheduler.
 */
import type { LinuxKernel, Pipe } from "../kernel/linux.js";
import { A_COMPUTE, A_PIPE_READ, type Program, type Task } from "../kernel/task.js";

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
