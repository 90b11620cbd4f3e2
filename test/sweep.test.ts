import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simulate } from "../src/simulate.js";
import { SpecError } from "../src/spec/validate.js";
import type { SimSpec } from "../src/spec/types.js";
import { sweep, mergeParts, writePart } from "../src/sweep/sweep.js";
import { expandGrid, parseGridArg, setPath } from "../src/sweep/grid.js";
import { evalMetric, parseMetric } from "../src/sweep/metrics.js";
import { decodeTables, encodeTables, modelVersion, RunCache, resultTables, runKey } from "../src/sweep/cache.js";
import { studentTQuantile, summarize } from "../src/sweep/stats.js";
import * as aq from "arquero";

const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "hvsim-sweep-"));

/** Three fixed-priority periodic tasks with random execution times on one CPU (0.3 s: fast, and seeds matter). */
function rtSpec(): SimSpec {
  const task = (i: number, T: number, prio: number) => ({
    kind: "periodic" as const, name: `t${i}`, period_us: T, policy: "fifo" as const, priority: prio,
    exec: { dist: "uniform" as const, min_us: T * 0.1, max_us: T * 0.25 },
  });
  return {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 0.3,
    guests: [{ name: "linux", vcpus: 1, workloads: [task(0, 1000, 90), task(1, 2000, 89), task(2, 5000, 88)] }],
  } as SimSpec;
}
const GRID = { "guests.0.workloads.0.exec.max_us": [200, 400], "guests.0.workloads.1.priority": [95, 50] };
const json = (t: aq.ColumnTable) => JSON.stringify(t.objects());

test("Student t quantiles and the summary match published values", () => {
  // two-sided 95 % critical values (any t table)
  const ref: [number, number][] = [[1, 12.7062], [2, 4.3027], [4, 2.7764], [9, 2.2622], [29, 2.0452], [120, 1.9799]];
  for (const [df, t] of ref) assert.ok(Math.abs(studentTQuantile(0.975, df) - t) < 5e-5, `df ${df}: ${studentTQuantile(0.975, df)} vs ${t}`);
  const s = summarize([1, 2, 3, 4]);
  assert.equal(s.mean, 2.5);
  assert.ok(Math.abs(s.sd! - Math.sqrt(5 / 3)) < 1e-12);
  assert.ok(Math.abs(s.ci95_high! - (2.5 + 3.182446305284263 * Math.sqrt(5 / 3) / 2)) < 1e-9);
  assert.deepEqual(summarize([7]), { n: 1, mean: 7, sd: null, ci95_low: null, ci95_high: null, min: 7, max: 7 });
  assert.equal(summarize([]).mean, null);
});

test("grid arguments: JSON values where they parse, top-level commas, a product in order", () => {
  assert.deepEqual(parseGridArg("a.b=1,off,true,[1,2],\"x,y\""), { path: "a.b", values: [1, "off", true, [1, 2], "x,y"] });
  assert.throws(() => parseGridArg("a.b"), /PATH=V1,V2/);
  assert.throws(() => parseGridArg("a.b=1,,2"), /empty value/);
  const pts = expandGrid(rtSpec(), Object.entries(GRID).map(([path, values]) => ({ path, values })));
  assert.deepEqual(pts.map((p) => p.values), [[200, 95], [200, 50], [400, 95], [400, 50]]);
  const w = pts[3].spec.guests[0].workloads;
  assert.equal((w[0] as any).exec.max_us, 400);
  assert.equal((w[1] as any).priority, 50);
  // the base spec is untouched
  assert.equal((rtSpec().guests[0].workloads[1] as any).priority, 89);
});

