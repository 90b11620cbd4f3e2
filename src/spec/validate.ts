import { z } from "zod";
import { boardPresets, COST_NAMES } from "../hw/board.js";
import type { SimSpec } from "./types.js";

/** One problem found in a spec: where, and what is allowed. */
export interface SpecIssue {
  /** Field path, e.g. `hypervisor.pools[0].scheduler.ratelimit_us`. */
  path: string;
  message: string;
}

/** Thrown by {@link validateSpec} before any simulation starts. */
export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(
      "invalid hvsim spec:\n" + issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "SpecError";
  }
}

const int = (lo: number, hi: number, what: string) =>
  z.number({ message: `must be a number: ${what}` })
    .int({ message: `must be an integer in ${lo}..${hi} (${what})` })
    .min(lo, { message: `must be an integer in ${lo}..${hi} (${what})` })
    .max(hi, { message: `must be an integer in ${lo}..${hi} (${what})` });

const num = (lo: number, hi: number, what: string) =>
  z.number({ message: `must be a number: ${what}` })
    .min(lo, { message: `must be in ${lo}..${hi} (${what})` })
    .max(hi, { message: `must be in ${lo}..${hi} (${what})` });

const cpuList = z.array(int(0, 4095, "a CPU id"), { message: "must be a list of CPU ids" });

/** A number that may also be the string "off". */
const orOff = (inner: z.ZodType, what: string) => z.custom<number | "off">(() => true).superRefine((v, ctx) => {
  if (v === "off") return;
  const r = inner.safeParse(v);
  if (!r.success) ctx.addIssue({ code: "custom", message: r.error.issues[0].message + (what ? `; or "off" (${what})` : "") });
});

const RATELIMIT_WHAT = "sched_ratelimit_us in µs, XEN_SYSCTL_SCHED_RATELIMIT_MIN..MAX as `xl sched-credit* -s -r` takes it";
const ratelimit = orOff(int(100, 500000, RATELIMIT_WHAT), "xl's -r 0 disables rate limiting");

const credit2 = z.strictObject({
  name: z.literal("credit2"),
  ratelimit_us: ratelimit.optional(),
  runqueue: z.enum(["cpu", "core", "socket", "node", "all"], { message: 'credit2_runqueue must be "cpu", "core", "socket", "node" or "all"' }).optional(),
});
const credit = z.strictObject({
  name: z.literal("credit"),
  tslice_ms: int(1, 1000, "sched_credit_tslice_ms (xl sched-credit -s -t)").optional(),
  ratelimit_us: ratelimit.optional(),
  migration_delay_us: int(0, 100000, "vcpu_migration_delay, µs (xl sched-credit -s -m)").optional(),
});
const rtds = z.strictObject({ name: z.literal("rtds") });
const arinc653 = z.strictObject({
  name: z.literal("arinc653"),
  major_frame_ms: num(0.001, 1e6, "major frame, ms"),
  frames: z.array(z.strictObject({
    guest: z.string(),
    vcpu: int(0, 63, "vCPU index").optional(),
    runtime_ms: num(0.001, 1e6, "minor frame length, ms"),
  })).max(64, { message: "at most 64 minor frames (ARINC653_MAX_DOMAINS_PER_SCHEDULE)" }),
});
const nullSched = z.strictObject({ name: z.literal("null") });

const SCHEDULERS: Record<string, z.ZodType> = { credit2, credit, rtds, arinc653, null: nullSched };
const scheduler = z.custom<unknown>((v) => typeof v === "object" && v !== null, { message: "must be a scheduler object with a name" }).superRefine((v, ctx) => {
  const name = (v as { name?: unknown }).name;
  const sch = SCHEDULERS[String(name)];
  if (!sch) {
    ctx.addIssue({
      code: "custom",
      path: ["name"],
      message: `unknown scheduler ${JSON.stringify(name)}; allowed: ${Object.keys(SCHEDULERS).map((s) => `"${s}"`).join(", ")}`,
    });
    return;
  }
  const r = sch.safeParse(v);
  if (!r.success) for (const i of r.error.issues) {
    const msg = i.code === "unrecognized_keys" ? `unknown field(s) ${(i as any).keys.map((k: string) => JSON.stringify(k)).join(", ")}` : i.message;
    ctx.addIssue({ code: "custom", path: i.path as (string | number)[], message: msg });
  }
});

