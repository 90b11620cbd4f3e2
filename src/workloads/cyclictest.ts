/**
 * cyclictest (rt-tests v2.x, src/cyclictest/cyclictest.c, timerthread() in
 * the default clock_nanosleep mode): one SCHED_FIFO thread pinned to a CPU
 * that reads CLOCK_MONOTONIC, sets next = now + interval and then loops
 *
 *     clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next);
 *     clock_gettime(CLOCK_MONOTONIC, &now);
 *     diff = calcdiff(now, next);      // µs, see below
 *     min/max/avg/histogram update;
 *     next += interval; while (now > next) next += interval;   // missed periods are skipped
 *
 * until `loops` cycles (-l) or the end of the run. calcdiff (rt-utils.h) is
 * USEC_PER_SEC * (now.tv_sec - next.tv_sec) + (now.tv_nsec - next.tv_nsec) / 1000
 * with C integer division, i.e. truncated towards zero within the second.
 * The histogram (-h N) counts latencies 0..N-1 in 1 µs buckets; a latency
 * >= N is an overflow, whose cycle number is logged (at most N of them).
 * min starts at 1000000 as in rt-tests. Every latency also goes to an HDR
 * histogram (hdr-histogram-js, 3 significant digits), so memory does not
 * grow with the number of loops.
 *
 * Latency breakdown: the thread's task carries a LatencyProbe; the kernel
 * attributes every ns between the intended expiry and the end of the
 * clock_gettime to a component (linux.ts LAT_COMPONENTS). The components of
 * a sample sum to its exact latency; the `truncation` component (in
 * [-1, +1) µs) makes them sum to the µs value cyclictest reports. Running
 * sums and maxima are kept over all samples; per-sample rows only up to
 * `samples_max`.
 *
 * Samples whose intended expiry is before the warm-up end are not recorded
 * (and do not count as cycles).
 */
import * as hdr from "hdr-histogram-js";
import type { Histogram } from "hdr-histogram-js";
import { LAT_COMPONENTS, LatencyProbe, LC_TRUNC, type LinuxKernel } from "../kernel/linux.js";
import { A_CLOCK_READ, A_SLEEP_UNTIL, A_WAIT, type Program, SCHED_FIFO, type Task } from "../kernel/task.js";
import type { CyclictestSpec } from "../spec/types.js";
import type { ColumnsOf, CyclictestRow, LatencyComponent, LatencySamplesRow, TableSet } from "../results/tables.js";
import type { WorkloadModule } from "./registry.js";

const ST_START = 0; // first clock_gettime
const ST_FIRST = 1; // its result: next = now + interval
const ST_SLEEP = 2; // clock_nanosleep returned
const ST_READ = 3; // clock_gettime after the wake-up returned: a sample
const ST_DONE = 4;

const NCOMP = LAT_COMPONENTS.length;

/** calcdiff of rt-utils.h for two CLOCK_MONOTONIC instants in ns: µs, the sub-second part truncated towards zero. */
export function calcdiffUs(nowNs: number, nextNs: number): number {
  const s1 = Math.floor(nowNs / 1e9), s2 = Math.floor(nextNs / 1e9);
  return 1_000_000 * (s1 - s2) + Math.trunc(((nowNs - s1 * 1e9) - (nextNs - s2 * 1e9)) / 1000);
}

/** Growable Float64 column. */
class Col {
  data = new Float64Array(0);
  n = 0;
  constructor(readonly max: number) {}
  push(x: number): void {
    if (this.n === this.data.length) {
      const d = new Float64Array(Math.min(this.max, Math.max(256, this.data.length * 2)));
      d.set(this.data);
      this.data = d;
    }
    this.data[this.n++] = x;
  }
  toArray(): Float64Array {
    return this.data.slice(0, this.n);
  }
}

/** One cyclictest measurement thread. */
export class Cyclictest implements Program {
  readonly task: Task;
  readonly probe: LatencyProbe;
  readonly interval: number;
  readonly priority: number;
  readonly cpu: number;
  readonly loops: number;
  readonly histogramUs: number;
  // statistics (rt-tests struct thread_stat)
  cycles = 0;
  min = 1_000_000;
  max = 0;
  /** Sum of the latencies, µs (stat->avg before the division). */
  sum = 0;
  act = 0;
  /** hist_array: 1 µs buckets 0..histogramUs-1. */
  readonly hist: Float64Array;
  overflows = 0;
  /** Cycle numbers of the first `histogramUs` overflows. */
  readonly outliers: Col;
  readonly hdr: Histogram;
  // breakdown, ns
  readonly compSum = new Float64Array(NCOMP);
  readonly compMax = new Float64Array(NCOMP);
  /** Sum of the exact latencies, ns. */
  exactSum = 0;
  // per-sample rows
  readonly sCycle: Col;
  readonly sExpiry: Col;
  readonly sLatency: Col;
  readonly sComp: Col[];
  private st = ST_START;
  /** The intended wake-up time of the current cycle (cyclictest's `next`), ns. */
  private nextAt = 0;

