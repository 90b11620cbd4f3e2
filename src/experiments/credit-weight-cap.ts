/**
 * Experiment `credit-weight-cap`: the lab on Xen Credit's weight and cap of
 * Tchana's "Virtualization technologies: design and implementation" course
 * (seed 004): run a CPU-intensive program in several domains sharing pCPUs
 * and compare execution times under different weights and caps.
 *
 * Configuration only. Assumptions (the lab leaves them open): each domain has
 * one vCPU running one CPU-bound program that needs `workS` seconds of CPU
 * (default 5 s); all vCPUs are pinned to pCPU 0 of a one-pCPU Credit pool
 * (default tslice 30 ms, ratelimit 1 ms), on the R-Car S4 preset; every
 * domain starts its program at t = 0.
 */
import * as aq from "arquero";
import { runSpecs, type ExperimentRunOptions } from "../sweep/runs.js";
import type { GuestSpec, SimSpec } from "../spec/types.js";
import { gpsFinishTimes } from "../results/gps.js";
import { percentile, sortedFinite } from "../results/stats.js";
import { type Finding, withUnit } from "./findings.js";

/** One domain of a scenario. */
export interface LabDomain {
  weight?: number;
  cap?: number;
  /** CPU work of the program, s (Infinity: a hog that never ends). */
  workS?: number;
}

/** A scenario of the lab. */
export interface Scenario {
  id: string;
  title: string;
  domains: LabDomain[];
  /** pCPUs shared by the domains. Default [0]. */
  cpus?: number[];
}

export const SCENARIOS: Scenario[] = [
  { id: "equal", title: "two domains, equal weights", domains: [{}, {}] },
  { id: "weight-2:1", title: "weights 512 : 256", domains: [{ weight: 512 }, { weight: 256 }] },
  { id: "weight-1:1:2:4", title: "four domains, weights 256 : 256 : 512 : 1024", domains: [{ weight: 256 }, { weight: 256 }, { weight: 512 }, { weight: 1024 }] },
  { id: "cap-50-alone", title: "one domain alone, cap 50 %", domains: [{ cap: 50 }] },
  { id: "alone", title: "one domain alone, no cap (work conservation)", domains: [{}] },
  { id: "cap-25-vs-hog", title: "cap 25 % against an uncapped domain", domains: [{ cap: 25 }, {}] },
  { id: "2-pcpus-3-domains", title: "three domains on two pCPUs", domains: [{}, {}, {}], cpus: [0, 1] },
];

/** The spec of a scenario. */
export function setup(sc: Scenario, o: { workS?: number; horizonS?: number } = {}): SimSpec {
  const work = o.workS ?? 5;
  const cpus = sc.cpus ?? [0];
  const guests: GuestSpec[] = sc.domains.map((d, i) => ({
    name: `dom${i + 1}`,
    vcpus: 1,
    pin: [cpus],
    weight: d.weight ?? 256,
    cap: d.cap ?? 0,
    workloads: [{ kind: "cpu-hog", count: 1, work_ms: (d.workS ?? work) * 1000 }],
  }));
  // long enough for the slowest program: total work at the smallest share, plus slack
  const horizon = o.horizonS ?? Math.ceil(work * sc.domains.length * 4 + 1);
  return {
    board: { preset: "rcar-s4" },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [...new Set(cpus)], scheduler: { name: "credit" } }] },
    guests,
    horizon_s: horizon,
  };
}

/**
 * Runs every scenario; table `shares`: scenario, domain, weight, cap_pct,
 * cpu_share (the program's CPU time over its execution time) and
 * exec_time_s (when the program finished).
 */
export function shares(o: { workS?: number; seed?: number; scenarios?: Scenario[] } & ExperimentRunOptions = {}): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  const scs = o.scenarios ?? SCENARIOS;
  const rs = runSpecs(scs.map((sc) => ({ spec: setup(sc, { workS: o.workS }), seed: o.seed ?? 1 })), { workers: o.workers, cache: o.cache });
  for (const [k, sc] of scs.entries()) {
    const r = rs[k];
    const progs = r.rows("programs");
    sc.domains.forEach((d, i) => {
      const p = progs.find((x) => x.domain === `dom${i + 1}`);
      const exec = p && p.finish_ms !== null && p.finish_ms >= 0 ? p.finish_ms / 1000 : NaN;
      rows.push({
        scenario: sc.id,
        domain: `dom${i + 1}`,
        weight: d.weight ?? 256,
        cap_pct: d.cap ?? 0,
        cpu_share: p ? p.work_ms / 1000 / exec : NaN,
        exec_time_s: exec,
      });
    });
  }
  return aq.from(rows);
}

/** `hvsim reproduce credit-weight-cap`: the `shares` table. */
export function reproduce(o: { quick?: boolean; onProgress?: (m: string) => void } & ExperimentRunOptions = {}): Record<string, aq.ColumnTable> {
  o.onProgress?.(`running ${SCENARIOS.length} scenarios`);
  return { shares: shares({ workS: o.quick ? 2 : 5, workers: o.workers, cache: o.cache }) };
}

