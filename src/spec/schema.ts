/**
 * The spec schema: the single source of the spec's types (./types.ts derives
 * them with `z.infer`), its field-by-field checks with their allowed ranges,
 * and (through ./checks.ts, run as the schema's final refinement) every
 * cross-field rule. `validateSpec` (./validate.ts) parses with it; the JSON
 * Schema shipped in data/spec.schema.json is generated from it
 * (`node scripts/spec-schema.mjs`).
 *
 * Units are in the field names (`_us`, `_ms`, `_ns`, `_s`). Defaults are
 * documented here and live in ./defaults.ts.
 */
import { z } from "zod";
import { COST_NAMES } from "../hw/board.js";
import { DEFAULT_RT_PRIORITY, KERNEL_DEFAULTS, XEN_DEFAULTS } from "./defaults.js";

/** An integer in lo..hi; `what` names the field's meaning in error messages. */
const int = (lo: number, hi: number, what: string) => {
  const m = `must be an integer in ${lo}..${hi} (${what})`;
  return z.number({ message: m }).int({ message: m }).min(lo, { message: m }).max(hi, { message: m }).describe(what);
};

/** A finite number in lo..hi. */
const num = (lo: number, hi: number, what: string) => {
  const m = `must be a number in ${lo}..${hi} (${what})`;
  return z.number({ message: m }).min(lo, { message: m }).max(hi, { message: m }).describe(what);
};

/** An optional field with its default (documented in the JSON Schema). */
const opt = <T extends z.ZodType>(s: T, dflt?: unknown) => (dflt === undefined ? s.optional() : s.optional().meta({ default: dflt }));

const cpuList = z.array(int(0, 4095, "a CPU id"), { message: "must be a list of CPU ids (integers in 0..4095)" });
const cpus = cpuList.min(1, { message: "must list at least one CPU" });

/** An integer in lo..hi, or the string "off". */
const orOff = (lo: number, hi: number, what: string, off: string) =>
  z.union([z.literal("off"), int(lo, hi, what)], { message: `must be an integer in ${lo}..${hi} (${what}), or "off" (${off})` });

const RATELIMIT_WHAT = "sched_ratelimit_us in µs, XEN_SYSCTL_SCHED_RATELIMIT_MIN..MAX as `xl sched-credit* -s -r` takes it";

/** Message for a discriminated union whose tag is unknown: `unknown <what> "x"; allowed: "a", "b"`. */
const unknownTag = (what: string, tag: string, allowed: readonly string[]) => (iss: { code?: string; input?: unknown }) => {
  if (iss.code !== "invalid_union" && iss.code !== "invalid_type") return undefined;
  const input = iss.input;
  if (iss.code === "invalid_type" || input === null || typeof input !== "object" || Array.isArray(input)) return `must be an object with a "${tag}" field (${allowed.map((s) => `"${s}"`).join(", ")})`;
  const v = Object.hasOwn(input, tag) ? (input as Record<string, unknown>)[tag] : undefined;
  if (v === undefined) return `${tag} is missing; allowed: ${allowed.map((s) => `"${s}"`).join(", ")}`;
  return `unknown ${what} ${typeof v === "string" ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v) : `(a ${typeof v})`}; allowed: ${allowed.map((s) => `"${s}"`).join(", ")}`;
};

// ------------------------------------------------------------------ board

/** Names of the per-operation costs a board preset defines (all in ns). */
export const costNameSchema = z.enum(COST_NAMES);

const costsShape = Object.fromEntries(COST_NAMES.map((n) => [n, num(0, 1e9, "cost in ns").optional()])) as {
  [K in (typeof COST_NAMES)[number]]: z.ZodOptional<z.ZodNumber>;
};

/** A board: a preset name plus optional overrides. */
export const boardSchema = z.strictObject({
  /** Preset id from data/boards (e.g. "rcar-s4"). */
  preset: z.string({ message: "must be a board preset id (a string; see `hvsim list`)" }),
  /** Override of the cost model, ns per operation. */
  costs_ns: z.strictObject(costsShape).optional(),
  /** Override of the coefficient of variation of every operation cost (0 = deterministic costs). */
  jitter_cv: num(0, 1, "coefficient of variation of operation costs").optional(),
  // --- issue 14 board: begin
  /** System-management interrupts as the preset describes them (data/boards `smi`; native and KVM hosts). false turns them off. Default true. */
  smi: opt(z.boolean({ message: "must be true or false" }), true),
  // --- issue 14 board: end
});

// --------------------------------------------------------- Xen schedulers

/** Xen Credit2 scheduler parameters (xl sched-credit2 semantics). */
export const credit2Schema = z.strictObject({
  name: z.literal("credit2"),
  /** sched_ratelimit_us: 100..500000, or "off" (xl's `-r 0`). Default 1000. */
  ratelimit_us: opt(orOff(100, 500000, RATELIMIT_WHAT, "xl's -r 0 disables rate limiting"), 1000),
  /** credit2_runqueue: how pCPUs are grouped into runqueues. Default "socket". */
  runqueue: opt(z.enum(["cpu", "core", "socket", "node", "all"], { message: 'credit2_runqueue must be "cpu", "core", "socket", "node" or "all"' }), "socket"),
});

