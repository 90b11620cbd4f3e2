/**
 * The kernel-latency data of data/kernels (kernel sections per preemption
 * model and activity, clock reads per path, the stress load) and their
 * samplers. The kernel model (linux.ts) cuts every kernel activity into
 * sections flagged preemptible, non-preemptible or interrupts-off, drawn
 * from these distributions; which kind a stretch of kernel code has is what
 * the preemption model decides. Section lengths are stated for the data
 * file's reference machine and scaled by the board's kernel_work_scale.
 */
import { readFileSync } from "node:fs";
import type { RandomStream } from "../engine/random.js";
import { DATA_DIR, type Sourced } from "../hw/board.js";

/** A distribution of a duration as stored in data/kernels (µs). */
export type DistSpec =
  | { dist: "fixed"; us: number }
  | { dist: "uniform"; min_us: number; max_us: number }
  | { dist: "exponential"; mean_us: number; max_us: number }
  | { dist: "lognormal"; median_us: number; sigma: number; max_us: number };

/** Section lengths of one activity under one preemption model. */
export interface SectionsSpec {
  irqoff_us: DistSpec | null;
  np_us: DistSpec | null;
  p_us: DistSpec | null;
}

export interface ActivitySpec {
  context: "process" | "irq";
  description: string;
  work_us: DistSpec;
  /** irq activities: top half (non-RT: with interrupts off). */
  hardirq_us?: DistSpec;
  /** irq activities: the PREEMPT_RT primary handler that wakes the irq thread. */
  rt_primary_us?: DistSpec;
  /** Per preemption model (irq activities: only "rt", for the irq thread). */
  sections?: Partial<Record<PreemptName, SectionsSpec>>;
  /**
   * irq activities on PREEMPT_RT: what the line's thread runs. "handler+softirq"
   * (default): a device line, whose handler (hardirq_us) moves into its irq
   * thread, followed by the softirq work (work_us) it raised. "softirq": a
   * softirq raised by a hard handler (e.g. HRTIMER_SOFTIRQ of 2.6.x-rt): the
   * hard part stays in hard-interrupt context (rt_primary_us), the thread
   * runs work_us only.
   */
  thread_body?: "handler+softirq" | "softirq";
  /** Why thread_body has its value (structural fields carry a note, not a provenance). */
  thread_body_note?: string;
  /** device_io: what the access itself is, per preemption model. */
  access_section?: Partial<Record<PreemptName, "irqs_off" | "preemptible">>;
  /** device_io: register accesses per operation (default 1), all inside the driver's lock region. */
  accesses?: Sourced<number>;
  /** device_io: driver work between two accesses of one operation. */
  access_gap_us?: DistSpec;
}

/** data/kernels/<id>.json */
export interface KernelData {
  id: string;
  name: string;
  provenance: string;
  timer_slack_ns: Sourced<number>;
  irq_thread_priority: Sourced<number>;
  /**
   * The kernel has page-table isolation and enables it on a Meltdown-affected
   * CPU (x86 PTI, Linux >= 4.15; disabled in a Xen PV guest, which the host
   * model accounts for by charging no CR3 exits there). Default false.
   */
  pti?: Sourced<boolean>;
  /** issue 14: PREEMPT_RT of the 2.6 era: default priority of the per-CPU hrtimer softirq thread (sirq-hrtimer/N). */
  hrtimer_thread_priority?: Sourced<number>;
  clock_reads: {
    hrtimer_interrupt: Sourced<number>; hrtimer_reprogram: Sourced<number>; wake_up: Sourced<number>; schedule: Sourced<number>;
    /** NO_HZ: an interrupt entered while the CPU is idle with its tick stopped (tick_nohz_irq_enter). Default 0. */
    idle_irq_enter?: Sourced<number>;
    /** NO_HZ: leaving idle with the tick stopped (tick_nohz_idle_exit and the tick's reprogramming). Default 0. */
    idle_exit?: Sourced<number>;
  };
  activities: Record<string, ActivitySpec>;
  housekeeping: {
    provenance: string;
    /** Kernel-worker episodes ("housekeeping" activity) per second per CPU. */
    kworker_rate_hz: Sourced<number>;
    /** Driver operations on the system's console/disk controller ("device_burst" activity) per second. */
    device_rate_hz: Sourced<number>;
  };
  stress: {
    processes_per_cpu: Sourced<number>;
    process_rates_hz: Record<string, Sourced<number>>;
    irq_rates_hz: Record<string, Sourced<number>>;
    /** I/O waits after process activities: probability per activity and mean wait (µs). */
    io_wait?: Record<string, { probability: Sourced<number>; mean_us: Sourced<number> }>;
  };
}