/**
 * BOOST: an I/O-like domain (a periodic task inside the guest: on average
 * `execUs` of work, spread +-20 %, every `periodUs`, released 3.3 ms off the
 * tick grid) shares pCPU 0 with two CPU-hog domains under Credit.
 * Returns the jobs of the periodic task (wake-up latency = start - release)
 * and a bounded trace of the hypervisor schedule.
 */
export function boostRun(o: BoostOptions & ExperimentRunOptions): {
  jobs: aq.ColumnTable; trace: aq.ColumnTable; vcpus: aq.ColumnTable;
} {
  return boostRuns([o], o)[0];
}

/** Options of one {@link boostRun}. */
export interface BoostOptions { execUs: number; periodUs?: number; horizonS?: number; seed?: number; traceMax?: number }

/** Several {@link boostRun}s through the result cache and worker threads, in input order. */
export function boostRuns(runs: BoostOptions[], o: ExperimentRunOptions = {}): { jobs: aq.ColumnTable; trace: aq.ColumnTable; vcpus: aq.ColumnTable }[] {
  const rs = runSpecs(runs.map((b) => ({ spec: boostSpec(b), seed: b.seed ?? 1 })), { workers: o.workers, cache: o.cache });
  return rs.map((r) => {
    const jobs = r.table("jobs").derive({ wakeup_latency_us: (d: any) => d.start_us - d.release_us });
    return { jobs, trace: r.table("trace"), vcpus: r.table("vcpus") };
  });
}

/** The spec of one {@link boostRun}. */
export function boostSpec(o: BoostOptions): SimSpec {
  const period = o.periodUs ?? 10_000;
  const spec: SimSpec = {
    board: { preset: "rcar-s4" },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0], scheduler: { name: "credit" } }] },
    guests: [
      // execution times spread +-20 % and a release phase off Credit's 10 ms tick grid: with a
      // fixed job that always fits between two ticks, no tick ever catches the vCPU running, so it
      // never loses BOOST whatever its demand (Credit's "tick-dodging" weakness) — a real effect,
      // but not the lab's point
      { name: "io", vcpus: 1, pin: [[0]], workloads: [{ kind: "periodic", name: "io-task", period_us: period, offset_us: 3300,
        exec: { dist: "uniform", min_us: 0.8 * o.execUs, max_us: 1.2 * o.execUs }, policy: "fifo", priority: 50 }] },
      { name: "hog1", vcpus: 1, pin: [[0]], workloads: [{ kind: "cpu-hog" }] },
      { name: "hog2", vcpus: 1, pin: [[0]], workloads: [{ kind: "cpu-hog" }] },
    ],
    horizon_s: o.horizonS ?? 5,
    warmup_s: 0.5,
    record: { jobs_max: 1_000_000, trace_max: o.traceMax ?? 5000 },
  };
  return spec;
}

/**
 * The fluid-GPS execution time (s) of each domain of a scenario
 * (results/gps.ts): weighted fair sharing of the scenario's pCPUs, caps
 * applied, every program needing `workS` s of CPU (or its domain's own).
 */
export function gpsExecTimes(sc: Scenario, workS: number): number[] {
  return gpsFinishTimes(sc.domains.map((d) => ({ weight: d.weight, cap: d.cap, workS: d.workS ?? workS })), (sc.cpus ?? [0]).length);
}

/**
 * The `shares` table with the fluid-GPS reference beside each row:
 * gps_exec_time_s and error_pct = 100 (exec_time_s − gps) / gps.
 */
export function withGps(shares: aq.ColumnTable, workS: number, scenarios: Scenario[] = SCENARIOS): aq.ColumnTable {
  const theory = new Map<string, number>();
  for (const sc of scenarios) gpsExecTimes(sc, workS).forEach((t, i) => theory.set(`${sc.id}/dom${i + 1}`, t));
  return aq.from((shares.objects() as any[]).map((r) => {
    const g = theory.get(`${r.scenario}/${r.domain}`)!;
    return { ...r, gps_exec_time_s: g, error_pct: (100 * (r.exec_time_s - g)) / g };
  }));
}

/**
 * BOOST against demand: for each mean job length (µs, every 10 ms) one
 * {@link boostRun}; one row per demand: demand_pct, io_share_pct (the I/O
 * domain's running share), p50/p99/max wake-up latency (µs; percentiles
 * x[floor(q n)], stats "high", as the notebook has always computed them)
 * and jobs.
 */
