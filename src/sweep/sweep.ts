/**
 * sweep(): a grid over spec fields times seeds, run on worker threads
 * (piscina), with a content-addressed result cache, sharding for batch
 * systems (Slurm job arrays) and the merge of the shards' parts.
 *
 * Determinism: a run is a pure function of (spec, seed); results are stored
 * by run index (grid index x seeds + seed index) whatever order the workers
 * finish in, and every table and summary is built in run order, so the
 * tables are byte-identical for 1 or K workers, for a cache hit or a fresh
 * run, and for a local run or the merge of its shards.
 *
 * Not done here: runs are not split across workers below one (spec, seed)
 * (one run is one task); a crashed worker fails the whole sweep (no retry).
 */
import { availableParallelism } from "node:os";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as aq from "arquero";
import type { SimSpec } from "../spec/types.js";
import { validateSpec } from "../spec/validate.js";
import { canonicalJson, decodeTables, DEFAULT_CACHE_DIR, modelVersion, RunCache, runKey, sha256 } from "./cache.js";
import { cellValue, expandGrid, type GridAxis, type GridPoint } from "./grid.js";
import { defaultMetrics, evalMetric, parseMetrics, type Metric, type MetricSpec } from "./metrics.js";
import { summarize } from "./stats.js";
import { runEncoded } from "./worker.js";

/** Progress of a sweep, reported after every finished run. */
export interface SweepProgress {
  /** Runs finished (fresh or from the cache). */
  done: number;
  /** Runs of this sweep (of this shard, when sharded). */
  total: number;
  /** Of `done`, runs taken from the cache. */
  cached: number;
  /** Wall-clock seconds since the sweep started. */
  elapsed_s: number;
  /** Estimated seconds left (from the pace of the fresh runs so far), or null before the first. */
  eta_s: number | null;
}

/** Options of {@link sweep}. */
export interface SweepOptions {
  /**
   * The grid: dotted spec path -> values (array indices as numbers, e.g.
   * `"hypervisor.pools.0.scheduler.ratelimit_us": [1000, 5000]`). Several
   * paths make a product, the first path outermost. Default: no grid (one
   * configuration, the spec itself).
   */
  grid?: Record<string, unknown[]> | GridAxis[];
  /** Seeds: a count N (seeds 1..N) or the list of seeds. Default 1 (seed 1). */
  seeds?: number | (number | string)[];
  /** Metrics, e.g. `"tasks.deadline_misses:sum"` (see metrics.ts for the syntax). Default: {@link defaultMetrics} of the spec. */
  metrics?: (string | MetricSpec)[];
  /** Worker threads (default: the available cores, at most the number of runs to simulate). 1 runs in this thread. */
  workers?: number;
  /** Result cache folder, or false for none. Default `.hvsim-cache` in the working directory. */
  cache?: string | false;
  /** Model version that keys the cache (default {@link modelVersion}); for tests. */
  modelVersion?: string;
  /** Run only the runs whose index r has r % count === index (a deterministic share for batch systems). */
  shard?: { index: number; count: number };
  /** Called after every finished run. */
  onProgress?: (p: SweepProgress) => void;
}

/** What identifies a sweep (and what its parts must share to be merged). */
export interface SweepInfo {
  /** SHA-256 of the canonical {spec, grid, seeds, metrics, model}. */
  id: string;
  model: string;
  grid: GridAxis[];
  seeds: (number | string)[];
  /** Metric column names, in order. */
  metrics: string[];
  /** Metric definitions, as text. */
  metric_defs: string[];
  /** Runs of the whole sweep (configurations x seeds). */
  total_runs: number;
}

