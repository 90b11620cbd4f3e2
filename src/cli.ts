#!/usr/bin/env node
/**
 * hvsim command line.
 *
 *   hvsim list                                   experiments and board presets
 *   hvsim reproduce <experiment> [--json] [--quick] [--out FILE]
 *   hvsim run FILE [--board NAME] [--horizon S] [--seed N] [--json | --histogram] [--out FILE] [--trace OUT]
 *   hvsim compare-histogram REAL.txt SPEC.json [--seed N] [--horizon S] [--json]
 *   hvsim sweep FILE --grid PATH=V1,V2 ... [--seeds N] [--metrics M,...] [--workers K]
 *               [--shard I/N] [--out DIR] [--cache DIR | --no-cache] [--json]
 *   hvsim merge DIR [--json]
 *   hvsim --help | --version
 *
 * Arguments are checked strictly: an unknown command or flag, a flag of
 * another command, a flag without its value and an extra argument are
 * errors (exit 2, with a "did you mean" suggestion), as is a bad spec.
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
 *
 * `--out FILE` (run, reproduce) also saves the tables, by FILE's extension:
 * `.json` one document (as --json prints), `.csv` or `.arrow` one file per
 * table with the table name inserted before the extension (out.csv ->
 * out.tasks.csv, out.vcpus.csv, ...). `--trace OUT` (run) records the
 * scheduling events (record.trace_events_max, default 1,000,000 here) and
 * writes them as trace-cmd trace.dat files (OUT ending in .dat: one per level)
 * or Perfetto JSON (OUT ending in .json). FILE `-` reads the spec from stdin.
 * Progress goes to stderr: a `\r` counter on a terminal, plain lines every
 * 10 % otherwise, and a final 100 % line. A closed stdout (`| head`) ends
 * hvsim quietly.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { extname } from "node:path";
import * as aqAll from "arquero";
import { join } from "node:path";
import type * as aq from "arquero";
import { experiments } from "./experiments/index.js";
import { boardPresets } from "./hw/board.js";
import { simulate } from "./simulate.js";
import { SimError } from "./engine/sim.js";
import { formatValue, SpecError } from "./spec/validate.js";
import { cyclictestHistogramText } from "./workloads/cyclictest.js";
import { HistogramFormatError, histogramSummary, parseCyclictestHistogram } from "./results/histogram-in.js";
import { isRtApp, parseRtAppText, rtApp, RtAppError } from "./workloads/rtapp.js";
import { mergeParts, sweep, writePart, type SweepResult } from "./sweep/sweep.js";
import { parseGridArg, splitTopLevel, type GridAxis } from "./sweep/grid.js";
import { progressReporter } from "./sweep/progress.js";

const USAGE = `usage:
  hvsim list [--json]
  hvsim reproduce <experiment> [--json] [--quick] [--out FILE]
  hvsim run FILE [--board NAME] [--horizon SECONDS] [--seed N] [--json | --histogram] [--out FILE] [--trace OUT]
             FILE: a saved spec, or an rt-app file (then also [--cpus N] [--rt-runtime US|off]); - reads stdin
             --histogram: the cyclictest histogram in the format of cyclictest -q -h N
             --out FILE: save the tables: .json (one document), .csv or .arrow (FILE.<table>.csv per table)
             --trace OUT: scheduling trace, OUT.dat (trace-cmd/KernelShark, one file per level) or OUT.json (Perfetto)
  hvsim sweep FILE [--grid PATH=V1,V2,...]... [--seeds N] [--metrics TABLE.COLUMN:AGG,...] [--workers K]
             [--shard I/N] [--out DIR] [--cache DIR | --no-cache] [--json]
             PATH: dotted path into the spec (array indices as numbers), e.g. hypervisor.pools.0.scheduler.ratelimit_us
             values are JSON where they parse, else text; several --grid flags make a product
             AGG: sum, mean, min, max, count, first; filters: TABLE[COL=VALUE].COLUMN:AGG; NAME=... names a metric
  hvsim merge DIR [--json]
             combines the part-I-of-N.json files that sweep --shard I/N --out DIR wrote
  hvsim compare-histogram REAL.txt SPEC.json [--seed N] [--horizon SECONDS] [--json]
             a real machine's cyclictest -q -h N output against a simulation of SPEC
  hvsim --help | --version

examples:
  hvsim list                                      experiments and board presets
  hvsim reproduce five-schedulers --quick         one experiment's tables, quick mode
  hvsim reproduce credit-weight-cap --json > out.json
  hvsim run spec.json --horizon 2 --seed 7        a saved spec (from JSON.stringify(system()....build()))
  hvsim run taskset.json --board i7-6700 --cpus 2 --rt-runtime off
  hvsim run cyclic.json --histogram               compare with cyclictest -q -h 1000
  hvsim run spec.json --trace out.dat --out t.csv  a trace for KernelShark, the tables as CSV files
  cat spec.json | hvsim run - --json              a spec from stdin
  hvsim sweep spec.json --grid horizon_s=0.5,1 --seeds 3 --workers 2
  hvsim compare-histogram real.txt cyclic.json    a real histogram beside a simulated one

A spec file can be checked in an editor against data/spec.schema.json
(add "$schema": "<path to hvsim>/data/spec.schema.json" to it).`;

function usage(code: number): never {
  (code ? process.stderr : process.stdout).write(USAGE + "\n");
  process.exit(code);
}

function fail(msg: string): never {
  process.stderr.write(`hvsim: ${msg}\n`);
  process.exit(2);
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** ` (did you mean "x"?)` for the closest of `known` to `s`, if close enough. */
function suggest(s: string, known: readonly string[]): string {
  let best = "", bd = Infinity;
  for (const k of known) {
    const dd = distance(s, k);
    if (dd < bd) { bd = dd; best = k; }
  }
  return best && bd <= Math.max(2, Math.floor(best.length / 3)) ? ` (did you mean ${JSON.stringify(best)}?)` : "";
}

