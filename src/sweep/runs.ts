/**
 * runSpecs(): a list of explicit (spec, seed) runs through the result cache
 * and worker threads, synchronously, with the results in input order. This
 * is the run path of the experiments (src/experiments/*), whose public
 * functions (`reproduce()`, `sweep()`, `runAll()`, `detail()` ...) are
 * synchronous: notebooks, the CLI and the tests call them without `await`.
 * sweep() (a grid times seeds, asynchronous, piscina) shares the cache
 * (same keys, same encoded values), so a run cached by either is a hit for
 * the other.
 *
 * Determinism: every run is a pure function of (spec, seed); a result is
 * stored at its input index whatever order the workers finish in, and a fresh
 * run is decoded from the same bytes as a cache hit, so the returned results
 * are identical for 1 or K workers, with or without the cache.
 *
 * Parallelism without async: K worker threads (sync-worker.ts) receive
 * tasks on MessagePorts; the calling thread blocks in Atomics.wait on a
 * shared counter that a worker bumps after posting each result, then drains
 * the results with receiveMessageOnPort (the pattern of synckit). The
 * calling thread is busy while it waits (no timers or async progress run
 * meanwhile; `onProgress` is called synchronously after every run).
 *
 * Not done: a worker that dies without posting (out of memory, a native
 * crash) is detected only by its silence: the wait times out after
 * `timeoutS` with an error naming the run.
 */
import { availableParallelism } from "node:os";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { SimSpec } from "../spec/types.js";
import { validateSpec } from "../spec/validate.js";
import { SimResult } from "../results/result.js";
import { decodeTables, DEFAULT_CACHE_DIR, modelVersion, RunCache, runKey } from "./cache.js";
import { runEncoded, type RunTask } from "./worker.js";

/** Options of {@link runSpecs} (and the `workers` / `cache` options of every experiment's functions). */
export interface RunOptions {
  /**
   * Worker threads for the runs that are not cached. Default: the
   * HVSIM_WORKERS environment variable, else the available cores; 1 inside
   * `node --test` (tests run in parallel already). 1 runs in this thread.
   */
  workers?: number;
  /**
   * Result cache folder, or false for none. Default: HVSIM_CACHE_DIR, else
   * `.hvsim-cache` in the working directory; none when HVSIM_NO_CACHE=1, and
   * none inside `node --test` unless HVSIM_CACHE_DIR is set.
   */
  cache?: string | false;
  /** Model version that keys the cache (default {@link modelVersion}); for tests. */
  modelVersion?: string;
  /** Called after every finished run (fresh or cached), in completion order. */
  onRun?: (p: RunProgress) => void;
  /** Seconds without any finished run before a parallel batch gives up (a dead worker). Default 3600. */
  timeoutS?: number;
}

/** The run options every experiment function takes (`reproduce()`, `sweep()`, `runAll()` ...): see {@link RunOptions}. */
export interface ExperimentRunOptions {
  /** Worker threads (default: HVSIM_WORKERS, else the available cores; 1 inside `node --test`). */
  workers?: number;
  /** Result cache folder, or false for none (default: HVSIM_CACHE_DIR, else `.hvsim-cache`; none inside tests or with HVSIM_NO_CACHE=1). */
  cache?: string | false;
}

/** Progress of {@link runSpecs}. */
export interface RunProgress {
  /** Input index of the run that just finished. */
  index: number;
  done: number;
  total: number;
  /** Of `done`, runs taken from the cache. */
  cached: number;
}

/** What {@link runSpecs} did, for messages and tests. */
export interface RunStats {
  simulated: number;
  cached: number;
  workers: number;
  wall_s: number;
}

const inTest = (): boolean => process.env.NODE_TEST_CONTEXT !== undefined;

/** The default worker count: HVSIM_WORKERS, else 1 inside `node --test`, else the available cores. */
export function defaultWorkers(): number {
  const env = process.env.HVSIM_WORKERS;
  if (env !== undefined && env !== "") {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`HVSIM_WORKERS must be a positive integer; got ${JSON.stringify(env)}`);
    return n;
  }
  return inTest() ? 1 : availableParallelism();
}

/** The default cache folder (or false): HVSIM_NO_CACHE=1 -> none, HVSIM_CACHE_DIR, none inside `node --test`, else `.hvsim-cache`. */
export function defaultCache(): string | false {
  if (process.env.HVSIM_NO_CACHE === "1") return false;
  const dir = process.env.HVSIM_CACHE_DIR;
  if (dir !== undefined && dir !== "") return dir;
  return inTest() ? false : DEFAULT_CACHE_DIR;
}

/** The statistics of the last {@link runSpecs} call in this thread (for tests and messages). */
export let lastRunStats: RunStats = { simulated: 0, cached: 0, workers: 0, wall_s: 0 };
/** Totals over every {@link runSpecs} call in this thread since the last {@link resetRunTotals}. */
export const runTotals = { simulated: 0, cached: 0 };
/** Resets {@link runTotals}. */
export function resetRunTotals(): void {
  runTotals.simulated = 0;
  runTotals.cached = 0;
}