/** Xen Credit (credit1) parameters (xl sched-credit -s semantics). */
export const creditSchema = z.strictObject({
  name: z.literal("credit"),
  /** sched_credit_tslice_ms: 1..1000, default 30. */
  tslice_ms: opt(int(1, 1000, "sched_credit_tslice_ms (xl sched-credit -s -t)"), 30),
  /** sched_ratelimit_us: 100..500000 and <= tslice, or "off". Default 1000. */
  ratelimit_us: opt(orOff(100, 500000, RATELIMIT_WHAT, "xl's -r 0 disables rate limiting"), 1000),
  /** vcpu_migration_delay in µs: 0..100000, default 0. */
  migration_delay_us: opt(int(0, 100000, "vcpu_migration_delay, µs (xl sched-credit -s -m)"), 0),
});

/** Xen RTDS (global EDF); per-vCPU parameters are on the guest (`rtds`). */
export const rtdsSchema = z.strictObject({ name: z.literal("rtds") });

/** One minor frame of an ARINC653 schedule. */
export const arinc653FrameSchema = z.strictObject({
  /** Guest name. */
  guest: z.string({ message: "must be a guest name" }),
  /** vCPU index in that guest. Default 0. */
  vcpu: opt(int(0, 63, "vCPU index"), 0),
  /** Length of the minor frame, ms. */
  runtime_ms: num(0.001, 1e6, "minor frame length, ms"),
});

/** Xen ARINC653: a static cyclic table on a single-pCPU pool. */
export const arinc653Schema = z.strictObject({
  name: z.literal("arinc653"),
  /** Major frame, ms (>= sum of the frames' runtimes; the rest is idle). */
  major_frame_ms: num(0.001, 1e6, "major frame, ms"),
  /** The minor frames, in order. */
  frames: z.array(arinc653FrameSchema, { message: "must be a list of minor frames" })
    .max(64, { message: "at most 64 minor frames (ARINC653_MAX_DOMAINS_PER_SCHEDULE)" }),
});

/** Xen Null scheduler: static 1:1 vCPU-to-pCPU assignment. */
export const nullSchema = z.strictObject({ name: z.literal("null") });

const SCHEDULER_NAMES = ["credit2", "credit", "rtds", "arinc653", "null"] as const;
/** A Xen scheduler of a cpupool, told apart by `name`. */
export const xenSchedulerSchema = z.discriminatedUnion("name", [credit2Schema, creditSchema, rtdsSchema, arinc653Schema, nullSchema], {
  error: unknownTag("scheduler", "name", SCHEDULER_NAMES),
});

/** RTDS reservation of a vCPU (xl sched-rtds -p -b -e). */
export const rtdsParamsSchema = z.strictObject({
  /** Period, µs (>= 10). Default 10000. */
  period_us: opt(int(10, 4_294_967_295, "RTDS period, µs (min 10)"), 10000),
  /** Budget, µs (10..period). Default 4000. */
  budget_us: opt(int(10, 4_294_967_295, "RTDS budget, µs (10..period)"), 4000),
  /** Extratime (may run beyond its budget when nothing else wants the pCPU). Default true. */
  extratime: opt(z.boolean({ message: "must be true or false" }), true),
});

/** A cpupool: a set of pCPUs with its own scheduler instance. */
export const poolSchema = z.strictObject({
  /** Pool name (unique). */
  name: z.string({ message: "must be a pool name" }).min(1, { message: "must be a non-empty pool name" }),
  /** pCPU ids in the pool. */
  cpus: cpuList.min(1, { message: "a pool needs at least one pCPU" }),
  /** The pool's scheduler. */
  scheduler: xenSchedulerSchema,
});

// ----------------------------------------------------------------- kernel

const HZ_VALUES = [100, 250, 300, 1000];
const HZ_MSG = "CONFIG_HZ must be one of 100, 250, 300, 1000";

// --- issue 11 (pv-ops operation model), begin
/**
 * A Xen PV guest's kernel at the level of privileged operations
 * (src/virt/pvops): the names are checked against data/pvops/linux-pv.json
 * when simulating (pvopsSpecIssues), with the guest's type.
 */
export const pvopsSchema = z.strictObject({
  /** Base variant: "classic-2.6.32" or "pvops-3.3". Default "pvops-3.3". */
  variant: z.string({ message: 'must be a PV kernel variant name ("classic-2.6.32", "pvops-3.3")' }).optional(),
  /** Guest bitness: 32 (PAE) or 64. Default 64. */
  bits: z.union([z.literal(32), z.literal(64)], { message: "guest bitness must be 32 (PAE) or 64" }).optional(),
  /** Fix ids, e.g. "irq-restore-pending-check", "tls-skip-unchanged", "set-pte-hypercall". Default (no variant given): every upstream fix for the bitness. */
  fixes: z.array(z.string({ message: "must be a fix id" }), { message: "must be a list of fix ids" }).optional(),
});
// --- issue 11, end