  constructor(
    readonly kernel: LinuxKernel,
    readonly name: string,
    readonly thread: number,
    spec: CyclictestSpec,
    /** Statistics window start (warm-up end), ns. */
    readonly from: number,
    now: number,
  ) {
    this.interval = (spec.interval_us ?? 1000) * 1000;
    this.priority = spec.priority ?? 99;
    this.cpu = spec.cpu ?? 0;
    this.loops = spec.loops ?? 0;
    this.histogramUs = spec.histogram_us ?? 1000;
    this.hist = new Float64Array(this.histogramUs);
    this.outliers = new Col(Math.max(1, this.histogramUs));
    this.hdr = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2 ** 20, numberOfSignificantValueDigits: 3, autoResize: true, bitBucketSize: 64 });
    const sm = spec.samples_max ?? 0;
    this.sCycle = new Col(sm);
    this.sExpiry = new Col(sm);
    this.sLatency = new Col(sm);
    this.sComp = Array.from({ length: NCOMP }, () => new Col(sm));
    this.task = kernel.spawn(name, this, this.cpu, [this.cpu], 0, now, thread, { policy: SCHED_FIFO, priority: this.priority });
    this.probe = new LatencyProbe(this.task);
    this.task.probe = this.probe;
  }

  next(t: Task, now: number): void {
    switch (this.st) {
      case ST_START:
        this.st = ST_FIRST;
        t.act = A_CLOCK_READ;
        return;
      case ST_FIRST:
        this.nextAt = now + this.interval;
        this.st = ST_SLEEP;
        t.act = A_SLEEP_UNTIL;
        t.actArg = this.nextAt;
        return;
      case ST_SLEEP:
        this.st = ST_READ;
        t.act = A_CLOCK_READ;
        return;
      case ST_READ: {
        const acc = this.kernel.probeFinish(t, now);
        if (this.nextAt >= this.from) this.record(now, acc);
        const iv = this.interval;
        this.nextAt += iv;
        while (now > this.nextAt) this.nextAt += iv;
        if (this.loops > 0 && this.cycles >= this.loops) {
          this.st = ST_DONE;
          t.act = A_WAIT; // the thread exits: never woken again
          return;
        }
        this.st = ST_SLEEP;
        t.act = A_SLEEP_UNTIL;
        t.actArg = this.nextAt;
        return;
      }
      default:
        t.act = A_WAIT;
    }
  }

  /** One measurement: now (end of clock_gettime) against next. */
  private record(now: number, acc: Float64Array): void {
    const E = this.nextAt;
    const diff = calcdiffUs(now, E);
    const exact = now - E;
    acc[LC_TRUNC] = diff * 1000 - exact;
    if (diff < this.min) this.min = diff;
    if (diff > this.max) this.max = diff;
    this.sum += diff;
    this.act = diff;
    if (this.histogramUs > 0) {
      if (diff >= this.histogramUs) {
        this.overflows++;
        if (this.outliers.n < this.histogramUs) this.outliers.push(this.cycles);
      } else this.hist[diff]++;
    }
    this.hdr.recordValue(diff > 0 ? diff : 0);
    this.exactSum += exact;
    const cs = this.compSum, cm = this.compMax;
    for (let i = 0; i < NCOMP; i++) {
      const v = acc[i];
      cs[i] += v;
      if (v > cm[i]) cm[i] = v;
    }
    if (this.sCycle.n < this.sCycle.max) {
      this.sCycle.push(this.cycles);
      this.sExpiry.push(E);
      this.sLatency.push(diff);
      for (let i = 0; i < NCOMP; i++) this.sComp[i].push(acc[i]);
    }
    this.cycles++;
  }

  /** Latency at percentile p (0..100), µs (HDR, 3 significant digits). */
  percentile(p: number): number | null {
    return this.cycles > 0 ? this.hdr.getValueAtPercentile(p) : null;
  }

  /** (latency_us, count) of every recorded value: the 1 µs buckets with -h, else the HDR histogram's values. */
  histogramRows(): { us: number[]; count: number[] } {
    const us: number[] = [], count: number[] = [];
    if (this.histogramUs > 0) {
      for (let i = 0; i < this.histogramUs; i++) { us.push(i); count.push(this.hist[i]); }
      return { us, count };
    }
    const h = this.hdr as unknown as { recordedValuesIterator: { reset(): void; hasNext(): boolean; next(): { valueIteratedTo: number; countAddedInThisIterationStep: number } }; lowestEquivalentValue(v: number): number };
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      us.push(h.lowestEquivalentValue(v.valueIteratedTo));
      count.push(v.countAddedInThisIterationStep);
    }
    return { us, count };
  }
}

