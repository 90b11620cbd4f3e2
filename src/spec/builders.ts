/**
 * Fluent builders for simulation specs. Each builder collects plain data;
 * `build()` returns a validated, JSON-serialisable {@link SimSpec}.
 * Units follow the spec: method names drop the unit suffix of the field they
 * set, and each method's docstring states the unit (µs, ms, ns, Hz, s).
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
 *
 * // KVM: an RT guest running cyclictest next to a stressed host.
 * const kvmSpec = system()
 *   .board(board("i7-6700"))
 *   .hypervisor(kvm().hostKernel(linux().preempt("rt")).hostWorkload(stress()))
 *   .guest(guest("vm").vcpuThread(thread().fifo(99)).kernel(linux().preempt("rt"))
 *          .workload(cyclictest().interval(50).priority(99)))
 *   .horizon(1)
 *   .build();
 * ```
 */
import type {
  Arinc653Spec, BoardSpec, Context1Spec, CostName, CpuHogSpec, CreditSpec, Credit2Spec, CyclictestSpec,
  DeviceIoSpec, GuestSpec, HousekeepingSpec, HypervisorSpec, KernelSpec, KvmSpec, NullSpec, PoolSpec,
  RtdsParams, RtdsSpec, SimSpec, StressSpec, ThreadSchedSpec, WorkloadSpec, XenSchedulerSpec, XenSpec,
} from "./types.js";
import type { ExecTimeSpec, PeriodicSpec } from "./types.js";
import type { BonnieSpec } from "./types.js"; // issue 14 block
import type { QemuSpec } from "./types.js"; // issue 14 qemu (H2)
import { formatValue, SpecError, validateSpec } from "./validate.js";

/**
 * The plain spec of `x`, a builder or a plain spec object, as a copy; a
 * function (a builder factory not called), null, a number... is a SpecError
 * naming the builder method (`where`), never a TypeError.
 */
function specOf<T>(x: unknown, where: string, what: string): T {
  if (typeof x === "function")
    throw new SpecError([{ path: where, message: `got a function${x.name ? ` (${x.name})` : ""}: call it${x.name ? `, ${x.name}()` : ""}, to get ${what}` }]);
  if (x === null || typeof x !== "object" || Array.isArray(x))
    throw new SpecError([{ path: where, message: `must be ${what} (a builder or a plain object); got ${formatValue(x)}` }]);
  const v = "spec" in x && Object.getPrototypeOf(x)?.constructor?.name?.endsWith("Builder") ? (x as { spec: unknown }).spec : x;
  return copy(v, where) as T;
}

/** A deep copy of plain data; a value that cannot be copied (a function inside) is a SpecError. */
function copy<T>(v: T, where: string): T {
  try {
    return structuredClone(v);
  } catch {
    throw new SpecError([{ path: where, message: `must be plain data (numbers, strings, lists, objects); got ${formatValue(v)}` }]);
  }
}

// ------------------------------------------------------------------- board

/** Board builder: `board("rcar-s4").cost("context_switch", 3000)`. */
export class BoardBuilder {
  /** The board spec collected so far. */
  readonly spec: BoardSpec;
  /** Starts from a preset id in data/boards. */
  constructor(preset: string) { this.spec = { preset }; }
  /** Overrides one operation cost, ns. */
  cost(name: CostName, ns: number): this {
    this.spec.costs_ns = { ...(this.spec.costs_ns ?? {}), [name]: ns };
    return this;
  }
  /** Overrides the cost jitter (coefficient of variation, dimensionless 0..1; 0 = deterministic). */
  jitter(cv: number): this { this.spec.jitter_cv = cv; return this; }
  /** issue 14: system-management interrupts as the preset describes them (default true); false turns them off. */
  smi(on: boolean): this { this.spec.smi = on; return this; }
}
/** Starts a board from a preset in data/boards ("rcar-s4", "ideal", "i7-6700", ...). */
export function board(preset: string): BoardBuilder { return new BoardBuilder(preset); }

// ------------------------------------------------------------- Xen schedulers

