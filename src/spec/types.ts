/**
 * The serialisable simulation spec. Builders (./builders.ts) produce it; it can
 * also be written by hand or loaded from JSON. Every field is plain data.
 * Units are in the field names (`_us`, `_ms`, `_s`).
 */

/** Names of the per-operation costs a board preset defines (all in ns). */
export type CostName =
  | "syscall"
  | "pipe_read"
  | "pipe_write"
  | "wake_up"
  | "wake_up_remote"
  | "sleep"
  | "schedule"
  | "context_switch"
  | "timer_irq"
  | "ipi_irq"
  | "ipi_send"
  | "hv_vcpu_switch"
  | "hv_ipi_latency"
  | "hv_wake";

/** A board: a preset name plus optional overrides. */
export interface BoardSpec {
  /** Preset id from data/boards (e.g. "rcar-s4"). */
  preset: string;
  /** Override of the cost model, ns per operation. */
  costs_ns?: Partial<Record<CostName, number>>;
  /** Override of the coefficient of variation of every operation cost (0 = deterministic costs). */
  jitter_cv?: number;
}

/** Xen Credit2 scheduler parameters (xl sched-credit2 semantics). */
export interface Credit2Spec {
  name: "credit2";
  /** sched_ratelimit_us: 100..500000, or "off" (xl's `-r 0`). Default 1000. */
  ratelimit_us?: number | "off";
}

export type XenSchedulerSpec = Credit2Spec;

/** A cpupool: a set of pCPUs with its own scheduler instance. */
export interface PoolSpec {
  name: string;
  /** pCPU ids in the pool. */
  cpus: number[];
  scheduler: XenSchedulerSpec;
}

/** Xen hypervisor model. */
export interface XenSpec {
  kind: "xen";
  /** Xen release the model follows. */
  version?: "4.20";
  pools: PoolSpec[];
}

/** No hypervisor: one Linux kernel directly on the board. */
export interface NativeSpec {
  kind: "native";
}

export type HypervisorSpec = XenSpec | NativeSpec;

/** Linux kernel model parameters. */
export interface KernelSpec {
  /** Kernel version whose scheduler rules are modelled. */
  version?: "5.10";
  /** CONFIG_HZ (100, 250, 300, 1000). Default 250. */
  hz?: number;
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING: exclude steal time from task runtime. Default false. */
  paravirt_time_accounting?: boolean;
  /** CONFIG_PREEMPT* model. Default "none". */
  preempt?: "none" | "voluntary" | "full";
  /** sysctl overrides (base values before the CPU-count scaling), ns. */
  sched_latency_ns?: number;
  sched_min_granularity_ns?: number;
  sched_wakeup_granularity_ns?: number;
  /** GENTLE_FAIR_SLEEPERS scheduler feature. Default true. */
  gentle_fair_sleepers?: boolean;
}

/** UnixBench Context1: two processes ping-ponging a counter through two pipes. */
export interface Context1Spec {
  kind: "context1";
  /** Guest CPUs the two processes may run on (taskset). Default: all. */
  cpus?: number[];
  /** Sampling interval of the vruntime gap probe, µs. Default 1000; 0 disables. */
  sample_us?: number;
  /** User-space work per half-loop (counter check and increment), ns. Default 100. */
  user_ns?: number;
}

/** CPU hogs: `count` processes that never block (stress -c, while(1)). */
export interface CpuHogSpec {
  kind: "cpu-hog";
  count?: number;
  cpus?: number[];
  nice?: number;
}

export type WorkloadSpec = Context1Spec | CpuHogSpec;

/** A guest domain (or, natively, the one OS). */
export interface GuestSpec {
  name: string;
  /** cpupool name; default the first pool. */
  pool?: string;
  /** Number of vCPUs (1..64). */
  vcpus: number;
  /** Hard affinity per vCPU: pin[i] lists the pCPUs vCPU i may run on. One entry per vCPU or a single entry for all. */
  pin?: number[][];
  /** Scheduler weight (credit, credit2): 1..65535, default 256. */
  weight?: number;
  kernel?: KernelSpec;
  workloads: WorkloadSpec[];
}

/** Recording options. */
export interface RecordSpec {
  /** Keep a bounded schedule trace of hypervisor switches (max rows). Default 0 (off). */
  trace_max?: number;
}

/** The whole simulation. */
export interface SimSpec {
  board: BoardSpec;
  hypervisor: HypervisorSpec;
  guests: GuestSpec[];
  /** Simulated time, seconds. */
  horizon_s: number;
  /** Time excluded from statistics at the start, seconds. Default 0. */
  warmup_s?: number;
  record?: RecordSpec;
}