export type PreemptName = "none" | "voluntary" | "full" | "rt";
export const PREEMPT_NONE = 0;
export const PREEMPT_VOLUNTARY = 1;
export const PREEMPT_FULL = 2;
export const PREEMPT_RT = 3;
export const PREEMPT_NAMES: readonly PreemptName[] = ["none", "voluntary", "full", "rt"];

const dataCache = new Map<string, KernelData>();

/** Loads data/kernels/<id>.json (cached). */
export function kernelData(id = "linux-5.0"): KernelData {
  let d = dataCache.get(id);
  if (!d) {
    d = JSON.parse(readFileSync(`${DATA_DIR}kernels/${id}.json`, "utf8")) as KernelData;
    dataCache.set(id, d);
  }
  return d;
}

const D_FIXED = 0;
const D_UNIFORM = 1;
const D_EXP = 2;
const D_LOGN = 3;

/** Knots of the quantile table of a lognormal distribution (the outer 1/QN of each tail is computed exactly). */
const QN = 4096;

/** invNormal(k / QN), k = 1..QN-1 (computed once). */
let invNormalKnots: Float64Array | null = null;
/** Lognormal quantile tables by (log-median, sigma): read-only, shared by every Dist of every run (bounded). */
const lognTables = new Map<string, Float64Array>();
const LOGN_TABLES_MAX = 256; // 32 KiB each: at most 8 MiB

/**
 * Quantiles exp(a + b * invNormal(k / QN)) at k = 1..QN-1 (ends unused) of a
 * lognormal: the same doubles for the same (a, b), so they are computed once
 * per process instead of once per kernel instance (4095 exp and inverse-normal
 * evaluations per distribution were a large part of setting up a run).
 */
function lognQuantiles(a: number, b: number): Float64Array {
  const key = `${a}|${b}`;
  let q = lognTables.get(key);
  if (q !== undefined) return q;
  let inv = invNormalKnots;
  if (inv === null) {
    inv = new Float64Array(QN);
    for (let i = 1; i < QN; i++) inv[i] = invNormal(i / QN);
    invNormalKnots = inv;
  }
  q = new Float64Array(QN + 1);
  for (let i = 1; i < QN; i++) q[i] = Math.exp(a + b * inv[i]);
  if (lognTables.size < LOGN_TABLES_MAX) lognTables.set(key, q);
  return q;
}

/** A compiled duration distribution, in ns. */
export class Dist {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  /** Upper bound of every draw, ns. */
  readonly maxNs: number;
  /** Lognormal: quantiles at u = k / QN, k = 0..QN (ends unused). */
  private readonly q: Float64Array | null = null;
  constructor(s: DistSpec, scale = 1) {
    const k = 1000 * scale;
    switch (s.dist) {
      case "fixed": this.kind = D_FIXED; this.a = s.us * k; this.b = 0; this.maxNs = this.a; break;
      case "uniform": this.kind = D_UNIFORM; this.a = s.min_us * k; this.b = s.max_us * k; this.maxNs = this.b; break;
      case "exponential": this.kind = D_EXP; this.a = s.mean_us * k; this.b = 0; this.maxNs = s.max_us * k; break;
      case "lognormal": {
        this.kind = D_LOGN; this.a = Math.log(s.median_us * k); this.b = s.sigma; this.maxNs = s.max_us * k;
        this.q = lognQuantiles(this.a, this.b);
        break;
      }
      default: throw new Error(`unknown distribution ${JSON.stringify(s)}`);
    }
  }
  /**
   * One draw, integer ns, clamped to maxNs. One uniform per draw; the
   * lognormal by inversion (table with linear interpolation in the bulk,
   * exact quantile in the outer tails).
   */
  sample(r: RandomStream): number {
    let x: number;
    switch (this.kind) {
      case D_FIXED: return Math.round(this.a);
      case D_UNIFORM: x = r.uniform(this.a, this.b); break;
      case D_EXP: x = r.exponential(this.a); break;
      default: {
        const u = r.next();
        const f = u * QN;
        const i = f | 0;
        if (i >= 1 && i < QN - 1) {
          const q = this.q!;
          x = q[i] + (q[i + 1] - q[i]) * (f - i);
        } else x = Math.exp(this.a + this.b * invNormal(u));
      }
    }
    return Math.round(x < this.maxNs ? x : this.maxNs);
  }
}