/** Linux kernel model parameters. */
export const kernelSchema = z.strictObject({
  /** Kernel version whose scheduler rules are modelled. */
  // --- issue 14 kernel versions: begin
  /**
   * "5.10" (default), "2.6.31" (the paper's host: 2.6.31-rc4 PREEMPT / 2.6.31-rt) or "2.6.29" (the guest:
   * 2.6.29.6-rt23): the CFS defaults of kernel/sched_fair.c, sleeper placement and the data/kernels preset
   * (linux-5.0 or linux-2.6.31) follow the version.
   */
  version: opt(z.enum(["5.10", "2.6.31", "2.6.29"], { message: 'must be "5.10", "2.6.31" or "2.6.29"' }), "5.10"),
  /**
   * PREEMPT_RT kernels of version 2.6.29/2.6.31 only: SCHED_FIFO priority of the per-CPU hrtimer softirq
   * thread (sirq-hrtimer/N) that runs hrtimer callbacks not marked irqsafe, among them KVM's LAPIC timer.
   * Default 50 (the -rt softirq threads' default, see data/kernels/linux-2.6.31.json).
   */
  hrtimer_thread_priority: int(1, 99, "SCHED_FIFO priority of the sirq-hrtimer thread (chrt -p -f P)").optional(),
  // --- issue 14 kernel versions: end
  /** CONFIG_HZ (100, 250, 300, 1000). Default 250. */
  hz: opt(z.number({ message: HZ_MSG }).refine((v) => HZ_VALUES.includes(v), { message: HZ_MSG }).meta({ enum: HZ_VALUES }), KERNEL_DEFAULTS.hz),
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING: exclude steal time from task runtime. Default false. */
  paravirt_time_accounting: opt(z.boolean({ message: "must be true or false" }), false),
  /** CONFIG_PREEMPT* model: "none" (the paper's "NRT"), "voluntary", "full", "rt" (PREEMPT_RT). Default "none". */
  preempt: opt(z.enum(["none", "voluntary", "full", "rt"], { message: 'must be "none", "voluntary", "full" or "rt"' }), "none"),
  /** Linux's Xen PV clockevent minimum delta (TIMER_SLOP, `xen_timer_slop=` since 5.2), ns. Default 100000. Used only as a Xen guest with a PV clock (PV, PVH, or PVHVM). */
  xen_timer_slop_ns: opt(int(0, 100_000_000, "Xen PV clockevent min delta (TIMER_SLOP), ns"), KERNEL_DEFAULTS.xen_timer_slop_ns),
  /** sysctl_sched_latency override (base value before the CPU-count scaling), ns. */
  sched_latency_ns: int(100000, 1000000000, "sysctl_sched_latency base value, ns").optional(),
  /** sysctl_sched_min_granularity override (base value before the CPU-count scaling), ns. */
  sched_min_granularity_ns: int(100000, 1000000000, "sysctl_sched_min_granularity base value, ns").optional(),
  /** sysctl_sched_wakeup_granularity override (base value before the CPU-count scaling), ns. */
  sched_wakeup_granularity_ns: int(0, 1000000000, "sysctl_sched_wakeup_granularity base value, ns").optional(),
  /** GENTLE_FAIR_SLEEPERS scheduler feature. Default true for 5.10; false for 2.6.29/2.6.31 (the feature arrived in 2.6.32: place_entity credits a waking task the full sched_latency). */
  gentle_fair_sleepers: opt(z.boolean({ message: "must be true or false" }), true),
  /** sched_rt_runtime_us: RT throttling budget per period (<= rt_period_us), or "off" (-1). Default 950000. */
  rt_runtime_us: opt(orOff(0, 1_000_000_000, "sched_rt_runtime_us", "-1 disables RT throttling"), KERNEL_DEFAULTS.rt_runtime_us),
  /** sched_rt_period_us. Default 1000000. */
  rt_period_us: opt(int(1, 1_000_000_000, "sched_rt_period_us"), KERNEL_DEFAULTS.rt_period_us),
  /** sched_rr_timeslice_ms. Default 100. */
  rr_timeslice_ms: opt(int(1, 100_000, "sched_rr_timeslice_ms"), KERNEL_DEFAULTS.rr_timeslice_ms),
  /** issue 11: a Xen PV guest's kernel at the level of privileged operations. PV guests only. Default for a PV DomU: pv-ops, 64-bit, every upstream fix. */
  pvops: pvopsSchema.optional(),
  // --- issue 14 block: begin
  /**
   * /proc/irq/N/smp_affinity of the kernel's device interrupts: `disk` lists
   * the CPUs of the disk's completion interrupt (the interrupt goes to the
   * lowest of them). Default: all CPUs, i.e. CPU 0.
   */
  irq_affinity: z.strictObject({
    /** CPUs of the disk interrupt (CPU ids of this kernel). Default [0]. */
    disk: cpus.optional(),
  }).optional(),
  // --- end
});

// -------------------------------------------------------------- workloads

const us = (what: string) => num(0, 1e12, what);

const DISTS = ["fixed", "uniform", "normal", "exponential"] as const;
/** Distribution of a job's execution time (µs). For uniform, and normal with both bounds, min_us <= max_us. */
export const execDistSchema = z.discriminatedUnion("dist", [
  z.strictObject({ dist: z.literal("fixed"), us: us("execution time, µs") }),
  z.strictObject({ dist: z.literal("uniform"), min_us: us("shortest execution time, µs"), max_us: us("longest execution time, µs") }),
  z.strictObject({
    dist: z.literal("normal"), mean_us: us("mean execution time, µs"), sd_us: us("standard deviation, µs"),
    min_us: us("lower bound, µs").optional(), max_us: us("upper bound, µs").optional(),
  }),
  z.strictObject({ dist: z.literal("exponential"), mean_us: us("mean execution time, µs"), max_us: us("upper bound, µs").optional() }),
], { error: unknownTag("execution-time distribution", "dist", DISTS) });

