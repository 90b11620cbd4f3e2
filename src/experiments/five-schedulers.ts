/**
 * Experiment `five-schedulers`: one mixed workload — a latency-sensitive
 * periodic domain and two CPU hogs — under each of Xen's five schedulers
 * (Credit, Credit2, RTDS, ARINC653, Null), the first what-if a user asks:
 * "the same system under another scheduler". Seed 000 (Takakura et al.)
 * lists the five schedulers and what each suits; seed 001 (Abeni &
 * Faggioli) swaps Credit for Null to take the hypervisor scheduler out of
 * the latency picture; seed 004 (Tchana) is a lab on Credit.
 *
 * Configuration and analysis only; every effect comes from the models.
 * Assumptions (each is a constant below or a parameter of `setup()`):
 * - board: the R-Car S4 preset (8 x Cortex-A55, assumed per-operation
 *   costs of data/boards/rcar-s4.json);
 * - one cpupool holding a single pCPU (pCPU 1) with the scheduler under
 *   test. ARINC653 requires exactly one pCPU, so every scheduler gets the
 *   same single pCPU and the comparison is like for like. Pool-0 with Dom0
 *   keeps the other pCPUs; Dom0 is idle and not modelled;
 * - three single-vCPU domains pinned to that pCPU: `rt`, running one
 *   periodic task (1 ms of work every 10 ms, deadline = period, first
 *   release at t = 0, SCHED_FIFO priority 90 inside the guest), and `hog1`,
 *   `hog2`, each running one CPU hog (a SCHED_OTHER process that never
 *   blocks); all guests Linux 5.10, CONFIG_HZ=250, PREEMPT_NONE;
 * - scheduler parameters as a practitioner would set them:
 *   Credit: Xen's defaults (weight 256 for every domain, tslice 30 ms,
 *   ratelimit 1000 µs); Credit2: defaults (weight 256, ratelimit 1000 µs);
 *   RTDS: rt 2 ms every 10 ms (twice the job's need), hog1 and hog2 4 ms
 *   every 10 ms each (total 100 % of the pCPU), extratime on (the default);
 *   ARINC653: a 10 ms major frame of minor frames rt 2 ms, hog1 4 ms,
 *   hog2 4 ms, in that order; Null: the rt domain is created first, so it
 *   is assigned the pCPU and the hogs wait in the waitqueue for ever (Null
 *   is meant for dedicated pCPUs; that is what it does with a shared one);
 * - the first `warmupS` (0.5 s) are excluded from the job statistics: all
 *   vCPUs wake at boot together, which gives a transient (under Credit all
 *   of them start BOOSTed) that is not the steady state;
 * - wake-up latency of a job = the time its task returns to user space
 *   after the release (start) minus the release; it includes the guest's
 *   timer interrupt, Xen's wake path, the vCPU switch and the guest's
 *   context switch. Response time = finish − release. CPU shares are
 *   running time (Xen runstate, including the vCPU switch-in cost) over the
 *   whole run, boot included, rounded to 1e-6; `idle` is the pCPU's idle
 *   time;
 * - percentiles are nearest-rank (each is the latency of an actual job);
 * - one seed (it drives the 10 % jitter of operation costs): the scheduler
 *   decisions are deterministic functions of the phases, so seeds change
 *   little; the phase sweep varies the rt task's release offset instead.
 *
 * What-ifs: `phaseSweep` (the rt task's first release shifted by 0–9.5 ms
 * against the schedulers' boot-aligned clocks), `credit2Ratelimits` (the
 * Credit2 run with other `sched_ratelimit_us`), `rtdsReservations` (other
 * RTDS reservations for rt, hogs' budgets adjusted to keep 100 %).
 * Analysis: `explainLateJobs` classifies late jobs from the per-job rows
 * and the hypervisor trace; to recognise wake-ups caused by the guest's
 * RT-bandwidth timer it assumes that timer's default period (1 s,
 * sched_rt_period_us) on a grid from boot.
 */
import * as aq from "arquero";
import { runSpecs, type ExperimentRunOptions } from "../sweep/runs.js";
import { board, cpuHog, guest, linux, periodic, system, xen, type GuestBuilder } from "../spec/builders.js";
import type { Arinc653Spec, GuestSpec, RtdsParams, SimSpec, XenSchedulerSpec } from "../spec/types.js";
import type { SimResult } from "../results/result.js";
import { percentile } from "../results/stats.js";
import { type Finding, withUnit } from "./findings.js";