const pool = z.strictObject({
  name: z.string().min(1, { message: "must be a non-empty pool name" }),
  cpus: cpuList.min(1, { message: "a pool needs at least one pCPU" }),
  scheduler,
});

const hypervisor = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("xen"), version: z.literal("4.20").optional(), pools: z.array(pool).min(1, { message: "Xen needs at least one cpupool" }),
    timer_slop_ns: int(0, 1_000_000_000, "Xen timer_slop, ns").optional(),
  }),
  z.strictObject({
    kind: z.literal("kvm"),
    host_kernel: z.lazy(() => kernel).optional(),
    host_workloads: z.lazy(() => z.array(workload)).optional(),
    halt_poll_ns: int(0, 100_000_000, "kvm.halt_poll_ns, ns").optional(),
  }),
  z.strictObject({ kind: z.literal("native") }),
], { message: 'hypervisor.kind must be "xen", "kvm" or "native"' });

const kernel = z.strictObject({
  version: z.literal("5.10", { message: 'only "5.10" is modelled' }).optional(),
  hz: z.union([z.literal(100), z.literal(250), z.literal(300), z.literal(1000)], { message: "CONFIG_HZ must be one of 100, 250, 300, 1000" }).optional(),
  paravirt_time_accounting: z.boolean({ message: "must be true or false" }).optional(),
  preempt: z.enum(["none", "voluntary", "full", "rt"], { message: 'must be "none", "voluntary", "full" or "rt"' }).optional(),
  xen_timer_slop_ns: int(0, 100_000_000, "Xen PV clockevent min delta (TIMER_SLOP), ns").optional(),
  sched_latency_ns: int(100000, 1000000000, "sysctl_sched_latency base value, ns").optional(),
  sched_min_granularity_ns: int(100000, 1000000000, "sysctl_sched_min_granularity base value, ns").optional(),
  sched_wakeup_granularity_ns: int(0, 1000000000, "sysctl_sched_wakeup_granularity base value, ns").optional(),
  gentle_fair_sleepers: z.boolean().optional(),
  rt_runtime_us: orOff(int(0, 1_000_000_000, "sched_rt_runtime_us"), "-1 disables RT throttling").optional(),
  rt_period_us: int(1, 1_000_000_000, "sched_rt_period_us").optional(),
  rr_timeslice_ms: int(1, 100_000, "sched_rr_timeslice_ms").optional(),
});

const us = (what: string) => num(0, 1e12, what);
const execTime = z.union([
  num(0, 1e12, "execution time, µs"),
  z.discriminatedUnion("dist", [
    z.strictObject({ dist: z.literal("fixed"), us: us("execution time, µs") }),
    z.strictObject({ dist: z.literal("uniform"), min_us: us("µs"), max_us: us("µs") }),
    z.strictObject({ dist: z.literal("normal"), mean_us: us("µs"), sd_us: us("µs"), min_us: us("µs").optional(), max_us: us("µs").optional() }),
    z.strictObject({ dist: z.literal("exponential"), mean_us: us("µs"), max_us: us("µs").optional() }),
  ], { message: 'exec must be µs or {dist: "fixed"|"uniform"|"normal"|"exponential", ...}' }),
], { message: 'exec must be a number of µs or {dist: "fixed"|"uniform"|"normal"|"exponential", ...}' });