/** Credit2 scheduler builder (xl sched-credit2 semantics). */
export class Credit2Builder {
  /** The scheduler spec collected so far. */
  readonly spec: Credit2Spec = { name: "credit2" };
  /** sched_ratelimit_us, µs (100..500000), or "off" to disable (xl's -r 0). */
  ratelimit(us: number | "off"): this { this.spec.ratelimit_us = us; return this; }
  /** credit2_runqueue: how the pool's pCPUs are grouped into runqueues (default "socket"). */
  runqueue(r: "cpu" | "core" | "socket" | "node" | "all"): this { this.spec.runqueue = r; return this; }
}
/** Xen's Credit2 scheduler. */
export function credit2(): Credit2Builder { return new Credit2Builder(); }

/** Credit (credit1) scheduler builder (xl sched-credit -s semantics). */
export class CreditBuilder {
  /** The scheduler spec collected so far. */
  readonly spec: CreditSpec = { name: "credit" };
  /** sched_credit_tslice_ms: the timeslice, ms (1..1000; default 30). */
  tslice(ms: number): this { this.spec.tslice_ms = ms; return this; }
  /** sched_ratelimit_us, µs (100..500000 and at most the timeslice), or "off" (xl's -r 0). */
  ratelimit(us: number | "off"): this { this.spec.ratelimit_us = us; return this; }
  /** vcpu_migration_delay, µs (0..100000; default 0). */
  migrationDelay(us: number): this { this.spec.migration_delay_us = us; return this; }
}
/** Xen's Credit (credit1) scheduler. */
export function credit(): CreditBuilder { return new CreditBuilder(); }

/** RTDS scheduler builder; the per-vCPU reservations are set on each guest with {@link GuestBuilder.rtds}. */
export class RtdsBuilder {
  /** The scheduler spec (RTDS has no pool-wide parameters). */
  readonly spec: RtdsSpec = { name: "rtds" };
}
/** Xen's RTDS (global EDF) scheduler; give guests reservations with `guest(...).rtds({ period_us, budget_us })`. */
export function rtds(): RtdsBuilder { return new RtdsBuilder(); }

/** ARINC653 scheduler builder: a static cyclic table of minor frames within a major frame. */
export class Arinc653Builder {
  /** The scheduler spec collected so far. */
  readonly spec: Arinc653Spec;
  /** Starts an empty table with a major frame of `majorFrameMs` ms. */
  constructor(majorFrameMs: number) { this.spec = { name: "arinc653", major_frame_ms: majorFrameMs, frames: [] }; }
  /** Sets the major frame, ms (at least the sum of the minor frames; the rest is idle). */
  majorFrame(ms: number): this { this.spec.major_frame_ms = ms; return this; }
  /** Appends a minor frame of `runtimeMs` ms for vCPU `vcpu` (default 0) of guest `guestName`. */
  frame(guestName: string, runtimeMs: number, vcpu?: number): this {
    const f: Arinc653Spec["frames"][number] = { guest: guestName, runtime_ms: runtimeMs };
    if (vcpu !== undefined) f.vcpu = vcpu;
    this.spec.frames.push(f);
    return this;
  }
}
/** Xen's ARINC653 scheduler (single-pCPU pool) with a major frame of `majorFrameMs` ms; add minor frames with `.frame(...)`. */
export function arinc653(majorFrameMs: number): Arinc653Builder { return new Arinc653Builder(majorFrameMs); }

/** Null scheduler builder (static 1:1 vCPU-to-pCPU assignment; no parameters). */
export class NullSchedulerBuilder {
  /** The scheduler spec (the Null scheduler has no parameters). */
  readonly spec: NullSpec = { name: "null" };
}
/** Xen's Null scheduler (`null` is a reserved word, hence the name). */
export function nullScheduler(): NullSchedulerBuilder { return new NullSchedulerBuilder(); }

/** Anything a Xen pool accepts as its scheduler: a scheduler builder or a plain {@link XenSchedulerSpec}. */
export type SchedulerLike = Credit2Builder | CreditBuilder | RtdsBuilder | Arinc653Builder | NullSchedulerBuilder | XenSchedulerSpec;

