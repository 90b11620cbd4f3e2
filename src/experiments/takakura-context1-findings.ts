/**
 * The findings ledger of `takakura-context1` (data/reference/takakura-context1.findings.json):
 * one check per claim of the talk, computed from the tables `reproduce()` returns.
 */
import type * as aq from "arquero";
import { cfsTunables } from "../sched/linux/cfs.js";
import { evaluateLedger, fmt, readLedger, type CheckResult } from "./ledger.js";

interface SweepRow {
  ratelimit_ms: number;
  loops_per_s_mean: number;
  fast_share: number;
}
interface RunRow {
  ratelimit_ms: number;
  paravirt_time_accounting: boolean;
  loops_per_s: number;
}

/** Two-sided 95 % Student t quantiles for n - 1 degrees of freedom (n = 2..10). */
const T95 = [NaN, NaN, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];

function meanCi(xs: number[]): { mean: number; sd: number; half: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, sd: NaN, half: Infinity };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  return { mean, sd, half: (T95[Math.min(n, 10)] * sd) / Math.sqrt(n) };
}

/** The `findings` table of `takakura-context1`, from the tables of `reproduce()`. */
export function findings(t: Record<string, aq.ColumnTable>, guestVcpus = 4): aq.ColumnTable {
  const sweep = t.sweep.objects() as unknown as SweepRow[];
  const pvta = t.sweep_pvta.objects() as unknown as SweepRow[];
  const runs = (t.runs.objects() as unknown as RunRow[]).filter((r) => !r.paravirt_time_accounting);
  const shrink = t.shrink.objects() as { simulated: number; published: number }[];
  const at = (rl: number) => sweep.find((r) => r.ratelimit_ms === rl)!;
  const loops = (rl: number) => runs.filter((r) => r.ratelimit_ms === rl).map((r) => r.loops_per_s);
  const best = sweep.reduce((a, b) => (b.loops_per_s_mean > a.loops_per_s_mean ? b : a));
  const minRl = Math.min(...sweep.map((r) => r.ratelimit_ms));
  const maxRl = Math.max(...sweep.map((r) => r.ratelimit_ms));
  const tun = cfsTunables(guestVcpus);
  const within = (sim: number, pub: number, tol: number): CheckResult => ({
    measured: `${fmt(sim, "")} (published ${pub}, ${Math.round((sim / pub - 1) * 100)} %)`,
    holds: Math.abs(sim / pub - 1) <= tol,
  });
  const checks: Record<string, () => CheckResult> = {
    "wakeup-granularity-3ms": () => ({ measured: fmt(tun.wakeupGranularity / 1e6, "ms"), holds: tun.wakeupGranularity === 3e6 }),
    "sleeper-threshold-9ms": () => {
      const th = (tun.gentleFairSleepers ? tun.latency / 2 : tun.latency) / 1e6;
      return { measured: fmt(th, "ms"), holds: th === 9 };
    },
    "xen-introduces-imbalance": () => {
      const f = at(minRl).fast_share;
      return { measured: `fast hand-off share ${fmt(f * 100, "%")} at ${minRl} ms`, holds: f < 0.95 };
    },
    "pvta-off-makes-steal-visible": () => {
      const d = Math.max(...sweep.map((r) => Math.abs(r.fast_share - (pvta.find((p) => p.ratelimit_ms === r.ratelimit_ms)?.fast_share ?? r.fast_share))));
      return { measured: `largest fast-share difference PVTA off vs on: ${fmt(d * 100, "%")}`, holds: d > 0.2 };
    },
    "right-ratelimit-keeps-fast-pattern": () => ({
      measured: `fast share ${fmt(at(minRl).fast_share * 100, "%")} at ${minRl} ms, ${fmt(best.fast_share * 100, "%")} at the best (${best.ratelimit_ms} ms)`,
      holds: best.fast_share > at(minRl).fast_share + 0.05,
    }),
    "best-beats-1ms": () => {
      const a = meanCi(loops(best.ratelimit_ms)), b = meanCi(loops(minRl));
      return { measured: `${fmt(a.mean, "loops/s")} ± ${fmt(a.half, "")} at ${best.ratelimit_ms} ms vs ${fmt(b.mean, "loops/s")} ± ${fmt(b.half, "")} at ${minRl} ms`, holds: best.ratelimit_ms !== minRl && a.mean - a.half > b.mean + b.half };
    },
    "128ms-worse-than-best": () => {
      const a = meanCi(loops(best.ratelimit_ms)), c = meanCi(loops(maxRl));
      return {
        measured: `${fmt(c.mean, "loops/s")} ± ${fmt(c.half, "")} at ${maxRl} ms vs ${fmt(a.mean, "loops/s")} ± ${fmt(a.half, "")} at the best (${best.ratelimit_ms} ms)`,
        holds: best.ratelimit_ms !== maxRl && c.mean + c.half < a.mean - a.half,
      };
    },
    "large-ratelimit-falls-into-window": () => {
      const mid = Math.max(...sweep.filter((r) => r.ratelimit_ms > minRl && r.ratelimit_ms < maxRl).map((r) => r.fast_share));
      return { measured: `fast share ${fmt(at(maxRl).fast_share * 100, "%")} at ${maxRl} ms vs best intermediate ${fmt(mid * 100, "%")}`, holds: at(maxRl).fast_share < mid - 0.02 };
    },
    "delta-shrinks-28us-per-ms": () => within(shrink[0].simulated, shrink[0].published, 0.2),
    "drain-6ms-takes-214ms": () => within(shrink[1].simulated, shrink[1].published, 0.2),
    "improvement-modest": () => {
      const g = best.loops_per_s_mean / at(minRl).loops_per_s_mean - 1;
      return { measured: `best over ${minRl} ms: +${fmt(g * 100, "%")}`, holds: g > 0.01 && g < 0.2 };
    },
    "result-repeatable": () => {
      const a = meanCi(loops(best.ratelimit_ms));
      const cv = a.sd / a.mean;
      return { measured: `coefficient of variation over seeds at the best ratelimit: ${fmt(cv * 100, "%")}`, holds: cv < 0.02 };
    },
  };
  return evaluateLedger(readLedger("takakura-context1"), checks);
}
