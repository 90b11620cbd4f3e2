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
import { MS, SEC, type Simulator, type TimerTarget } from "../engine/sim.js";
import type { LinuxKernel, Pipe } from "../kernel/linux.js";
import {
  A_COMPUTE, A_PIPE_READ, A_PIPE_WRITE, type Program, SW_BLOCK, SW_PREEMPT_WAKEUP,
  type SwitchObserver, type Task,
} from "../kernel/task.js";
import type { Context1GapRow, ColumnsOf, TableSet } from "../results/tables.js";
import type { Context1Spec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

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

/**
 * Workload kind `context1`: one Context1 instance per spec entry, named
 * `guest/context1#index`. Tables `context1` (one row per instance) and
 * `context1_gap` (the vruntime-gap samples of every instance, column
 * `workload` naming it).
 */
export const context1Workload: WorkloadModule<Context1Spec> = {
  kind: "context1",
  tables: ["context1", "context1_gap"],
  start(run) {
    const c1: { guest: string; w: Context1 }[] = [];
    return {
      add(w, at) {
        c1.push({ guest: at.guest.name, w: new Context1(at.sim, at.kernel, `${at.guest.name}/context1#${at.index}`, {
          cpus: w.cpus ?? at.allCpus, userNs: w.user_ns ?? 100, sampleNs: (w.sample_us ?? 1000) * 1000, from: at.from,
        }, at.now) });
      },
      tables(end): TableSet {
        if (!c1.length) return {};
        const durS = (end - run.from) / SEC;
        const out: TableSet = {
          context1: {
            domain: c1.map((x) => x.guest), loops: c1.map((x) => x.w.loops), duration_s: c1.map(() => durS),
            loops_per_s: c1.map((x) => x.w.loops / durS),
            fast_handoffs: c1.map((x) => x.w.fast), slow_handoffs: c1.map((x) => x.w.slow), other_handoffs: c1.map((x) => x.w.other),
            // share of loops whose hand-off was a wake-up preemption on write (fast pattern)
            fast_share: c1.map((x) => (x.w.loops ? Math.min(1, x.w.fast / x.w.loops) : 0)),
            workload: c1.map((x) => x.w.name),
          },
        };
        const sampled = c1.filter((x) => x.w.sT.n > 0);
        if (sampled.length) {
          const gap: ColumnsOf<Context1GapRow> = { domain: [], t_ms: [], gap_ms: [], pair_exec_ms: [], fast_handoffs: [], slow_handoffs: [], workload: [] };
          const col = <C extends keyof Context1GapRow>(c: C) => gap[c] as Context1GapRow[C][];
          for (const { guest, w } of sampled) {
            const n = w.sT.n;
            for (let i = 0; i < n; i++) {
              col("domain").push(guest);
              col("t_ms").push(w.sT.data[i] / MS);
              col("gap_ms").push(w.sGap.data[i] / MS);
              col("pair_exec_ms").push(w.sExec.data[i] / MS);
              col("fast_handoffs").push(w.sFast.data[i]);
              col("slow_handoffs").push(w.sSlow.data[i]);
              col("workload").push(w.name);
            }
          }
          out.context1_gap = gap;
        }
        return out;
      },
    };
  },
};