/** The five Xen schedulers, in the order the notebook shows them. */
export type SchedulerId = "credit" | "credit2" | "rtds" | "arinc653" | "null";
export const SCHEDULERS: readonly SchedulerId[] = ["credit", "credit2", "rtds", "arinc653", "null"];

/** Display names. */
export const SCHEDULER_LABEL: Record<SchedulerId, string> = {
  credit: "Credit", credit2: "Credit2", rtds: "RTDS", arinc653: "ARINC653", null: "Null",
};

/** The domains, in creation order (Null assigns the pCPU to the first). */
export const DOMAINS = ["rt", "hog1", "hog2"] as const;

/** The rt domain's periodic task (µs; SCHED_FIFO priority in the guest). */
export const RT_TASK = { name: "control", period_us: 10_000, exec_us: 1_000, priority: 90 } as const;

/** Credit and Credit2 parameters: Xen's defaults, written out. */
export const CREDIT_PARAMS = { weight: 256, tslice_ms: 30, ratelimit_us: 1000 } as const;
export const CREDIT2_PARAMS = { weight: 256, ratelimit_us: 1000 } as const;

/** RTDS reservations per domain (xl sched-rtds -p/-b); extratime left at its default (on). */
export const RTDS_PARAMS: Record<(typeof DOMAINS)[number], RtdsParams> = {
  rt: { period_us: 10_000, budget_us: 2_000 },
  hog1: { period_us: 10_000, budget_us: 4_000 },
  hog2: { period_us: 10_000, budget_us: 4_000 },
};

/** ARINC653 schedule: a 10 ms major frame, minor frames in this order. */
export const ARINC653_TABLE: Omit<Arinc653Spec, "name"> = {
  major_frame_ms: 10,
  frames: [
    { guest: "rt", runtime_ms: 2 },
    { guest: "hog1", runtime_ms: 4 },
    { guest: "hog2", runtime_ms: 4 },
  ],
};

/** Options of {@link setup}. */
export interface SetupOptions {
  /** Board preset. Default "rcar-s4". */
  board?: string;
  /** The pool's single pCPU. Default 1. */
  pcpu?: number;
  /** Simulated seconds, warm-up included. Default 10. */
  horizonS?: number;
  /** Seconds excluded from job statistics. Default 0.5. */
  warmupS?: number;
  /** First release of the rt task, µs (its phase against the schedulers' own clocks). Default 0. */
  rtOffsetUs?: number;
  /** Hypervisor trace rows kept. Default 20000. */
  traceMax?: number;
  /** Per-job rows kept. Default: every job of the run. */
  jobsMax?: number;
}

/** The scheduler spec of the pool. */
export function schedulerSpec(s: SchedulerId): XenSchedulerSpec {
  switch (s) {
    case "credit": return { name: "credit", tslice_ms: CREDIT_PARAMS.tslice_ms, ratelimit_us: CREDIT_PARAMS.ratelimit_us };
    case "credit2": return { name: "credit2", ratelimit_us: CREDIT2_PARAMS.ratelimit_us };
    case "rtds": return { name: "rtds" };
    case "arinc653": return { name: "arinc653", ...structuredClone(ARINC653_TABLE) };
    case "null": return { name: "null" };
  }
}

/** The spec of one run: the same board, pool, domains and workloads; only the scheduler (and its parameters) changes. */
export function setup(scheduler: SchedulerId, o: SetupOptions = {}): SimSpec {
  if (!SCHEDULERS.includes(scheduler)) throw new Error(`unknown scheduler ${JSON.stringify(scheduler)}; known: ${SCHEDULERS.join(", ")}`);
  const pcpu = o.pcpu ?? 1;
  const horizon = o.horizonS ?? 10;
  const kernel = linux("5.10").hz(250).preempt("none");
  const domain = (b: GuestBuilder): GuestSpec => {
    const g: GuestSpec = structuredClone(b.spec);
    if (scheduler === "credit") g.weight = CREDIT_PARAMS.weight;
    if (scheduler === "credit2") g.weight = CREDIT2_PARAMS.weight;
    if (scheduler === "rtds") g.rtds = { ...RTDS_PARAMS[g.name as (typeof DOMAINS)[number]] };
    return g;
  };
  const rt = guest("rt").vcpus(1).pin([[pcpu]]).kernel(kernel)
    .workload(periodic(RT_TASK.name).period(RT_TASK.period_us).exec(RT_TASK.exec_us).offset(o.rtOffsetUs ?? 0).fifo(RT_TASK.priority));
  const hog = (name: string) => guest(name).vcpus(1).pin([[pcpu]]).kernel(kernel).workload(cpuHog());
  const s = system()
    .board(board(o.board ?? "rcar-s4"))
    .hypervisor(xen().pool("Pool-exp", [pcpu], schedulerSpec(scheduler)))
    .guest(domain(rt))
    .guest(domain(hog("hog1")))
    .guest(domain(hog("hog2")))
    .horizon(horizon)
    .warmup(o.warmupS ?? 0.5)
    .jobs(o.jobsMax ?? Math.ceil((horizon * 1e6) / RT_TASK.period_us) + 10);
  const tm = o.traceMax ?? 20_000;
  if (tm > 0) s.trace(tm);
  return s.build();
}