// Acklam's rational approximation of the standard normal quantile (relative error < 1.2e-9).
const IA = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.383577518672690e2, -3.066479806614716e1, 2.506628277459239];
const IB = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const IC = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ID = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Standard normal quantile of u in [0, 1) (u = 0 maps to the quantile of 2^-53). */
export function invNormal(u: number): number {
  if (u <= 0) u = 1.1102230246251565e-16;
  if (u < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(u));
    return (((((IC[0] * q + IC[1]) * q + IC[2]) * q + IC[3]) * q + IC[4]) * q + IC[5]) / ((((ID[0] * q + ID[1]) * q + ID[2]) * q + ID[3]) * q + 1);
  }
  if (u > 0.97575) {
    const q = Math.sqrt(-2 * Math.log(1 - u));
    return -(((((IC[0] * q + IC[1]) * q + IC[2]) * q + IC[3]) * q + IC[4]) * q + IC[5]) / ((((ID[0] * q + ID[1]) * q + ID[2]) * q + ID[3]) * q + 1);
  }
  const q = u - 0.5, r = q * q;
  return (((((IA[0] * r + IA[1]) * r + IA[2]) * r + IA[3]) * r + IA[4]) * r + IA[5]) * q / (((((IB[0] * r + IB[1]) * r + IB[2]) * r + IB[3]) * r + IB[4]) * r + 1);
}

/** One activity resolved for a preemption model and a board. */
export class Activity {
  readonly irqContext: boolean;
  readonly work: Dist;
  readonly hardirq: Dist | null;
  readonly primary: Dist | null;
  /** PREEMPT_RT: the line's thread also runs the handler (hardirq_us) before the softirq work (thread_body). */
  readonly threadRunsHandler: boolean;
  readonly irqoff: Dist | null;
  readonly np: Dist | null;
  readonly p: Dist | null;
  /** device_io: the access runs with interrupts off (else it is only atomic). */
  readonly accessIrqsOff: boolean;
  /** device_io: accesses per operation, and the driver work between two of them. */
  readonly accesses: number;
  readonly accessGap: Dist | null;
  constructor(readonly name: string, readonly index: number, s: ActivitySpec, preempt: PreemptName, scale: number) {
    this.irqContext = s.context === "irq";
    this.work = new Dist(s.work_us, scale);
    this.hardirq = s.hardirq_us ? new Dist(s.hardirq_us, scale) : null;
    this.primary = s.rt_primary_us ? new Dist(s.rt_primary_us, scale) : null;
    this.threadRunsHandler = (s.thread_body ?? "handler+softirq") === "handler+softirq";
    const sec = s.sections?.[preempt];
    this.irqoff = sec?.irqoff_us ? new Dist(sec.irqoff_us, scale) : null;
    this.np = sec?.np_us ? new Dist(sec.np_us, scale) : null;
    this.p = sec?.p_us ? new Dist(sec.p_us, scale) : null;
    this.accessIrqsOff = (s.access_section?.[preempt] ?? "irqs_off") === "irqs_off";
    this.accesses = s.accesses?.value ?? 1;
    this.accessGap = s.access_gap_us ? new Dist(s.access_gap_us, scale) : null;
  }
}

/** Everything the kernel model needs from data/kernels for one kernel instance. */
export class KernelLatencyModel {
  readonly preempt: number;
  readonly activities: Activity[] = [];
  readonly byName = new Map<string, Activity>();
  readonly timerSlackNs: number;
  readonly irqThreadPriority: number;
  readonly readsHrtimerInterrupt: number;
  readonly readsHrtimerReprogram: number;
  readonly readsWakeUp: number;
  readonly readsSchedule: number;
  readonly readsIdleIrqEnter: number;
  readonly readsIdleExit: number;
  constructor(readonly data: KernelData, readonly preemptName: PreemptName, scale = 1) {
    this.preempt = PREEMPT_NAMES.indexOf(preemptName);
    if (this.preempt < 0) throw new Error(`unknown preemption model ${preemptName}`);
    for (const [name, s] of Object.entries(data.activities)) {
      const a = new Activity(name, this.activities.length, s, preemptName, scale);
      this.activities.push(a);
      this.byName.set(name, a);
    }
    this.timerSlackNs = data.timer_slack_ns.value;
    this.irqThreadPriority = data.irq_thread_priority.value;
    this.readsHrtimerInterrupt = data.clock_reads.hrtimer_interrupt.value;
    this.readsHrtimerReprogram = data.clock_reads.hrtimer_reprogram.value;
    this.readsWakeUp = data.clock_reads.wake_up.value;
    this.readsSchedule = data.clock_reads.schedule.value;
    this.readsIdleIrqEnter = data.clock_reads.idle_irq_enter?.value ?? 0;
    this.readsIdleExit = data.clock_reads.idle_exit?.value ?? 0;
  }

  /** The activity called `name` (throws with the known names). */
  activity(name: string): Activity {
    const a = this.byName.get(name);
    if (!a) throw new Error(`kernel data ${this.data.id} has no activity ${JSON.stringify(name)}; known: ${[...this.byName.keys()].join(", ")}`);
    return a;
  }
}