/** Column names of the latency-component columns of `latency_samples`. */
export const LATENCY_COMPONENT_COLUMNS = LAT_COMPONENTS.map((c) => `${c}_us`);

/** The tables of a result that the histogram text needs (plain rows). */
export interface CyclictestTables {
  rows(name: "cyclictest" | "latency_hist" | "latency_overflows"): object[];
  readonly tableNames: string[];
}

/**
 * Workload kind `cyclictest`: one measurement thread per spec entry, named
 * `guest/cyclictest#index`, numbered run-wide in creation order (`thread`).
 * Tables `cyclictest`, `latency_hist`, `latency_overflows`,
 * `latency_breakdown` and, with samples_max, `latency_samples`.
 */
export const cyclictestWorkload: WorkloadModule<CyclictestSpec> = {
  kind: "cyclictest",
  tables: ["cyclictest", "latency_hist", "latency_overflows", "latency_breakdown", "latency_samples"],
  start() {
    const cyclic: { guest: string; w: Cyclictest }[] = [];
    return {
      add(w, at) {
        cyclic.push({ guest: at.guest.name, w: new Cyclictest(at.kernel, `${at.guest.name}/cyclictest#${at.index}`, cyclic.length, w, at.from, at.now) });
      },
      tables(): TableSet {
        return cyclic.length ? cyclictestTables(cyclic) : {};
      },
    };
  },
};

/** The cyclictest tables: per thread, histogram, overflow cycles, samples, breakdown. */
function cyclictestTables(cyclic: { guest: string; w: Cyclictest }[]): TableSet {
  const out: TableSet = {};
  const ws = cyclic.map((x) => x.w);
  const nn = (w: Cyclictest, v: number) => (w.cycles > 0 ? v : null);
  const ct: ColumnsOf<CyclictestRow> = {
    domain: cyclic.map((x) => x.guest), thread: ws.map((w) => w.thread), cpu: ws.map((w) => w.cpu),
    priority: ws.map((w) => w.priority), interval_us: ws.map((w) => w.interval / 1000), cycles: ws.map((w) => w.cycles),
    min_latency_us: ws.map((w) => nn(w, w.min)), avg_latency_us: ws.map((w) => nn(w, w.sum / w.cycles)),
    max_latency_us: ws.map((w) => nn(w, w.max)), overflows: ws.map((w) => w.overflows),
    p50_latency_us: ws.map((w) => w.percentile(50)), p99_latency_us: ws.map((w) => w.percentile(99)),
    p999_latency_us: ws.map((w) => w.percentile(99.9)), histogram_us: ws.map((w) => w.histogramUs),
  };
  out.cyclictest = ct;
  const hd: string[] = [], ht: number[] = [], hu: number[] = [], hc: number[] = [];
  const od: string[] = [], ot: number[] = [], oc: number[] = [];
  cyclic.forEach(({ guest, w }) => {
    const h = w.histogramRows();
    for (let i = 0; i < h.us.length; i++) { hd.push(guest); ht.push(w.thread); hu.push(h.us[i]); hc.push(h.count[i]); }
    const o = w.outliers.toArray();
    for (let i = 0; i < o.length; i++) { od.push(guest); ot.push(w.thread); oc.push(o[i]); }
  });
  out.latency_hist = { domain: hd, thread: ht, latency_us: hu, count: hc };
  out.latency_overflows = { domain: od, thread: ot, cycle: oc };
  const bd: string[] = [], bt: number[] = [], bc: LatencyComponent[] = [], bm: (number | null)[] = [], bx: (number | null)[] = [], bs: number[] = [];
  cyclic.forEach(({ guest, w }) => {
    const totalUs = w.sum;
    LAT_COMPONENTS.forEach((c, i) => {
      bd.push(guest); bt.push(w.thread); bc.push(c);
      bm.push(w.cycles > 0 ? w.compSum[i] / w.cycles / 1000 : null);
      bx.push(w.cycles > 0 ? w.compMax[i] / 1000 : null);
      bs.push(totalUs > 0 ? (w.compSum[i] / 1000 / totalUs) * 100 : 0);
    });
  });
  out.latency_breakdown = { domain: bd, thread: bt, component: bc, mean_us: bm, max_us: bx, share_pct: bs };
  if (ws.some((w) => w.sCycle.n > 0)) {
    const cols: Record<string, number[] | string[]> = { domain: [], thread: [], cycle: [], expiry_us: [], latency_us: [] };
    for (const c of LATENCY_COMPONENT_COLUMNS) cols[c] = [];
    cyclic.forEach(({ guest, w }) => {
      const n = w.sCycle.n;
      for (let k = 0; k < n; k++) {
        (cols.domain as string[]).push(guest);
        (cols.thread as number[]).push(w.thread);
        (cols.cycle as number[]).push(w.sCycle.data[k]);
        (cols.expiry_us as number[]).push(w.sExpiry.data[k] / 1000);
        (cols.latency_us as number[]).push(w.sLatency.data[k]);
        LATENCY_COMPONENT_COLUMNS.forEach((c, i) => (cols[c] as number[]).push(w.sComp[i].data[k] / 1000));
      }
    });
    out.latency_samples = cols as unknown as ColumnsOf<LatencySamplesRow>;
  }
  return out;
}