/** The verbs, their positional arguments and their flags (boolean, or taking a value). */
const VERBS: Record<string, { args: string[]; bool: string[]; value: string[] }> = {
  list: { args: [], bool: ["--json"], value: [] },
  reproduce: { args: ["<experiment>"], bool: ["--json", "--quick"], value: ["--out"] },
  run: { args: ["FILE"], bool: ["--json", "--histogram"], value: ["--board", "--horizon", "--seed", "--cpus", "--rt-runtime", "--out", "--trace"] },
  "compare-histogram": { args: ["REAL.txt", "SPEC.json"], bool: ["--json"], value: ["--seed", "--horizon"] },
};
/** The flags of the verbs that parse their own arguments (sweep, merge). */
const SWEEP_FLAGS = ["--grid", "--seeds", "--metrics", "--workers", "--shard", "--out", "--cache", "--no-cache", "--json"];
const MERGE_FLAGS = ["--json"];
const COMMANDS = [...Object.keys(VERBS), "sweep", "merge"];
const ALL_FLAGS = [...new Set(Object.values(VERBS).flatMap((v) => [...v.bool, ...v.value]))];

/** A parsed command line: positional arguments, boolean flags set, and flag values. */
interface Parsed { positional: string[]; flags: Set<string>; values: Map<string, string> }

/** Parses the arguments of `verb` strictly: unknown flags, flags without a value and extra arguments are errors. */
function parseArgs(verb: string, rest: string[]): Parsed {
  const v = VERBS[verb];
  const out: Parsed = { positional: [], flags: new Set(), values: new Map() };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--help" || a === "-h") usage(0);
    if (a === "--") { out.positional.push(...rest.slice(i + 1)); break; }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(0, eq) : a;
      const inline = eq >= 0 ? a.slice(eq + 1) : undefined;
      if (v.value.includes(name)) {
        const val = inline ?? rest[i + 1];
        if (inline === undefined) i++;
        if (val === undefined || (inline === undefined && val.startsWith("--"))) fail(`${name} needs a value (${verb}: ${name} VALUE)`);
        if (out.values.has(name)) fail(`${name} is given twice`);
        out.values.set(name, val);
      } else if (v.bool.includes(name)) {
        if (inline !== undefined) fail(`${name} takes no value; got ${JSON.stringify(a)}`);
        out.flags.add(name);
      } else if (ALL_FLAGS.includes(name)) {
        fail(`${name} does not apply to "${verb}" (its flags: ${[...v.bool, ...v.value].join(" ") || "none"})`);
      } else {
        fail(`unknown flag ${JSON.stringify(name)} for "${verb}"${suggest(name, [...v.bool, ...v.value, "--help", "--version"])} (hvsim --help)`);
      }
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      fail(`unknown flag ${JSON.stringify(a)}${suggest("-" + a, [...v.bool, ...v.value])} (flags start with --; hvsim --help)`);
    } else out.positional.push(a);
  }
  if (out.positional.length < v.args.length) {
    process.stderr.write(`hvsim: ${verb} needs ${v.args.join(" ")}\n`);
    usage(2);
  }
  if (out.positional.length > v.args.length)
    fail(`unexpected argument ${JSON.stringify(out.positional[v.args.length])}: ${verb} takes ${v.args.length ? v.args.join(" ") : "no arguments"}`);
  return out;
}