const execSchema = z.union([us("execution time, µs"), execDistSchema], {
  message: 'exec must be a number of µs in 0..1e12 or {dist: "fixed"|"uniform"|"normal"|"exponential", ...}',
});

/** UnixBench Context1: two processes ping-ponging a counter through two pipes. */
export const context1Schema = z.strictObject({
  kind: z.literal("context1"),
  /** Guest CPUs the two processes may run on (taskset). Default: all. */
  cpus: cpus.optional(),
  /** Sampling interval of the vruntime gap probe, µs. Default 1000; 0 disables. */
  sample_us: opt(int(0, 10_000_000, "vruntime gap sampling interval, µs; 0 disables"), 1000),
  /** User-space work per half-loop (counter check and increment), ns. Default 100. */
  user_ns: opt(int(0, 1_000_000, "user work per half-loop, ns"), 100),
});

/**
 * A periodic real-time task: a job is released every `period_us` (first at
 * `offset_us`), needs an execution time, and should finish within
 * `deadline_us` of its release.
 */
export const periodicSchema = z.strictObject({
  kind: z.literal("periodic"),
  /** Task name (unique among the periodic tasks of its guest). */
  name: z.string({ message: "must be a task name" }).min(1, { message: "must be a non-empty task name" }),
  /** Release period, µs. */
  period_us: num(1, 1e12, "period, µs"),
  /** Execution time per job: a fixed number of µs or a distribution. */
  exec: execSchema,
  /** Relative deadline, µs. Default: the period. */
  deadline_us: num(1, 1e12, "relative deadline, µs").optional(),
  /** First release, µs. Default 0. */
  offset_us: opt(num(0, 1e12, "first release, µs"), 0),
  /** Scheduling policy. Default "fifo". */
  policy: opt(z.enum(["other", "fifo", "rr", "deadline"], { message: 'policy must be "other", "fifo", "rr" or "deadline"' }), "fifo"),
  /** SCHED_FIFO/RR priority 1..99. Default 50. */
  priority: opt(int(1, 99, "SCHED_FIFO/SCHED_RR priority"), DEFAULT_RT_PRIORITY),
  /** SCHED_OTHER nice. Default 0. */
  nice: opt(int(-20, 19, "nice value"), 0),
  /** SCHED_DEADLINE runtime, µs (default: the worst-case execution time). */
  dl_runtime_us: num(1.024, 1e12, "SCHED_DEADLINE runtime, µs (>= 1024 ns)").optional(),
  /** Allowed CPUs. Default: all. */
  cpus: cpus.optional(),
});

/**
 * One event of an rt-app thread (rt-app's doc/tutorial.txt), one key each: `run_us` (a fixed
 * amount of work), `runtime_us` (compute until that much wall-clock time has passed),
 * `sleep_us` (a relative sleep), `timer_us` (sleep until the timer's next expiry, `period`
 * after its previous one; `ref` names the timer within the thread, default "unique";
 * `absolute`: keep the grid after an overrun instead of rt-app's default relative re-anchoring).
 */
export const rtappEventSchema = z.union([
  z.strictObject({ run_us: num(0, 1e12, "run: work, µs") }),
  z.strictObject({ runtime_us: num(0, 1e12, "runtime: wall-clock computation, µs") }),
  z.strictObject({ sleep_us: num(0, 1e12, "sleep, µs") }),
  z.strictObject({
    timer_us: num(1, 1e12, "timer period, µs"),
    ref: z.string({ message: "must be a timer name" }).optional(),
    absolute: z.boolean({ message: "must be true or false" }).optional(),
  }),
], { message: "must be one event: {run_us}, {runtime_us}, {sleep_us} or {timer_us, ref?, absolute?}" });

/** One phase of an rt-app thread: its events, run `loop` times before the next phase. */
export const rtappPhaseSchema = z.strictObject({
  /** Times the phase's events run before the next phase. Default 1. */
  loop: opt(int(1, 1_000_000_000, "phase loop count"), 1),
  /** The events, in order. */
  events: z.array(rtappEventSchema, { message: "must be a list of events" }).min(1, { message: "a phase needs at least one event" }),
});

/**
 * One rt-app thread (rt-app's thread object: phases of run/runtime/sleep/timer
 * events, a loop count, a policy, an affinity). `hvsim run` converts rt-app
 * files into these (one per instance) when a thread is not a plain periodic task.
 */