test("a bad grid path or value is a SpecError naming the path, before any run", async () => {
  const o: Record<string, unknown> = { a: [{ b: 1 }] };
  assert.throws(() => setPath(o, "a.3.b", 2), (e: unknown) => e instanceof SpecError && /a\.3\.b: index 3 is out of range/.test(e.message));
  assert.throws(() => setPath(o, "x.y", 2), /x\.y: \(the spec\) has no object or list field "x"/);
  assert.throws(() => setPath(o, "a.b", 2), /"b" must be an index/);
  const dir = tmp();
  try {
    // the second value is out of range: nothing may run, so nothing reaches the cache
    await assert.rejects(sweep(rtSpec(), { grid: { "guests.0.workloads.0.priority": [50, 200] }, cache: dir, workers: 1 }),
      (e: unknown) => e instanceof SpecError && /guests\[0\]\.workloads\[0\]\.priority: must be an integer in 1\.\.99.*got 200 \(grid point 1: guests\.0\.workloads\.0\.priority=200\)/.test(e.message));
    await assert.rejects(sweep(rtSpec(), { grid: { "guests.0.workloads.0.prio": [1] }, cache: dir }), /unknown field\(s\) "prio"/);
    await assert.rejects(sweep(rtSpec(), { grid: { "guests.0.workloads.9.priority": [1] }, cache: dir }), /guests\.0\.workloads\.9\.priority: index 9 is out of range/);
    assert.equal(new RunCache(dir).size(), 0);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("metrics: TABLE[filter].COLUMN:AGG, named, and clear errors", () => {
  const r = simulate(rtSpec(), { seed: 1 });
  const tables = resultTables(r);
  const tasks = r.rows("tasks").filter((x) => (x.jobs as number) > 0);
  const m = parseMetric("worst=tasks[task=t2].max_response_us:max");
  assert.equal(m.name, "worst");
  assert.equal(evalMetric(m, tables), tasks.find((x) => x.task === "t2")!.max_response_us);
  assert.equal(evalMetric(parseMetric("tasks.jobs:sum"), tables), tasks.reduce((a, x) => a + (x.jobs as number), 0));
  assert.equal(parseMetric("tasks.jobs:sum").name, "sum_tasks_jobs");
  assert.throws(() => parseMetric("tasks.jobs:median"), /unknown aggregate "median"/);
  assert.throws(() => parseMetric("tasks"), /expected \[NAME=\]TABLE/);
  assert.throws(() => evalMetric(parseMetric("nope.x:sum"), tables), /no table "nope"; it has tasks/);
  assert.throws(() => evalMetric(parseMetric("tasks.x:sum"), tables), /table tasks has no column "x"/);
});

test("sweep: one row per run, a summary per configuration; 1 and 2 workers give byte-identical tables", async () => {
  const opts = { grid: GRID, seeds: 3, cache: false as const, metrics: ["tasks.deadline_misses:sum", "tasks.max_response_us:max"] };
  const progress: number[] = [];
  const one = await sweep(rtSpec(), { ...opts, workers: 1, onProgress: (p) => progress.push(p.done) });
  const two = await sweep(rtSpec(), { ...opts, workers: 2 });
  assert.equal(one.runs.numRows(), 12);
  assert.deepEqual(one.runs.columnNames(), ["run", "config", ...Object.keys(GRID), "seed", "sum_tasks_deadline_misses", "max_tasks_max_response_us"]);
  assert.deepEqual(progress, Array.from({ length: 12 }, (_, i) => i + 1));
  assert.equal(json(one.runs), json(two.runs));
  assert.equal(json(one.summary), json(two.summary));
  assert.equal(two.stats.simulated, 12);
  // each row is what simulate() gives for that point and seed
  const row = one.runs.objects()[7] as Record<string, number>; // config 2 (max_us 400, priority 95), seed 2
  const s = rtSpec();
  (s.guests[0].workloads[0] as any).exec.max_us = 400;
  (s.guests[0].workloads[1] as any).priority = 95;
  const direct = simulate(s, { seed: 2 }).rows("tasks");
  assert.equal(row.config, 2);
  assert.equal(row.seed, 2);
  assert.equal(row.max_tasks_max_response_us, Math.max(...direct.filter((x) => x.max_response_us !== null).map((x) => x.max_response_us as number)));
  // seeds differ, so the summary has a spread, and its interval holds the mean
  const sm = one.summary.objects().find((x: any) => x.config === 2 && x.metric === "max_tasks_max_response_us") as any;
  assert.equal(sm.n, 3);
  assert.ok(sm.sd > 0 && sm.ci95_low < sm.mean && sm.mean < sm.ci95_high && sm.min <= sm.mean && sm.mean <= sm.max);
});

test("cache: a hit returns the tables of a fresh run; a model change misses", async () => {
  const dir = tmp();
  try {
    const base = { grid: { "guests.0.workloads.1.priority": [95, 50] }, seeds: 2, cache: dir, workers: 1 };
    const fresh = await sweep(rtSpec(), { ...base, modelVersion: "model-A" });
    assert.deepEqual(fresh.stats, { ...fresh.stats, simulated: 4, cached: 0 });
    assert.equal(new RunCache(dir).size(), 4);
    const hit = await sweep(rtSpec(), { ...base, modelVersion: "model-A", workers: 2 });
    assert.deepEqual([hit.stats.simulated, hit.stats.cached], [0, 4]);
    assert.equal(json(hit.runs), json(fresh.runs));
    assert.equal(json(hit.summary), json(fresh.summary));
    // the cached value decodes to exactly the tables simulate() returns
    const s = rtSpec();
    (s.guests[0].workloads[1] as any).priority = 50;
    const direct = resultTables(simulate(s, { seed: 2 }));
    const stored = new RunCache(dir).get(runKey(s, 2, "model-A"));
    assert.ok(stored, "the run (priority 50, seed 2) is in the cache");
    const back = decodeTables(stored);
    assert.deepEqual(Object.keys(back), Object.keys(direct));
    for (const n of Object.keys(direct)) {
      assert.deepEqual(back[n].columnNames(), direct[n].columnNames(), n);
      assert.deepStrictEqual(back[n].objects(), direct[n].objects(), n);
    }
    // another model version: every run misses and is simulated again
    const other = await sweep(rtSpec(), { ...base, modelVersion: "model-B" });
    assert.deepEqual([other.stats.simulated, other.stats.cached], [4, 0]);
    assert.equal(new RunCache(dir).size(), 8);
    assert.match(modelVersion(), /^hvsim@\d+\.\d+\.\d+ data:[0-9a-f]{16} code:[0-9a-f]{16}$/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("cache encoding keeps -0, NaN, infinities, nulls, big integers, booleans, empty tables and nested values", () => {
  const t = {
    a: aq.table({ x: [-0, NaN, Infinity, -Infinity, 2 ** 53 - 1, null], s: ["a", null, "b", "", "é", "x"], b: [true, false, null, true, true, false], o: [[1, 2], { k: 1 }, null, 1, "s", [3]] }),
    empty: aq.table({ x: [], y: [] }),
    nulls: aq.table({ x: [null, null] }),
  };
  const back = decodeTables(encodeTables(t));
  for (const n of Object.keys(t) as (keyof typeof t)[]) {
    assert.deepEqual(back[n].columnNames(), t[n].columnNames());
    assert.deepStrictEqual(back[n].objects(), t[n].objects(), n);
  }
});

test("shards: the parts of --shard I/N merge into the tables of the local run", async () => {
  const dir = tmp();
  try {
    const opts = { grid: GRID, seeds: 2, cache: false as const, workers: 1 };
    const local = await sweep(rtSpec(), opts);
    for (let i = 0; i < 3; i++) {
      const part = await sweep(rtSpec(), { ...opts, shard: { index: i, count: 3 } });
      assert.ok(part.runs.numRows() < local.runs.numRows());
      writePart(dir, part, { index: i, count: 3 }, "spec.json");
      if (i === 1) assert.throws(() => mergeParts(dir), /lacks the part\(s\) of shard\(s\) 2 of 3/);
    }
    const { result, label } = mergeParts(dir);
    assert.equal(label, "spec.json");
    assert.equal(json(result.runs), json(local.runs));
    assert.equal(json(result.summary), json(local.summary));
    // a part of another sweep (other seeds) is refused
    writePart(dir, await sweep(rtSpec(), { ...opts, seeds: 1, shard: { index: 0, count: 3 } }), { index: 0, count: 3 }, "spec.json");
    assert.throws(() => mergeParts(dir), /belongs to another sweep/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test("hvsim sweep --json equals hvsim merge of its shards; plain progress lines in logs; clear CLI errors", () => {
  const dir = tmp();
  try {
    const spec = join(dir, "spec.json");
    writeFileSync(spec, JSON.stringify(rtSpec()));
    const args = ["sweep", spec, "--grid", "guests.0.workloads.1.priority=95,50", "--seeds", "2", "--metrics", "tasks.deadline_misses:sum,worst=tasks[task=t2].max_response_us:max", "--no-cache"];
    const local = spawnSync(process.execPath, [cli, ...args, "--json", "--workers", "2"], { encoding: "utf8" });
    assert.equal(local.status, 0, local.stderr);
    assert.ok(!local.stderr.includes("\r"), "no carriage returns when stderr is not a terminal");
    assert.match(local.stderr, /sweep: 4\/4 runs \(100%\)/);
    const doc = JSON.parse(local.stdout);
    assert.equal(doc.runs.length, 4);
    assert.deepEqual(doc.metrics, ["tasks.deadline_misses:sum", "worst=tasks[task=t2].max_response_us:max"]);
    for (const i of [0, 1]) execFileSync(process.execPath, [cli, ...args, "--shard", `${i}/2`, "--out", join(dir, "parts")], { stdio: "pipe" });
    assert.deepEqual(readdirSync(join(dir, "parts")).sort(), ["part-0-of-2.json", "part-1-of-2.json"]);
    const merged = execFileSync(process.execPath, [cli, "merge", join(dir, "parts"), "--json"], { encoding: "utf8" });
    assert.equal(merged, local.stdout);
    const bad = spawnSync(process.execPath, [cli, "sweep", spec, "--grid", "guests.0.workloads.5.priority=1"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /guests\.0\.workloads\.5\.priority: index 5 is out of range/);
    const unknown = spawnSync(process.execPath, [cli, "sweep", spec, "--bogus"], { encoding: "utf8" });
    assert.match(unknown.stderr, /unknown option --bogus/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