/** Nearest-rank percentile of an ascending array (NaN when empty): results/stats.ts `percentile`. */
export { percentile };

/** Per-job rows of one run: job, release_ms, wakeup_latency_us, response_us, deadline_miss. */
function jobRows(r: SimResult): { job: number; release_ms: number; wakeup_latency_us: number; response_us: number; deadline_miss: boolean }[] {
  if (!r.has("jobs")) return [];
  return r.rows("jobs").map((j) => ({
    job: j.job,
    release_ms: j.release_us / 1000,
    // to the ns: the columns are µs differences of ns event times
    wakeup_latency_us: Math.round((j.start_us - j.release_us) * 1000) / 1000,
    response_us: Math.round(j.response_us * 1000) / 1000,
    deadline_miss: j.deadline_miss,
  }));
}

/** CPU share per domain (and `idle`) of one run, over the whole run. */
function shareRows(r: SimResult): { domain: string; cpu_share: number }[] {
  const total = r.spec.horizon_s * 1000;
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const v = r.rows("vcpus");
  const rows = DOMAINS.map((d) => ({ domain: d as string, cpu_share: round((v.find((x) => x.domain === d)?.running_ms ?? 0) / total) }));
  const p = r.rows("pcpus")[0];
  rows.push({ domain: "idle", cpu_share: round(p.idle_ms / total) });
  return rows;
}

/** Deadline misses of the rt task (late jobs plus jobs left unfinished past their deadline). */
function misses(r: SimResult): number {
  const t = r.rows("tasks").find((x) => x.domain === "rt" && x.task === RT_TASK.name);
  return t ? t.deadline_misses : NaN;
}

/** Options of {@link runAll}. */
export interface RunAllOptions extends SetupOptions, ExperimentRunOptions {
  seed?: number;
  schedulers?: readonly SchedulerId[];
  onProgress?: (msg: string) => void;
}

/** The tables of {@link runAll}. */
export interface FiveSchedulers {
  /** One row per job: scheduler, job, release_ms, wakeup_latency_us, response_us, deadline_miss. */
  latency: aq.ColumnTable;
  /** scheduler, domain (rt, hog1, hog2, idle), cpu_share. */
  shares: aq.ColumnTable;
  /** One row per scheduler: jobs, wake-up latency p50/p99/max, max response, deadline misses, shares. */
  summary: aq.ColumnTable;
  /** The simulation results (traces for timelines). */
  results: Record<string, SimResult>;
}

/** Runs the same system under each scheduler. */
export function runAll(o: RunAllOptions = {}): FiveSchedulers {
  const lat: Record<string, unknown>[] = [];
  const sh: Record<string, unknown>[] = [];
  const sum: Record<string, unknown>[] = [];
  const results: Record<string, SimResult> = {};
  const scheds = o.schedulers ?? SCHEDULERS;
  const rs = runSpecs(scheds.map((s) => ({ spec: setup(s, o), seed: o.seed ?? 1 })), {
    workers: o.workers, cache: o.cache, onRun: (p) => o.onProgress?.(`simulated ${SCHEDULER_LABEL[scheds[p.index]]} (${p.done}/${p.total})`),
  });
  for (const [k, s] of scheds.entries()) {
    const r = rs[k];
    results[s] = r;
    const jobs = jobRows(r);
    for (const j of jobs) lat.push({ scheduler: SCHEDULER_LABEL[s], ...j });
    const shares = shareRows(r);
    for (const x of shares) sh.push({ scheduler: SCHEDULER_LABEL[s], ...x });
    const w = Float64Array.from(jobs.map((j) => j.wakeup_latency_us)).sort();
    const share = (d: string) => shares.find((x) => x.domain === d)!.cpu_share;
    sum.push({
      scheduler: SCHEDULER_LABEL[s],
      jobs: jobs.length,
      wakeup_p50_us: percentile(w, 50),
      wakeup_p99_us: percentile(w, 99),
      wakeup_max_us: w.length ? w[w.length - 1] : NaN,
      response_max_us: jobs.reduce((m, j) => Math.max(m, j.response_us), 0),
      deadline_misses: misses(r),
      rt_share: share("rt"),
      hog1_share: share("hog1"),
      hog2_share: share("hog2"),
      idle_share: share("idle"),
    });
  }
  return { latency: aq.from(lat), shares: aq.from(sh), summary: aq.from(sum), results };
}

