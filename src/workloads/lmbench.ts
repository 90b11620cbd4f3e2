/**
 * lmbench-style micro-benchmarks (lmbench 3: lat_syscall null/read/write,
 * lat_ctx, lat_pagefault, lat_mmap, lat_proc fork/exec) on the PV
 * privileged-operation model (src/virt/pvops/model.ts).
 *
 * Each benchmark times its operation inside the guest as lmbench does: a
 * loop of `iterations` repetitions, latency = elapsed / iterations, minus
 * the overhead lmbench measures separately where it does (lat_ctx: the pipe
 * write and read of one process, without a switch). Here the
 * loop runs as an analytic composition: the guest kernel model
 * (src/kernel/linux.ts) has no page-fault, mmap, fork or exec path, and its
 * syscall/pipe/switch costs are board constants, so every benchmark executes
 * the operation sequence of its kernel paths (data/pvops/linux-pv.json
 * `benchmarks`) through {@link PvKernel}, which counts and traces every
 * hypercall and trap. The guest runs alone on an idle host (no vCPU
 * preemption, no competing events beyond the benchmark's event_pending
 * probability).
 *
 * The mixed "kernel operations" load (`mix`): per second of one CPU, each
 * operation at its rate; the rest of the second is user time. Its table
 * gives each operation's share of the CPU's time.
 *
 * Not modelled: lmbench's timing overhead and loop calibration; cache
 * footprints (lat_ctx -s, the number of processes: the per-switch
 * operations are the same for any N); the benchmark's user-space work.
 */
import { PvKernel, pvData, type PvKernelSpec, type PvTraceRow } from "../virt/pvops/model.js";

/** The benchmark ids (data/pvops `benchmarks.list`). */
export function lmbenchBenchmarks(): string[] {
  return Object.keys(pvData().benchmarks.list);
}

/** Result of one benchmark run. */
export interface LmbenchResult {
  benchmark: string;
  iterations: number;
  /** Mean time of one operation as lmbench reports it (minus its overhead, if any), µs. */
  latencyUs: number;
  /** lmbench's subtracted overhead per operation (0 for most benchmarks), µs. */
  overheadUs: number;
  /** The kernel with its counters (per hypercall, trap, operation) and trace. */
  kernel: PvKernel;
}

/** Runs benchmark `id` for `iterations` operations on a PV (or HVM) kernel on `board`. */
export function runLmbench(k: PvKernelSpec, board: string, id: string, o: { iterations?: number; traceMax?: number } = {}): LmbenchResult {
  const b = pvData().benchmarks.list[id];
  if (b === undefined) throw new Error(`unknown lmbench benchmark ${JSON.stringify(id)}; allowed: ${lmbenchBenchmarks().join(", ")}`);
  const n = o.iterations ?? 1000;
  const pk = new PvKernel(k, board, { traceMax: o.traceMax ?? 0 });
  pk.setConditions(b.conditions);
  for (let i = 0; i < n; i++) pk.run(b.steps);
  // lmbench subtracts an overhead it measures in a separate loop (lat_ctx: the pipe write and read
  // without a switch); that loop runs on its own kernel instance, outside the counted run
  let overheadUs = 0;
  if (b.overhead_steps !== undefined) {
    const ok = new PvKernel(k, board);
    ok.setConditions(b.conditions);
    for (let i = 0; i < n; i++) ok.run(b.overhead_steps);
    overheadUs = ok.now / n / 1000;
  }
  return { benchmark: id, iterations: n, latencyUs: pk.now / n / 1000 - overheadUs, overheadUs, kernel: pk };
}

/** One row of the mixed load: an operation's rate, latency and share of the CPU's time. */
export interface MixRow {
  benchmark: string;
  rate_per_s: number;
  latency_us: number;
  share_pct: number;
}

/** The mixed "kernel operations" load on one CPU: each operation's share of time (data/pvops `mix`). */
export function mixedLoad(k: PvKernelSpec, board: string, o: { iterations?: number } = {}): MixRow[] {
  const rates = pvData().mix.rates_per_s;
  return Object.entries(rates).map(([id, rate]) => {
    const r = runLmbench(k, board, id, { iterations: o.iterations ?? 200 });
    return { benchmark: id, rate_per_s: rate, latency_us: r.latencyUs, share_pct: (rate * r.latencyUs) / 1e6 * 100 };
  });
}

/** The xentrace-like rows of a run (bounded by its traceMax). */
export function traceRows(r: LmbenchResult): PvTraceRow[] {
  return r.kernel.trace;
}