export const rtappSchema = z.strictObject({
  kind: z.literal("rtapp"),
  /** Thread name. */
  name: z.string({ message: "must be a thread name" }).min(1, { message: "must be a non-empty thread name" }),
  /** Scheduling policy. Default "other". */
  policy: opt(z.enum(["other", "fifo", "rr", "deadline"], { message: 'policy must be "other", "fifo", "rr" or "deadline"' }), "other"),
  /** SCHED_FIFO/RR priority 1..99. Default 10 (rt-app's default for the RT classes). */
  priority: opt(int(1, 99, "SCHED_FIFO/SCHED_RR priority"), 10),
  /** SCHED_OTHER nice. Default 0. */
  nice: opt(int(-20, 19, "nice value"), 0),
  /** SCHED_DEADLINE runtime, µs (needed with policy "deadline"). */
  dl_runtime_us: num(1.024, 1e12, "SCHED_DEADLINE runtime, µs (>= 1024 ns)").optional(),
  /** SCHED_DEADLINE period, µs. Default: the runtime (rt-app's default). */
  dl_period_us: num(1.024, 1e12, "SCHED_DEADLINE period, µs").optional(),
  /** SCHED_DEADLINE relative deadline, µs. Default: the period. */
  dl_deadline_us: num(1.024, 1e12, "SCHED_DEADLINE deadline, µs").optional(),
  /** Allowed CPUs. Default: all. */
  cpus: cpus.optional(),
  /** Delay before the thread starts, µs. Default 0. */
  delay_us: opt(num(0, 1e12, "start delay, µs"), 0),
  /** Times the whole list of phases runs; -1 = forever (rt-app's default). */
  loop: opt(int(-1, 1_000_000_000, "thread loop count (-1 = forever)"), -1),
  /** The phases, in order. */
  phases: z.array(rtappPhaseSchema, { message: "must be a list of phases" }).min(1, { message: "a thread needs at least one phase" }),
}).superRefine((w, ctx) => {
  if (w.loop === 0) ctx.addIssue({ code: "custom", path: ["loop"], message: "must be -1 (forever) or at least 1" });
  if (w.policy !== "deadline") return;
  if (w.dl_runtime_us === undefined) { ctx.addIssue({ code: "custom", path: ["dl_runtime_us"], message: 'is needed with policy "deadline"' }); return; }
  const period = w.dl_period_us ?? w.dl_runtime_us, deadline = w.dl_deadline_us ?? period;
  if (!(w.dl_runtime_us <= deadline && deadline <= period))
    ctx.addIssue({ code: "custom", path: ["dl_runtime_us"], message: `SCHED_DEADLINE needs runtime <= deadline <= period; got ${w.dl_runtime_us} / ${deadline} / ${period} µs (sched_setattr: EINVAL)` });
});

/** CPU hogs: `count` processes that never block (stress -c, while(1)). */
export const cpuHogSchema = z.strictObject({
  kind: z.literal("cpu-hog"),
  /** Number of processes. Default 1. */
  count: opt(int(1, 1024, "number of hog processes"), 1),
  /** CPUs the hogs may run on. Default: all. */
  cpus: cpus.optional(),
  /** SCHED_OTHER nice. Default 0. */
  nice: opt(int(-20, 19, "nice value"), 0),
  /** CPU work of each process, ms; the process exits when done (its finish time is recorded). Default: forever. */
  work_ms: num(0.001, 1e9, "CPU work per process, ms").optional(),
});

/**
 * cyclictest (rt-tests): a thread sleeping with clock_nanosleep(TIMER_ABSTIME)
 * every `interval_us` and recording latency = wake-up time - intended time.
 */
export const cyclictestSchema = z.strictObject({
  kind: z.literal("cyclictest"),
  /** -i: interval, µs. Default 1000. */
  interval_us: opt(int(1, 10_000_000, "cyclictest -i interval, µs"), 1000),
  /** -p: SCHED_FIFO priority (1..99). Default 99. */
  priority: opt(int(1, 99, "cyclictest -p SCHED_FIFO priority"), 99),
  /** -l: loops (0 = until the horizon). Default 0. */
  loops: opt(int(0, 1e12, "cyclictest -l loops (0 = until the horizon)"), 0),
  /** -h: histogram buckets of 1 µs (0 = none). Default 1000. */
  histogram_us: opt(int(0, 1_000_000, "cyclictest -h buckets (HIST_MAX 1000000)"), 1000),
  /** -a: CPU. Default 0. */
  cpu: opt(int(0, 4095, "cyclictest -a CPU"), 0),
  /** Keep per-sample rows with the latency breakdown (max rows). Default 0. */
  samples_max: opt(int(0, 100_000_000, "per-sample rows kept"), 0),
});

/**
 * Background stress (the rt-tests "worst-case latency" scenarios): CFS tasks
 * generating interrupts, syscalls, memory and I/O pressure.
 */
export const stressSchema = z.strictObject({
  kind: z.literal("stress"),
  /** Load intensity 0..1 (scales the rate of kernel activity). Default 1. */
  intensity: opt(num(0, 1, "stress intensity"), 1),
  /** Number of stress processes. Default: 2 per CPU. */
  count: int(1, 4096, "stress processes").optional(),
  /** CPUs the stress processes may run on. Default: all. */
  cpus: cpus.optional(),
});

/**
 * Emulated-device accesses made by the guest (a console or disk on an HVM
 * guest without PV drivers): a SCHED_OTHER task performing one port-I/O or
 * MMIO access `rate_hz` times per second. On Xen HVM each access is an ioreq
 * served by the guest's QEMU device model in Dom0 (the vCPU waits); on PV/PVH
 * and natively it costs only the access itself.
 */
export const deviceIoSchema = z.strictObject({
  kind: z.literal("device-io"),
  /** Accesses per second. Default 100. */
  rate_hz: opt(num(0, 1_000_000, "emulated-device accesses per second"), 100),
  /** CPUs the accessing task may run on. Default: all. */
  cpus: cpus.optional(),
});

