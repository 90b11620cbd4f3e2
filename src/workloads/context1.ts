/**
 * UnixBench Context1 (UnixBench/src/context1.c): a master and a slave
 * process pass an incrementing counter through two pipes. The master loops
 * `write(p1); read(p2); iter++`, the slave `read(p1); write(p2); iter1++`.
 * UnixBench reports the master's iterations over the run duration as "lps".
 *
 * Besides the score, this workload classifies every hand-off between the two
 * processes: "fast pattern" when the writer is preempted by the reader it woke
 * (check_preempt_wakeup fired) and "slow pattern" when the switch happens
 * because a process blocked in read(2). It also samples the vruntime gap
 * Δ = vruntime(master) - vruntime(slave).
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { LinuxKernel, Pipe } from "../kernel/linux.js";
import {
  A_COMPUTE, A_PIPE_READ, A_PIPE_WRITE, type Program, SW_BLOCK, SW_PREEMPT_WAKEUP,
  type SwitchObserver, type Task,
} from "../kernel/task.js";

const MASTER = 0;
const SLAVE = 1;

/** Growable column of numbers (amortised, no per-sample allocation). */
export class NumColumn {
  data: Float64Array;
  n = 0;
  constructor(cap = 1024) { this.data = new Float64Array(cap); }
  push(x: number): void {
    if (this.n === this.data.length) {
      const d = new Float64Array(this.data.length * 2); d.set(this.data); this.data = d;
    }
    this.data[this.n++] = x;
  }
  toArray(): Float64Array { return this.data.slice(0, this.n); }
}

export interface Context1Options {
  cpus: number[];
  userNs: number;
  sampleNs: number;
  /** Statistics window start (warm-up end), ns. */
  from: number;
}

export class Context1 implements Program, SwitchObserver, TimerTarget {
  readonly p1: Pipe;
  readonly p2: Pipe;
  readonly master: Task;
  readonly slave: Task;
  private readonly step = [0, 0];
  /** Master iterations completed inside the statistics window. */
  loops = 0;
  /** Master iterations completed in total. */
  loopsTotal = 0;
  fast = 0;
  slow = 0;
  other = 0;
  readonly sT = new NumColumn();
  readonly sGap = new NumColumn();
  readonly sExec = new NumColumn();
  readonly sFast = new NumColumn();
  readonly sSlow = new NumColumn();
  private readonly sampleTimer: number;

  constructor(readonly sim: Simulator, readonly kernel: LinuxKernel, readonly name: string, readonly opt: Context1Options, now: number) {
    this.p1 = kernel.newPipe();
    this.p2 = kernel.newPipe();
    const cpu0 = opt.cpus[0];
    // the parent runs first; the forked child is placed on the same CPU by fork balancing when pinned
    this.master = kernel.spawn(`${name}:master`, this, cpu0, opt.cpus, 0, now, MASTER);
    this.slave = kernel.spawn(`${name}:slave`, this, opt.cpus.length > 1 ? opt.cpus[1] : cpu0, opt.cpus, 0, now, SLAVE);
    kernel.observe(this);
    this.sampleTimer = sim.timer(this, 0, 0);
    if (opt.sampleNs > 0) sim.arm(this.sampleTimer, now + opt.sampleNs);
  }

  next(t: Task, now: number): void {
    const role = t.tag;
    const s = this.step[role];
    if (role === MASTER) {
      if (s === 0) { t.act = A_PIPE_WRITE; t.actArg = this.p1.id; this.step[0] = 1; }
      else if (s === 1) { t.act = A_PIPE_READ; t.actArg = this.p2.id; this.step[0] = 2; }
      else {
        this.loopsTotal++;
        if (now >= this.opt.from) this.loops++;
        t.act = A_COMPUTE; t.actArg = this.opt.userNs; this.step[0] = 0;
      }
    } else {
      if (s === 0) { t.act = A_PIPE_READ; t.actArg = this.p1.id; this.step[1] = 1; }
      else if (s === 1) { t.act = A_PIPE_WRITE; t.actArg = this.p2.id; this.step[1] = 2; }
      else { t.act = A_COMPUTE; t.actArg = this.opt.userNs; this.step[1] = 0; }
    }
  }

  onSwitch(prev: Task | null, next: Task | null, reason: number, now: number): void {
    if (prev === null || next === null) return;
    const pair = (prev === this.master && next === this.slave) || (prev === this.slave && next === this.master);
    if (!pair || now < this.opt.from) return;
    if (reason === SW_PREEMPT_WAKEUP) this.fast++;
    else if (reason === SW_BLOCK) this.slow++;
    else this.other++;
  }

  onTimer(_k: number, _a: number, now: number): void {
    this.sT.push(now);
    this.sGap.push(this.master.vruntime - this.slave.vruntime);
    this.sExec.push(this.master.sumExec + this.slave.sumExec);
    this.sFast.push(this.fast);
    this.sSlow.push(this.slow);
    this.sim.arm(this.sampleTimer, now + this.opt.sampleNs);
  }
}
