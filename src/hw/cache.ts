/**
 * Cache-interference cost model: the time of a latency-critical path (VM
 * exit + entry, interrupt entry, context switch, the hrtimer start of a
 * sleep, a wake-up) grows when co-running memory-bound work has evicted the
 * path's data from the last-level cache. The board gives the LLC (data/boards
 * `llc`: size, line size, the CPUs sharing it, the miss penalty), data/cache/
 * footprints.json each path's data footprint in lines, and a memory-bound
 * task its working set (Task.memWsBytes, e.g. the calibrator workload).
 *
 * Pressure. The LLC's pressure is the summed working set W of the
 * memory-bound tasks that run, or have run and are still runnable, on CPUs
 * sharing it: a task counts from its first switch-in until it blocks (a
 * streaming task that is preempted leaves its lines behind, and resumes
 * evicting as soon as it runs again). The probability that a given line of a
 * path has been evicted between two executions of the path is
 * q = min(1, W / size) (a random-replacement view of an inclusive LLC: a
 * working set as large as the cache replaces every line). The pressure
 * changes only on context switches of memory-bound tasks (a switch observer
 * on their kernel), so a cost sample is O(1).
 *
 * Charge. A path of F lines sampled on a CPU sharing the LLC finds
 * X ~ Binomial(F, q) lines evicted (drawn with the normal approximation, one
 * draw from the stream "llc"; exact when q = 1) and takes X x miss_penalty
 * longer. Without an `llc` on the board, or while no memory-bound task has
 * run, nothing is drawn and nothing changes.
 *
 * Not modelled: the LLC state as a function of time since the memory-bound
 * task last ran (a preempted streamer's pressure is kept in full), private
 * L1/L2 caches, code footprints, prefetching and memory-level parallelism
 * (every evicted line costs a full miss), memory-bandwidth contention slowing
 * the memory-bound task itself, more than one LLC per board.
 */
import { readFileSync } from "node:fs";
import type { RandomStream } from "../engine/random.js";
import type { Simulator } from "../engine/sim.js";
import { type BoardLlc, C, COST_NAMES, DATA_DIR, type Sourced } from "./board.js";
import { TASK_SLEEPING, type Task } from "../kernel/task.js";

/** data/cache/footprints.json */
interface FootprintData {
  lines: Partial<Record<string, Sourced<number>>>;
}

let fpCache: Float64Array | null = null;

/** Data footprint of each board cost path, lines, indexed like COST_NAMES (0: not charged). */
export function pathFootprints(): Float64Array {
  if (fpCache) return fpCache;
  const d = JSON.parse(readFileSync(`${DATA_DIR}cache/footprints.json`, "utf8")) as FootprintData;
  const f = new Float64Array(COST_NAMES.length);
  COST_NAMES.forEach((n, i) => { f[i] = d.lines[n]?.value ?? 0; });
  fpCache = f;
  return f;
}

/** What a kernel needs to charge its cost samples: the model, and the physical CPU of each of its CPUs. */
export interface LlcAttach {
  readonly model: LlcModel;
  /** Kernel (guest or host) name, for the table. */
  readonly name: string;
  /** Physical CPU of kernel CPU i (identity for native and host kernels; the vCPU thread's CPU under KVM). */
  pcpu(i: number): number;
  /** Per cost id: samples, evicted lines, extra ns (table `llc`). */
  readonly samples: Float64Array;
  readonly lines: Float64Array;
  readonly extraNs: Float64Array;
}

/** The last-level cache of a board and the memory-bound tasks that pollute it. */
export class LlcModel {
  /** Eviction probability of a path line (0: no pressure). */
  q = 0;
  /** Summed working set of the counted memory-bound tasks, bytes. */
  private ws = 0;
  private readonly shares: Uint8Array;
  private readonly fp: Float64Array;
  private readonly rng: RandomStream;
  private readonly counted = new Set<Task>();
  private readonly observed = new Set<object>();
  readonly attached: LlcAttach[] = [];

