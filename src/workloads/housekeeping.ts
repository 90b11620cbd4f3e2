/**
 * Housekeeping: the background activity of an otherwise idle Linux system
 * (data/kernels `housekeeping` section), so that "no load" is not "no
 * kernel activity at all".
 *
 * - One kernel worker per CPU (SCHED_OTHER, pinned like the per-CPU
 *   kworkers) performs the `housekeeping` kernel activity at Poisson
 *   instants of rate kworker_rate_hz x intensity: vmstat, RCU, writeback and
 *   timer work whose non-preemptible stretches depend on the preemption
 *   model (long on PREEMPT_NONE, raw sections only on PREEMPT_RT).
 * - One unbound worker performs the `device_burst` activity at rate
 *   device_rate_hz x intensity: a driver operation of a few register
 *   accesses on the console/disk controller under the driver's lock. Each
 *   access goes through the host's deviceAccess: on a Xen HVM guest it is
 *   an ioreq served by QEMU in Dom0 (the vCPU waits), elsewhere a plain or
 *   in-kernel emulated access.
 *
 * Sleeps are absolute clock_nanosleep calls, so the workers also program
 * the clockevent device like the kernel's own timers do.
 */
import type { RandomStream } from "../engine/random.js";
import type { Simulator } from "../engine/sim.js";
import type { LinuxKernel } from "../kernel/linux.js";
import { A_DEVICE_IO, A_KERNEL, A_SLEEP_UNTIL, A_WAIT, MM_KERNEL, type Program, type Task } from "../kernel/task.js";
import type { HousekeepingSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

export class Housekeeping implements Program {
  readonly tasks: Task[] = [];
  private readonly rngs: RandomStream[] = [];
  /** Mean gap between two episodes of each worker, ns (Infinity: never). */
  private readonly mean: number[] = [];
  private readonly act: number[] = [];
  private readonly kind: number[] = [];
  private readonly nextAt: number[] = [];
  private readonly asleep: Uint8Array;
  /** Episodes performed (kernel-work items, device operations). */
  episodes = 0;
  deviceOps = 0;

  constructor(readonly sim: Simulator, readonly kernel: LinuxKernel, readonly name: string, spec: HousekeepingSpec, cpus: number[], now: number) {
    const intensity = spec.intensity ?? 1;
    const d = kernel.lat.data.housekeeping;
    const kw = d.kworker_rate_hz.value * intensity, dev = d.device_rate_hz.value * intensity;
    const n = cpus.length + 1;
    this.asleep = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const worker = i < cpus.length;
      const hz = worker ? kw : dev;
      this.mean.push(hz > 0 ? 1e9 / hz : Infinity);
      this.kind.push(worker ? A_KERNEL : A_DEVICE_IO);
      this.act.push(kernel.lat.activity(worker ? "housekeeping" : "device_burst").index);
      const r = sim.random.get(`${name}/w${i}`);
      this.rngs.push(r);
      this.nextAt.push(now + (hz > 0 ? Math.round(r.exponential(1e9 / hz)) : 0));
      const tname = worker ? `${name}:kworker/${cpus[i]}` : `${name}:kworker/u`;
      // kworkers are kernel threads (no mm of their own)
      const t = kernel.spawn(tname, this, worker ? cpus[i] : cpus[0], worker ? [cpus[i]] : cpus.slice(), 0, now, i, undefined, MM_KERNEL);
      t.rng = r;
      this.tasks.push(t);
    }
  }

  next(t: Task, now: number): void {
    const i = t.tag;
    if (!Number.isFinite(this.mean[i])) { t.act = A_WAIT; return; }
    if (this.asleep[i] === 1) {
      // woke for an episode
      this.asleep[i] = 0;
      t.act = this.kind[i];
      t.actArg = this.act[i];
      if (this.kind[i] === A_DEVICE_IO) this.deviceOps++;
      else this.episodes++;
      return;
    }
    // the episode (or the spawn) is done: sleep until the next Poisson instant
    let at = this.nextAt[i];
    if (at <= now) at = now + Math.max(1, Math.round(this.rngs[i].exponential(this.mean[i])));
    this.nextAt[i] = at + Math.max(1, Math.round(this.rngs[i].exponential(this.mean[i])));
    this.asleep[i] = 1;
    t.act = A_SLEEP_UNTIL;
    t.actArg = at;
  }
}

/** Workload kind `housekeeping`: kworkers named `guest/housekeeping#index:kworker/N`. No table of its own. */
export const housekeepingWorkload: WorkloadModule<HousekeepingSpec> = {
  kind: "housekeeping",
  tables: [],
  start() {
    return {
      add(w, at) {
        new Housekeeping(at.sim, at.kernel, `${at.guest.name}/housekeeping#${at.index}`, w, at.allCpus, at.now);
      },
      tables() {
        return {};
      },
    };
  },
};
