#!/usr/bin/env node
/**
 * hvsim command line.
 *
 *   hvsim list                                   experiments and board presets
 *   hvsim reproduce <experiment> [--json] [--quick]
 *   hvsim run FILE [--board NAME] [--horizon S] [--seed N] [--json | --histogram]
 *   hvsim sweep FILE --grid PATH=V1,V2 ... [--seeds N] [--metrics M,...] [--workers K]
 *               [--shard I/N] [--out DIR] [--cache DIR | --no-cache] [--json]
 *   hvsim merge DIR [--json]
 *
 * `run` takes a saved hvsim spec or an rt-app workload file (told apart by
 * their shape: an rt-app file has a `tasks` object). An rt-app file runs
 * natively on `--board` (default "ideal"; `--cpus N` online CPUs, default all;
 * `--rt-runtime US|off` sets sched_rt_runtime_us) for `--horizon` seconds
 * (default: its global.duration).
 *
 * `--json` prints exactly one JSON document on stdout:
 * `{"experiment": id, "tables": {name: [row objects]}}` (reproduce) or
 * `{"spec": file, "seed": n, "tables": {...}}` (run). Progress goes to stderr.
 * `--histogram` prints the run's cyclictest histogram exactly as
 * `cyclictest -q -h N` prints it, for a diff against a real run.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as aq from "arquero";
import { experiments } from "./experiments/index.js";
import { boardPresets } from "./hw/board.js";
import { simulate } from "./simulate.js";
import { SpecError } from "./spec/validate.js";
import { cyclictestHistogramText } from "./workloads/cyclictest.js";
import { HistogramFormatError, histogramSummary, parseCyclictestHistogram } from "./results/histogram-in.js";
import { isRtApp, parseRtAppText, rtApp, RtAppError } from "./workloads/rtapp.js";
import { mergeParts, sweep, writePart, type SweepResult } from "./sweep/sweep.js";
import { parseGridArg, splitTopLevel, type GridAxis } from "./sweep/grid.js";
import { progressReporter } from "./sweep/progress.js";

function usage(code: number): never {
  const u = `usage:
  hvsim list
  hvsim reproduce <experiment> [--json] [--quick]
  hvsim run FILE [--board NAME] [--horizon SECONDS] [--seed N] [--json | --histogram]
             FILE: a saved spec, or an rt-app file (then also [--cpus N] [--rt-runtime US|off])
             --histogram: the cyclictest histogram in the format of cyclictest -q -h N
  hvsim sweep FILE [--grid PATH=V1,V2,...]... [--seeds N] [--metrics TABLE.COLUMN:AGG,...] [--workers K]
             [--shard I/N] [--out DIR] [--cache DIR | --no-cache] [--json]
             PATH: dotted path into the spec (array indices as numbers), e.g. hypervisor.pools.0.scheduler.ratelimit_us
             values are JSON where they parse, else text; several --grid flags make a product
             AGG: sum, mean, min, max, count, first; filters: TABLE[COL=VALUE].COLUMN:AGG; NAME=... names a metric
  hvsim merge DIR [--json]
             combines the part-I-of-N.json files that sweep --shard I/N --out DIR wrote`;
  (code ? process.stderr : process.stdout).write(u + "\n");
  process.exit(code);
}

function fail(msg: string): never {
  process.stderr.write(`hvsim: ${msg}\n`);
  process.exit(2);
}

function tablesToJson(tables: Record<string, aq.ColumnTable>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [k, t] of Object.entries(tables)) out[k] = t.objects();
  return out;
}

function printTables(tables: Record<string, aq.ColumnTable>): void {
  for (const [k, t] of Object.entries(tables)) {
    process.stdout.write(`\n## ${k}\n\n${t.toMarkdown({ limit: 40 })}\n`);
  }
}

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  const flags = new Set(rest.filter((a) => a.startsWith("--") && !a.includes("=")));
  const opt = (name: string): string | undefined => {
    const i = rest.indexOf(name);
    if (i >= 0) return rest[i + 1];
    const eq = rest.find((a) => a.startsWith(name + "="));
    return eq?.slice(name.length + 1);
  };
  const positional = rest.filter((a, i) => !a.startsWith("--") && !(i > 0 && ["--seed", "--horizon", "--board", "--cpus", "--rt-runtime"].includes(rest[i - 1])));
  const json = flags.has("--json");
  switch (cmd) {
    case "list": {
      if (json) {
        process.stdout.write(JSON.stringify({
          experiments: experiments.map((e) => ({ id: e.id, title: e.title, source: e.source, notebook: e.notebook })),
          boards: [...boardPresets().values()].map((b) => ({ id: b.id, name: b.name, cpus: b.cpus })),
        }) + "\n");
        return;
      }
      process.stdout.write("experiments:\n");
      for (const e of experiments) process.stdout.write(`  ${e.id.padEnd(22)} ${e.title}\n${" ".repeat(25)}${e.source}\n`);
      process.stdout.write("boards:\n");
      for (const b of boardPresets().values()) process.stdout.write(`  ${b.id.padEnd(22)} ${b.name}\n`);
      return;
    }
    case "reproduce": {
      const id = positional[0];
      if (!id) usage(2);
      const e = experiments.find((x) => x.id === id);
      if (!e) fail(`unknown experiment ${JSON.stringify(id)}; known: ${experiments.map((x) => x.id).join(", ")}`);
      const t0 = Date.now();
      const tables = e.reproduce({
        quick: flags.has("--quick"),
        onProgress: (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`),
      });
      if (json) process.stdout.write(JSON.stringify({ experiment: e.id, tables: tablesToJson(tables) }) + "\n");
      else { process.stdout.write(`# ${e.id}: ${e.title}\n`); printTables(tables); }
      return;
    }
    case "run": {
      const file = positional[0];
      if (!file) usage(2);
      let doc: any;
      let text = "";
      try { text = readFileSync(file, "utf8"); } catch (err) { fail(`cannot read ${file}: ${(err as Error).message}`); }
      try { doc = JSON.parse(text); } catch {
        // rt-app files may carry comments and trailing commas
        try { doc = parseRtAppText(text); } catch (err) { fail(`cannot parse ${file}: ${(err as Error).message}`); }
      }
      const h = opt("--horizon");
      if (h !== undefined && !(Number(h) > 0)) fail(`--horizon must be a positive number of seconds; got ${h}`);
      const seed = Number(opt("--seed") ?? 1);
      if (!Number.isInteger(seed)) fail(`--seed must be an integer; got ${opt("--seed")}`);
      const boardName = opt("--board");
      let spec: any;
      if (isRtApp(doc)) {
        const cpus = opt("--cpus");
        if (cpus !== undefined && !Number.isInteger(Number(cpus))) fail(`--cpus must be an integer; got ${cpus}`);
        const rtr = opt("--rt-runtime");
        if (rtr !== undefined && rtr !== "off" && !Number.isInteger(Number(rtr))) fail(`--rt-runtime must be µs or "off"; got ${rtr}`);
        const r = rtApp(doc, {
          board: boardName ?? "ideal",
          cpus: cpus === undefined ? undefined : Number(cpus),
          horizonS: h === undefined ? undefined : Number(h),
          kernel: rtr === undefined ? undefined : { rt_runtime_us: rtr === "off" ? "off" : Number(rtr) },
        });
        for (const w of r.warnings) process.stderr.write(`hvsim: note: ${w}\n`);
        spec = r.spec;
      } else {
        spec = doc;
        if (h !== undefined) spec.horizon_s = Number(h);
        if (boardName !== undefined && spec.board && typeof spec.board === "object") spec.board.preset = boardName;
      }
      const r = simulate(spec, { seed, onProgress: (f) => process.stderr.write(`\r${(f * 100).toFixed(0)}% simulated`) });
      process.stderr.write("\n");
      if (flags.has("--histogram")) {
        if (!r.tableNames.includes("cyclictest")) fail(`--histogram: ${file} has no cyclictest workload`);
        process.stdout.write(cyclictestHistogramText(r));
        return;
      }
      const tables: Record<string, aq.ColumnTable> = {};
      for (const n of r.tableNames) tables[n] = r.table(n);
      if (json) process.stdout.write(JSON.stringify({ spec: file, seed, tables: tablesToJson(tables) }) + "\n");
      else {
        const periodic = (r.spec.guests ?? []).some((g) => g.workloads.some((w) => w.kind === "periodic"));
        if (periodic) {
          // the periodic-task columns first
          const first = ["task", "jobs", "preemptions", "migrations", "deadline_misses", "max_response_us", "mean_response_us"];
          const t = tables.tasks;
          tables.tasks = t.select([...first, ...t.columnNames().filter((c) => !first.includes(c))]);
        }
        printTables(tables);
      }
      return;
    }
    case "sweep":
      sweepCommand(rest).catch(onError);
      return;
    case "merge":
      mergeCommand(rest);
      return;
    case "compare-histogram": {
      // hvsim compare-histogram REAL.txt SPEC.json [--seed N] [--horizon S] [--json]: a real
      // machine's `cyclictest -q -h N` output against a simulation of SPEC, as two summaries in
      // one table shape (histogramSummary); --json prints {real, simulated, warnings}.
      const [realFile, specFile] = positional;
      if (!realFile || !specFile) fail("usage: hvsim compare-histogram REAL.txt SPEC.json [--seed N] [--horizon S] [--json]");
      let realText = "";
      try { realText = readFileSync(realFile, "utf8"); } catch (err) { fail(`cannot read ${realFile}: ${(err as Error).message}`); }
      let real: ReturnType<typeof parseCyclictestHistogram>;
      try { real = parseCyclictestHistogram(realText, { domain: "real" }); } catch (err) {
        if (err instanceof HistogramFormatError) fail(`${realFile}: ${err.message}`);
        throw err;
      }
      let spec: any;
      try { spec = JSON.parse(readFileSync(specFile, "utf8")); } catch (err) { fail(`cannot read ${specFile} as a JSON spec: ${(err as Error).message}`); }
      const h = opt("--horizon");
      if (h !== undefined) { if (!(Number(h) > 0)) fail(`--horizon must be a positive number of seconds; got ${h}`); spec.horizon_s = Number(h); }
      const seed = Number(opt("--seed") ?? 1);
      if (!Number.isInteger(seed)) fail(`--seed must be an integer; got ${opt("--seed")}`);
      const r = simulate(spec, { seed });
      if (!r.tableNames.includes("cyclictest")) fail(`${specFile} has no cyclictest workload to compare with`);
      const realSum = histogramSummary(real, "real");
      const simSum = histogramSummary({ cyclictest: r.table("cyclictest"), latency_hist: r.table("latency_hist") }, "simulated");
      if (json) {
        process.stdout.write(JSON.stringify({ real: { file: realFile, summary: realSum.objects() }, simulated: { spec: specFile, seed, summary: simSum.objects() }, warnings: real.warnings }) + "\n");
        return;
      }
      for (const w of real.warnings) process.stderr.write(`hvsim: note: ${realFile}: ${w}\n`);
      process.stdout.write(`# cyclictest histogram: ${realFile} (real) against ${specFile} (simulated, seed ${seed}, ${r.spec.horizon_s} s)\n`);
      printTables({ real: realSum, simulated: simSum });
      return;
    }
    case "-h":
    case "--help":
    case "help":
      usage(0);
    default:
      usage(2);
  }
}

// ---- hvsim sweep / hvsim merge (self-contained: their own argument parsing)

/** The JSON document of `sweep --json` and `merge --json` (the same for a local run and its merged shards). */
function sweepDoc(label: string, r: SweepResult): Record<string, unknown> {
  return {
    spec: label, model: r.info.model, grid: r.info.grid, seeds: r.info.seeds, metrics: r.info.metric_defs,
    runs: r.runs.objects(), summary: r.summary.objects(),
  };
}

