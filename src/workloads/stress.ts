/**
 * Background stress: the rt-tests "worst-case latency" recipe as a
 * generative load (data/kernels stress section). `count` SCHED_OTHER
 * processes (default: processes_per_cpu per stress CPU) compute in user
 * space and enter the kernel for the activities of the kernel data
 * (system calls, page faults, direct reclaim, block I/O submission) at
 * their rates per second of running time, times `intensity`: the user-mode
 * stretch before each activity is exponential with mean
 * 1 / (intensity * sum of the rates), and the activity is drawn in
 * proportion to its rate. Device interrupts (network receive, disk
 * completion) arrive as Poisson processes at their rates times
 * `intensity`, on the stress CPUs in turn (irqbalance-like spreading).
 * What each activity does in the kernel (its sections, preemptible or not)
 * is the kernel model's business (linux.ts, latency.ts): the same load
 * meets long non-preemptible sections on a PREEMPT_NONE kernel and only
 * short raw sections on PREEMPT_RT. With intensity 0 the processes are pure
 * CPU hogs.
 */
import type { RandomStream } from "../engine/random.js";
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { LinuxKernel } from "../kernel/linux.js";
import { A_COMPUTE, A_KERNEL, A_WAIT, type Program, type Task } from "../kernel/task.js";
import type { StressSpec } from "../spec/types.js";
import type { TableSet } from "../results/tables.js";
import type { WorkloadModule } from "./registry.js";

/** One stress load: its processes and interrupt sources. */
export class Stress implements Program, TimerTarget {
  readonly tasks: Task[] = [];
  private readonly rngs: RandomStream[] = [];
  /** Each process's next action: 1 user computation, 0 a kernel activity, 2 an I/O wait after activity `lastAct`. */
  private readonly inUser: Uint8Array;
  private readonly lastAct: Int32Array;
  /** Per activity slot k (index into acts): probability of an I/O wait after it, and its mean (ns). */
  private readonly waitP: number[] = [];
  private readonly waitMean: number[] = [];
  /** I/O completion: line, one timer per process, and whether its I/O has completed. */
  private ioLine = -1;
  private readonly ioTimer: Int32Array;
  private readonly ioDone: Uint8Array;
  private readonly waiting: Uint8Array;
  /** Activity indices and cumulative rates of the process activities. */
  private readonly acts: number[] = [];
  private readonly cum: number[] = [];
  private readonly rate: number;
  // interrupt sources
  private readonly irqLine: number[] = [];
  private readonly irqMean: number[] = [];
  private readonly irqTimer: number[] = [];
  private readonly irqRng: RandomStream;
  private irqNextCpu = 0;
  /** Activities performed and interrupts raised (statistics). */
  activities = 0;
  interrupts = 0;
  readonly cpus: number[];

  constructor(readonly sim: Simulator, readonly kernel: LinuxKernel, readonly name: string, spec: StressSpec, allCpus: number[], now: number) {
    const intensity = spec.intensity ?? 1;
    const data = kernel.lat.data.stress;
    this.cpus = spec.cpus ?? allCpus;
    const count = spec.count ?? data.processes_per_cpu.value * this.cpus.length;
    let total = 0;
    for (const [act, r] of Object.entries(data.process_rates_hz)) {
      const hz = r.value * intensity;
      if (hz <= 0) continue;
      total += hz;
      this.acts.push(kernel.lat.activity(act).index);
      this.cum.push(total);
      const w = data.io_wait?.[act];
      this.waitP.push(w ? w.probability.value : 0);
      this.waitMean.push(w ? w.mean_us.value * 1000 : 0);
    }
    this.rate = total;
    this.inUser = new Uint8Array(count).fill(1);
    this.lastAct = new Int32Array(count);
    this.ioTimer = new Int32Array(count).fill(-1);
    this.ioDone = new Uint8Array(count);
    this.waiting = new Uint8Array(count);
    const waits = this.waitP.some((p) => p > 0);
    for (let i = 0; i < count; i++) {
      const r = sim.random.get(`${name}/p${i}`);
      this.rngs.push(r);
      const t = kernel.spawn(`${name}:p${i}`, this, this.cpus[i % this.cpus.length], this.cpus, 0, now, i);
      t.rng = r;
      this.tasks.push(t);
    }
    this.irqRng = sim.random.get(`${name}/irq`);
    for (const [act, r] of Object.entries(data.irq_rates_hz)) {
      const hz = r.value * intensity;
      if (hz <= 0) continue;
      const k = this.irqLine.length;
      // the disk's completion line also completes the processes' own I/O waits
      const io = waits && act === "block_completion";
      this.irqLine.push(kernel.registerIrq(act, io ? (_cpu, t) => this.onCompletion(t) : undefined));
      if (io) this.ioLine = this.irqLine[k];
      this.irqMean.push(1e9 / hz);
      const id = sim.timer(this, 0, k);
      this.irqTimer.push(id);
      sim.arm(id, now + Math.round(this.irqRng.exponential(1e9 / hz)));
    }
    if (waits) {
      if (this.ioLine < 0) this.ioLine = kernel.registerIrq("block_completion", (_cpu, t) => this.onCompletion(t));
      for (let i = 0; i < count; i++) this.ioTimer[i] = sim.timer(this, 1, i);
    }
  }

