// The stats module (quantile definitions, Welford mean/sd, Student-t intervals) and the fluid-GPS reference.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import {
  confidenceInterval, mean, median, percentile, quantile, sortedFinite, stdev, studentTCdf, studentTQuantile, summarize, variance,
} from "../src/results/stats.js";
import { gpsFinishTimes } from "../src/results/gps.js";
import { SCENARIOS, gpsExecTimes } from "../src/experiments/credit-weight-cap.js";

test("quantile definitions: nearest-rank (default), high and linear differ exactly where they should", () => {
  const x = sortedFinite([4, 1, 3, 2]);
  assert.deepEqual(Array.from(x), [1, 2, 3, 4]);
  assert.equal(quantile(x, 0.5), 2); // ceil(2) - 1 = index 1
  assert.equal(quantile(x, 0.5, "high"), 3); // floor(2) = index 2
  assert.equal(quantile(x, 0.5, "linear"), 2.5);
  assert.equal(median(x), 2.5);
  // odd n: all three agree on the median
  const y = sortedFinite([5, 1, 3]);
  for (const m of ["nearest-rank", "high", "linear"] as const) assert.equal(quantile(y, 0.5, m), 3, m);
  // nearest-rank percentiles are observed values: p99 of 1..100 is 99, p100 is 100, p0 is 1
  const h = sortedFinite(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.equal(percentile(h, 99), 99);
  assert.equal(percentile(h, 100), 100);
  assert.equal(percentile(h, 0), 1);
  assert.equal(percentile(h, 99, "high"), 100);
  assert.ok(Number.isNaN(percentile(new Float64Array(0), 50)));
  // non-finite values and nulls are dropped
  assert.deepEqual(Array.from(sortedFinite([3, NaN, null, Infinity, 1, undefined, -Infinity])), [1, 3]);
});

test("linear quantiles, mean and sd are bit-identical to Arquero's rollups", () => {
  const v = [31703.1, 31704.9, 31616.3, 31663.7, 33242.2, 33063.05, 0.1, 1e-9, 12345.678];
  const t = aq.table({ v }).rollup({ m: aq.op.mean("v"), s: aq.op.stdev("v"), va: aq.op.variance("v"), med: aq.op.median("v"), q9: aq.op.quantile("v", 0.9) }).object() as any;
  const s = sortedFinite(v);
  assert.equal(mean(v), t.m);
  assert.equal(stdev(v), t.s);
  assert.equal(variance(v), t.va);
  assert.equal(median(s), t.med);
  assert.equal(quantile(s, 0.9, "linear"), t.q9);
  assert.ok(Number.isNaN(mean([])) && Number.isNaN(stdev([1])));
});

test("Student t: CDF symmetric, quantiles match published tables, 95 % interval as the textbook computes it", () => {
  assert.ok(Math.abs(studentTCdf(0, 7) - 0.5) < 1e-12);
  assert.ok(Math.abs(studentTCdf(-1.3, 5) + studentTCdf(1.3, 5) - 1) < 1e-12);
  // two-sided 95 % critical values (any statistics table)
  for (const [df, t] of [[1, 12.7062], [2, 4.3027], [4, 2.7764], [9, 2.2622], [30, 2.0423], [1000, 1.9623]]) {
    assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 1e-4, `df ${df}: ${studentTQuantile(0.975, df)}`);
  }
  // df = 1 is the Cauchy distribution: quantile tan(pi (p - 1/2))
  assert.ok(Math.abs(studentTQuantile(0.9, 1) - Math.tan(Math.PI * 0.4)) < 1e-9);
  const ci = confidenceInterval([10, 12, 11, 13, 9]);
  assert.equal(ci.n, 5);
  assert.equal(ci.mean, 11);
  assert.ok(Math.abs(ci.half_width - 2.7764451 * Math.sqrt(2.5 / 5)) < 1e-6);
  assert.ok(Math.abs(ci.hi - ci.lo - 2 * ci.half_width) < 1e-12);
  assert.ok(Number.isNaN(confidenceInterval([1]).half_width));
  const s = summarize([5, 1, NaN, 3]);
  assert.deepEqual({ n: s.n, min: s.min, max: s.max, mean: s.mean, sd: s.sd }, { n: 3, min: 1, max: 5, mean: 3, sd: 2 });
  assert.ok(Math.abs(s.ci95_high! - (3 + 4.302652729911275 * 2 / Math.sqrt(3))) < 1e-9);
  assert.deepEqual(summarize([7]), { n: 1, mean: 7, sd: null, ci95_low: null, ci95_high: null, min: 7, max: 7 });
  assert.deepEqual(summarize([]), { n: 0, mean: null, sd: null, ci95_low: null, ci95_high: null, min: null, max: null });
});