function printSweep(label: string, r: SweepResult, json: boolean): void {
  if (json) { process.stdout.write(JSON.stringify(sweepDoc(label, r)) + "\n"); return; }
  const g = r.info.grid.map((a) => `${a.path} in ${JSON.stringify(a.values)}`).join(" x ") || "(no grid)";
  process.stdout.write(`# sweep of ${label}: ${g}, seeds ${JSON.stringify(r.info.seeds)}\n`);
  process.stdout.write(`\n## summary (mean, sample sd, 95 % Student t interval of the mean)\n\n${r.summary.toMarkdown({ limit: 200 })}\n`);
  process.stdout.write(`\n## runs\n\n${r.runs.toMarkdown({ limit: 40 })}\n`);
}

async function sweepCommand(args: string[]): Promise<void> {
  const grid: GridAxis[] = [];
  const metrics: string[] = [];
  let file: string | undefined, seeds = 1, workers: number | undefined, out: string | undefined;
  let cache: string | false | undefined, json = false, shard: { index: number; count: number } | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = (): string => {
      if (eq > 0) return a.slice(eq + 1);
      if (i + 1 >= args.length) fail(`sweep: ${name} needs a value`);
      return args[++i];
    };
    switch (name) {
      case "--grid": try { grid.push(parseGridArg(value())); } catch (err) { fail((err as Error).message); } break;
      case "--seeds": { const v = value(); seeds = Number(v); if (!Number.isInteger(seeds) || seeds < 1) fail(`sweep: --seeds must be a positive integer; got ${v}`); break; }
      case "--workers": { const v = value(); workers = Number(v); if (!Number.isInteger(workers) || workers < 1) fail(`sweep: --workers must be a positive integer; got ${v}`); break; }
      case "--metrics": metrics.push(...splitTopLevel(value()).map((m) => m.trim()).filter((m) => m !== "")); break;
      case "--out": out = value(); break;
      case "--cache": cache = value(); break;
      case "--no-cache": cache = false; break;
      case "--json": json = true; break;
      case "--shard": {
        const v = value();
        const m = /^(\d+)\/(\d+)$/.exec(v);
        if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2])) fail(`sweep: --shard must be I/N with 0 <= I < N; got ${v}`);
        shard = { index: Number(m[1]), count: Number(m[2]) };
        break;
      }
      default:
        if (a.startsWith("-")) fail(`sweep: unknown option ${a}`);
        if (file !== undefined) fail(`sweep: one spec file only; got ${file} and ${a}`);
        file = a;
    }
  }
  if (!file) usage(2);
  if (shard && !out) fail("sweep: --shard needs --out DIR (where the part is written, for hvsim merge)");
  let text = "";
  try { text = readFileSync(file, "utf8"); } catch (err) { fail(`cannot read ${file}: ${(err as Error).message}`); }
  let doc: any;
  try { doc = JSON.parse(text); } catch {
    try { doc = parseRtAppText(text); } catch (err) { fail(`cannot parse ${file}: ${(err as Error).message}`); }
  }
  if (isRtApp(doc)) {
    const r = rtApp(doc, {});
    for (const w of r.warnings) process.stderr.write(`hvsim: note: ${w}\n`);
    doc = r.spec;
  }
  const progress = progressReporter(process.stderr);
  let r: SweepResult;
  try {
    r = await sweep(doc, { grid, seeds, metrics: metrics.length ? metrics : undefined, workers, cache, shard, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  process.stderr.write(`sweep: ${r.stats.simulated} run(s) simulated, ${r.stats.cached} from the cache, ${r.stats.wall_s.toFixed(1)} s\n`);
  if (out) {
    const f = writePart(out, r, shard ?? { index: 0, count: 1 }, file);
    process.stderr.write(`sweep: wrote ${f}\n`);
    if (!shard) {
      writeFileSync(join(out, "runs.csv"), r.runs.toCSV());
      writeFileSync(join(out, "summary.csv"), r.summary.toCSV());
    }
  }
  printSweep(file, r, json);
}

function mergeCommand(args: string[]): void {
  let dir: string | undefined, json = false;
  for (const a of args) {
    if (a === "--json") json = true;
    else if (a.startsWith("-")) fail(`merge: unknown option ${a}`);
    else if (dir !== undefined) fail(`merge: one folder only; got ${dir} and ${a}`);
    else dir = a;
  }
  if (!dir) usage(2);
  let m: ReturnType<typeof mergeParts>;
  try { m = mergeParts(dir); } catch (err) { fail((err as Error).message); }
  printSweep(m.label, m.result, json);
}

/** Errors of a sweep: bad input (spec, grid, metric, shard) is a message, anything else a stack trace. */
function onError(err: unknown): void {
  if (err instanceof Error && !(err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError)) fail(err.message);
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  if (err instanceof SpecError || err instanceof RtAppError) fail(err.message);
  throw err;
}