const pad = (x: number, w: number) => {
  const s = String(Math.trunc(x));
  return s.length >= w ? s : "0".repeat(w - s.length) + s;
};

/**
 * The output of `cyclictest -q -h N` of rt-tests <= 2.6 for the cyclictest
 * threads of a result, as print_hist() writes it (rt-tests
 * src/cyclictest/cyclictest.c, e.g. igaw/rt-tests 26e1a036): "# Histogram",
 * then for every bucket i < N `"%06d "` followed by each thread's count as
 * `"%06lu"` separated by TABs; "# Total:" with " %09llu" per thread (samples
 * inside the histogram); "# Min Latencies:", "# Avg Latencies:" (the mean
 * truncated to an integer), "# Max Latencies:" with " %05lu" per thread;
 * "# Histogram Overflows:" " %05lu"; "# Histogram Overflow at cycle
 * number:" then "# Thread N:" with " %05lu" per logged cycle and
 * " # %05lu others" when more overflows happened than were logged; a final
 * empty line. With -q and -h nothing else is printed. Threads are numbered
 * in the order of the `cyclictest` table; N is the largest histogram_us.
 */
export function cyclictestHistogramText(result: CyclictestTables): string {
  if (!result.tableNames.includes("cyclictest")) throw new Error("no cyclictest table in this result");
  const threads = result.rows("cyclictest") as Record<string, any>[];
  const N = Math.max(0, ...threads.map((t) => t.histogram_us as number));
  if (N === 0) throw new Error("no cyclictest thread has a histogram (histogram_us = 0)");
  const hist = result.rows("latency_hist") as Record<string, any>[];
  const over = result.tableNames.includes("latency_overflows") ? (result.rows("latency_overflows") as Record<string, any>[]) : [];
  const idx = new Map<number, number>(threads.map((t, i) => [t.thread as number, i]));
  const counts = threads.map(() => new Float64Array(N));
  for (const r of hist) {
    const i = idx.get(r.thread as number);
    if (i !== undefined && r.latency_us < N && threads[i].histogram_us > 0) counts[i][r.latency_us as number] = r.count as number;
  }
  const lines: string[] = ["# Histogram"];
  const total = threads.map(() => 0);
  for (let b = 0; b < N; b++) {
    let s = `${pad(b, 6)} `;
    for (let j = 0; j < threads.length; j++) {
      s += pad(counts[j][b], 6);
      if (j < threads.length - 1) s += "\t";
      total[j] += counts[j][b];
    }
    lines.push(s);
  }
  lines.push("# Total:" + total.map((x) => ` ${pad(x, 9)}`).join(""));
  lines.push("# Min Latencies:" + threads.map((t) => ` ${pad(t.cycles > 0 ? t.min_latency_us : 1_000_000, 5)}`).join(""));
  lines.push("# Avg Latencies:" + threads.map((t) => ` ${pad(t.cycles > 0 ? Math.trunc(t.avg_latency_us) : 0, 5)}`).join(""));
  lines.push("# Max Latencies:" + threads.map((t) => ` ${pad(t.cycles > 0 ? t.max_latency_us : 0, 5)}`).join(""));
  lines.push("# Histogram Overflows:" + threads.map((t) => ` ${pad(t.overflows, 5)}`).join(""));
  lines.push("# Histogram Overflow at cycle number:");
  threads.forEach((t, i) => {
    const cyc = over.filter((o) => o.thread === t.thread).map((o) => o.cycle as number);
    let s = `# Thread ${i}:` + cyc.map((c) => ` ${pad(c, 5)}`).join("");
    if (cyc.length < t.overflows) s += ` # ${pad(t.overflows - cyc.length, 5)} others`;
    lines.push(s);
  });
  lines.push("");
  return lines.join("\n") + "\n";
}