// ---------------------------------------------------------------- hypervisors

/** Xen hypervisor builder. */
export class XenBuilder {
  /** The hypervisor spec collected so far. */
  readonly spec: XenSpec = { kind: "xen", version: "4.20", pools: [] };
  /** Adds a cpupool over pCPUs `cpus` with its own scheduler instance. */
  pool(name: string, cpus: number[], scheduler: SchedulerLike): this {
    const s = specOf<XenSchedulerSpec>(scheduler, `xen().pool(${formatValue(name)}).scheduler`, "a scheduler such as credit2()");
    const p: PoolSpec = { name, cpus: Array.isArray(cpus) ? [...cpus] : cpus, scheduler: s };
    this.spec.pools.push(p);
    return this;
  }
  /** Xen's timer_slop (boot option `timer_slop=`), ns (default 50000). */
  timerSlop(ns: number): this { this.spec.timer_slop_ns = ns; return this; }
}
/** Xen 4.20. Add pools with `.pool(name, cpus, scheduler)`. */
export function xen(): XenBuilder { return new XenBuilder(); }

/** KVM hypervisor builder: a Linux host kernel scheduling one QEMU vCPU thread per guest vCPU. */
export class KvmBuilder {
  /** The hypervisor spec collected so far. */
  readonly spec: KvmSpec = { kind: "kvm" };
  /** The host Linux kernel. */
  hostKernel(k: KernelBuilder | KernelSpec): this {
    this.spec.host_kernel = specOf<KernelSpec>(k, "kvm().hostKernel", "a kernel such as linux()");
    return this;
  }
  /** Appends a workload running on the host (e.g. `stress()`, `housekeeping()`). */
  hostWorkload(w: WorkloadLike): this {
    (this.spec.host_workloads ??= []).push(workloadSpec(w, "kvm().hostWorkload"));
    return this;
  }
  /** kvm.halt_poll_ns: how long a halted vCPU thread busy-polls before sleeping, ns (0 = off; default 200000). */
  haltPoll(ns: number): this { this.spec.halt_poll_ns = ns; return this; }
}
/** KVM on a Linux host. Set the host with `.hostKernel(...)` and `.hostWorkload(...)`; place guests' vCPU threads with `guest(...).vcpuThread(...)`. */
export function kvm(): KvmBuilder { return new KvmBuilder(); }

// ---------------------------------------------------------------------- kernel

/** A Linux kernel version whose scheduler rules are modelled (the values KernelSpec.version allows). */
export type KernelVersion = NonNullable<KernelSpec["version"]>;

