/**
 * Experiment `takakura-context1`: Takakura et al., "Understanding Your
 * Hypervisor" (seed 000). UnixBench Context1 in a Linux 5.10 guest on Xen 4.20
 * Credit2 (R-Car S4), against Credit2's ratelimit.
 *
 * This module only builds configurations and analyses results; every effect
 * comes from the models. Assumptions where the talk is silent (each is a
 * parameter of `setup()`):
 * - the guest has 4 vCPUs (the talk's 3 ms wake-up granularity and 18 ms
 *   latency mean the kernel scales its tunables by 1 + ilog2(4) = 3);
 * - the guest's vCPU i is pinned to pCPU i; both Context1 processes are pinned
 *   to guest CPU 0 (taskset), so they share one runqueue, as the talk's
 *   vruntime comparisons between them require;
 * - the competing domain is one vCPU running a CPU hog, pinned to pCPU 0, with
 *   the default weight (256) like the guest; Dom0 is idle on other pCPUs and
 *   not modelled;
 * - CONFIG_HZ=250 (the Kconfig default), PREEMPT_NONE, PARAVIRT_TIME_ACCOUNTING
 *   off (the Kconfig default, and the talk's stated configuration);
 * - one run = 10 measured seconds (UnixBench's Context1 duration) after a
 *   warm-up of 1 s plus a seed-dependent offset of up to 0.3 s, so that the
 *   measurement starts at an arbitrary phase of the hypervisor's schedule;
 *   repeated over seeds (which also drive cost jitter and the guest's boot
 *   phase).
 */
import { readFileSync } from "node:fs";
import * as aq from "arquero";
import seedrandom from "seedrandom";
import { DATA_DIR } from "../hw/board.js";
import { board, context1, cpuHog, credit2, guest, linux, system, xen } from "../spec/builders.js";
import type { SimSpec } from "../spec/types.js";
import { runSpecs, type ExperimentRunOptions } from "../sweep/runs.js";
import type { SimResult } from "../results/result.js";
import { median, quantile, sortedFinite, mean, stdev } from "../results/stats.js";
import { type Finding, findingsFromTable } from "./findings.js";
import { findings as ledgerFindings } from "./takakura-context1-findings.js";

/** Published values (data/reference/takakura-context1.json). */
export function reference(): any {
  return JSON.parse(readFileSync(DATA_DIR + "reference/takakura-context1.json", "utf8"));
}

/** Options of the Context1-under-Credit2 setup. */
export interface SetupOptions {
  /** Credit2 sched_ratelimit_us, in ms. */
  ratelimitMs: number;
  /** CONFIG_PARAVIRT_TIME_ACCOUNTING in the guest. Default false. */
  paravirtTimeAccounting?: boolean;
  /** Measured seconds (UnixBench's Context1 duration). Default 10. */
  horizonS?: number;
  /** Seconds run before measuring starts (the benchmark starts at an arbitrary phase of Xen's schedule). Default 1. */
  warmupS?: number;
  /** Guest vCPUs. Default 4. */
  guestVcpus?: number;
  /** vruntime-gap sampling interval, µs. Default 1000. */
  sampleUs?: number;
  /** Guest CONFIG_HZ. Default 250. */
  hz?: number;
  /** Bounded hypervisor trace rows. Default 0. */
  traceMax?: number;
}

/** The spec of one run. */
export function setup(o: SetupOptions): SimSpec {
  const n = o.guestVcpus ?? 4;
  const s = system()
    .board(board("rcar-s4"))
    .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3, 4, 5, 6, 7], credit2().ratelimit(Math.round(o.ratelimitMs * 1000))))
    .guest(guest("domU").vcpus(n).pin(Array.from({ length: n }, (_, i) => [i]))
      .kernel(linux("5.10").hz(o.hz ?? 250).paravirtTimeAccounting(o.paravirtTimeAccounting ?? false))
      .workload(context1().cpus([0]).sampleEvery(o.sampleUs ?? 1000)))
    .guest(guest("hog").vcpus(1).pin([[0]]).workload(cpuHog()))
    .warmup(o.warmupS ?? 1)
    .horizon((o.warmupS ?? 1) + (o.horizonS ?? 10));
  if (o.traceMax) s.trace(o.traceMax);
  return s.build();
}

/** The ratelimits of the sweep, ms. */
export const RATELIMITS_MS = [1, 2, 5, 10, 15, 20, 30, 50, 80, 128];

/**
 * Δ shrink rate (µs of vruntime gap per ms of Context1 run time) while the
 * fast pattern holds: the median slope of |Δ| over sampling intervals in which
 * the vCPU ran throughout, |Δ| stayed above the wake-up granularity and no
 * steal-time jump happened.
 */