function resultOf(task: RunTask, buf: Uint8Array): SimResult {
  const tables = decodeTables(buf);
  const cols: Record<string, Record<string, ArrayLike<unknown>>> = {};
  for (const [name, t] of Object.entries(tables)) {
    const c: Record<string, ArrayLike<unknown>> = {};
    for (const n of t.columnNames()) c[n] = t.array(n) as ArrayLike<unknown>;
    cols[name] = c;
  }
  // engine statistics are not cached: events and wall time are 0 for every run served this way
  return new SimResult(validateSpec(task.spec), String(task.seed), cols, { events: 0, wall_ms: 0, simulated_s: task.spec.horizon_s });
}

/**
 * Runs every (spec, seed) of `tasks` through the result cache and (for the
 * misses) on worker threads; returns one {@link SimResult} per task, in input
 * order. Every spec is validated before anything runs (a SpecError names the
 * task). Results carry every table of the run; their `stats` are zero (not
 * cached).
 */
export function runSpecs(tasks: RunTask[], o: RunOptions = {}): SimResult[] {
  const t0 = performance.now();
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1)) throw new Error(`workers must be a positive integer; got ${o.workers}`);
  tasks.forEach((t) => validateSpec(t.spec));
  const cacheDir = o.cache === undefined ? defaultCache() : o.cache;
  const cache = cacheDir === false ? null : new RunCache(cacheDir);
  const model = cache ? (o.modelVersion ?? modelVersion()) : "";
  const out: (SimResult | undefined)[] = new Array(tasks.length);
  let done = 0, cached = 0, simulated = 0;
  const finished = (i: number) => {
    done++;
    o.onRun?.({ index: i, done, total: tasks.length, cached });
  };
  const todo: { i: number; key: string }[] = [];
  tasks.forEach((t, i) => {
    const key = cache ? runKey(t.spec, t.seed, model) : "";
    const hit = cache?.get(key);
    if (hit) {
      try {
        out[i] = resultOf(t, hit);
        cached++;
        finished(i);
        return;
      } catch { /* unreadable entry: simulate again */ }
    }
    todo.push({ i, key });
  });
  const fresh = (i: number, key: string, buf: Uint8Array) => {
    if (cache) cache.put(key, buf);
    out[i] = resultOf(tasks[i], buf);
    simulated++;
    finished(i);
  };
  const workers = Math.max(1, Math.min(o.workers ?? defaultWorkers(), todo.length));
  if (workers <= 1) for (const { i, key } of todo) fresh(i, key, runEncoded(tasks[i]));
  else parallel(tasks, todo, workers, fresh, o.timeoutS ?? 3600);
  lastRunStats = { simulated, cached, workers: todo.length ? workers : 0, wall_s: (performance.now() - t0) / 1000 };
  runTotals.simulated += simulated;
  runTotals.cached += cached;
  return out as SimResult[];
}

/** Runs `todo` on `k` worker threads, blocking this thread until all are done. */
function parallel(tasks: RunTask[], todo: { i: number; key: string }[], k: number, fresh: (i: number, key: string, buf: Uint8Array) => void, timeoutS: number): void {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const pool: { w: Worker; port: MessagePort; busy: number }[] = [];
  let next = 0;
  const give = (p: { port: MessagePort; busy: number }) => {
    if (next >= todo.length) { p.busy = -1; return; }
    p.busy = next;
    const { i } = todo[next++];
    p.port.postMessage({ n: p.busy, spec: tasks[i].spec, seed: tasks[i].seed });
  };
  try {
    for (let j = 0; j < k; j++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(new URL("./sync-worker.js", import.meta.url), { workerData: { port: port2, counter: counter.buffer }, transferList: [port2] });
      w.unref();
      const p = { w, port: port1, busy: -1 };
      pool.push(p);
      give(p);
    }
    let left = todo.length, seen = 0;
    while (left > 0) {
      const r = Atomics.wait(counter, 0, seen, timeoutS * 1000);
      if (r === "timed-out") throw new Error(`runSpecs: no run finished in ${timeoutS} s (a worker died?); waiting for runs ${pool.filter((p) => p.busy >= 0).map((p) => todo[p.busy].i).join(", ")}`);
      seen = Atomics.load(counter, 0);
      for (const p of pool) {
        let m;
        while ((m = receiveMessageOnPort(p.port))) {
          const msg = m.message as { n: number; buf?: Uint8Array; error?: string };
          const { i, key } = todo[msg.n];
          if (msg.error !== undefined) throw new Error(`run ${i} (seed ${tasks[i].seed}) failed in a worker: ${msg.error}`);
          left--;
          give(p);
          fresh(i, key, msg.buf!);
        }
      }
    }
  } finally {
    for (const p of pool) { p.port.close(); void p.w.terminate(); }
  }
}
