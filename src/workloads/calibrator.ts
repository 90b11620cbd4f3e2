/**
 * Manegold's cache calibrator (The Calibrator v0.9e, calibrator.c), as the
 * 2009 real-time KVM study runs it: `calibrator 1660 4M /tmp/calibrator.log` in an
 * endless loop, SCHED_OTHER. What the program does (read from calibrator.c,
 * a maintained derivative of 0.9e with the same measurement loop):
 *  - runCache(): for ranges r = MINRANGE (1 KB) x 2^k x {0.75, 1, 1.25} up
 *    to the buffer size, and for each range strides from the largest
 *    (maxstride, found by a first throughput pass) halving down to the
 *    smallest, loads() builds a pointer chain through the range at that
 *    stride and chases it: NUMLOADS = 100000 dependent loads per pass, the
 *    pass count doubled until one timing exceeds MINTIME = 10 ms, then
 *    NUMTRIES = 3 timed tries; one log line (fprintf + fflush to the file)
 *    per measurement.
 *  - then the same for the TLB (runTLB), and it exits (the paper restarts it
 *    forever).
 *
 * Model. The process computes (user mode, never blocks) measurement by
 * measurement: each measurement of range r is MEASURE_NS of computation
 * whose working set is r, followed by the log write (a `syscall` kernel
 * activity of data/kernels: write(2) through the page cache). The ranges and
 * strides follow runCache; the working set is what the cache-interference
 * model (src/hw/cache.ts) sees while the process runs. The loop was started
 * before the simulated window: the first measurement is drawn uniformly
 * from the sweep (stream "<name>/phase"). The TLB pass
 * (stride + page-size spots over at most the same buffer) is folded into
 * the cache pass (same ranges).
 *
 * Not modelled: the time per measurement depending on the range (a pass over
 * a range that misses takes longer, so the doubling ends at a different
 * pass count; every measurement is taken as MEASURE_NS), the analysis and
 * output phases (short), the MHz argument (it only converts the tool's
 * output to cycles), memory-bandwidth interference on the other core.
 */
import type { LinuxKernel } from "../kernel/linux.js";
import { A_COMPUTE, A_KERNEL, type Program, type Task } from "../kernel/task.js";
import type { TableSet } from "../results/tables.js";
import type { CalibratorSpec } from "../spec/types.js";
import type { WorkloadModule } from "./registry.js";

/** MINRANGE of calibrator.c: the smallest range, bytes. */
const MINRANGE = 1024;
/**
 * One measurement's computation, ns: loads() doubles its pass count until a
 * pass takes more than MINTIME = 10 ms (10..20 ms), after a ramp of shorter
 * passes (about as long again), then runs NUMTRIES = 3 tries: about
 * 3 x 15 ms + 15 ms = 60 ms (assumed from the loop structure).
 */
export const CALIBRATOR_MEASURE_NS = 60_000_000;
/** Strides per range: from maxstride (256 bytes assumed: the line-size plateau the throughput pass finds on 64-byte-line CPUs, x4) down to 8 bytes (sizeof(char *)), halving: 256..8 = 6 strides (assumed). */
export const CALIBRATOR_STRIDES = 6;

/** The ranges runCache measures for a buffer of `size` bytes, in order. */
export function calibratorRanges(size: number): number[] {
  const out: number[] = [];
  for (let r = MINRANGE; r <= size; r *= 2) {
    for (let i = 3; i <= 5; i++) {
      const range = Math.floor(r * 0.25 * i);
      if (range <= size) out.push(range);
    }
  }
  return out;
}

/** One calibrator process. */
export class Calibrator implements Program {
  readonly task: Task;
  private readonly ranges: number[];
  private readonly logAct: number;
  private ri = 0;
  private si = 0;
  private logging = false;
  /** Measurements completed (log lines written). */
  measurements = 0;

  constructor(private readonly kernel: LinuxKernel, readonly name: string, size: number, cpus: number[], nice: number, now: number) {
    this.ranges = calibratorRanges(size);
    this.logAct = kernel.lat.activity("syscall").index;
    // the endless loop was started before the measurement: begin at a random measurement of the sweep
    const k = Math.floor(kernel.sim.random.get(`${name}/phase`).next() * this.ranges.length * CALIBRATOR_STRIDES);
    this.ri = Math.floor(k / CALIBRATOR_STRIDES);
    this.si = k % CALIBRATOR_STRIDES;
    this.task = kernel.spawn(name, this, cpus[0], cpus, nice, now);
    const llc = kernel.llc;
    if (llc !== null) llc.model.addMemoryTask(kernel, this.task, this.ranges[this.ri]);
  }

  next(t: Task, _now: number): void {
    if (!this.logging) {
      // the next measurement: chase the pointer chain through the current range
      const llc = this.kernel.llc;
      if (llc !== null) llc.model.setWorkingSet(t, this.ranges[this.ri]);
      t.act = A_COMPUTE;
      t.actArg = CALIBRATOR_MEASURE_NS;
      this.logging = true;
      return;
    }
    // fprintf + fflush of the measurement's log line: write(2) to the log file
    this.logging = false;
    this.measurements++;
    if (++this.si === CALIBRATOR_STRIDES) { this.si = 0; this.ri = (this.ri + 1) % this.ranges.length; }
    t.act = A_KERNEL;
    t.actArg = this.logAct;
  }
}

/** Workload kind `calibrator`: one process `guest/calibrator#index`. No table of its own (see `tasks`, and `llc`). */
export const calibratorWorkload: WorkloadModule<CalibratorSpec> = {
  kind: "calibrator",
  tables: [],
  start() {
    return {
      add(w, at) {
        new Calibrator(at.kernel, `${at.guest.name}/calibrator#${at.index}`, w.size_bytes ?? 4194304, w.cpus ?? at.allCpus, w.nice ?? 0, at.now);
      },
      tables(): TableSet {
        return {};
      },
    };
  },
};