/**
 * The background activity of an otherwise idle Linux system (data/kernels
 * `housekeeping`): kernel workers (vmstat, RCU, writeback, timers) and the
 * periodic device accesses of console and disk drivers, at their rates
 * times `intensity`. On a Xen HVM guest the device accesses are ioreqs
 * served by QEMU in Dom0.
 */
export const housekeepingSchema = z.strictObject({
  kind: z.literal("housekeeping"),
  /** Rate multiplier 0..10. Default 1. */
  intensity: opt(num(0, 10, "housekeeping intensity"), 1),
});

// --- issue 11: lmbench lat_ctx, begin
/**
 * lmbench lat_ctx -s 0 N: `procs` processes pass a token around a ring of
 * pipes (procs = 1: lmbench's overhead loop, one process writing and reading
 * its own pipe). Table `lat_ctx`: time per token pass.
 */
export const latCtxSchema = z.strictObject({
  kind: z.literal("lat-ctx"),
  /** Processes in the ring (lat_ctx's N). Default 2; 1 = the overhead loop. */
  procs: opt(int(1, 1024, "lat_ctx processes in the ring (1 = lmbench's overhead loop)"), 2),
  /** CPUs the processes may run on. Default: all. */
  cpus: cpus.optional(),
});
// --- issue 11, end

// --- issue 14 calibrator: begin
/**
 * Manegold's cache calibrator (0.9e, `calibrator MHZ SIZE FILE`), run in an endless loop: pointer-chasing
 * walks over ranges of a buffer of `size_bytes`, range by range and stride by stride, each measurement
 * timed for tens of ms and logged to a file. CPU-bound and memory-bound (SCHED_OTHER); its current range
 * is the working set the cache-interference model (board `llc`) sees.
 */
export const calibratorSchema = z.strictObject({
  kind: z.literal("calibrator"),
  /** First argument: the CPU clock in MHz (only scales the tool's own output; no effect on the model). Default 1660. */
  mhz: opt(int(1, 100_000, "calibrator MHz argument"), 1660),
  /** Second argument: the largest range (buffer size), bytes (4M = 4194304). Default 4194304. */
  size_bytes: opt(int(4096, 1 << 30, "calibrator buffer size (largest range), bytes"), 4194304),
  /** CPUs the process may run on. Default: all. */
  cpus: cpus.optional(),
  /** SCHED_OTHER nice. Default 0. */
  nice: opt(int(-20, 19, "nice value"), 0),
});
// --- issue 14 calibrator: end

// --- issue 14 block: begin
/**
 * Bonnie 1.4 (`bonnie [-y] -s size_mb`), run in an endless loop: a file of
 * size_mb written per character and per block, rewritten, read per
 * character and per block, then random seeks by forked seekers, through the
 * kernel's page cache and disk. Tables `bonnie` and `block_io`.
 */
export const bonnieSchema = z.strictObject({
  kind: z.literal("bonnie"),
  /** -s: file size, MB (2^20 bytes), rounded down to a multiple of 1 MB; must fit on the kernel's disk. Default 100. */
  size_mb: opt(int(1, 10_000_000, "bonnie file size (-s), MB"), 100),
  /** -y: fsync() the file at the end of each writing phase. Default false. */
  sync: opt(z.boolean({ message: "must be true or false" }), false),
  /** -S: seeks per pass (shared by the seekers). Default 4000. */
  seeks: opt(int(1, 10_000_000, "bonnie seeks per pass (-S)"), 4000),
  /** -p: seeker processes. Default 3. */
  seekers: opt(int(1, 64, "bonnie seeker processes (-p)"), 3),
  /** CPUs the bonnie processes may run on (taskset). Default: all. */
  cpus: cpus.optional(),
});
// --- end

const WORKLOAD_KINDS = ["context1", "cpu-hog", "periodic", "cyclictest", "stress", "device-io", "housekeeping", "lat-ctx", "rtapp",
  "bonnie", "calibrator", // issue 14
] as const;
/** A workload, told apart by `kind`. */
export const workloadSchema = z.discriminatedUnion("kind", [
  context1Schema, periodicSchema, cyclictestSchema, deviceIoSchema, stressSchema, housekeepingSchema, cpuHogSchema, latCtxSchema, rtappSchema,
  bonnieSchema, calibratorSchema, // issue 14
], { error: unknownTag("workload kind", "kind", WORKLOAD_KINDS) });

// ------------------------------------------------------------ hypervisors

/** Xen hypervisor model. */
export const xenSchema = z.strictObject({
  kind: z.literal("xen"),
  /** Xen release the model follows. */
  version: opt(z.literal("4.20", { message: 'only "4.20" is modelled' }), "4.20"),
  /** The cpupools; guests go to the first unless they name one. */
  pools: z.array(poolSchema, { message: "must be a list of cpupools" }).min(1, { message: "Xen needs at least one cpupool" }),
  /** Xen's own timer_slop (boot option `timer_slop=`), ns. Default 50000. */
  timer_slop_ns: opt(int(0, 1_000_000_000, "Xen timer_slop, ns"), XEN_DEFAULTS.timer_slop_ns),
});

/**
 * KVM on a Linux host: the host kernel schedules one QEMU vCPU thread per
 * guest vCPU (plus QEMU's main thread), next to the host's own workloads.
 */