const workload = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("context1"),
    cpus: cpuList.min(1).optional(),
    sample_us: int(0, 10_000_000, "vruntime gap sampling interval, µs; 0 disables").optional(),
    user_ns: int(0, 1_000_000, "user work per half-loop, ns").optional(),
  }),
  z.strictObject({
    kind: z.literal("periodic"),
    name: z.string().min(1, { message: "must be a non-empty task name" }),
    period_us: num(1, 1e12, "period, µs").refine((x) => x > 0, { message: "must be > 0 µs" }),
    exec: execTime,
    deadline_us: num(1, 1e12, "relative deadline, µs").optional(),
    offset_us: num(0, 1e12, "first release, µs").optional(),
    policy: z.enum(["other", "fifo", "rr", "deadline"], { message: 'policy must be "other", "fifo", "rr" or "deadline"' }).optional(),
    priority: int(1, 99, "SCHED_FIFO/SCHED_RR priority").optional(),
    nice: int(-20, 19, "nice value").optional(),
    dl_runtime_us: num(1.024, 1e12, "SCHED_DEADLINE runtime, µs (>= 1024 ns)").optional(),
    cpus: cpuList.min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal("cyclictest"),
    interval_us: int(1, 10_000_000, "cyclictest -i interval, µs").optional(),
    priority: int(1, 99, "cyclictest -p SCHED_FIFO priority").optional(),
    loops: int(0, 1e12, "cyclictest -l loops (0 = until the horizon)").optional(),
    histogram_us: int(0, 1_000_000, "cyclictest -h buckets (HIST_MAX 1000000)").optional(),
    cpu: int(0, 4095, "cyclictest -a CPU").optional(),
    samples_max: int(0, 100_000_000, "per-sample rows kept").optional(),
  }),
  z.strictObject({
    kind: z.literal("device-io"),
    rate_hz: num(0, 1_000_000, "emulated-device accesses per second").optional(),
    cpus: cpuList.min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal("stress"),
    intensity: num(0, 1, "stress intensity").optional(),
    count: int(1, 4096, "stress processes").optional(),
    cpus: cpuList.min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal("housekeeping"),
    intensity: num(0, 10, "housekeeping intensity").optional(),
  }),
  z.strictObject({
    kind: z.literal("cpu-hog"),
    count: int(1, 1024, "number of hog processes").optional(),
    cpus: cpuList.min(1).optional(),
    nice: int(-20, 19, "nice value").optional(),
    work_ms: num(0.001, 1e9, "CPU work per process, ms").optional(),
  }),
], { message: 'workload kind must be "context1", "cpu-hog", "periodic", "cyclictest", "stress", "device-io" or "housekeeping"' });

const threadSched = z.strictObject({
  policy: z.enum(["other", "fifo", "rr"], { message: 'policy must be "other", "fifo" or "rr"' }).optional(),
  priority: int(1, 99, "SCHED_FIFO/RR priority").optional(),
  nice: int(-20, 19, "nice value").optional(),
  cpus: cpuList.min(1).optional(),
});

const rtdsParams = z.strictObject({
  period_us: int(10, 4_294_967_295, "RTDS period, µs (min 10)").optional(),
  budget_us: int(10, 4_294_967_295, "RTDS budget, µs (10..period)").optional(),
  extratime: z.boolean().optional(),
});

const guest = z.strictObject({
  name: z.string().min(1, { message: "must be a non-empty guest name" }),
  pool: z.string().optional(),
  vcpus: int(1, 64, "number of vCPUs"),
  pin: z.array(cpuList.min(1, { message: "a vCPU needs at least one pCPU" })).optional(),
  weight: int(1, 65535, "scheduler weight (xl sched-* -w)").optional(),
  cap: int(0, 6400, "cap in percent of one pCPU (xl sched-* -c), 0 = none").optional(),
  rtds: z.union([rtdsParams, z.array(rtdsParams)]).optional(),
  type: z.enum(["pv", "pvh", "hvm"], { message: 'type must be "pv", "pvh" or "hvm" (xl.cfg type=)' }).optional(),
  dom0: z.boolean().optional(),
  device_model: threadSched.optional(),
  vcpu_thread: threadSched.optional(),
  kernel: kernel.optional(),
  workloads: z.array(workload),
});

const costs = z.strictObject(Object.fromEntries(COST_NAMES.map((n) => [n, num(0, 1e9, "cost in ns").optional()])));