/** Options of {@link phaseSweep}. */
export interface PhaseSweepOptions extends Omit<SetupOptions, "rtOffsetUs">, ExperimentRunOptions {
  /** Release offsets of the rt task, µs. Default 0, 500, ..., 9500. */
  offsetsUs?: number[];
  seed?: number;
  schedulers?: readonly SchedulerId[];
  onProgress?: (done: number, total: number) => void;
}

/**
 * The same runs with the rt task's first release shifted by each offset
 * (its phase against Credit's 10 ms ticker, RTDS's period grid and the
 * ARINC653 major frame, all of which start at boot): one row per
 * (scheduler, offset_ms) with jobs, wakeup_p50_us, wakeup_max_us,
 * response_max_us and deadline_misses.
 */
export function phaseSweep(o: PhaseSweepOptions = {}): aq.ColumnTable {
  const offsets = o.offsetsUs ?? Array.from({ length: 20 }, (_, i) => i * 500);
  const scheds = o.schedulers ?? SCHEDULERS;
  const runs = scheds.flatMap((s) => offsets.map((off) => ({ s, off, spec: setup(s, { ...o, rtOffsetUs: off, traceMax: 0 }), seed: o.seed ?? 1 })));
  const rs = runSpecs(runs, { workers: o.workers, cache: o.cache, onRun: (p) => o.onProgress?.(p.done, p.total) });
  return aq.from(runs.map(({ s, off }, k) => {
      const r = rs[k];
      const jobs = jobRows(r);
      const w = Float64Array.from(jobs.map((j) => j.wakeup_latency_us)).sort();
      return {
        scheduler: SCHEDULER_LABEL[s],
        offset_ms: off / 1000,
        jobs: jobs.length,
        wakeup_p50_us: percentile(w, 50),
        wakeup_max_us: w.length ? w[w.length - 1] : NaN,
        response_max_us: jobs.reduce((m, j) => Math.max(m, j.response_us), 0),
        deadline_misses: misses(r),
      };
  }));
}

/** Options of {@link explainLateJobs}. */
export interface LateJobOptions {
  /** Jobs whose wake-up latency exceeds this are "late", µs. Default 1000 (the ratelimit). */
  thresholdUs?: number;
  /** The pool's ratelimit, µs. Default 1000. */
  ratelimitUs?: number;
  /** Credit2's ratelimit tickle tolerance, µs (CSCHED2_RATELIMIT_TICKLE_TOLERANCE; 0 for Credit). Default 50. */
  toleranceUs?: number;
  /** Slack for the wake-up path between the release and the hypervisor's wake hook, µs. Default 5. */
  slackUs?: number;
  /** Period of the guest's RT-bandwidth timer (sched_rt_period_us), µs. Default 1000000. */
  rtPeriodTimerUs?: number;
}

/**
 * Why jobs were late, from the per-job rows and the hypervisor trace of one
 * run (analysis only; jobs released after the last traced switch are
 * skipped). For each job whose wake-up latency exceeds `thresholdUs`:
 * - `wake_source`: what made the rt vCPU runnable — the job's release, or
 *   Linux's RT-bandwidth period timer (sched_rt_period_timer, every
 *   rt_period = 1 s on a grid from boot while RT tasks are active) when it
 *   fired after the previous job had finished and the vCPU did not run
 *   between that tick and the release;
 * - `hog_ran_us`: how long the vCPU holding the pCPU at that wake-up had
 *   been running since it was switched in;
 * - `cause`: "backlog" (the previous job was still unfinished at the
 *   release; for the first recorded job, whose predecessor fell in the
 *   warm-up: the rt vCPU itself held the pCPU); "ratelimit guard" (hog_ran_us < ratelimit − tolerance: the
 *   wake-up may not preempt it — Credit2's tickle_score returns −1 and
 *   nobody is tickled, Credit's csched_schedule keeps the current unit);
 *   "tolerance window" (Credit2 only: ratelimit − tolerance <= hog_ran_us
 *   < ratelimit, so runq_tickle does tickle, but runq_candidate still keeps
 *   the hog for the full ratelimit and csched2_runtime gives it at least
 *   CSCHED2_MIN_TIMER, 500 µs); or "other".
 */