export function boostSweep(execsUs: number[], o: { horizonS?: number; seed?: number } & ExperimentRunOptions = {}): aq.ColumnTable {
  const H = o.horizonS ?? 5;
  const bs = boostRuns(execsUs.map((e) => ({ execUs: e, horizonS: H, seed: o.seed })), o);
  const rows = execsUs.map((e, k) => {
    const b = bs[k];
    const lat = sortedFinite(b.jobs.array("wakeup_latency_us") as ArrayLike<number>);
    const io = (b.vcpus.objects() as any[]).find((x) => x.domain === "io");
    return {
      demand_pct: e / 100, io_share_pct: (100 * io.running_ms) / (H * 1000),
      p50_latency_us: percentile(lat, 50, "high"), p99_latency_us: percentile(lat, 99, "high"),
      max_latency_us: lat.length ? lat[lat.length - 1] : NaN, jobs: lat.length,
    };
  });
  return aq.from(rows);
}

/**
 * The lab's statements (seed 004, slides on Credit's weight, cap, work
 * conservation and BOOST) checked against the `shares` table of
 * {@link reproduce} and, for BOOST, two {@link boostSweep} runs (10 % and
 * 40 % demand against a fair share of 33 %, 2 s each) unless `tables.boost`
 * is given.
 */
export function findings(tables: { shares: aq.ColumnTable; boost?: aq.ColumnTable }, o: { quick?: boolean } = {}): Finding[] {
  const rows = tables.shares.objects() as any[];
  // the programs' work: cpu_share = work / exec_time_s
  const work = rows.length ? Math.round(rows[0].cpu_share * rows[0].exec_time_s * 1e6) / 1e6 : o.quick ? 2 : 5;
  const g = withGps(tables.shares, work).objects() as any[];
  const get = (sc: string, d: string) => rows.find((r) => r.scenario === sc && r.domain === d);
  const weighted = g.filter((r) => ["equal", "weight-2:1", "weight-1:1:2:4"].includes(r.scenario));
  const maxErr = Math.max(...weighted.map((r) => Math.abs(r.error_pct)));
  const three = ["dom1", "dom2", "dom3"].map((d) => get("2-pcpus-3-domains", d)?.cpu_share ?? NaN);
  const boost = tables.boost ?? boostSweep([1000, 4000], { horizonS: 2 });
  const b = boost.objects() as any[];
  const low = b.find((r) => r.demand_pct <= 10), high = b.find((r) => r.demand_pct >= 40);
  const pct = (x: number) => withUnit(100 * x, "%", 3);
  return [
    {
      id: "weights-share", source: "seed 004, lab slides on Credit's weight",
      claim: "a domain's weight sets its share of a contended pCPU, in proportion to the weights",
      measured: `max |error| against fluid GPS ${withUnit(maxErr, "%", 2)} (${work} s programs)`,
      holds: maxErr <= 5, check: "every execution time in the equal and weighted scenarios within 5 % of weighted fair sharing (fluid GPS)",
      note: "the residual is Credit's 30 ms accounting granularity; it shrinks with longer programs (about 1-2 % at 5 s)",
    },
    {
      id: "cap-alone", source: "seed 004, lab slides on Credit's cap",
      claim: "a cap bounds a domain even when the pCPU is otherwise idle",
      measured: `cap 50 % alone: ${pct(get("cap-50-alone", "dom1")?.cpu_share)}; cap 25 % against a hog: ${pct(get("cap-25-vs-hog", "dom1")?.cpu_share)}`,
      holds: Math.abs(get("cap-50-alone", "dom1")?.cpu_share - 0.5) < 0.01 && Math.abs(get("cap-25-vs-hog", "dom1")?.cpu_share - 0.25) < 0.01,
      check: "CPU share within 1 point of the cap in both scenarios",
    },
    {
      id: "work-conserving", source: "seed 004, lab slides (Credit is work-conserving)",
      claim: "without caps Credit is work-conserving: a lone domain gets the whole pCPU, and 3 domains on 2 pCPUs get 2/3 each",
      measured: `alone ${pct(get("alone", "dom1")?.cpu_share)}; 3 on 2 pCPUs ${three.map(pct).join(", ")}`,
      holds: get("alone", "dom1")?.cpu_share > 0.99 && three.every((x) => Math.abs(x - 2 / 3) < 0.02),
      check: "alone > 99 %; each of the three within 2 points of 2/3",
    },
    {
      id: "boost-under-share", source: "seed 004, lab slides on the BOOST priority",
      claim: "BOOST lets a waking domain that is under its fair share preempt CPU hogs at once",
      measured: low ? `p99 wake-up ${withUnit(low.p99_latency_us, "µs", 3)} at ${low.demand_pct} % demand` : "n/a",
      holds: !!low && low.p99_latency_us < 100, check: "p99 wake-up latency < 100 µs at 10 % demand (fair share 33 %)",
    },
    {
      id: "boost-only-under", source: "seed 004, lab slides on the priorities BOOST, UNDER, OVER",
      claim: "a domain over its fair share is OVER and is not boosted: its wake-ups wait behind the hogs' slices",
      measured: high ? `p99 wake-up ${withUnit(high.p99_latency_us, "µs", 3)} at ${high.demand_pct} % demand` : "n/a",
      holds: !!high && high.p99_latency_us > 10_000, check: "p99 wake-up latency > 10 ms at 40 % demand",
    },
  ];
}