const schema = z.strictObject({
  board: z.strictObject({
    preset: z.string(),
    costs_ns: costs.optional(),
    jitter_cv: num(0, 1, "coefficient of variation of operation costs").optional(),
  }),
  hypervisor,
  guests: z.array(guest).min(1, { message: "at least one guest is needed" }),
  horizon_s: num(1e-6, 1e6, "simulated seconds").refine((x) => x > 0, { message: "must be > 0 seconds" }),
  warmup_s: num(0, 1e6, "seconds excluded from statistics").optional(),
  record: z.strictObject({
    trace_max: int(0, 10_000_000, "max trace rows").optional(),
    jobs_max: int(0, 100_000_000, "max per-job rows").optional(),
  }).optional(),
});

function fmtPath(p: ReadonlyArray<PropertyKey>): string {
  let s = "";
  for (const k of p) s += typeof k === "number" ? `[${k}]` : (s ? "." : "") + String(k);
  return s || "(spec)";
}

function valueAt(obj: unknown, p: ReadonlyArray<PropertyKey>): unknown {
  let o: any = obj;
  for (const k of p) {
    if (o === null || typeof o !== "object") return undefined;
    o = o[k as any];
  }
  return o;
}

/**
 * Validates a spec and returns it unchanged, or throws a {@link SpecError}
 * listing every problem with its field path, the value found and what is
 * allowed. Runs the schema checks first, then the cross-field ones (pinning
 * to pCPUs that exist, pools that do not overlap, workload CPUs inside the
 * guest).
 */