export function shrinkRate(r: SimResult, granMs = 3): number {
  if (!r.has("context1_gap")) return NaN;
  const t = r.table("context1_gap");
  const gap = t.array("gap_ms") as number[];
  const ex = t.array("pair_exec_ms") as number[];
  const tm = t.array("t_ms") as number[];
  const slopes: number[] = [];
  for (let i = 1; i < gap.length; i++) {
    const dt = tm[i] - tm[i - 1];
    const dx = ex[i] - ex[i - 1];
    if (dx < 0.9 * dt) continue; // the vCPU did not run throughout
    const a = Math.abs(gap[i - 1]), b = Math.abs(gap[i]);
    if (a <= granMs || b <= granMs || Math.sign(gap[i]) !== Math.sign(gap[i - 1])) continue;
    if (Math.abs(b - a) > 0.5 * dx) continue; // a jump, not a drift
    slopes.push(((a - b) / dx) * 1000);
  }
  // the median, upper of the two middle values for an even count (stats "high")
  return quantile(sortedFinite(slopes), 0.5, "high");
}

/** Warm-up of a run: 1 s plus a seed-dependent phase offset in [0, 0.3) s. */
export function warmupFor(seed: number): number {
  return 1 + Math.round(seedrandom.alea(`takakura-context1/start/${seed}`)() * 300) / 1000;
}

/** One row per run of a sweep. */
export interface RunRow {
  ratelimit_ms: number;
  paravirt_time_accounting: boolean;
  seed: number;
  loops_per_s: number;
  fast_share: number;
  shrink_us_per_ms: number;
  hv_switches_per_s: number;
}

/** Options of {@link sweep} (runs go through the result cache and worker threads: `workers`, `cache`). */
export interface SweepOptions extends ExperimentRunOptions {
  ratelimitsMs?: number[];
  seeds?: number[];
  horizonS?: number;
  paravirtTimeAccounting?: boolean;
  /** Called after each run with (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Runs the ratelimit sweep; returns one row per (ratelimit, seed), ratelimit outermost. */
export function sweep(o: SweepOptions = {}): RunRow[] {
  const rls = o.ratelimitsMs ?? RATELIMITS_MS;
  const seeds = o.seeds ?? [1, 2, 3, 4, 5];
  const runs: { rl: number; seed: number; spec: SimSpec }[] = [];
  for (const rl of rls) {
    for (const seed of seeds) {
      runs.push({ rl, seed, spec: setup({ ratelimitMs: rl, paravirtTimeAccounting: o.paravirtTimeAccounting, horizonS: o.horizonS, warmupS: warmupFor(seed) }) });
    }
  }
  const results = runSpecs(runs, { workers: o.workers, cache: o.cache, onRun: (p) => o.onProgress?.(p.done, p.total) });
  return runs.map(({ rl, seed, spec }, i) => {
    const r = results[i];
    const c = r.rows("context1")[0];
    const v = r.rows("vcpus").find((x) => x.domain === "domU" && x.vcpu === 0)!;
    return {
      ratelimit_ms: rl,
      paravirt_time_accounting: o.paravirtTimeAccounting ?? false,
      seed,
      loops_per_s: c.loops_per_s,
      fast_share: c.fast_share,
      shrink_us_per_ms: shrinkRate(r),
      hv_switches_per_s: v.switches_in / spec.horizon_s,
    };
  });
}

/**
 * Per (ratelimit, PARAVIRT_TIME_ACCOUNTING): mean and sample standard
 * deviation of the score over the seeds, mean fast share, median Δ shrink
 * rate (linear), mean hypervisor switch rate, and the number of seeds.
 */
export function summarise(rows: RunRow[]): aq.ColumnTable {
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    const k = `${r.ratelimit_ms}/${r.paravirt_time_accounting}`;
    const g = groups.get(k);
    if (g) g.push(r); else groups.set(k, [r]);
  }
  const out = [...groups.values()].map((g) => ({
    ratelimit_ms: g[0].ratelimit_ms,
    paravirt_time_accounting: g[0].paravirt_time_accounting,
    loops_per_s_mean: mean(g.map((r) => r.loops_per_s)),
    loops_per_s_sd: stdev(g.map((r) => r.loops_per_s)),
    fast_share: mean(g.map((r) => r.fast_share)),
    shrink_us_per_ms: median(sortedFinite(g.map((r) => r.shrink_us_per_ms))),
    hv_switches_per_s: mean(g.map((r) => r.hv_switches_per_s)),
    seeds: g.length,
  }));
  return aq.from(out).orderby("ratelimit_ms");
}

/** The ratelimit with the highest mean score. */
export function bestRatelimit(summary: aq.ColumnTable): number {
  const rl = summary.array("ratelimit_ms") as number[];
  const m = summary.array("loops_per_s_mean") as number[];
  let best = 0;
  for (let i = 1; i < m.length; i++) if (m[i] > m[best]) best = i;
  return rl[best];
}

/** Options of {@link reproduce}. */
export interface ReproduceOptions extends ExperimentRunOptions {
  /** Short runs (2 s) for CI and smoke tests. */
  quick?: boolean;
  onProgress?: (msg: string) => void;
}