export const kvmSchema = z.strictObject({
  kind: z.literal("kvm"),
  /** The host Linux kernel. */
  host_kernel: kernelSchema.optional(),
  /** Workloads running on the host (e.g. a stress load); their CPUs are host CPUs. */
  host_workloads: z.array(workloadSchema, { message: "must be a list of workloads" }).optional(),
  /** kvm.halt_poll_ns: how long a halted vCPU thread busy-polls before sleeping, ns (0 = off). Default 200000 (KVM_HALT_POLL_NS_DEFAULT, x86). */
  halt_poll_ns: opt(int(0, 100_000_000, "kvm.halt_poll_ns, ns"), 200000),
});

/** No hypervisor: one Linux kernel directly on the board. */
export const nativeSchema = z.strictObject({ kind: z.literal("native") });

/** The hypervisor, told apart by `kind`. */
export const hypervisorSchema = z.discriminatedUnion("kind", [xenSchema, kvmSchema, nativeSchema], {
  error: unknownTag("hypervisor kind", "kind", ["xen", "kvm", "native"]),
});

// ----------------------------------------------------------------- guests

/** Scheduling policy of a host or Dom0 thread (QEMU vCPU thread, device model). */
export const threadSchedSchema = z.strictObject({
  /** Policy. Default "other". "deadline" (SCHED_DEADLINE) needs dl_runtime_us (and optionally dl_period_us, dl_deadline_us). */
  policy: opt(z.enum(["other", "fifo", "rr", "deadline"], { message: 'policy must be "other", "fifo", "rr" or "deadline"' }), "other"),
  /** SCHED_FIFO/RR priority 1..99. Default 50. */
  priority: opt(int(1, 99, "SCHED_FIFO/RR priority"), DEFAULT_RT_PRIORITY),
  /** SCHED_OTHER nice. Default 0. */
  nice: opt(int(-20, 19, "nice value"), 0),
  /** Host/Dom0 CPUs the thread may run on. Default: all. */
  cpus: cpus.optional(),
  /** SCHED_DEADLINE runtime, µs (>= 1.024; policy "deadline" only). */
  dl_runtime_us: num(1.024, 1e12, "SCHED_DEADLINE runtime, µs (>= 1024 ns)").optional(),
  /** SCHED_DEADLINE period, µs. Default: dl_deadline_us, else dl_runtime_us. */
  dl_period_us: num(1.024, 1e12, "SCHED_DEADLINE period, µs").optional(),
  /** SCHED_DEADLINE relative deadline, µs. Default: the period. */
  dl_deadline_us: num(1.024, 1e12, "SCHED_DEADLINE deadline, µs").optional(),
});

// --- issue 14 qemu (H2): begin
/** QEMU's `-rt maxprio=P[,policy=ff|rr|ts][,aioprio=P][,aiopolicy=ff|rr|ts][,pvsched=on|off]` (the real-time qemu-kvm extension of 2009). */
export const qemuRtSchema = z.strictObject({
  /** Priority of the main I/O thread and (unless aioprio/aiopolicy say otherwise) the AIO threads, 1..99; vCPU threads get maxprio - 1. */
  maxprio: int(1, 99, "QEMU -rt maxprio"),
  /** Policy of every QEMU thread: "ff" SCHED_FIFO, "rr" SCHED_RR, "ts" SCHED_OTHER. Default "ff". */
  policy: opt(z.enum(["ff", "rr", "ts"], { message: 'policy must be "ff", "rr" or "ts"' }), "ff"),
  /** Priority of the AIO threads, 0..maxprio (0 with aiopolicy "ts"). Default maxprio. */
  aioprio: opt(int(0, 99, "QEMU -rt aioprio, at most maxprio")),
  /** Policy of the AIO threads ("ts" = SCHED_OTHER). Default: policy. */
  aiopolicy: opt(z.enum(["ff", "rr", "ts"], { message: 'aiopolicy must be "ff", "rr" or "ts"' })),
  /** Paravirtual scheduling (pvsched=on). Default false. */
  pvsched: opt(z.boolean({ message: "must be true or false" }), false),
});

/** QEMU (qemu-kvm) as a process of threads for a KVM guest: vCPU threads, the main I/O thread, the AIO pool, the global lock. */
export const qemuSchema = z.strictObject({
  /** Host CPUs every QEMU thread (vCPU, main, AIO) may run on. Default: all (or vcpu_thread.cpus for the vCPU threads). */
  cpus: cpus.optional(),
  /** The -rt switch; absent: every thread SCHED_OTHER (and vcpu_thread applies). */
  rt: qemuRtSchema.optional(),
  /** The global I/O lock and QEMU's other mutexes use priority inheritance (PTHREAD_PRIO_INHERIT). Default false. */
  pi_mutexes: opt(z.boolean({ message: "must be true or false" }), false),
  /** The guest's disk: an emulated IDE disk backed by an image file on the host. Absent: no emulated disk. */
  disk: z.strictObject({
    /** Image format: "raw" (one host I/O per request) or "qcow2" (metadata I/O synchronously under the global lock). */
    format: z.enum(["raw", "qcow2"], { message: 'format must be "raw" or "qcow2"' }),
  }).optional(),
  /**
   * The guest's emulated 16550 UART (-serial): the guest's device-io accesses become writes of one
   * character each to its transmit register, which QEMU writes to the backend (write(2)) in the vCPU
   * thread under the global lock. Absent: no serial load through QEMU.
   */
  serial: z.strictObject({
    /** "null" (-serial /dev/null: the write returns at once) or "pty" (a pseudo-terminal read at drain_chars_per_s; a full buffer blocks the write). */
    backend: z.enum(["null", "pty"], { message: 'backend must be "null" or "pty"' }),
    /** pty: characters per second the reader on the other side takes. Default 960 (a 9600-baud terminal). */
    drain_chars_per_s: opt(num(1, 1e9, "characters per second read from the pty"), 960),
  }).optional(),
});
// --- issue 14 qemu (H2): end