/** A sweep's result: one row per run, and a summary per configuration and metric. */
export interface SweepResult {
  /**
   * One row per run, in run order: `run` (index), `config` (grid index), one
   * column per grid path (named by the path; lists and objects as JSON
   * text), `seed`, then one column per metric.
   */
  runs: aq.ColumnTable;
  /**
   * One row per configuration and metric: `config`, the grid columns,
   * `metric`, `n` (runs with a value), `mean`, `sd` (sample), `ci95_low` /
   * `ci95_high` (95 % Student t interval of the mean; null for n < 2),
   * `min`, `max` (in the metric's unit).
   */
  summary: aq.ColumnTable;
  info: SweepInfo;
  /** Runs simulated and runs taken from the cache. */
  stats: { simulated: number; cached: number; wall_s: number };
}

/** A row of the runs table. */
export type RunRow = Record<string, string | number | boolean | null>;

interface Plan {
  info: SweepInfo;
  points: GridPoint[];
  metrics: Metric[];
}

function plan(spec: SimSpec, opts: SweepOptions): Plan {
  validateSpec(spec);
  const g = opts.grid ?? [];
  const axes: GridAxis[] = Array.isArray(g) ? g.map((a) => ({ path: a.path, values: a.values })) : Object.entries(g).map(([path, values]) => ({ path, values }));
  const s = opts.seeds ?? 1;
  let seeds: (number | string)[];
  if (typeof s === "number") {
    if (!Number.isInteger(s) || s < 1) throw new Error(`seeds must be a positive integer count (or a list); got ${s}`);
    seeds = Array.from({ length: s }, (_, i) => i + 1);
  } else seeds = s.slice();
  if (seeds.length === 0) throw new Error("seeds: the list is empty");
  if (new Set(seeds.map(String)).size !== seeds.length) throw new Error(`seeds: a seed appears twice in ${JSON.stringify(seeds)}`);
  const points = expandGrid(spec, axes);
  const reserved = ["run", "config", "seed", ...axes.map((a) => a.path)];
  const metrics = parseMetrics(opts.metrics ?? defaultMetrics(spec), reserved);
  const model = opts.modelVersion ?? modelVersion();
  const id = sha256(canonicalJson({ spec, grid: axes, seeds, metrics: metrics.map((m) => m.text), model }));
  return {
    info: { id, model, grid: axes, seeds, metrics: metrics.map((m) => m.name), metric_defs: metrics.map((m) => m.text), total_runs: points.length * seeds.length },
    points, metrics,
  };
}

/** Builds the runs table from rows in run order. */
function runsTable(info: SweepInfo, rows: RunRow[]): aq.ColumnTable {
  const names = ["run", "config", ...info.grid.map((a) => a.path), "seed", ...info.metrics];
  const cols: Record<string, unknown[]> = {};
  for (const n of names) cols[n] = rows.map((r) => r[n] ?? null);
  return aq.table(cols);
}

/** The summary table of runs rows (in run order): per configuration and metric, n, mean, sd, 95 % CI, min, max. */
export function summaryTable(info: SweepInfo, rows: RunRow[]): aq.ColumnTable {
  const byConfig = new Map<number, RunRow[]>();
  for (const r of rows) {
    const c = r.config as number;
    let l = byConfig.get(c);
    if (!l) byConfig.set(c, (l = []));
    l.push(r);
  }
  const gridCols = info.grid.map((a) => a.path);
  const names = ["config", ...gridCols, "metric", "n", "mean", "sd", "ci95_low", "ci95_high", "min", "max"];
  const cols: Record<string, unknown[]> = {};
  for (const n of names) cols[n] = [];
  for (const c of [...byConfig.keys()].sort((a, b) => a - b)) {
    const rs = byConfig.get(c)!;
    for (const m of info.metrics) {
      const vals = rs.map((r) => r[m]).filter((v): v is number => typeof v === "number");
      const s = summarize(vals);
      cols.config.push(c);
      for (const g of gridCols) cols[g].push(rs[0][g]);
      cols.metric.push(m);
      cols.n.push(s.n); cols.mean.push(s.mean); cols.sd.push(s.sd);
      cols.ci95_low.push(s.ci95_low); cols.ci95_high.push(s.ci95_high); cols.min.push(s.min); cols.max.push(s.max);
    }
  }
  return aq.table(cols);
}