export function explainLateJobs(r: SimResult, o: LateJobOptions = {}): aq.ColumnTable {
  const thr = o.thresholdUs ?? 1000;
  const guard = ((o.ratelimitUs ?? 1000) - (o.toleranceUs ?? 50) + (o.slackUs ?? 5)) / 1000;
  const rlEnd = ((o.ratelimitUs ?? 1000) + (o.slackUs ?? 5)) / 1000;
  const slack = (o.slackUs ?? 5) / 1000;
  const tick = (o.rtPeriodTimerUs ?? 1_000_000) / 1000;
  const jobs = r.rows("jobs").slice().sort((a, b) => a.release_us - b.release_us);
  const tr = r.has("trace") ? r.rows("trace") : [];
  const lastT = tr.length ? tr[tr.length - 1].t_ms : -Infinity;
  /** Index of the last trace row with t_ms <= t (-1 if none). */
  const at = (t: number): number => {
    let lo = 0, hi = tr.length - 1, k = -1;
    while (lo <= hi) { const m = (lo + hi) >> 1; if (tr[m].t_ms <= t) { k = m; lo = m + 1; } else hi = m - 1; }
    return k;
  };
  const rtIn = (a: number, b: number): boolean => {
    for (let i = Math.max(0, at(a)); i < tr.length && tr[i].t_ms <= b; i++) if (tr[i].t_ms >= a && tr[i].next === "rt.v0") return true;
    return false;
  };
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    const lat = j.start_us - j.release_us;
    const rel = j.release_us / 1000;
    if (lat <= thr || rel > lastT) continue;
    const prevFinish = i > 0 ? jobs[i - 1].finish_us / 1000 : -Infinity;
    let cause: string, source = "release", ran = NaN;
    const k0 = at(rel + slack);
    // the previous job was still running at the release (or, for the first recorded job, rt held the pCPU)
    if (prevFinish > rel || (i === 0 && k0 >= 0 && tr[k0].next === "rt.v0")) cause = "backlog";
    else {
      let w = rel;
      const b = Math.floor(rel / tick) * tick;
      if (b > prevFinish && b < rel && !rtIn(b, rel)) { w = b; source = "RT-bandwidth timer"; }
      const k = at(w + slack);
      ran = k >= 0 && tr[k].next !== "rt.v0" && tr[k].next !== "idle" ? (w - tr[k].t_ms) * 1000 : NaN;
      cause = ran < guard * 1000 ? "ratelimit guard" : ran < rlEnd * 1000 ? "tolerance window" : "other";
    }
    rows.push({
      job: j.job, release_ms: rel, wakeup_latency_us: Math.round(lat * 1000) / 1000,
      wake_source: source, hog_ran_us: Number.isFinite(ran) ? Math.round(ran * 1000) / 1000 : null, cause,
    });
  }
  return aq.from(rows.length ? rows : [], ["job", "release_ms", "wakeup_latency_us", "wake_source", "hog_ran_us", "cause"] as any);
}

/** Options of {@link credit2Ratelimits}. */
export interface RatelimitSweepOptions extends Omit<SetupOptions, "traceMax">, ExperimentRunOptions {
  /** Credit2 ratelimits, µs, or "off". Default off, 100, 200, 500, 1000, 2000, 5000. */
  ratelimitsUs?: (number | "off")[];
  seed?: number;
}

/**
 * What-if: the Credit2 run with other ratelimits (`xl sched-credit2 -s -r`).
 * One row per ratelimit: jobs, wakeup_p50_us, wakeup_p99_us, wakeup_max_us,
 * late_jobs (wake-up latency above 1 ms), deadline_misses, response_max_us,
 * hv_switches_per_s (vCPU switch-ins on the pCPU per second).
 */