/** A guest domain (or, natively, the one OS). */
export const guestSchema = z.strictObject({
  /** Guest name (unique). */
  name: z.string({ message: "must be a guest name" }).min(1, { message: "must be a non-empty guest name" }),
  /** cpupool name; default the first pool. */
  pool: z.string({ message: "must be a pool name" }).optional(),
  /** Number of vCPUs (1..64). */
  vcpus: int(1, 64, "number of vCPUs"),
  /** Hard affinity per vCPU: pin[i] lists the pCPUs vCPU i may run on. One entry per vCPU or a single entry for all. */
  pin: z.array(cpuList.min(1, { message: "a vCPU needs at least one pCPU" }), { message: "must be a list of pCPU lists, one per vCPU or one for all" }).optional(),
  /** Scheduler weight (credit, credit2): 1..65535, default 256. */
  weight: opt(int(1, 65535, "scheduler weight (xl sched-* -w)"), 256),
  /** Cap (credit, credit2), percent of one pCPU: 0 = none, up to 100 x vcpus. Default 0. */
  cap: opt(int(0, 6400, "cap in percent of one pCPU (xl sched-* -c), 0 = none"), 0),
  /** RTDS reservation: one for every vCPU, or one per vCPU. */
  rtds: z.union([rtdsParamsSchema, z.array(rtdsParamsSchema)], { message: "must be an RTDS reservation {period_us, budget_us, extratime} or a list of them, one per vCPU" }).optional(),
  /** Xen: virtualization mode (xl.cfg `type=`). Default "pvh" ("pv" for Dom0). */
  type: z.enum(["pv", "pvh", "hvm"], { message: 'type must be "pv", "pvh" or "hvm" (xl.cfg type=)' }).optional(),
  /** Xen: this guest is Dom0 (PV; hosts the QEMU device models of HVM guests). At most one. */
  dom0: z.boolean({ message: "must be true or false" }).optional(),
  /** Xen HVM: scheduling of this guest's QEMU device-model process inside Dom0. Default SCHED_OTHER nice 0. */
  device_model: threadSchedSchema.optional(),
  /** KVM: scheduling of the QEMU vCPU threads on the host. Default SCHED_OTHER nice 0. */
  vcpu_thread: threadSchedSchema.optional(),
  // --- issue 14 qemu (H2): begin
  /** KVM: QEMU as a process of threads (main I/O thread, AIO pool, global lock, emulated IDE disk) and its -rt priorities. */
  qemu: qemuSchema.optional(),
  // --- issue 14 qemu (H2): end
  /** The guest's Linux kernel. */
  kernel: kernelSchema.optional(),
  // --- issue 14 block: begin
  /**
   * Memory of the guest, MB: the page cache and its dirty limits are
   * fractions of it. Default 512; natively, the board's memory.
   */
  memory_mb: int(16, 1_048_576, "guest memory, MB").optional(),
  // --- end
  /** The guest's workloads. */
  workloads: z.array(workloadSchema, { message: "must be a list of workloads" }),
});

/** Recording options. */
export const recordSchema = z.strictObject({
  /** Keep a bounded schedule trace of hypervisor switches (max rows). Default 0 (off). */
  trace_max: opt(int(0, 10_000_000, "max trace rows"), 0),
  /** Keep per-job rows of periodic tasks (max rows; statistics are kept regardless). Default 0. */
  jobs_max: opt(int(0, 100_000_000, "max per-job rows"), 0),
  /**
   * Record scheduling events (sched_switch, sched_wakeup at every level) for trace export
   * (result.exportTrace, `hvsim run --trace`): the first N events are kept (26 bytes each), later
   * ones are counted as dropped. Default 0 (off).
   */
  trace_events_max: opt(int(0, 20_000_000, "max trace events"), 0),
});

/** The whole simulation, field by field (the cross-field rules are added in ./validate.ts). */
export const simSpecShape = z.strictObject({
  /** The JSON Schema a hand-written spec file declares for editors (e.g. "node_modules/hvsim/data/spec.schema.json"); ignored. */
  $schema: z.string({ message: "must be the path or URL of a JSON Schema" }).optional(),
  /** The board. */
  board: boardSchema,
  /** The hypervisor (or "native"). */
  hypervisor: hypervisorSchema,
  /** The guests (natively, exactly one: the OS). */
  guests: z.array(guestSchema, { message: "must be a list of guests" }).min(1, { message: "at least one guest is needed" }),
  /** Simulated time, seconds. */
  horizon_s: num(1e-6, 1e6, "simulated seconds"),
  /** Time excluded from statistics at the start, seconds (less than horizon_s). Default 0. */
  warmup_s: opt(num(0, 1e6, "seconds excluded from statistics"), 0),
  /** Recording options. */
  record: recordSchema.optional(),
});