/**
 * Runs a sweep: every grid point (each validated before anything runs) times
 * every seed, on worker threads, through the result cache. Returns the runs
 * table (one row per run) and the summary per configuration.
 *
 * ```ts
 * const r = await sweep(spec, { grid: { "hypervisor.pools.0.scheduler.ratelimit_us": [1000, 5000] }, seeds: 5 });
 * r.summary.filter((d) => d.metric === "sum_context1_loops_per_s")
 * ```
 */
export async function sweep(spec: SimSpec, opts: SweepOptions = {}): Promise<SweepResult> {
  const t0 = performance.now();
  const { info, points, metrics } = plan(spec, opts);
  if (opts.workers !== undefined && !(Number.isInteger(opts.workers) && opts.workers >= 1)) throw new Error(`workers must be a positive integer; got ${opts.workers}`);
  const nSeeds = info.seeds.length;
  const sh = opts.shard;
  if (sh && !(Number.isInteger(sh.count) && sh.count >= 1 && Number.isInteger(sh.index) && sh.index >= 0 && sh.index < sh.count))
    throw new Error(`shard must be I/N with 0 <= I < N; got ${sh.index}/${sh.count}`);
  const mine: number[] = [];
  for (let r = 0; r < info.total_runs; r++) if (!sh || r % sh.count === sh.index) mine.push(r);
  const cache = opts.cache === false ? null : new RunCache(opts.cache ?? DEFAULT_CACHE_DIR);

  const rows = new Map<number, RunRow>();
  let cached = 0, fresh = 0, freshStart = -1;
  const total = mine.length;
  const report = () => {
    if (!opts.onProgress) return;
    const done = rows.size;
    const elapsed = (performance.now() - t0) / 1000;
    const left = total - done;
    // the pace of the fresh runs since the first one started (cache hits are near-instant)
    const eta = left === 0 ? 0 : fresh > 0 ? ((performance.now() - freshStart) / 1000 / fresh) * left : null;
    opts.onProgress({ done, total, cached, elapsed_s: elapsed, eta_s: eta });
  };
  const finish = (r: number, buf: Uint8Array) => {
    const p = points[Math.floor(r / nSeeds)];
    const seed = info.seeds[r % nSeeds];
    const tables = decodeTables(buf);
    const row: RunRow = { run: r, config: p.index };
    info.grid.forEach((a, k) => (row[a.path] = cellValue(p.values[k])));
    row.seed = seed;
    for (const m of metrics) row[m.name] = evalMetric(m, tables);
    rows.set(r, row);
  };

  const todo: { r: number; key: string }[] = [];
  for (const r of mine) {
    const p = points[Math.floor(r / nSeeds)];
    const key = runKey(p.spec, info.seeds[r % nSeeds], info.model);
    const hit = cache?.get(key);
    if (hit) {
      try { finish(r, hit); cached++; report(); continue; } catch { /* unreadable entry: simulate again */ }
    }
    todo.push({ r, key });
  }
  const workersUsed = Math.max(1, Math.min(opts.workers ?? availableParallelism(), todo.length));
  freshStart = performance.now();
  const store = (key: string, buf: Uint8Array) => { if (cache) cache.put(key, buf); };
  const task = (r: number) => ({ spec: points[Math.floor(r / nSeeds)].spec, seed: info.seeds[r % nSeeds] });

  if (workersUsed <= 1) {
    for (const { r, key } of todo) {
      const buf = runEncoded(task(r));
      fresh++;
      store(key, buf);
      finish(r, buf);
      report();
      // let timers and progress displays run between runs
      await new Promise<void>((res) => setImmediate(res));
    }
  } else {
    // loaded here, not at import: `import "hvsim"` stays as fast for those who never sweep in parallel
    const { Piscina } = await import("piscina");
    const pool = new Piscina({ filename: new URL("./worker.js", import.meta.url).href, minThreads: workersUsed, maxThreads: workersUsed, idleTimeout: 1000 });
    try {
      await Promise.all(todo.map(async ({ r, key }) => {
        const buf = (await pool.run(task(r))) as Uint8Array;
        fresh++;
        store(key, buf);
        finish(r, buf);
        report();
      }));
    } finally {
      await pool.destroy();
    }
  }
  const ordered = mine.map((r) => rows.get(r)!);
  return {
    runs: runsTable(info, ordered),
    summary: summaryTable(info, ordered),
    info,
    stats: { simulated: fresh, cached, wall_s: (performance.now() - t0) / 1000 },
  };
}

