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
import type { LinuxKernel, Pipe } from "../kernel/linux.js";
import { A_PIPE_READ, A_PIPE_WRITE, type Program, type Task } from "../kernel/task.js";
import type { TableSet } from "../results/tables.js";
import type { LatCtxSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

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

// ---------------------------------------------------------------------------
// lat_ctx through the guest kernel model's pipes (simulate(), workload kind "lat-ctx")

/**
 * lmbench lat_ctx run in the guest kernel model (src/kernel/linux.ts):
 * `procs` processes in a ring of pipes, each looping read(own pipe), write
 * (next pipe) (lat_ctx.c `ctx` / the daemons of `create_daemons`); the first
 * process injects the token. With `procs` = 1 it is lmbench's overhead loop
 * (`benchmark_overhead`: one process writes the token into its pipe and
 * reads it back, no switch). The per-pass time is the statistics window
 * over the token passes in it; lmbench's context-switch time is the ring's
 * per-pass time minus the overhead loop's. The kernel charges the board
 * costs (and, in a PV guest, the pv-ops cost hook of src/virt/pvops/latency.ts).
 * `-s` (the per-process working set summed between passes) is 0: not modelled.
 */
export class LatCtx implements Program {
  readonly pipes: Pipe[] = [];
  readonly tasks: Task[] = [];
  private readonly step: Uint8Array;
  /** Token passes (writes) inside the statistics window, and the window's first and last pass time. */
  passes = 0;
  firstNs = -1;
  lastNs = -1;

  constructor(kernel: LinuxKernel, readonly name: string, readonly procs: number, cpus: number[], private readonly from: number, now: number) {
    for (let i = 0; i < procs; i++) this.pipes.push(kernel.newPipe());
    this.step = new Uint8Array(procs);
    // process 0 writes first (it holds the token), the others start by reading
    for (let i = 0; i < procs; i++) {
      this.step[i] = i === 0 ? 1 : 0;
      this.tasks.push(kernel.spawn(`${name}:p${i}`, this, cpus[i % cpus.length], cpus, 0, now, i));
    }
  }

  next(t: Task, now: number): void {
    const i = t.tag;
    if (this.step[i] === 0) {
      t.act = A_PIPE_READ; t.actArg = this.pipes[i].id; this.step[i] = 1;
    } else {
      // a write completes a pass of the previous read (counted at the write's start: one per pass)
      if (now >= this.from) {
        if (this.firstNs < 0) this.firstNs = now;
        else this.passes++;
        this.lastNs = now;
      }
      t.act = A_PIPE_WRITE; t.actArg = this.pipes[(i + 1) % this.procs].id; this.step[i] = 0;
    }
  }

  /** Mean time per token pass in the window, ns (null before two passes). */
  perPassNs(): number | null {
    return this.passes > 0 ? (this.lastNs - this.firstNs) / this.passes : null;
  }
}

/** Workload kind `lat-ctx` (issue 11): one ring per spec entry, tasks `guest/lat-ctx#index:pN`. Table `lat_ctx`. */
export const latCtxWorkload: WorkloadModule<LatCtxSpec> = {
  kind: "lat-ctx",
  tables: ["lat_ctx"],
  start() {
    const rings: { guest: string; w: LatCtx }[] = [];
    return {
      add(w, at) {
        rings.push({ guest: at.guest.name, w: new LatCtx(at.kernel, `${at.guest.name}/lat-ctx#${at.index}`, w.procs ?? 2, w.cpus ?? at.allCpus, at.from, at.now) });
      },
      tables(): TableSet {
        if (!rings.length) return {};
        return {
          lat_ctx: {
            domain: rings.map((x) => x.guest), procs: rings.map((x) => x.w.procs), passes: rings.map((x) => x.w.passes),
            us_per_pass: rings.map((x) => { const v = x.w.perPassNs(); return v === null ? null : v / 1000; }),
          },
        };
      },
    };
  },
};
