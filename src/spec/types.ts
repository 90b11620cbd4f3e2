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
  | "hv_wake"
  | "device_access"
  | "rdtsc_native"
  | "rdtsc_trap"
  | "vm_entry_exit"
  | "irq_injection"
  | "lapic_min_delta";

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
  /** credit2_runqueue: how pCPUs are grouped into runqueues. Default "socket". */
  runqueue?: "cpu" | "core" | "socket" | "node" | "all";
}

/** Xen Credit (credit1) parameters (xl sched-credit -s semantics). */
export interface CreditSpec {
  name: "credit";
  /** sched_credit_tslice_ms: 1..1000, default 30. */
  tslice_ms?: number;
  /** sched_ratelimit_us: 100..500000 and <= tslice, or "off". Default 1000. */
  ratelimit_us?: number | "off";
  /** vcpu_migration_delay in µs: 0..100000, default 0. */
  migration_delay_us?: number;
}

/** Xen RTDS (global EDF); per-vCPU parameters are on the guest (`rtds`). */
export interface RtdsSpec {
  name: "rtds";
}

/** One minor frame of an ARINC653 schedule. */
export interface Arinc653Frame {
  /** Guest name. */
  guest: string;
  /** vCPU index in that guest. Default 0. */
  vcpu?: number;
  /** Length of the minor frame, ms. */
  runtime_ms: number;
}

/** Xen ARINC653: a static cyclic table on a single-pCPU pool. */
export interface Arinc653Spec {
  name: "arinc653";
  /** Major frame, ms (>= sum of the frames' runtimes; the rest is idle). */
  major_frame_ms: number;
  frames: Arinc653Frame[];
}

/** Xen Null scheduler: static 1:1 vCPU-to-pCPU assignment. */
export interface NullSpec {
  name: "null";
}

export type XenSchedulerSpec = Credit2Spec | CreditSpec | RtdsSpec | Arinc653Spec | NullSpec;

/** RTDS reservation of a vCPU (xl sched-rtds -p -b -e). */
export interface RtdsParams {
  /** Period, µs (>= 10). Default 10000. */
  period_us?: number;
  /** Budget, µs (10..period). Default 4000. */
  budget_us?: number;
  /** Extratime (may run beyond its budget when nothing else wants the pCPU). Default true. */
  extratime?: boolean;
}

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
  /** Xen's own timer_slop (boot option `timer_slop=`), ns. Default 50000. */
  timer_slop_ns?: number;
}

/**
 * KVM on a Linux host: the host kernel schedules one QEMU vCPU thread per
 * guest vCPU (plus QEMU's main thread), next to the host's own workloads.
 */
export interface KvmSpec {
  kind: "kvm";
  /** The host Linux kernel. */
  host_kernel?: KernelSpec;
  /** Workloads running on the host (e.g. a stress load). */
  host_workloads?: WorkloadSpec[];
  /** kvm.halt_poll_ns: how long a halted vCPU thread busy-polls before sleeping, ns (0 = off). Default 200000 (KVM_HALT_POLL_NS_DEFAULT, x86). */
  halt_poll_ns?: number;
}

/** No hypervisor: one Linux kernel directly on the board. */
export interface NativeSpec {
  kind: "native";
}

export type HypervisorSpec = XenSpec | KvmSpec | NativeSpec;

/** Linux kernel model parameters. */
export interface KernelSpec {
  /** Kernel version whose scheduler rules are modelled. */
  version?: "5.10";
  /** CONFIG_HZ (100, 250, 300, 1000). Default 250. */
  hz?: number;
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING: exclude steal time from task runtime. Default false. */
  paravirt_time_accounting?: boolean;
  /** CONFIG_PREEMPT* model: "none" (the paper's "NRT"), "voluntary", "full", "rt" (PREEMPT_RT). Default "none". */
  preempt?: "none" | "voluntary" | "full" | "rt";
  /** Linux's Xen PV clockevent minimum delta (TIMER_SLOP, `xen_timer_slop=` since 5.2), ns. Default 100000. Used only as a Xen guest with a PV clock (PV, PVH, or PVHVM). */
  xen_timer_slop_ns?: number;
  /** sysctl overrides (base values before the CPU-count scaling), ns. */
  sched_latency_ns?: number;
  sched_min_granularity_ns?: number;
  sched_wakeup_granularity_ns?: number;
  /** GENTLE_FAIR_SLEEPERS scheduler feature. Default true. */
  gentle_fair_sleepers?: boolean;
  /** sched_rt_runtime_us: RT throttling budget per period, or "off" (-1). Default 950000. */
  rt_runtime_us?: number | "off";
  /** sched_rt_period_us. Default 1000000. */
  rt_period_us?: number;
  /** sched_rr_timeslice_ms. Default 100. */
  rr_timeslice_ms?: number;
}

/** Distribution of a job's execution time. */
export type ExecTimeSpec =
  | { dist: "fixed"; us: number }
  | { dist: "uniform"; min_us: number; max_us: number }
  | { dist: "normal"; mean_us: number; sd_us: number; min_us?: number; max_us?: number }
  | { dist: "exponential"; mean_us: number; max_us?: number };

