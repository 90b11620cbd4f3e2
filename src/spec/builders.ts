/**
 * Fluent builders for simulation specs. Each builder collects plain data;
 * `build()` returns a validated, JSON-serialisable {@link SimSpec}.
 *
 * ```ts
 * const spec = system()
 *   .board(board("rcar-s4"))
 *   .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3], credit2().ratelimit(5000)))
 *   .guest(guest("domU").vcpus(4).pin([[0], [1], [2], [3]])
 *          .kernel(linux("5.10").hz(250)).workload(context1().cpus([0])))
 *   .guest(guest("hog").vcpus(1).pin([[0]]).workload(cpuHog()))
 *   .horizon(10)
 *   .build();
 * ```
 */
import type {
  BoardSpec, Context1Spec, CostName, CpuHogSpec, Credit2Spec, GuestSpec, HypervisorSpec, KernelSpec,
  PoolSpec, SimSpec, WorkloadSpec, XenSchedulerSpec,
} from "./types.js";
import type { ExecTimeSpec, PeriodicSpec } from "./types.js";
import { validateSpec } from "./validate.js";

/** Board builder: `board("rcar-s4").cost("context_switch", 3000)`. */
export class BoardBuilder {
  readonly spec: BoardSpec;
  constructor(preset: string) { this.spec = { preset }; }
  /** Overrides one operation cost (ns). */
  cost(name: CostName, ns: number): this {
    this.spec.costs_ns = { ...(this.spec.costs_ns ?? {}), [name]: ns };
    return this;
  }
  /** Overrides the cost jitter (coefficient of variation, 0 = deterministic). */
  jitter(cv: number): this { this.spec.jitter_cv = cv; return this; }
}
/** Starts a board from a preset in data/boards ("rcar-s4", "ideal"). */
export function board(preset: string): BoardBuilder { return new BoardBuilder(preset); }

/** Credit2 scheduler builder (xl sched-credit2 semantics). */
export class Credit2Builder {
  readonly spec: Credit2Spec = { name: "credit2" };
  /** sched_ratelimit_us (100..500000), or "off" to disable (xl's -r 0). */
  ratelimit(us: number | "off"): this { this.spec.ratelimit_us = us; return this; }
}
/** Xen's Credit2 scheduler. */
export function credit2(): Credit2Builder { return new Credit2Builder(); }

/** Xen hypervisor builder. */
export class XenBuilder {
  readonly spec: { kind: "xen"; version: "4.20"; pools: PoolSpec[] } = { kind: "xen", version: "4.20", pools: [] };
  /** Adds a cpupool with its own scheduler instance. */
  pool(name: string, cpus: number[], scheduler: Credit2Builder | XenSchedulerSpec): this {
    const s = scheduler instanceof Credit2Builder ? scheduler.spec : scheduler;
    this.spec.pools.push({ name, cpus, scheduler: { ...s } });
    return this;
  }
}
/** Xen 4.20. Add pools with `.pool(name, cpus, scheduler)`. */
export function xen(): XenBuilder { return new XenBuilder(); }

