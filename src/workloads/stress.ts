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
import { A_COMPUTE, A_KERNEL, type Program, type Task } from "../kernel/task.js";
import type { StressSpec } from "../spec/types.js";

/** One stress load: its processes and interrupt sources. */
export class Stress implements Program, TimerTarget {
  readonly tasks: Task[] = [];
  private readonly rngs: RandomStream[] = [];
  /** Whether each process's next action is a kernel activity (else user computation). */
  private readonly inUser: Uint8Array;
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
    }
    this.rate = total;
    this.inUser = new Uint8Array(count).fill(1);
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
      this.irqLine.push(kernel.registerIrq(act));
      this.irqMean.push(1e9 / hz);
      const id = sim.timer(this, 0, k);
      this.irqTimer.push(id);
      sim.arm(id, now + Math.round(this.irqRng.exponential(1e9 / hz)));
    }
  }

  next(t: Task, _now: number): void {
    const i = t.tag;
    const r = this.rngs[i];
    if (this.inUser[i] === 1 || this.rate <= 0) {
      this.inUser[i] = 0;
      t.act = A_COMPUTE;
      t.actArg = this.rate > 0 ? Math.max(1, Math.round(r.exponential(1e9 / this.rate))) : Infinity;
      return;
    }
    this.inUser[i] = 1;
    const x = r.next() * this.rate;
    const cum = this.cum;
    let k = 0;
    while (k < cum.length - 1 && x >= cum[k]) k++;
    t.act = A_KERNEL;
    t.actArg = this.acts[k];
    this.activities++;
  }

  /** An interrupt of source k arrives. */
  onTimer(_kind: number, k: number, now: number): void {
    const cpu = this.cpus[this.irqNextCpu];
    this.irqNextCpu = (this.irqNextCpu + 1) % this.cpus.length;
    this.interrupts++;
    this.kernel.raiseDeviceIrq(cpu, this.irqLine[k], now);
    this.sim.arm(this.irqTimer[k], now + Math.max(1, Math.round(this.irqRng.exponential(this.irqMean[k]))));
  }
}