  constructor(sim: Simulator, readonly llc: BoardLlc, ncpus: number) {
    this.shares = new Uint8Array(Math.max(ncpus, 1));
    for (const c of llc.cpus) if (c < ncpus) this.shares[c] = 1;
    this.fp = pathFootprints();
    this.rng = sim.random.get("llc");
  }

  /** An attachment for a kernel named `name` whose CPU i runs on physical CPU pcpu(i). */
  attach(name: string, pcpu: (i: number) => number): LlcAttach {
    const n = COST_NAMES.length;
    const a: LlcAttach = { model: this, name, pcpu, samples: new Float64Array(n), lines: new Float64Array(n), extraNs: new Float64Array(n) };
    this.attached.push(a);
    return a;
  }

  /**
   * Declares task `t` of kernel `k` memory-bound with a working set of
   * `wsBytes`; registers a switch observer on `k` (once per kernel).
   */
  addMemoryTask(k: { observe(o: { onSwitch(prev: Task | null, next: Task | null, reason: number, now: number, cpu: number): void }): void }, t: Task, wsBytes: number): void {
    t.memWsBytes = wsBytes;
    if (this.observed.has(k)) return;
    this.observed.add(k);
    k.observe({ onSwitch: (prev, next) => this.onSwitch(prev, next) });
  }

  /** A memory-bound task's working set changes (e.g. the calibrator moves to its next range): O(1). */
  setWorkingSet(t: Task, wsBytes: number): void {
    if (this.counted.has(t)) { this.ws += wsBytes - t.memWsBytes; t.memWsBytes = wsBytes; this.update(); }
    else t.memWsBytes = wsBytes;
  }

  private onSwitch(prev: Task | null, next: Task | null): void {
    if (prev !== null && prev.memWsBytes > 0 && prev.state === TASK_SLEEPING && this.counted.has(prev)) {
      this.counted.delete(prev);
      this.ws -= prev.memWsBytes;
      this.update();
    }
    if (next !== null && next.memWsBytes > 0 && !this.counted.has(next)) {
      this.counted.add(next);
      this.ws += next.memWsBytes;
      this.update();
    }
  }

  private update(): void {
    const q = this.ws / this.llc.sizeBytes;
    this.q = q > 1 ? 1 : q < 0 ? 0 : q;
  }

  /**
   * Extra ns of one sample of cost `id` on CPU `cpu` of the attached kernel
   * `a` (0 without pressure, for a path without footprint, or on a CPU not
   * sharing the LLC).
   */
  extra(a: LlcAttach, cpu: number, id: number): number {
    const q = this.q;
    if (q === 0) return 0;
    const f = this.fp[id];
    if (f === 0) return 0;
    const p = a.pcpu(cpu);
    if (p < 0 || p >= this.shares.length || this.shares[p] === 0) return 0;
    let x: number;
    if (q >= 1) x = f;
    else {
      const m = f * q;
      x = Math.round(m + Math.sqrt(m * (1 - q)) * this.rng.normal());
      if (x < 0) x = 0; else if (x > f) x = f;
    }
    const ns = x * this.llc.missPenaltyNs;
    a.samples[id]++;
    a.lines[id] += x;
    a.extraNs[id] += ns;
    return ns;
  }

  /** Table `llc`: per attached kernel and charged path (only paths that were charged). */
  tables(): { llc: { domain: string[]; path: string[]; samples: number[]; evicted_lines: number[]; extra_us: number[] } } {
    const t = { domain: [] as string[], path: [] as string[], samples: [] as number[], evicted_lines: [] as number[], extra_us: [] as number[] };
    for (const a of this.attached) {
      for (let i = 0; i < COST_NAMES.length; i++) {
        if (a.samples[i] === 0) continue;
        t.domain.push(a.name); t.path.push(COST_NAMES[i]); t.samples.push(a.samples[i]);
        t.evicted_lines.push(a.lines[i]); t.extra_us.push(a.extraNs[i] / 1000);
      }
    }
    return { llc: t };
  }
}

/** The cost id of a VM exit + entry round trip (KVM charges it through {@link LlcModel.extra}). */
export const LLC_VM_ENTRY_EXIT = C.vm_entry_exit;