export function validateSpec(spec: unknown): SimSpec {
  const r = schema.safeParse(spec);
  if (!r.success) {
    throw new SpecError(r.error.issues.map((i) => {
      const v = valueAt(spec, i.path);
      let msg = i.message;
      if (i.code === "unrecognized_keys") msg = `unknown field(s) ${(i as any).keys.map((k: string) => JSON.stringify(k)).join(", ")}`;
      else if (v !== undefined) msg += `; got ${JSON.stringify(v)}`;
      return { path: fmtPath(i.path), message: msg };
    }));
  }
  const s = spec as SimSpec;
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });

  const preset = boardPresets().get(s.board.preset);
  if (!preset) {
    add("board.preset", `unknown board ${JSON.stringify(s.board.preset)}; allowed: ${[...boardPresets().keys()].map((k) => `"${k}"`).join(", ")}`);
    throw new SpecError(issues);
  }
  const ncpu = preset.cpus;
  const poolNames: string[] = [];
  if (s.hypervisor.kind === "xen") {
    const seen = new Map<number, string>();
    s.hypervisor.pools.forEach((p, i) => {
      if (poolNames.includes(p.name)) add(`hypervisor.pools[${i}].name`, `duplicate pool name ${JSON.stringify(p.name)}`);
      poolNames.push(p.name);
      p.cpus.forEach((c, j) => {
        if (c >= ncpu) add(`hypervisor.pools[${i}].cpus[${j}]`, `pCPU ${c} does not exist; board ${preset.id} has pCPUs 0..${ncpu - 1}`);
        else if (seen.has(c)) add(`hypervisor.pools[${i}].cpus[${j}]`, `pCPU ${c} is already in pool ${JSON.stringify(seen.get(c))}; a pCPU belongs to one pool`);
        else seen.set(c, p.name);
      });
    });
  }
  const guestNames = new Set<string>();
  s.guests.forEach((g, gi) => {
    const gp = `guests[${gi}]`;
    if (guestNames.has(g.name)) add(`${gp}.name`, `duplicate guest name ${JSON.stringify(g.name)}`);
    guestNames.add(g.name);
    let poolCpus: number[] = [];
    if (s.hypervisor.kind === "xen") {
      const pool = g.pool === undefined ? s.hypervisor.pools[0] : s.hypervisor.pools.find((p) => p.name === g.pool);
      if (!pool) add(`${gp}.pool`, `unknown pool ${JSON.stringify(g.pool)}; allowed: ${poolNames.map((n) => `"${n}"`).join(", ")}`);
      else poolCpus = pool.cpus;
    } else {
      if (g.pool !== undefined) add(`${gp}.pool`, "pools exist only under a Xen hypervisor");
      if (s.hypervisor.kind === "native") {
        if (s.guests.length > 1 && gi === 1) add("guests", "a native system runs exactly one OS (one entry in guests)");
        if (g.vcpus > ncpu) add(`${gp}.vcpus`, `a native kernel has one CPU per board CPU: at most ${ncpu}; got ${g.vcpus}`);
      }
    }
    if (s.hypervisor.kind !== "xen") {
      for (const f of ["type", "dom0", "device_model"] as const) if (g[f] !== undefined) add(`${gp}.${f}`, "applies to Xen guests only");
    } else {
      if (g.device_model !== undefined && (g.type ?? "pvh") !== "hvm") add(`${gp}.device_model`, `only HVM guests have a QEMU device model; ${g.name} is ${g.type ?? "pvh"}`);
      if (g.dom0 && g.type !== undefined && g.type !== "pv") add(`${gp}.type`, `Dom0 is a PV guest; got ${JSON.stringify(g.type)}`);
      if (g.dom0 && gi !== s.guests.findIndex((x) => x.dom0)) add(`${gp}.dom0`, "there is only one Dom0");
    }
    if (g.vcpu_thread !== undefined && s.hypervisor.kind !== "kvm") add(`${gp}.vcpu_thread`, "applies to KVM guests only");
    if (s.hypervisor.kind === "kvm") {
      if (g.pin !== undefined) add(`${gp}.pin`, "under KVM, place vCPU threads with vcpu_thread.cpus (host CPUs)");
      g.vcpu_thread?.cpus?.forEach((c, ci) => { if (c >= ncpu) add(`${gp}.vcpu_thread.cpus[${ci}]`, `host CPU ${c} does not exist; board ${preset.id} has CPUs 0..${ncpu - 1}`); });
    }
    if (g.device_model?.cpus) g.device_model.cpus.forEach((c, ci) => {
      const d0 = s.guests.find((x) => x.dom0);
      if (d0 && c >= d0.vcpus) add(`${gp}.device_model.cpus[${ci}]`, `Dom0 CPU ${c} does not exist; ${d0.name} has CPUs 0..${d0.vcpus - 1}`);
    });
    if ((g.type ?? "pvh") === "hvm" && s.hypervisor.kind === "xen" && !s.guests.some((x) => x.dom0))
      add(`${gp}.type`, "an HVM guest needs a Dom0 guest (dom0: true) to host its QEMU device model");
    if (g.pin) {
      if (g.pin.length !== 1 && g.pin.length !== g.vcpus)
        add(`${gp}.pin`, `needs one entry per vCPU (${g.vcpus}) or a single entry for all; got ${g.pin.length}`);
      g.pin.forEach((l, vi) => l.forEach((c, ci) => {
        if (c >= ncpu) add(`${gp}.pin[${vi}][${ci}]`, `pCPU ${c} does not exist; board ${preset.id} has pCPUs 0..${ncpu - 1}`);
        else if (s.hypervisor.kind === "xen" && poolCpus.length && !poolCpus.includes(c))
          add(`${gp}.pin[${vi}][${ci}]`, `pCPU ${c} is outside the guest's cpupool (pCPUs ${poolCpus.join(",")})`);
      }));
      if (s.hypervisor.kind === "native") add(`${gp}.pin`, "pinning applies to vCPUs under a hypervisor; natively use the workload's cpus");
    }
    if (g.cap !== undefined && g.cap > 100 * g.vcpus)
      add(`${gp}.cap`, `must be in 0..${100 * g.vcpus} (100 x vcpus) percent; got ${g.cap}`);
    if (g.rtds !== undefined) {
      const list = Array.isArray(g.rtds) ? g.rtds : [g.rtds];
      if (Array.isArray(g.rtds) && g.rtds.length !== g.vcpus) add(`${gp}.rtds`, `needs one entry per vCPU (${g.vcpus}) or a single object; got ${g.rtds.length}`);
      list.forEach((r, ri) => {
        const p = r.period_us ?? 10000, b = r.budget_us ?? 4000;
        if (b > p) add(`${gp}.rtds${Array.isArray(g.rtds) ? `[${ri}]` : ""}.budget_us`, `must be <= period_us (${p}); got ${b}`);
      });
    }
    g.workloads.forEach((w, wi) => {
      if (w.kind === "cyclictest" && (w.cpu ?? 0) >= g.vcpus) add(`${gp}.workloads[${wi}].cpu`, `guest CPU ${w.cpu} does not exist; ${g.name} has CPUs 0..${g.vcpus - 1}`);
      if (w.kind !== "cyclictest" && w.kind !== "housekeeping") w.cpus?.forEach((c, ci) => {
        if (c >= g.vcpus) add(`${gp}.workloads[${wi}].cpus[${ci}]`, `guest CPU ${c} does not exist; ${g.name} has CPUs 0..${g.vcpus - 1}`);
      });
    });
  });
  if (s.hypervisor.kind === "xen") {
    s.hypervisor.pools.forEach((p, i) => {
      const sp = `hypervisor.pools[${i}].scheduler`;
      const sc = p.scheduler;
      if (sc.name === "credit" && typeof sc.ratelimit_us === "number" && sc.ratelimit_us > (sc.tslice_ms ?? 30) * 1000)
        add(`${sp}.ratelimit_us`, `must not exceed the timeslice (${(sc.tslice_ms ?? 30) * 1000} µs); got ${sc.ratelimit_us}`);
      if (sc.name === "arinc653") {
        if (p.cpus.length !== 1) add(`hypervisor.pools[${i}].cpus`, `an ARINC653 pool has exactly one pCPU (the scheduler is single-pCPU in Xen); got ${p.cpus.length}`);
        const sum = sc.frames.reduce((a, f) => a + f.runtime_ms, 0);
        if (sum > sc.major_frame_ms + 1e-9) add(`${sp}.frames`, `minor frames total ${sum} ms, more than the major frame (${sc.major_frame_ms} ms)`);
        sc.frames.forEach((f, fi) => {
          const g = s.guests.find((x) => x.name === f.guest);
          if (!g) add(`${sp}.frames[${fi}].guest`, `unknown guest ${JSON.stringify(f.guest)}; allowed: ${s.guests.map((x) => `"${x.name}"`).join(", ")}`);
          else if ((f.vcpu ?? 0) >= g.vcpus) add(`${sp}.frames[${fi}].vcpu`, `${g.name} has vCPUs 0..${g.vcpus - 1}; got ${f.vcpu}`);
          else if ((g.pool ?? poolNames[0]) !== p.name) add(`${sp}.frames[${fi}].guest`, `${g.name} is not in pool ${JSON.stringify(p.name)}`);
        });
      }
    });
    s.guests.forEach((g, gi) => {
      const pool = s.hypervisor.kind === "xen" ? (g.pool === undefined ? s.hypervisor.pools[0] : s.hypervisor.pools.find((p) => p.name === g.pool)) : undefined;
      const name = pool?.scheduler.name;
      if (g.rtds !== undefined && name !== undefined && name !== "rtds") add(`guests[${gi}].rtds`, `RTDS parameters need an "rtds" pool; ${g.name} is in a "${name}" pool`);
      if (g.cap !== undefined && g.cap > 0 && name !== undefined && name !== "credit" && name !== "credit2") add(`guests[${gi}].cap`, `caps exist in "credit" and "credit2" pools only; ${g.name} is in a "${name}" pool`);
    });
  }
  if (s.warmup_s !== undefined && s.warmup_s >= s.horizon_s) add("warmup_s", `must be less than horizon_s (${s.horizon_s}); got ${s.warmup_s}`);
  if (issues.length) throw new SpecError(issues);
  return s;
}