export function credit2Ratelimits(o: RatelimitSweepOptions = {}): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  const rls = o.ratelimitsUs ?? ["off", 100, 200, 500, 1000, 2000, 5000];
  const rs = runSpecs(rls.map((rl) => {
    const spec = setup("credit2", { ...o, traceMax: 0 });
    (spec.hypervisor as any).pools[0].scheduler.ratelimit_us = rl;
    return { spec, seed: o.seed ?? 1 };
  }), { workers: o.workers, cache: o.cache });
  for (const [k, rl] of rls.entries()) {
    const r = rs[k];
    const jobs = jobRows(r);
    const w = Float64Array.from(jobs.map((j) => j.wakeup_latency_us)).sort();
    const sw = r.rows("vcpus").reduce((a, v) => a + v.switches_in, 0);
    rows.push({
      ratelimit: rl === "off" ? "off" : `${rl} µs`,
      ratelimit_us: rl === "off" ? 0 : rl,
      jobs: jobs.length,
      wakeup_p50_us: percentile(w, 50),
      wakeup_p99_us: percentile(w, 99),
      wakeup_max_us: w.length ? w[w.length - 1] : NaN,
      late_jobs: jobs.filter((j) => j.wakeup_latency_us > 1000).length,
      deadline_misses: misses(r),
      response_max_us: jobs.reduce((m, j) => Math.max(m, j.response_us), 0),
      hv_switches_per_s: sw / r.spec.horizon_s,
    });
  }
  return aq.from(rows);
}

/** One RTDS reservation variant for {@link rtdsReservations}. */
export interface RtdsVariant {
  label: string;
  rt: RtdsParams;
  /** Reservation of each hog. */
  hog: RtdsParams;
}

/** The RTDS variants of the notebook: the §2 reservation, then a shorter rt period with a budget that does or does not cover a whole job. */
export const RTDS_VARIANTS: RtdsVariant[] = [
  { label: "rt 2 ms / 10 ms (as above)", rt: RTDS_PARAMS.rt, hog: RTDS_PARAMS.hog1 },
  { label: "rt 1.1 ms / 5 ms", rt: { period_us: 5_000, budget_us: 1_100 }, hog: { period_us: 10_000, budget_us: 3_900 } },
  { label: "rt 1.0 ms / 5 ms", rt: { period_us: 5_000, budget_us: 1_000 }, hog: { period_us: 10_000, budget_us: 4_000 } },
];

/**
 * What-if: the RTDS run with other reservations (`xl sched-rtds -p -b`).
 * One row per variant: reservations, total utilisation, the rt task's
 * wakeup_p50_us, wakeup_max_us, response_max_us, deadline_misses, and the
 * CPU shares.
 */
export function rtdsReservations(o: Omit<SetupOptions, "traceMax"> & { variants?: RtdsVariant[]; seed?: number } & ExperimentRunOptions = {}): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  const variants = o.variants ?? RTDS_VARIANTS;
  const rs = runSpecs(variants.map((v) => {
    const spec = setup("rtds", { ...o, traceMax: 0 });
    for (const g of spec.guests) g.rtds = { ...(g.name === "rt" ? v.rt : v.hog) };
    return { spec, seed: o.seed ?? 1 };
  }), { workers: o.workers, cache: o.cache });
  for (const [k, v] of variants.entries()) {
    const r = rs[k];
    const jobs = jobRows(r);
    const w = Float64Array.from(jobs.map((j) => j.wakeup_latency_us)).sort();
    const u = (p: RtdsParams) => (p.budget_us ?? 4000) / (p.period_us ?? 10000);
    const sh = shareRows(r);
    rows.push({
      variant: v.label,
      rt_reservation: `${(v.rt.budget_us ?? 4000) / 1000} ms / ${(v.rt.period_us ?? 10000) / 1000} ms`,
      hog_reservation: `${(v.hog.budget_us ?? 4000) / 1000} ms / ${(v.hog.period_us ?? 10000) / 1000} ms`,
      utilisation: Math.round((u(v.rt) + 2 * u(v.hog)) * 1e6) / 1e6,
      wakeup_p50_us: percentile(w, 50),
      wakeup_max_us: w.length ? w[w.length - 1] : NaN,
      response_max_us: jobs.reduce((m, j) => Math.max(m, j.response_us), 0),
      deadline_misses: misses(r),
      rt_share: sh[0].cpu_share,
      hogs_share: Math.round((sh[1].cpu_share + sh[2].cpu_share) * 1e6) / 1e6,
    });
  }
  return aq.from(rows);
}