  next(t: Task, now: number): void {
    const i = t.tag;
    const r = this.rngs[i];
    if (this.inUser[i] === 2) {
      // after an I/O-submitting activity: wait for the completion, or go on computing
      const k = this.lastAct[i];
      this.inUser[i] = 1;
      if (this.waitP[k] > 0 && r.next() < this.waitP[k]) {
        this.ioDone[i] = 0;
        this.waiting[i] = 1;
        this.ioWaits++;
        this.sim.arm(this.ioTimer[i], now + Math.max(1, Math.round(r.exponential(this.waitMean[k]))));
        t.act = A_WAIT;
        return;
      }
    }
    if (this.inUser[i] === 1 || this.rate <= 0) {
      this.inUser[i] = 0;
      t.act = A_COMPUTE;
      t.actArg = this.rate > 0 ? Math.max(1, Math.round(r.exponential(1e9 / this.rate))) : Infinity;
      return;
    }
    const x = r.next() * this.rate;
    const cum = this.cum;
    let k = 0;
    while (k < cum.length - 1 && x >= cum[k]) k++;
    this.inUser[i] = this.waitP[k] > 0 ? 2 : 1;
    this.lastAct[i] = k;
    t.act = A_KERNEL;
    t.actArg = this.acts[k];
    this.activities++;
  }

  /** I/O waits started (statistics). */
  ioWaits = 0;

  /** The completion interrupt's handler: wakes every process whose I/O has completed. */
  private onCompletion(now: number): void {
    for (let i = 0; i < this.tasks.length; i++) {
      if (this.waiting[i] === 1 && this.ioDone[i] === 1) {
        this.waiting[i] = 0;
        this.kernel.wakeTask(this.tasks[i], now);
      }
    }
  }

  /** An interrupt of source k arrives (kind 0), or process k's I/O completes (kind 1). */
  onTimer(kind: number, k: number, now: number): void {
    if (kind === 1) {
      this.ioDone[k] = 1;
      this.kernel.raiseDeviceIrq(this.tasks[k].cpu, this.ioLine, now);
      return;
    }
    const cpu = this.cpus[this.irqNextCpu];
    this.irqNextCpu = (this.irqNextCpu + 1) % this.cpus.length;
    this.interrupts++;
    this.kernel.raiseDeviceIrq(cpu, this.irqLine[k], now);
    this.sim.arm(this.irqTimer[k], now + Math.max(1, Math.round(this.irqRng.exponential(this.irqMean[k]))));
  }
}

/** Workload kind `stress`: one load per spec entry, processes `guest/stress#index:pN`. Table `stress`. */
export const stressWorkload: WorkloadModule<StressSpec> = {
  kind: "stress",
  tables: ["stress"],
  start() {
    const stresses: { guest: string; w: Stress }[] = [];
    return {
      add(w, at) {
        stresses.push({ guest: at.guest.name, w: new Stress(at.sim, at.kernel, `${at.guest.name}/stress#${at.index}`, w, at.allCpus, at.now) });
      },
      tables(): TableSet {
        if (!stresses.length) return {};
        return {
          stress: {
            domain: stresses.map((x) => x.guest), processes: stresses.map((x) => x.w.tasks.length),
            kernel_activities: stresses.map((x) => x.w.activities), io_waits: stresses.map((x) => x.w.ioWaits), interrupts: stresses.map((x) => x.w.interrupts),
          },
        };
      },
    };
  },
};