// ---- shards: parts written by `hvsim sweep --shard I/N --out DIR`, merged by `hvsim merge DIR`

/** The file a shard writes. */
export interface SweepPart {
  format: "hvsim-sweep-part";
  version: 1;
  /** What the sweep was run on (e.g. the spec file), carried to the merged output. */
  label: string;
  info: SweepInfo;
  shard: { index: number; count: number };
  rows: RunRow[];
}

/** Writes a sweep's (or a shard's) rows to DIR/part-I-of-N.json (atomically); returns the file. */
export function writePart(dir: string, res: SweepResult, shard: { index: number; count: number }, label: string): string {
  mkdirSync(dir, { recursive: true });
  const part: SweepPart = { format: "hvsim-sweep-part", version: 1, label, info: res.info, shard, rows: res.runs.objects() as RunRow[] };
  const f = join(dir, `part-${shard.index}-of-${shard.count}.json`);
  const tmp = `${f}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(part) + "\n");
  renameSync(tmp, f);
  return f;
}

/**
 * Merges the parts in DIR into the runs and summary tables of the whole
 * sweep, the same tables as a local run. Checks that every part belongs to
 * the same sweep (same id: spec, grid, seeds, metrics, model version), that
 * every shard 0..N-1 is there once and that every run is present once.
 */
export function mergeParts(dir: string): { result: SweepResult; label: string } {
  const files = readdirSync(dir).filter((f) => /^part-\d+-of-\d+\.json$/.test(f)).sort();
  if (files.length === 0) throw new Error(`merge: no part-I-of-N.json files in ${dir}`);
  const parts = files.map((f) => {
    const p = JSON.parse(readFileSync(join(dir, f), "utf8")) as SweepPart;
    if (p.format !== "hvsim-sweep-part" || p.version !== 1) throw new Error(`merge: ${f} is not an hvsim sweep part (version 1)`);
    return { f, p };
  });
  const first = parts[0].p;
  for (const { f, p } of parts) {
    if (p.info.id !== first.info.id) throw new Error(`merge: ${f} belongs to another sweep (id ${p.info.id.slice(0, 12)}, model ${p.info.model}) than ${parts[0].f} (id ${first.info.id.slice(0, 12)}, model ${first.info.model})`);
    if (p.shard.count !== first.shard.count) throw new Error(`merge: ${f} is a shard of ${p.shard.count}, ${parts[0].f} of ${first.shard.count}`);
  }
  const N = first.shard.count;
  const have = new Set(parts.map(({ p }) => p.shard.index));
  const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !have.has(i));
  if (missing.length) throw new Error(`merge: ${dir} lacks the part(s) of shard(s) ${missing.join(", ")} of ${N}`);
  const rows = parts.flatMap(({ p }) => p.rows).sort((a, b) => (a.run as number) - (b.run as number));
  for (let i = 0; i < rows.length; i++) if (rows[i].run !== i) throw new Error(`merge: run ${i} is ${rows[i].run === i - 1 ? "duplicated" : "missing"}`);
  if (rows.length !== first.info.total_runs) throw new Error(`merge: ${rows.length} runs, the sweep has ${first.info.total_runs}`);
  return {
    label: first.label,
    result: { runs: runsTable(first.info, rows), summary: summaryTable(first.info, rows), info: first.info, stats: { simulated: 0, cached: 0, wall_s: 0 } },
  };
}