/**
 * A periodic real-time task: a job is released every `period_us` (first at
 * `offset_us`), needs an execution time, and should finish within
 * `deadline_us` of its release.
 */
export interface PeriodicSpec {
  kind: "periodic";
  name: string;
  period_us: number;
  /** Execution time per job: a fixed number of µs or a distribution. */
  exec: number | ExecTimeSpec;
  /** Relative deadline, µs. Default: the period. */
  deadline_us?: number;
  /** First release, µs. Default 0. */
  offset_us?: number;
  /** Scheduling policy. Default "fifo". */
  policy?: "other" | "fifo" | "rr" | "deadline";
  /** SCHED_FIFO/RR priority 1..99. */
  priority?: number;
  /** SCHED_OTHER nice. */
  nice?: number;
  /** SCHED_DEADLINE runtime, µs (default: the worst-case execution time). */
  dl_runtime_us?: number;
  /** Allowed CPUs. Default: all. */
  cpus?: number[];
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
  /** CPU work of each process, ms; the process exits when done (its finish time is recorded). Default: forever. */
  work_ms?: number;
}

export type WorkloadSpec = Context1Spec | CpuHogSpec | PeriodicSpec | CyclictestSpec | StressSpec | DeviceIoSpec | HousekeepingSpec;

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
  /** Cap (credit, credit2), percent of one pCPU: 0 = none, up to 100 x vcpus. Default 0. */
  cap?: number;
  /** RTDS reservation: one for every vCPU, or one per vCPU. */
  rtds?: RtdsParams | RtdsParams[];
  /** Xen: virtualization mode (xl.cfg `type=`). Default "pvh". */
  type?: "pv" | "pvh" | "hvm";
  /** Xen: this guest is Dom0 (PV; hosts the QEMU device models of HVM guests). At most one. */
  dom0?: boolean;
  /** Xen HVM: scheduling of this guest's QEMU device-model process inside Dom0. Default SCHED_OTHER nice 0. */
  device_model?: ThreadSchedSpec;
  /** KVM: scheduling of the QEMU vCPU threads on the host. Default SCHED_OTHER nice 0. */
  vcpu_thread?: ThreadSchedSpec;
  kernel?: KernelSpec;
  workloads: WorkloadSpec[];
}

/** Scheduling policy of a host or Dom0 thread (QEMU vCPU thread, device model). */
export interface ThreadSchedSpec {
  policy?: "other" | "fifo" | "rr";
  /** SCHED_FIFO/RR priority 1..99. */
  priority?: number;
  nice?: number;
  /** Host/Dom0 CPUs the thread may run on. Default: all. */
  cpus?: number[];
}

/**
 * cyclictest (rt-tests): a thread sleeping with clock_nanosleep(TIMER_ABSTIME)
 * every `interval_us` and recording latency = wake-up time - intended time.
 */
export interface CyclictestSpec {
  kind: "cyclictest";
  /** -i: interval, µs. Default 1000. */
  interval_us?: number;
  /** -p: SCHED_FIFO priority (1..99). Default 99. */
  priority?: number;
  /** -l: loops (0 = until the horizon). Default 0. */
  loops?: number;
  /** -h: histogram buckets of 1 µs (0 = none). Default 1000. */
  histogram_us?: number;
  /** -a: CPU. Default 0. */
  cpu?: number;
  /** Keep per-sample rows with the latency breakdown (max rows). Default 0. */
  samples_max?: number;
}

/**
 * Background stress (the rt-tests "worst-case latency" scenarios): CFS tasks
 * generating interrupts, syscalls, memory and I/O pressure.
 */
export interface StressSpec {
  kind: "stress";
  /** Load intensity 0..1 (scales the rate of kernel activity). Default 1. */
  intensity?: number;
  /** Number of stress processes. Default: 2 per CPU. */
  count?: number;
  cpus?: number[];
}

/**
 * Emulated-device accesses made by the guest (a console or disk on an HVM
 * guest without PV drivers): a SCHED_OTHER task performing one port-I/O or
 * MMIO access `rate_hz` times per second. On Xen HVM each access is an ioreq
 * served by the guest's QEMU device model in Dom0 (the vCPU waits); on PV/PVH
 * and natively it costs only the access itself.
 */
export interface DeviceIoSpec {
  kind: "device-io";
  /** Accesses per second. Default 100. */
  rate_hz?: number;
  cpus?: number[];
}

/**
 * The background activity of an otherwise idle Linux system (data/kernels
 * `housekeeping`): kernel workers (vmstat, RCU, writeback, timers) and the
 * periodic device accesses of console and disk drivers, at their rates
 * times `intensity`. On a Xen HVM guest the device accesses are ioreqs
 * served by QEMU in Dom0.
 */
export interface HousekeepingSpec {
  kind: "housekeeping";
  /** Rate multiplier 0..10. Default 1. */
  intensity?: number;
}

/** Recording options. */
export interface RecordSpec {
  /** Keep a bounded schedule trace of hypervisor switches (max rows). Default 0 (off). */
  trace_max?: number;
  /** Keep per-job rows of periodic tasks (max rows; statistics are kept regardless). Default 0. */
  jobs_max?: number;
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