function version(): string {
  try {
    return JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version as string;
  } catch {
    return "unknown";
  }
}

function tablesToJson(tables: Record<string, aq.ColumnTable>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [k, t] of Object.entries(tables)) out[k] = t.objects();
  return out;
}

/** The --out formats (by extension). */
const OUT_EXTS = [".json", ".csv", ".arrow"];

/** Checks an --out FILE's extension before any simulation runs. */
function checkOut(file: string | undefined): void {
  if (file === undefined) return;
  const ext = extname(file).toLowerCase();
  if (!OUT_EXTS.includes(ext)) fail(`--out ${file}: the extension says the format: ${OUT_EXTS.join(", ")}; got ${JSON.stringify(ext || "(none)")}`);
}

/**
 * Saves tables to --out FILE: .json one document (`doc` with the tables), .csv / .arrow one file
 * per table, named FILE with ".<table>" inserted before the extension. Returns the paths written.
 */
function writeOut(file: string, doc: Record<string, unknown>, tables: Record<string, aq.ColumnTable>): string[] {
  const ext = extname(file).toLowerCase();
  if (ext === ".json") {
    writeFileSync(file, JSON.stringify({ ...doc, tables: tablesToJson(tables) }) + "\n");
    return [file];
  }
  const stem = file.slice(0, file.length - ext.length);
  return Object.entries(tables).map(([name, t]) => {
    const p = `${stem}.${name}${ext}`;
    writeFileSync(p, ext === ".csv" ? t.toCSV() : aqAll.toArrowIPC(t));
    return p;
  });
}

/** Progress of one run on stderr: a \r counter on a terminal, else a plain line every 10 %; `done()` prints 100 %. */
function runProgress(): { update: (f: number) => void; done: () => void } {
  const tty = process.stderr.isTTY === true;
  let next = 10;
  return {
    update(f) {
      const pct = Math.min(100, f * 100);
      if (tty) { process.stderr.write(`\r${pct.toFixed(0)}% simulated`); return; }
      if (pct + 1e-9 < next || pct >= 100) return;
      while (next <= pct + 1e-9) next += 10;
      process.stderr.write(`${pct.toFixed(0)}% simulated\n`);
    },
    done() {
      process.stderr.write(tty ? "\r100% simulated\n" : "100% simulated\n");
    },
  };
}

function printTables(tables: Record<string, aq.ColumnTable>): void {
  for (const [k, t] of Object.entries(tables)) {
    process.stdout.write(`\n## ${k}\n\n${t.toMarkdown({ limit: 40 })}\n`);
  }
}