/**
 * Everything the notebook and `hvsim reproduce takakura-context1` report:
 * `sweep` (PARAVIRT_TIME_ACCOUNTING off), `sweep_pvta` (on), `runs`,
 * `shrink` (simulated vs published Δ shrink rate), `best` and `findings` (every claim of the talk,
 * data/reference/takakura-context1.findings.json).
 */
export function reproduce(o: ReproduceOptions = {}): Record<string, aq.ColumnTable> {
  const horizonS = o.quick ? 2 : 10;
  const seeds = [1, 2, 3, 4, 5];
  const prog = (label: string) => (d: number, n: number) => o.onProgress?.(`${label}: run ${d}/${n}`);
  const run = { workers: o.workers, cache: o.cache };
  const off = sweep({ ...run, seeds, horizonS, onProgress: prog("sweep (PARAVIRT_TIME_ACCOUNTING=n)") });
  const on = sweep({ ...run, seeds, horizonS, paravirtTimeAccounting: true, onProgress: prog("sweep (PARAVIRT_TIME_ACCOUNTING=y)") });
  return tablesOf(off, on);
}

/**
 * The tables of {@link reproduce} from the two sweeps' rows (PARAVIRT_TIME_ACCOUNTING off and on):
 * `sweep`, `sweep_pvta`, `runs`, `shrink`, `best` and `findings`. The notebook calls it on its own
 * sweeps so that its findings table is the CLI's.
 */
export function tablesOf(off: RunRow[], on: RunRow[]): Record<string, aq.ColumnTable> {
  const sOff = summarise(off);
  const sOn = summarise(on);
  const best = bestRatelimit(sOff);
  const ref = reference();
  const shrinkMedian = medianShrink(off);
  const shrink = aq.table({
    quantity: ["Δ shrink rate in the fast pattern (µs per ms of run time)", "time to drain 6 ms of Δ (ms)"],
    simulated: [shrinkMedian, 6000 / shrinkMedian],
    published: [ref.published.delta_shrink_us_per_ms.value, ref.published.delta_drain_ms.value],
  });
  const tables: Record<string, aq.ColumnTable> = {
    sweep: sOff.select(aq.not("paravirt_time_accounting")),
    sweep_pvta: sOn.select(aq.not("paravirt_time_accounting")),
    runs: aq.from([...off, ...on]),
    shrink,
    best: aq.table({ quantity: ["best ratelimit (ms)"], simulated: [best], published: ["withheld (validation case)"] }),
  };
  return { ...tables, findings: ledgerFindings(tables) };
}

/** Median Δ shrink rate over runs (the upper middle value for an even count, stats "high"), µs per ms. */
export function medianShrink(runs: Pick<RunRow, "shrink_us_per_ms">[]): number {
  return quantile(sortedFinite(runs.map((r) => r.shrink_us_per_ms)), 0.5, "high");
}

/**
 * The talk's findings: every claim of the ledger
 * (data/reference/takakura-context1.findings.json, checks in
 * takakura-context1-findings.ts), from the tables of {@link reproduce}.
 */
export function findings(tables: Record<string, aq.ColumnTable>): Finding[] {
  return findingsFromTable(ledgerFindings(tables));
}

/**
 * Short runs at a few ratelimits for the time-series figures: the vruntime
 * gap Δ (ms) over time, the hand-off counts, and the hypervisor trace.
 */
export function detail(ratelimitsMs: number[], o: { seed?: number; horizonS?: number; sampleUs?: number; traceMax?: number } & ExperimentRunOptions = {}): {
  gap: aq.ColumnTable; patterns: aq.ColumnTable; results: SimResult[];
} {
  const gaps: aq.ColumnTable[] = [];
  const pat: Record<string, unknown>[] = [];
  const tasks = ratelimitsMs.map((rl) => ({
    spec: setup({ ratelimitMs: rl, horizonS: o.horizonS ?? 2, warmupS: 0, sampleUs: o.sampleUs ?? 500, traceMax: o.traceMax ?? 20000 }),
    seed: o.seed ?? 1,
  }));
  const results = runSpecs(tasks, { workers: o.workers, cache: o.cache });
  ratelimitsMs.forEach((rl, i) => {
    const r = results[i];
    gaps.push(r.table("context1_gap").select("t_ms", "gap_ms").derive({ ratelimit: aq.escape(() => `-r ${rl} ms`) }));
    const c = r.rows("context1")[0];
    pat.push({
      ratelimit_ms: rl, loops: c.loops, fast_handoffs: c.fast_handoffs, slow_handoffs: c.slow_handoffs,
      other_handoffs: c.other_handoffs, fast_share: c.fast_share, shrink_us_per_ms: shrinkRate(r),
    });
  });
  return { gap: gaps.reduce((a, b) => a.concat(b)), patterns: aq.from(pat), results };
}
