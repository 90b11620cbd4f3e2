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
import { simulate } from "../simulate.js";
import type { GuestSpec, SimSpec } from "../spec/types.js";

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
export function shares(o: { workS?: number; seed?: number; scenarios?: Scenario[] } = {}): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  for (const sc of o.scenarios ?? SCENARIOS) {
    const spec = setup(sc, { workS: o.workS });
    const r = simulate(spec, { seed: o.seed ?? 1 });
    const progs = r.rows("programs") as any[];
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
export function reproduce(o: { quick?: boolean; onProgress?: (m: string) => void } = {}): Record<string, aq.ColumnTable> {
  o.onProgress?.(`running ${SCENARIOS.length} scenarios`);
  return { shares: shares({ workS: o.quick ? 2 : 5 }) };
}

/**
 * BOOST: an I/O-like domain (a periodic task inside the guest: on average
 * `execUs` of work, spread +-20 %, every `periodUs`, released 3.3 ms off the
 * tick grid) shares pCPU 0 with two CPU-hog domains under Credit.
 * Returns the jobs of the periodic task (wake-up latency = start - release)
 * and a bounded trace of the hypervisor schedule.
 */
export function boostRun(o: { execUs: number; periodUs?: number; horizonS?: number; seed?: number; traceMax?: number }): {
  jobs: aq.ColumnTable; trace: aq.ColumnTable; vcpus: aq.ColumnTable;
} {
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
  const r = simulate(spec, { seed: o.seed ?? 1 });
  const jobs = r.table("jobs").derive({ wakeup_latency_us: (d: any) => d.start_us - d.release_us });
  return { jobs, trace: r.table("trace"), vcpus: r.table("vcpus") };
}