function main(argv: string[]): void {
  const [cmd, ...rest] = argv;
  if (cmd === undefined) usage(2);
  if (cmd === "-h" || cmd === "--help" || cmd === "help") usage(0);
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    process.stdout.write(`hvsim ${version()}\n`);
    return;
  }
  // sweep and merge parse their own arguments (as strictly)
  if (cmd === "sweep") { sweepCommand(rest).catch(onError); return; }
  if (cmd === "merge") { mergeCommand(rest); return; }
  if (!Object.hasOwn(VERBS, cmd)) {
    if (cmd.startsWith("-")) fail(`unknown flag ${JSON.stringify(cmd)}${suggest(cmd, ["--help", "--version"])}; a command comes first: ${COMMANDS.join(", ")} (hvsim --help)`);
    fail(`unknown command ${JSON.stringify(cmd)}${suggest(cmd, COMMANDS)}; commands: ${COMMANDS.join(", ")} (hvsim --help)`);
  }
  const args = parseArgs(cmd, rest);
  const flags = args.flags;
  const opt = (name: string): string | undefined => args.values.get(name);
  const positional = args.positional;
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
      checkOut(opt("--out"));
      const t0 = Date.now();
      const tables = e.reproduce({
        quick: flags.has("--quick"),
        onProgress: (m) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}\n`),
      });
      const out = opt("--out");
      if (out !== undefined) for (const f of writeOut(out, { experiment: e.id }, tables)) process.stderr.write(`hvsim: wrote ${f}\n`);
      if (json) process.stdout.write(JSON.stringify({ experiment: e.id, tables: tablesToJson(tables) }) + "\n");
      else { process.stdout.write(`# ${e.id}: ${e.title}\n`); printTables(tables); }
      return;
    }
    case "run": {
      const file = positional[0];
      if (!file) usage(2);
      let doc: any;
      let text = "";
      const label = file === "-" ? "(stdin)" : file;
      try { text = readFileSync(file === "-" ? 0 : file, "utf8"); } catch (err) { fail(`cannot read ${label}: ${(err as Error).message}`); }
      try { doc = JSON.parse(text); } catch {
        // rt-app files may carry comments and trailing commas
        try { doc = parseRtAppText(text); } catch (err) { fail(`cannot parse ${label}: ${(err as Error).message}`); }
      }
      checkOut(opt("--out"));
      const traceOut = opt("--trace");
      if (traceOut !== undefined && !/\.(dat|json)$/i.test(traceOut)) fail(`--trace ${traceOut}: the extension says the format: .dat (trace-cmd trace.dat) or .json (Perfetto)`);
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
        if (opt("--cpus") !== undefined || opt("--rt-runtime") !== undefined)
          fail(`${opt("--cpus") !== undefined ? "--cpus" : "--rt-runtime"} applies to rt-app files only; ${file} is an hvsim spec (set guests[0].vcpus or kernel.rt_runtime_us in it)`);
        if (doc === null || typeof doc !== "object" || Array.isArray(doc))
          fail(`${file} must hold a spec object {board, hypervisor, guests, horizon_s} or an rt-app file; got ${formatValue(doc)}`);
        spec = doc;
        if (h !== undefined) spec.horizon_s = Number(h);
        if (boardName !== undefined && spec.board && typeof spec.board === "object") spec.board.preset = boardName;
      }
      if (traceOut !== undefined && spec !== null && typeof spec === "object") {
        // record the scheduling events unless the spec already says how many
        const rec = spec.record !== null && typeof spec.record === "object" ? spec.record : {};
        spec = { ...spec, record: { ...rec, trace_events_max: rec.trace_events_max ?? 1_000_000 } };
      }
      const progress = runProgress();
      const r = simulate(spec, { seed, onProgress: progress.update });
      progress.done();
      if (traceOut !== undefined && r.traceEvents) {
        const ev = r.traceEvents;
        for (const f of r.exportTrace(traceOut)) process.stderr.write(`hvsim: wrote ${f}\n`);
        process.stderr.write(`hvsim: trace: ${ev.n} events` + (ev.truncated ? `; ${ev.dropped} later events dropped at record.trace_events_max = ${ev.cap} (raise it in the spec)` : "") + "\n");      } else if (traceOut !== undefined) fail(`--trace: ${label} sets record.trace_events_max to 0 (off); remove it or raise it`);
      if (flags.has("--histogram")) {
        if (!r.tableNames.includes("cyclictest")) fail(`--histogram: ${label} has no cyclictest workload`);
        process.stdout.write(cyclictestHistogramText(r));
        return;
      }
      const tables: Record<string, aq.ColumnTable> = {};
      for (const n of r.tableNames) tables[n] = r.table(n);
      const out = opt("--out");
      if (out !== undefined) for (const f of writeOut(out, { spec: label, seed }, tables)) process.stderr.write(`hvsim: wrote ${f}\n`);
      if (json) process.stdout.write(JSON.stringify({ spec: label, seed, tables: tablesToJson(tables) }) + "\n");
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
      if (i + 1 >= args.length || args[i + 1].startsWith("--")) fail(`sweep: ${name} needs a value`);
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
        if (a === "--help" || a === "-h") usage(0);
        if (a.startsWith("-")) fail(`sweep: unknown option ${a}${suggest(name, SWEEP_FLAGS)}`);
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
    else if (a === "--help" || a === "-h") usage(0);
    else if (a.startsWith("-")) fail(`merge: unknown option ${a}${suggest(a, MERGE_FLAGS)}`);
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

// a closed stdout (e.g. `hvsim reproduce x | head`) ends hvsim quietly, as other Unix tools do
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

try {
  main(process.argv.slice(2));
} catch (err) {
  if (err instanceof SpecError || err instanceof RtAppError || err instanceof SimError) fail(err.message);
  // anything else is a bug in hvsim: a one-line message (the stack with HVSIM_DEBUG=1), exit 1
  if (process.env.HVSIM_DEBUG) throw err;
  process.stderr.write(`hvsim: internal error: ${err instanceof Error ? err.message : formatValue(err)} (HVSIM_DEBUG=1 shows the stack; please report it)\n`);
  process.exit(1);
}