/** Linux kernel builder. */
export class KernelBuilder {
  readonly spec: KernelSpec;
  constructor(version: "5.10") { this.spec = { version }; }
  /** CONFIG_HZ. */
  hz(hz: number): this { this.spec.hz = hz; return this; }
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING. */
  paravirtTimeAccounting(on = true): this { this.spec.paravirt_time_accounting = on; return this; }
  /** Preemption model ("none" is the paper's "NRT", "rt" is PREEMPT_RT). */
  preempt(model: "none" | "voluntary" | "full" | "rt"): this { this.spec.preempt = model; return this; }
  /** Linux's Xen PV clockevent minimum delta (TIMER_SLOP, `xen_timer_slop=`), ns. */
  xenTimerSlop(ns: number): this { this.spec.xen_timer_slop_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_latency, ns. */
  schedLatency(ns: number): this { this.spec.sched_latency_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_min_granularity, ns. */
  minGranularity(ns: number): this { this.spec.sched_min_granularity_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_wakeup_granularity, ns. */
  wakeupGranularity(ns: number): this { this.spec.sched_wakeup_granularity_ns = ns; return this; }
  /** GENTLE_FAIR_SLEEPERS feature. */
  gentleFairSleepers(on: boolean): this { this.spec.gentle_fair_sleepers = on; return this; }
  /** RT throttling: sched_rt_runtime_us per sched_rt_period_us, or "off". */
  rtThrottling(runtimeUs: number | "off", periodUs?: number): this {
    this.spec.rt_runtime_us = runtimeUs;
    if (periodUs !== undefined) this.spec.rt_period_us = periodUs;
    return this;
  }
  /** sched_rr_timeslice_ms. */
  rrTimeslice(ms: number): this { this.spec.rr_timeslice_ms = ms; return this; }
}
/** A Linux kernel model (v5.10 scheduler rules). */
export function linux(version: "5.10" = "5.10"): KernelBuilder { return new KernelBuilder(version); }

/** Context1 workload builder. */
export class Context1Builder {
  readonly spec: Context1Spec = { kind: "context1" };
  /** Guest CPUs the two processes may run on (taskset). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  /** vruntime-gap sampling interval in µs (0 = off). */
  sampleEvery(us: number): this { this.spec.sample_us = us; return this; }
  /** User-space work per half-loop, ns. */
  userWork(ns: number): this { this.spec.user_ns = ns; return this; }
}
/** UnixBench Context1 (pipe-based context switching). */
export function context1(): Context1Builder { return new Context1Builder(); }

/** CPU hog builder. */
export class CpuHogBuilder {
  readonly spec: CpuHogSpec = { kind: "cpu-hog" };
  count(n: number): this { this.spec.count = n; return this; }
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  nice(n: number): this { this.spec.nice = n; return this; }
}
/** Processes that compute forever. */
export function cpuHog(): CpuHogBuilder { return new CpuHogBuilder(); }

type WorkloadLike = Context1Builder | CpuHogBuilder | WorkloadSpec;

/** Guest (domain) builder. */
export class GuestBuilder {
  readonly spec: GuestSpec;
  constructor(name: string) { this.spec = { name, vcpus: 1, workloads: [] }; }
  vcpus(n: number): this { this.spec.vcpus = n; return this; }
  /** Hard affinity: one list of pCPUs per vCPU, or a single list for all. */
  pin(pin: number[][]): this { this.spec.pin = pin; return this; }
  /** Scheduler weight. */
  weight(w: number): this { this.spec.weight = w; return this; }
  /** cpupool name. */
  pool(name: string): this { this.spec.pool = name; return this; }
  kernel(k: KernelBuilder | KernelSpec): this { this.spec.kernel = k instanceof KernelBuilder ? { ...k.spec } : k; return this; }
  workload(w: WorkloadLike): this {
    this.spec.workloads.push("spec" in w ? { ...w.spec } : w);
    return this;
  }
}
/** A guest domain. */
export function guest(name: string): GuestBuilder { return new GuestBuilder(name); }

/** Whole-system builder. */
export class SystemBuilder {
  private b: BoardSpec = { preset: "rcar-s4" };
  private hv: HypervisorSpec = { kind: "native" };
  private gs: GuestSpec[] = [];
  private horizonS = 10;
  private warmupS: number | undefined;
  private traceMax: number | undefined;
  private jobsMax: number | undefined;
  board(b: BoardBuilder | BoardSpec): this { this.b = b instanceof BoardBuilder ? { ...b.spec } : b; return this; }
  hypervisor(h: XenBuilder | HypervisorSpec): this {
    this.hv = h instanceof XenBuilder ? { ...h.spec, pools: h.spec.pools.map((p) => ({ ...p })) } : h;
    return this;
  }
  /** Runs natively (no hypervisor). */
  native(): this { this.hv = { kind: "native" }; return this; }
  guest(g: GuestBuilder | GuestSpec): this { this.gs.push(g instanceof GuestBuilder ? structuredClone(g.spec) : g); return this; }
  /** Simulated seconds. */
  horizon(seconds: number): this { this.horizonS = seconds; return this; }
  /** Seconds at the start excluded from statistics. */
  warmup(seconds: number): this { this.warmupS = seconds; return this; }
  /** Keep a bounded hypervisor schedule trace of at most `maxRows` switches. */
  trace(maxRows: number): this { this.traceMax = maxRows; return this; }
  /** Keep per-job rows of periodic tasks (at most `maxRows`; per-task statistics are kept regardless). */
  jobs(maxRows: number): this { this.jobsMax = maxRows; return this; }
  /** Returns the validated plain spec (throws SpecError on bad input). */
  build(): SimSpec {
    const s: SimSpec = { board: this.b, hypervisor: this.hv, guests: this.gs, horizon_s: this.horizonS };
    if (this.warmupS !== undefined) s.warmup_s = this.warmupS;
    if (this.traceMax !== undefined || this.jobsMax !== undefined) {
      s.record = {};
      if (this.traceMax !== undefined) s.record.trace_max = this.traceMax;
      if (this.jobsMax !== undefined) s.record.jobs_max = this.jobsMax;
    }
    return validateSpec(structuredClone(s));
  }
}
/** Starts a system spec. */
export function system(): SystemBuilder { return new SystemBuilder(); }

// ------------------------------------------------------- periodic real-time tasks

/**
 * Periodic real-time task builder:
 * `periodic("ctl").period(10_000).exec(2_000).fifo(80)` or
 * `periodic("video").period(40_000).exec({ dist: "uniform", min_us: 5_000, max_us: 9_000 }).edf(9_000)`.
 * Times are µs.
 */
export class PeriodicBuilder {
  readonly spec: PeriodicSpec;
  constructor(name: string) { this.spec = { kind: "periodic", name } as PeriodicSpec; }
  /** Release period, µs. */
  period(us: number): this { this.spec.period_us = us; return this; }
  /** Execution time per job: µs, or a distribution. */
  exec(e: number | ExecTimeSpec): this { this.spec.exec = e; return this; }
  /** Relative deadline, µs (default: the period). */
  deadline(us: number): this { this.spec.deadline_us = us; return this; }
  /** First release, µs (default 0). */
  offset(us: number): this { this.spec.offset_us = us; return this; }
  /** Scheduling policy. */
  policy(p: "other" | "fifo" | "rr" | "deadline"): this { this.spec.policy = p; return this; }
  /** SCHED_FIFO/SCHED_RR priority 1..99. */
  priority(n: number): this { this.spec.priority = n; return this; }
  /** SCHED_OTHER nice value. */
  nice(n: number): this { this.spec.nice = n; return this; }
  /** SCHED_DEADLINE runtime, µs (default: the worst-case execution time). */
  dlRuntime(us: number): this { this.spec.dl_runtime_us = us; return this; }
  /** Allowed CPUs (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  /** SCHED_FIFO at `priority`. */
  fifo(priority: number): this { this.spec.policy = "fifo"; this.spec.priority = priority; return this; }
  /** SCHED_RR at `priority`. */
  rr(priority: number): this { this.spec.policy = "rr"; this.spec.priority = priority; return this; }
  /** SCHED_DEADLINE (EDF with a CBS), with runtime `runtimeUs` (default: the worst-case execution time). */
  edf(runtimeUs?: number): this {
    this.spec.policy = "deadline";
    if (runtimeUs !== undefined) this.spec.dl_runtime_us = runtimeUs;
    return this;
  }
  /** SCHED_OTHER (CFS) at `nice`. */
  other(nice?: number): this {
    this.spec.policy = "other";
    if (nice !== undefined) this.spec.nice = nice;
    return this;
  }
}
/** A periodic real-time task (a job every period, each needing an execution time before a deadline). */
export function periodic(name: string): PeriodicBuilder { return new PeriodicBuilder(name); }

// GuestBuilder.workload takes any builder with a `spec`; this declares the periodic one.
export interface GuestBuilder {
  workload(w: WorkloadLike | PeriodicBuilder): this;
}