/** Run lengths (simulated seconds, the 0.5 s warm-up included) of the notebook and of `reproduce`. */
export const RUNS = {
  full: { mainS: 60.5, phaseS: 10.5, offsetsUs: Array.from({ length: 20 }, (_, i) => i * 500) },
  quick: { mainS: 5.5, phaseS: 2.5, offsetsUs: Array.from({ length: 20 }, (_, i) => i * 500) },
};

/**
 * `hvsim reproduce five-schedulers`: tables `latency`, `shares`, `summary`
 * (60 measured seconds per scheduler; 5 with `quick`), `phase` (the
 * release-offset sweep in 0.5 ms steps, 10 s per run; 2 s with `quick`) and `credit2_ratelimit` (the Credit2 ratelimit what-if,
 * 60 s per run; 5 s with `quick`).
 */
export function reproduce(o: { quick?: boolean; onProgress?: (m: string) => void } & ExperimentRunOptions = {}): Record<string, aq.ColumnTable> {
  const r = o.quick ? RUNS.quick : RUNS.full;
  const run = { workers: o.workers, cache: o.cache };
  const all = runAll({ ...run, horizonS: r.mainS, onProgress: o.onProgress });
  o.onProgress?.("release-offset sweep");
  const phase = phaseSweep({ ...run, horizonS: r.phaseS, offsetsUs: r.offsetsUs });
  o.onProgress?.("Credit2 ratelimit what-if");
  const credit2_ratelimit = credit2Ratelimits({ ...run, horizonS: r.mainS });
  o.onProgress?.("RTDS reservation what-if");
  const rtds_reservations = rtdsReservations({ ...run, horizonS: r.mainS });
  return { latency: all.latency, shares: all.shares, summary: all.summary, phase, credit2_ratelimit, rtds_reservations };
}

/**
 * The findings of this what-if, computed from the tables of
 * {@link reproduce} (`summary`, `credit2_ratelimit`, `rtds_reservations`).
 * The claims are what the sources say each scheduler is for: the scheduler
 * table of seed 000 (Takakura et al.), Null as Abeni & Faggioli use it
 * (seed 001, §6.1), and Credit's BOOST as Tchana's lab describes it (seed 004).
 */
