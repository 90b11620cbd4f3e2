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

const credit2 = z.strictObject({
  name: z.literal("credit2"),
  ratelimit_us: z.custom<number | "off">(() => true).superRefine((v, ctx) => {
    if (v === "off") return;
    const r = int(100, 500000,
      "sched_ratelimit_us in µs, XEN_SYSCTL_SCHED_RATELIMIT_MIN..MAX as `xl sched-credit2 -s -r` takes it; use \"off\" to disable rate limiting (xl's -r 0)").safeParse(v);
    if (!r.success) ctx.addIssue({ code: "custom", message: r.error.issues[0].message });
  }).optional(),
});

const KNOWN_SCHEDULERS = ["credit2"];
const scheduler = z.custom<unknown>((v) => typeof v === "object" && v !== null).superRefine((v, ctx) => {
  const name = (v as { name?: unknown }).name;
  if (!KNOWN_SCHEDULERS.includes(String(name))) {
    ctx.addIssue({
      code: "custom",
      path: ["name"],
      message: `unknown scheduler ${JSON.stringify(name)}; allowed: ${KNOWN_SCHEDULERS.map((s) => `"${s}"`).join(", ")}`,
    });
    return;
  }
  const r = credit2.safeParse(v);
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: "custom", path: i.path as (string | number)[], message: i.message });
});

const pool = z.strictObject({
  name: z.string().min(1, { message: "must be a non-empty pool name" }),
  cpus: cpuList.min(1, { message: "a pool needs at least one pCPU" }),
  scheduler,
});

const hypervisor = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("xen"), version: z.literal("4.20").optional(), pools: z.array(pool).min(1, { message: "Xen needs at least one cpupool" }) }),
  z.strictObject({ kind: z.literal("native") }),
], { message: 'hypervisor.kind must be "xen" or "native"' });

const kernel = z.strictObject({
  version: z.literal("5.10", { message: 'only "5.10" is modelled' }).optional(),
  hz: z.union([z.literal(100), z.literal(250), z.literal(300), z.literal(1000)], { message: "CONFIG_HZ must be one of 100, 250, 300, 1000" }).optional(),
  paravirt_time_accounting: z.boolean({ message: "must be true or false" }).optional(),
  preempt: z.enum(["none", "voluntary", "full"], { message: 'must be "none", "voluntary" or "full"' }).optional(),
  sched_latency_ns: int(100000, 1000000000, "sysctl_sched_latency base value, ns").optional(),
  sched_min_granularity_ns: int(100000, 1000000000, "sysctl_sched_min_granularity base value, ns").optional(),
  sched_wakeup_granularity_ns: int(0, 1000000000, "sysctl_sched_wakeup_granularity base value, ns").optional(),
  gentle_fair_sleepers: z.boolean().optional(),
});

const workload = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("context1"),
    cpus: cpuList.min(1).optional(),
    sample_us: int(0, 10_000_000, "vruntime gap sampling interval, µs; 0 disables").optional(),
    user_ns: int(0, 1_000_000, "user work per half-loop, ns").optional(),
  }),
  z.strictObject({
    kind: z.literal("cpu-hog"),
    count: int(1, 1024, "number of hog processes").optional(),
    cpus: cpuList.min(1).optional(),
    nice: int(-20, 19, "nice value").optional(),
  }),
], { message: 'workload kind must be "context1" or "cpu-hog"' });

const guest = z.strictObject({
  name: z.string().min(1, { message: "must be a non-empty guest name" }),
  pool: z.string().optional(),
  vcpus: int(1, 64, "number of vCPUs"),
  pin: z.array(cpuList.min(1, { message: "a vCPU needs at least one pCPU" })).optional(),
  weight: int(1, 65535, "scheduler weight (xl sched-* -w)").optional(),
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
  record: z.strictObject({ trace_max: int(0, 10_000_000, "max trace rows").optional() }).optional(),
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
      if (s.guests.length > 1 && gi === 1) add("guests", "a native system runs exactly one OS (one entry in guests)");
      if (g.vcpus > ncpu) add(`${gp}.vcpus`, `a native kernel has one CPU per board CPU: at most ${ncpu}; got ${g.vcpus}`);
    }
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
    g.workloads.forEach((w, wi) => {
      w.cpus?.forEach((c, ci) => {
        if (c >= g.vcpus) add(`${gp}.workloads[${wi}].cpus[${ci}]`, `guest CPU ${c} does not exist; ${g.name} has CPUs 0..${g.vcpus - 1}`);
      });
    });
  });
  if (s.warmup_s !== undefined && s.warmup_s >= s.horizon_s) add("warmup_s", `must be less than horizon_s (${s.horizon_s}); got ${s.warmup_s}`);
  if (issues.length) throw new SpecError(issues);
  return s;
}
