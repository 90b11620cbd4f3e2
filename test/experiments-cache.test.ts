/**
 * The experiments' runs through runSpecs (src/sweep/runs.ts): the result
 * cache and worker threads give the same tables as uncached runs in this
 * thread; a second call is served from the cache (counted hits, nothing
 * simulated); a model change misses; bad specs fail before anything runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aq from "arquero";
import { lastRunStats, runSpecs, runTotals, resetRunTotals, defaultCache, defaultWorkers } from "../src/sweep/runs.js";
import { RunCache } from "../src/sweep/cache.js";
import { simulate } from "../src/simulate.js";
import { SpecError } from "../src/spec/validate.js";
import * as takakura from "../src/experiments/takakura-context1.js";
import * as creditLab from "../src/experiments/credit-weight-cap.js";
import * as five from "../src/experiments/five-schedulers.js";
import * as abeni from "../src/experiments/abeni-faggioli.js";

const tmp = () => mkdtempSync(join(tmpdir(), "hvsim-expcache-"));
/** Exact text of any value: NaN, ±Infinity and -0 kept apart from null and 0. */
const exact = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "number" && (!Number.isFinite(x) || Object.is(x, -0)) ? `#${Object.is(x, -0) ? "-0" : x}` : x));
const rows = (t: aq.ColumnTable) => exact({ cols: t.columnNames(), rows: t.objects() });

test("inside node --test the defaults are one worker and no cache", () => {
  if (process.env.HVSIM_WORKERS || process.env.HVSIM_CACHE_DIR || process.env.HVSIM_NO_CACHE) return;
  assert.equal(defaultWorkers(), 1);
  assert.equal(defaultCache(), false);
});

test("credit-weight-cap shares: cached runs give the uncached table; the second call is all hits", () => {
  const dir = tmp();
  try {
    const plain = creditLab.shares({ workS: 0.5, cache: false, workers: 1 });
    assert.equal(lastRunStats.simulated, creditLab.SCENARIOS.length);
    const cold = creditLab.shares({ workS: 0.5, cache: dir, workers: 1 });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.cached], [creditLab.SCENARIOS.length, 0]);
    assert.equal(new RunCache(dir).size(), creditLab.SCENARIOS.length);
    const warm = creditLab.shares({ workS: 0.5, cache: dir, workers: 1 });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.cached], [0, creditLab.SCENARIOS.length]);
    assert.equal(rows(cold), rows(plain));
    assert.equal(rows(warm), rows(plain));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("takakura sweep: 2 workers with the cache = 1 worker without; detail's context1_gap comes back from the cache", () => {
  const dir = tmp();
  try {
    const o = { ratelimitsMs: [1, 30], seeds: [1, 2], horizonS: 0.4 };
    const plain = takakura.sweep({ ...o, cache: false, workers: 1 });
    const par = takakura.sweep({ ...o, cache: dir, workers: 2 });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.workers], [4, 2]);
    assert.equal(exact(par), exact(plain));
    assert.deepEqual(par.map((r) => [r.ratelimit_ms, r.seed]), [[1, 1], [1, 2], [30, 1], [30, 2]], "input order whatever the completion order");
    const warm = takakura.sweep({ ...o, cache: dir, workers: 2 });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.cached, lastRunStats.workers], [0, 4, 0]);
    assert.equal(exact(warm), exact(plain));

    const d0 = takakura.detail([5], { horizonS: 0.4, traceMax: 500, cache: false });
    const d1 = takakura.detail([5], { horizonS: 0.4, traceMax: 500, cache: dir });
    const d2 = takakura.detail([5], { horizonS: 0.4, traceMax: 500, cache: dir });
    assert.equal(lastRunStats.cached, 1);
    assert.ok(d0.gap.numRows() > 100, `the gap series has ${d0.gap.numRows()} rows`);
    for (const d of [d1, d2]) {
      assert.equal(rows(d.gap), rows(d0.gap));
      assert.equal(rows(d.patterns), rows(d0.patterns));
      assert.equal(rows(d.results[0].table("trace")), rows(d0.results[0].table("trace")));
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("abeni-faggioli runAll and five-schedulers runAll: cached tables equal uncached ones, hits counted", () => {
  const dir = tmp();
  try {
    const ao = { horizonS: 0.7, only: ["fig3", "fig4"] };
    const a0 = abeni.runAll({ ...ao, cache: false });
    resetRunTotals();
    const a1 = abeni.runAll({ ...ao, cache: dir, workers: 2 });
    const a2 = abeni.runAll({ ...ao, cache: dir });
    // 6 configurations (native and Dom0 on two CPUs), each on MEDIAN_SEEDS seeds (their worst cases are compared as medians)
    assert.deepEqual({ ...runTotals }, { simulated: 6 * abeni.MEDIAN_SEEDS, cached: 6 * abeni.MEDIAN_SEEDS });
    for (const a of [a1, a2]) { assert.equal(rows(a.runs), rows(a0.runs)); assert.equal(rows(a.cdf), rows(a0.cdf)); }

    const fo = { horizonS: 1, traceMax: 2000 };
    const f0 = five.runAll({ ...fo, cache: false });
    five.runAll({ ...fo, cache: dir });
    const f2 = five.runAll({ ...fo, cache: dir });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.cached], [0, five.SCHEDULERS.length]);
    for (const k of ["latency", "shares", "summary"] as const) assert.equal(rows(f2[k]), rows(f0[k]), k);
    for (const s of five.SCHEDULERS) {
      assert.equal(rows(f2.results[s].table("trace")), rows(f0.results[s].table("trace")), `${s} trace`);
      assert.equal(f2.results[s].spec.horizon_s, f0.results[s].spec.horizon_s);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("runSpecs: every table equals simulate()'s; a model change misses; a bad spec fails before any run", () => {
  const dir = tmp();
  try {
    const spec = takakura.setup({ ratelimitMs: 2, horizonS: 0.3, warmupS: 0.1 });
    const direct = simulate(spec, { seed: 7 });
    const [viaCache] = runSpecs([{ spec, seed: 7 }], { cache: dir, modelVersion: "m1" });
    assert.deepEqual(viaCache.tableNames, direct.tableNames);
    for (const n of direct.tableNames) assert.equal(rows(viaCache.table(n)), rows(direct.table(n)), n);
    runSpecs([{ spec, seed: 7 }], { cache: dir, modelVersion: "m1" });
    assert.equal(lastRunStats.cached, 1);
    runSpecs([{ spec, seed: 7 }], { cache: dir, modelVersion: "m2" });
    assert.deepEqual([lastRunStats.simulated, lastRunStats.cached], [1, 0], "another model version is a miss");

    const bad = { ...spec, horizon_s: -1 };
    const before = new RunCache(dir).size();
    assert.throws(() => runSpecs([{ spec: takakura.setup({ ratelimitMs: 3, horizonS: 0.3 }), seed: 1 }, { spec: bad, seed: 1 }], { cache: dir, modelVersion: "m1" }), SpecError);
    assert.equal(new RunCache(dir).size(), before, "nothing ran");
    assert.throws(() => runSpecs([], { workers: 0 }), /workers must be a positive integer/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