export function findings(tables: { summary: aq.ColumnTable; credit2_ratelimit: aq.ColumnTable; rtds_reservations: aq.ColumnTable }): Finding[] {
  const S: Record<string, any> = {};
  for (const r of tables.summary.objects() as any[]) S[r.scheduler] = r;
  const rl = tables.credit2_ratelimit.objects() as any[];
  const off = rl.find((r) => r.ratelimit === "off");
  const rtds = tables.rtds_reservations.objects() as any[];
  const short = rtds.find((r) => r.variant === RTDS_VARIANTS[1].label);
  const us = (x: number) => withUnit(x, "µs", 4);
  const period = RT_TASK.period_us;
  return [
    {
      id: "null-dedicated", source: "seed 000, scheduler table (Null: dedicated pCPUs); seed 001 §6.1",
      claim: "Null takes the hypervisor scheduler out of the latency path: the domain that owns the pCPU wakes at the cost of the wake path alone, and no other domain runs there",
      measured: `max wake-up ${us(S.Null.wakeup_max_us)}, ${S.Null.deadline_misses} misses, hogs' shares ${S.Null.hog1_share} and ${S.Null.hog2_share}`,
      holds: S.Null.wakeup_max_us < 50 && S.Null.deadline_misses === 0 && S.Null.hog1_share === 0 && S.Null.hog2_share === 0,
      check: "max wake-up latency < 50 µs, no deadline miss, both hogs' CPU share 0",
    },
    {
      id: "arinc653-fixed-windows", source: "seed 000, scheduler table (ARINC653: fixed periodicity)",
      claim: "ARINC653 gives every domain exactly its windows of the major frame, whatever the others do",
      measured: `hogs' shares ${S.ARINC653.hog1_share} and ${S.ARINC653.hog2_share} (windows 0.4 each), ${S.ARINC653.deadline_misses} misses`,
      holds: Math.abs(S.ARINC653.hog1_share - 0.4) < 0.001 && Math.abs(S.ARINC653.hog2_share - 0.4) < 0.001 && S.ARINC653.deadline_misses === 0,
      check: "each hog's share within 0.001 of its 4 ms / 10 ms window; no deadline miss",
    },
    {
      id: "rtds-budget-guarantee", source: "seed 000, scheduler table (RTDS: real-time scheduling)",
      claim: "RTDS serves each domain's budget within its period: the real-time task meets every deadline",
      measured: `${S.RTDS.deadline_misses} misses, max response ${us(S.RTDS.response_max_us)}`,
      holds: S.RTDS.deadline_misses === 0 && S.RTDS.response_max_us <= period,
      check: `no deadline miss and max response <= the ${period / 1000} ms period`,
    },
    {
      id: "rtds-low-latency", source: "seed 000, scheduler table (RTDS: real-time scheduling)",
      claim: "RTDS gives the real-time domain low wake-up latency",
      measured: `p50 ${us(S.RTDS.wakeup_p50_us)}, max ${us(S.RTDS.wakeup_max_us)} (rt 2 ms / 10 ms, hogs 4 ms / 10 ms)`,
      holds: S.RTDS.wakeup_p99_us < 1000, check: "p99 wake-up latency < 1 ms with the reservation of the setup",
      expected: "diverges",
      note: "rt's server deadline ties with the hogs' (all 10 ms periods), so EDF runs it after they spent this period's budgets; see rtds-short-period",
    },
    {
      id: "rtds-short-period", source: "seed 000, scheduler table (RTDS: real-time scheduling)",
      claim: "with an earlier deadline (a shorter period) and a budget that covers a job, RTDS wakes the real-time domain as promptly as a dedicated pCPU",
      measured: short ? `max wake-up ${us(short.wakeup_max_us)} (${short.rt_reservation}) vs ${us(S.Null.wakeup_max_us)} under Null` : "n/a",
      holds: !!short && short.wakeup_max_us <= S.Null.wakeup_max_us + 10 && short.deadline_misses === 0,
      check: "max wake-up latency within 10 µs of Null's, no deadline miss",
    },
    {
      id: "credit-boost", source: "seed 004, lab slides (Credit: BOOST on wake-up); seed 000, scheduler table (Credit: general purpose)",
      claim: "Credit BOOSTs a waking domain that is under its fair share ahead of CPU hogs: its jobs start within the 1 ms ratelimit",
      measured: `max wake-up ${us(S.Credit.wakeup_max_us)}, ${S.Credit.deadline_misses} misses`,
      holds: S.Credit.wakeup_max_us <= CREDIT_PARAMS.ratelimit_us + 100 && S.Credit.deadline_misses === 0,
      check: "max wake-up latency <= ratelimit + 100 µs, no deadline miss",
    },
    {
      id: "credit2-better-latency", source: "seed 000, scheduler table (Credit2: better latency than Credit, the default)",
      claim: "Credit2 gives a latency-sensitive domain better latency than Credit",
      measured: `p99 ${us(S.Credit2.wakeup_p99_us)} and ${S.Credit2.deadline_misses} misses vs ${us(S.Credit.wakeup_p99_us)} and ${S.Credit.deadline_misses} under Credit`,
      holds: S.Credit2.wakeup_p99_us <= S.Credit.wakeup_p99_us && S.Credit2.deadline_misses <= S.Credit.deadline_misses,
      check: "Credit2's p99 wake-up latency and deadline misses no higher than Credit's",
      expected: "diverges",
      note: "Credit2's ratelimit guard (is_preemptable) with slices sized on an empty runqueue lets a job wait up to 10 ms; Credit's BOOST does not",
    },
    {
      id: "credit2-ratelimit-off", source: "seed 000, slides on Credit2's ratelimit",
      claim: "without the ratelimit, a waking vCPU with more credit preempts the running one at once",
      measured: off ? `${off.late_jobs} jobs waited > 1 ms, max wake-up ${us(off.wakeup_max_us)}` : "n/a",
      holds: !!off && off.late_jobs === 0, check: "with sched_ratelimit_us = 0 no job waits more than 1 ms",
    },
    {
      id: "work-conserving", source: "seed 000, scheduler table; seed 004 (Credit is work-conserving)",
      claim: "Credit, Credit2 and RTDS (with extratime) are work-conserving: the pCPU never idles while a domain can run",
      measured: `idle share ${S.Credit.idle_share} / ${S.Credit2.idle_share} / ${S.RTDS.idle_share}`,
      holds: [S.Credit, S.Credit2, S.RTDS].every((x) => x.idle_share < 0.001), check: "idle share < 0.001 under each",
    },
  ];
}