/** Linux kernel builder. */
export class KernelBuilder {
  /** The kernel spec collected so far. */
  readonly spec: KernelSpec;
  /** Starts a kernel of the given version. */
  constructor(version: KernelVersion) { this.spec = { version }; }
  /** Kernel version whose scheduler rules are modelled. */
  version(v: KernelVersion): this { this.spec.version = v; return this; }
  /** CONFIG_HZ, ticks per second (100, 250, 300 or 1000). */
  hz(hz: number): this { this.spec.hz = hz; return this; }
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING (exclude steal time from task runtime). */
  paravirtTimeAccounting(on = true): this { this.spec.paravirt_time_accounting = on; return this; }
  /** Preemption model ("none" is the paper's "NRT", "rt" is PREEMPT_RT). */
  preempt(model: "none" | "voluntary" | "full" | "rt"): this { this.spec.preempt = model; return this; }
  /** issue 14 block: CPUs of the disk interrupt (/proc/irq/N/smp_affinity; it goes to the lowest). Default [0]. */
  diskIrqAffinity(cpus: number[]): this { this.spec.irq_affinity = { ...(this.spec.irq_affinity ?? {}), disk: cpus }; return this; }
  /** Linux's Xen PV clockevent minimum delta (TIMER_SLOP, `xen_timer_slop=`), ns. */
  xenTimerSlop(ns: number): this { this.spec.xen_timer_slop_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_latency, ns. */
  schedLatency(ns: number): this { this.spec.sched_latency_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_min_granularity, ns. */
  minGranularity(ns: number): this { this.spec.sched_min_granularity_ns = ns; return this; }
  /** Base (unscaled) sysctl_sched_wakeup_granularity, ns. */
  wakeupGranularity(ns: number): this { this.spec.sched_wakeup_granularity_ns = ns; return this; }
  /** GENTLE_FAIR_SLEEPERS scheduler feature. */
  gentleFairSleepers(on: boolean): this { this.spec.gentle_fair_sleepers = on; return this; }
  /** RT throttling: sched_rt_runtime_us (µs, or "off" for -1) per sched_rt_period_us (µs, optional). */
  rtThrottling(runtimeUs: number | "off", periodUs?: number): this {
    this.spec.rt_runtime_us = runtimeUs;
    if (periodUs !== undefined) this.spec.rt_period_us = periodUs;
    return this;
  }
  /** sched_rt_runtime_us: RT throttling budget per period, µs, or "off" (-1). Default 950000. */
  rtRuntime(us: number | "off"): this { this.spec.rt_runtime_us = us; return this; }
  /** sched_rt_period_us: RT throttling period, µs. Default 1000000. */
  rtPeriod(us: number): this { this.spec.rt_period_us = us; return this; }
  /** sched_rr_timeslice_ms: SCHED_RR timeslice, ms. */
  rrTimeslice(ms: number): this { this.spec.rr_timeslice_ms = ms; return this; }
  /** issue 14: PREEMPT_RT 2.6.29/2.6.31 only: SCHED_FIFO priority of the sirq-hrtimer threads (1..99; `chrt -p -f P`). */
  hrtimerThreadPriority(p: number): this { this.spec.hrtimer_thread_priority = p; return this; }
}
/** A Linux kernel model; `version` is one KernelSpec allows (default "5.10", the scheduler rules modelled). */
export function linux(version: KernelVersion = "5.10"): KernelBuilder { return new KernelBuilder(version); }

// ------------------------------------------------------------------- workloads

/** Context1 workload builder. */
export class Context1Builder {
  /** The workload spec collected so far. */
  readonly spec: Context1Spec = { kind: "context1" };
  /** Guest CPUs the two processes may run on (taskset). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  /** vruntime-gap sampling interval, µs (0 = off). */
  sampleEvery(us: number): this { this.spec.sample_us = us; return this; }
  /** User-space work per half-loop, ns. */
  userWork(ns: number): this { this.spec.user_ns = ns; return this; }
}
/** UnixBench Context1 (pipe-based context switching). */
export function context1(): Context1Builder { return new Context1Builder(); }

/** CPU hog builder. */
export class CpuHogBuilder {
  /** The workload spec collected so far. */
  readonly spec: CpuHogSpec = { kind: "cpu-hog" };
  /** Number of hog processes (default 1). */
  count(n: number): this { this.spec.count = n; return this; }
  /** Guest CPUs the hogs may run on (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  /** SCHED_OTHER nice value (-20..19). */
  nice(n: number): this { this.spec.nice = n; return this; }
  /** CPU work of each process, ms; the process exits when done (default: runs forever). */
  work(ms: number): this { this.spec.work_ms = ms; return this; }
}
/** Processes that compute without blocking (stress -c, while(1)). */
export function cpuHog(): CpuHogBuilder { return new CpuHogBuilder(); }

/** cyclictest (rt-tests) builder: `cyclictest().interval(50).priority(99).histogram(1000)`. */
export class CyclictestBuilder {
  /** The workload spec collected so far. */
  readonly spec: CyclictestSpec = { kind: "cyclictest" };
  /** -i: wake-up interval, µs (default 1000). */
  interval(us: number): this { this.spec.interval_us = us; return this; }
  /** -p: SCHED_FIFO priority, 1..99 (default 99). */
  priority(n: number): this { this.spec.priority = n; return this; }
  /** -l: number of loops (0 = until the horizon; default 0). */
  loops(n: number): this { this.spec.loops = n; return this; }
  /** -h: latency histogram size, in 1-µs buckets, i.e. its range in µs (0 = none; default 1000). */
  histogram(us: number): this { this.spec.histogram_us = us; return this; }
  /** -a: the guest CPU the thread runs on (default 0). */
  cpu(n: number): this { this.spec.cpu = n; return this; }
  /** Keep per-sample rows with the latency breakdown, at most `maxRows` rows (default 0). */
  samples(maxRows: number): this { this.spec.samples_max = maxRows; return this; }
}
/** cyclictest: a SCHED_FIFO thread waking every interval (clock_nanosleep TIMER_ABSTIME) and recording its wake-up latency, µs. */
export function cyclictest(): CyclictestBuilder { return new CyclictestBuilder(); }

/** Background stress builder (the rt-tests "worst-case latency" load). */
export class StressBuilder {
  /** The workload spec collected so far. */
  readonly spec: StressSpec = { kind: "stress" };
  /** Load intensity, dimensionless 0..1 (scales the rate of kernel activity; default 1). */
  intensity(x: number): this { this.spec.intensity = x; return this; }
  /** Number of stress processes (default: 2 per CPU). */
  count(n: number): this { this.spec.count = n; return this; }
  /** CPUs the stress processes may run on (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
}
/** Background stress: SCHED_OTHER tasks generating interrupts, syscalls, memory and I/O pressure. */
export function stress(): StressBuilder { return new StressBuilder(); }

/** Emulated-device I/O builder. */
export class DeviceIoBuilder {
  /** The workload spec collected so far. */
  readonly spec: DeviceIoSpec = { kind: "device-io" };
  /** Accesses per second, Hz (default 100). */
  rate(hz: number): this { this.spec.rate_hz = hz; return this; }
  /** Guest CPUs the accessing task may run on (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
}
/** Emulated-device accesses (port I/O or MMIO); on a Xen HVM guest each is an ioreq served by QEMU in Dom0. */
export function deviceIo(): DeviceIoBuilder { return new DeviceIoBuilder(); }

/** Idle-system housekeeping builder. */
export class HousekeepingBuilder {
  /** The workload spec collected so far. */
  readonly spec: HousekeepingSpec = { kind: "housekeeping" };
  /** Rate multiplier, dimensionless 0..10 (default 1). */
  intensity(x: number): this { this.spec.intensity = x; return this; }
}
/** The background activity of an idle Linux system (kernel workers, periodic driver accesses). */
export function housekeeping(): HousekeepingBuilder { return new HousekeepingBuilder(); }

// --- issue 14 block: begin
/** Bonnie builder: `bonnie().size(2000).sync()` is `bonnie -y -s 2000`. */
export class BonnieBuilder {
  /** The workload spec collected so far. */
  readonly spec: BonnieSpec = { kind: "bonnie" };
  /** -s: file size, MB (default 100). */
  size(mb: number): this { this.spec.size_mb = mb; return this; }
  /** -y: fsync at the end of each writing phase. */
  sync(on = true): this { this.spec.sync = on; return this; }
  /** -S: seeks per pass (default 4000). */
  seeks(n: number): this { this.spec.seeks = n; return this; }
  /** -p: seeker processes (default 3). */
  seekers(n: number): this { this.spec.seekers = n; return this; }
  /** CPUs the bonnie processes may run on (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
}
/** Bonnie 1.4 in an endless loop: file I/O through the kernel's page cache and disk (tables `bonnie`, `block_io`). */
export function bonnie(): BonnieBuilder { return new BonnieBuilder(); }
// --- end

// ---------------------------------------------------------- host/Dom0 threads

/** Scheduling of a host or Dom0 thread (a KVM vCPU thread, a QEMU device model): `thread().fifo(99).cpus([0])`. */
export class ThreadSchedBuilder {
  /** The thread scheduling spec collected so far. */
  readonly spec: ThreadSchedSpec = {};
  /** Scheduling policy. */
  policy(p: "other" | "fifo" | "rr"): this { this.spec.policy = p; return this; }
  /** SCHED_FIFO/SCHED_RR priority, 1..99. */
  priority(n: number): this { this.spec.priority = n; return this; }
  /** SCHED_OTHER nice value, -20..19. */
  nice(n: number): this { this.spec.nice = n; return this; }
  /** Host (KVM) or Dom0 (Xen) CPUs the thread may run on (default: all). */
  cpus(cpus: number[]): this { this.spec.cpus = cpus; return this; }
  /** SCHED_FIFO at `priority` (1..99). */
  fifo(priority: number): this { this.spec.policy = "fifo"; this.spec.priority = priority; return this; }
  /** SCHED_RR at `priority` (1..99). */
  rr(priority: number): this { this.spec.policy = "rr"; this.spec.priority = priority; return this; }
  /** SCHED_OTHER, optionally at `nice` (-20..19). */
  other(nice?: number): this {
    this.spec.policy = "other";
    if (nice !== undefined) this.spec.nice = nice;
    return this;
  }
}
/** Scheduling of a host or Dom0 thread, for `guest(...).vcpuThread(...)` and `guest(...).deviceModel(...)`. */
export function thread(): ThreadSchedBuilder { return new ThreadSchedBuilder(); }

// ---------------------------------------------------------------------- guests

/** Anything a guest (or a KVM host) accepts as a workload: a workload builder or a plain {@link WorkloadSpec}. */
export type WorkloadLike =
  | Context1Builder | CpuHogBuilder | PeriodicBuilder | CyclictestBuilder | StressBuilder | DeviceIoBuilder
  | HousekeepingBuilder | WorkloadSpec
  | BonnieBuilder; // issue 14 block

/** The plain spec of a workload builder or spec (a copy). */
function workloadSpec(w: WorkloadLike, where: string): WorkloadSpec {
  return specOf<WorkloadSpec>(w, where, "a workload such as cyclictest()");
}

/** Guest (domain) builder. */
export class GuestBuilder {
  /** The guest spec collected so far. */
  readonly spec: GuestSpec;
  /** Starts a guest with one vCPU and no workloads. */
  constructor(name: string) { this.spec = { name, vcpus: 1, workloads: [] }; }
  /** Number of vCPUs (1..64). */
  vcpus(n: number): this { this.spec.vcpus = n; return this; }
  /** Hard affinity (Xen): one list of pCPUs per vCPU, or a single list for all. */
  pin(pin: number[][]): this { this.spec.pin = pin; return this; }
  /** Scheduler weight (credit, credit2), 1..65535 (default 256). */
  weight(w: number): this { this.spec.weight = w; return this; }
  /** Cap (credit, credit2), percent of one pCPU: 0 = none, up to 100 x vcpus. */
  cap(percent: number): this { this.spec.cap = percent; return this; }
  /** RTDS reservation (period_us, budget_us in µs; extratime): one for every vCPU, or one per vCPU. */
  rtds(params: RtdsParams | RtdsParams[]): this { this.spec.rtds = copy(params, `guest(${formatValue(this.spec.name)}).rtds`); return this; }
  /** cpupool name (Xen; default the first pool). */
  pool(name: string): this { this.spec.pool = name; return this; }
  /** Xen virtualization mode (xl.cfg `type=`; default "pvh", or "pv" for Dom0). */
  type(t: "pv" | "pvh" | "hvm"): this { this.spec.type = t; return this; }
  /** Xen: makes this guest Dom0 (a PV guest hosting the QEMU device models of HVM guests). At most one. */
  dom0(on = true): this { this.spec.dom0 = on; return this; }
  /** Xen HVM: scheduling of this guest's QEMU device-model process inside Dom0 (default SCHED_OTHER nice 0). */
  deviceModel(s: ThreadSchedBuilder | ThreadSchedSpec): this {
    this.spec.device_model = specOf<ThreadSchedSpec>(s, `guest(${formatValue(this.spec.name)}).deviceModel`, "a thread policy such as thread().fifo(99)");
    return this;
  }
  /** KVM: scheduling of this guest's QEMU vCPU threads on the host (default SCHED_OTHER nice 0). */
  vcpuThread(s: ThreadSchedBuilder | ThreadSchedSpec): this {
    this.spec.vcpu_thread = specOf<ThreadSchedSpec>(s, `guest(${formatValue(this.spec.name)}).vcpuThread`, "a thread policy such as thread().fifo(99)");
    return this;
  }
  /** The guest's Linux kernel. */
  kernel(k: KernelBuilder | KernelSpec): this { this.spec.kernel = specOf<KernelSpec>(k, `guest(${formatValue(this.spec.name)}).kernel`, "a kernel such as linux()"); return this; }
  /** issue 14 block: memory of the guest, MB (default 512; natively the board's). */
  memory(mb: number): this { this.spec.memory_mb = mb; return this; }
  /**
   * issue 14 qemu (H2): KVM: QEMU as a process of threads for this guest, e.g.
   * `.qemu({ cpus: [1], rt: { maxprio: 98, aioprio: 0, aiopolicy: "ts" }, disk: { format: "raw" } })`.
   */
  qemu(q: QemuSpec): this { this.spec.qemu = q; return this; }
  /** Appends a workload running in the guest. */
  workload(w: WorkloadLike): this {
    this.spec.workloads.push(workloadSpec(w, `guest(${formatValue(this.spec.name)}).workload`));
    return this;
  }
}
/** A guest domain (a Xen domain, a KVM guest, or natively the one OS). */
export function guest(name: string): GuestBuilder { return new GuestBuilder(name); }

// ---------------------------------------------------------------------- system

/** Whole-system builder. */
export class SystemBuilder {
  private b: BoardSpec = { preset: "rcar-s4" };
  private hv: HypervisorSpec = { kind: "native" };
  private gs: GuestSpec[] = [];
  private horizonS = 10;
  private warmupS: number | undefined;
  private traceMax: number | undefined;
  private jobsMax: number | undefined;
  /** The board (default preset "rcar-s4"). */
  board(b: BoardBuilder | BoardSpec): this { this.b = specOf<BoardSpec>(b, "system().board", 'a board such as board("rcar-s4")'); return this; }
  /** The hypervisor: `xen()`, `kvm()` or a plain {@link HypervisorSpec} (default native). */
  hypervisor(h: XenBuilder | KvmBuilder | HypervisorSpec): this {
    this.hv = specOf<HypervisorSpec>(h, "system().hypervisor", "a hypervisor such as xen() or kvm()");
    return this;
  }
  /** Runs natively (no hypervisor). */
  native(): this { this.hv = { kind: "native" }; return this; }
  /** Adds a guest (natively, the one OS). */
  guest(g: GuestBuilder | GuestSpec): this { this.gs.push(specOf<GuestSpec>(g, "system().guest", 'a guest such as guest("vm")')); return this; }
  /** Simulated time, s. */
  horizon(seconds: number): this { this.horizonS = seconds; return this; }
  /** Time at the start excluded from statistics, s. */
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
    return validateSpec(copy(s, "system().build"));
  }
}
/** Starts a system spec (defaults: board "rcar-s4", native, horizon 10 s). */
export function system(): SystemBuilder { return new SystemBuilder(); }

// ------------------------------------------------------- periodic real-time tasks

/**
 * Periodic real-time task builder:
 * `periodic("ctl").period(10_000).exec(2_000).fifo(80)` or
 * `periodic("video").period(40_000).exec({ dist: "uniform", min_us: 5_000, max_us: 9_000 }).edf(9_000)`.
 * Times are µs.
 */
export class PeriodicBuilder {
  /** The workload spec collected so far. */
  readonly spec: PeriodicSpec;
  /** Starts a task named `name` (set its period and execution time before building). */
  constructor(name: string) { this.spec = { kind: "periodic", name } as PeriodicSpec; }
  /** Release period, µs. */
  period(us: number): this { this.spec.period_us = us; return this; }
  /** Execution time per job: µs, or a distribution (µs). */
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
  /** SCHED_DEADLINE (EDF with a CBS), with runtime `runtimeUs` µs (default: the worst-case execution time). */
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