/** The fluid-GPS cell of notebooks/05-xen-credit-weight-cap.ipynb, as it was written there. */
function notebookGps(domains: any[], pcpus: number, work: number): number[] {
  const left = domains.map(() => work), done = domains.map(() => NaN);
  let t = 0;
  for (let guard = 0; guard < 100; guard++) {
    const act = domains.map((_, i) => i).filter((i) => !(done[i] >= 0));
    if (!act.length) break;
    const lim = (i: number) => Math.min(1, (domains[i].cap ?? 0) > 0 ? domains[i].cap / 100 : 1);
    const rate: number[] = [];
    let cap = pcpus, free = act.slice();
    while (free.length) {
      const wsum = free.reduce((a, i) => a + (domains[i].weight ?? 256), 0);
      const over = free.filter((i) => cap * (domains[i].weight ?? 256) / wsum >= lim(i));
      if (!over.length) { for (const i of free) rate[i] = cap * (domains[i].weight ?? 256) / wsum; break; }
      for (const i of over) { rate[i] = lim(i); cap -= lim(i); }
      free = free.filter((i) => !over.includes(i));
    }
    const dt = Math.min(...act.map((i) => left[i] / rate[i]));
    t += dt;
    for (const i of act) { left[i] -= rate[i] * dt; if (left[i] < 1e-9) done[i] = t; }
  }
  return done;
}

test("fluid GPS: weighted sharing with caps and work conservation, as the notebook computed it", () => {
  // weights 2:1 on one CPU, 2 s each: the heavy one at 2/3 finishes at 3 s, the light one alone then, at 4 s
  assert.deepEqual(gpsFinishTimes([{ weight: 512, workS: 2 }, { weight: 256, workS: 2 }], 1).map((x) => Math.round(x * 1e9) / 1e9), [3, 4]);
  // a cap holds alone; capacity above a cap goes to the others
  assert.deepEqual(gpsFinishTimes([{ cap: 50, workS: 1 }], 1), [2]);
  const c = gpsFinishTimes([{ cap: 25, workS: 1 }, { workS: 1 }], 1);
  assert.ok(Math.abs(c[0] - 4) < 1e-9 && Math.abs(c[1] - 4 / 3) < 1e-9, String(c));
  // three programs on two CPUs: 2/3 of a CPU each (each limited to one CPU)
  for (const x of gpsFinishTimes([{ workS: 2 }, { workS: 2 }, { workS: 2 }], 2)) assert.ok(Math.abs(x - 3) < 1e-9);
  // a program with infinite work (a hog) never finishes and keeps its share
  const hog = gpsFinishTimes([{ workS: Infinity }, { workS: 1 }], 1);
  assert.ok(Number.isNaN(hog[0]) && Math.abs(hog[1] - 2) < 1e-9, String(hog));
  for (const sc of SCENARIOS) {
    const a = gpsExecTimes(sc, 5), b = notebookGps(sc.domains, (sc.cpus ?? [0]).length, 5);
    a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-9, `${sc.id} dom${i + 1}: ${x} vs ${b[i]}`));
  }
});
