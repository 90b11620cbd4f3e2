/**
 * Reading real `cyclictest -h N` output (rt-tests, src/cyclictest/cyclictest.c print_hist(),
 * v1.x-2.x) into the same tables a simulated run produces, so a measurement from a real
 * machine and a simulation can be compared row for row.
 *
 * The format, as print_hist() writes it (and as {@link cyclictestHistogramText} reproduces):
 *
 *     # Histogram
 *     000000 000002	000000          "%06d " bucket, then "%06lu" per thread, TAB-separated;
 *     ...                             one more column with -H/--histofall and >1 thread
 *     # Total: 000000003 000000001    " %09llu" per thread (samples inside the histogram),
 *                                     plus the histofall sum
 *     # Min Latencies: 00000 00001    " %05lu" per thread
 *     # Avg Latencies: 00003 00001    (the mean, truncated)
 *     # Max Latencies: 00012 00003    plus the histofall maximum
 *     # Histogram Overflows: 00002 00003   plus the histofall sum
 *     # Histogram Overflow at cycle number:
 *     # Thread 0: 00005 00007
 *     # Thread 1: 123456 # 00002 others
 *
 * Tolerated around it: the `# /dev/cpu_dma_latency set to 0us` line, `policy:` lines and the
 * `T: 0 ( 1234) P:99 I:1000 C: ... Min: ... Avg: ... Max: ...` status lines of a run without
 * -q (the last one per thread gives its priority and interval), blank lines, CR line ends and
 * terminal escape sequences. Bucket lines may be missing (hand-trimmed pastes): absent buckets
 * count 0 and a `# Total` that disagrees with the listed buckets is reported in `warnings`.
 * Not read: `--json` output, `-v` verbose sample dumps, SMI counts.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import * as aq from "arquero";

/** A malformed cyclictest histogram: the message names the line and what was expected. */
export class HistogramFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "HistogramFormatError";
  }
}

/** Options of {@link parseCyclictestHistogram}. */
export interface HistogramReadOptions {
  /** Value of the `domain` column (default "real"); simulated runs put the guest's name there. */
  domain?: string;
}

/**
 * A cyclictest histogram as tables, in the shape of a simulated run's tables of the same names.
 */
export interface CyclictestHistogram {
  /**
   * One row per thread: `domain`, `thread`, `priority` and `interval_us` (from `T:` status
   * lines, else null), `cycles` (samples in the histogram + overflows), `min_latency_us`,
   * `avg_latency_us` (truncated, as printed), `max_latency_us`, `overflows`,
   * `p50_latency_us`, `p99_latency_us`, `p999_latency_us` (from the histogram; null when the
   * percentile lies among the overflows) and `histogram_us` (the -h N).
   */
  cyclictest: aq.ColumnTable;
  /** `domain`, `thread`, `latency_us` (1 µs bucket), `count`: every bucket 0..N-1 of every thread. */
  latency_hist: aq.ColumnTable;
  /** `domain`, `thread`, `cycle`: the logged overflow cycle numbers. */
  latency_overflows: aq.ColumnTable;
  /** Inconsistencies that do not prevent reading (e.g. `# Total` against the listed buckets). */
  warnings: string[];
}

// "\x1b[2A" cursor movements and other CSI sequences of cyclictest's non-quiet status display.
const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;
const BUCKET = /^(\d+)\s+(\d+(?:\s+\d+)*)\s*$/;
const STATUS = /^T:\s*(\d+)\s*\(\s*\d+\)\s*P:\s*(\d+)\s*I:\s*(\d+)\s*C:\s*(\d+)/;

function numbersAfter(line: string, label: string, lineNo: number): number[] {
  const rest = line.slice(label.length).trim();
  if (rest === "") return [];
  const parts = rest.split(/\s+/);
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new HistogramFormatError(`line ${lineNo}: "${label}" expects unsigned integers, got ${JSON.stringify(p)}`);
    return Number(p);
  });
}

/**
 * The `q`-th percentile (0 < q < 100) of a histogram with 1 µs buckets plus `overflows`
 * samples above its top: the smallest bucket whose cumulative count reaches `q` % of all
 * samples; null when that rank lies among the overflows or there are no samples.
 */
export function histogramPercentile(counts: ArrayLike<number>, overflows: number, q: number): number | null {
  let total = overflows;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return null;
  const rank = Math.ceil((q / 100) * total);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i];
    if (acc >= rank) return i;
  }
  return null;
}

/**
 * Parse the text of `cyclictest -q -h N` (or of a run without -q) into tables shaped like a
 * simulated run's `cyclictest`, `latency_hist` and `latency_overflows`.
 *
 * @throws {@link HistogramFormatError} naming the line, when there is no `# Histogram`
 * section, a bucket line has the wrong number of columns, or the summary lines disagree on the
 * number of threads.
 *
 * @example
 * const real = parseCyclictestHistogram(readFileSync("rt-host.txt", "utf8"), { domain: "rt-host" });
 * show(real.cyclictest);
 */
export function parseCyclictestHistogram(text: string, opts: HistogramReadOptions = {}): CyclictestHistogram {
  const domain = opts.domain ?? "real";
  const lines = text.replace(ESCAPES, "").split(/\r?\n|\r/);
  const warnings: string[] = [];
  let inHist = false;
  let seenHist = false;
  let columns = -1;
  const buckets = new Map<number, number[]>();
  let total: number[] | undefined;
  let min: number[] | undefined;
  let avg: number[] | undefined;
  let max: number[] | undefined;
  let over: number[] | undefined;
  const overflowCycles = new Map<number, number[]>();
  const status = new Map<number, { priority: number; interval: number }>();

  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === "") return;
    const st = STATUS.exec(line);
    if (st) {
      status.set(Number(st[1]), { priority: Number(st[2]), interval: Number(st[3]) });
      return;
    }
    if (line === "# Histogram") {
      if (seenHist) throw new HistogramFormatError(`line ${lineNo}: a second "# Histogram" section (one run per file)`);
      inHist = seenHist = true;
      return;
    }
    if (inHist) {
      const m = BUCKET.exec(line);
      if (m) {
        const vals = m[2].split(/\s+/).map(Number);
        if (columns < 0) columns = vals.length;
        else if (vals.length !== columns) {
          throw new HistogramFormatError(`line ${lineNo}: bucket ${Number(m[1])} has ${vals.length} count column(s), earlier buckets ${columns}`);
        }
        const b = Number(m[1]);
        if (buckets.has(b)) throw new HistogramFormatError(`line ${lineNo}: bucket ${b} appears twice`);
        buckets.set(b, vals);
        return;
      }
    }
    if (!line.startsWith("#")) {
      if (inHist) throw new HistogramFormatError(`line ${lineNo}: expected a bucket line "%06d %06lu..." or a "#" summary line, got ${JSON.stringify(line.slice(0, 60))}`);
      return; // policy:, loadavg and other status text before the histogram
    }
    inHist = false;
    if (line.startsWith("# Total:")) total = numbersAfter(line, "# Total:", lineNo);
    else if (line.startsWith("# Min Latencies:")) min = numbersAfter(line, "# Min Latencies:", lineNo);
    else if (line.startsWith("# Avg Latencies:")) avg = numbersAfter(line, "# Avg Latencies:", lineNo);
    else if (line.startsWith("# Max Latencies:")) max = numbersAfter(line, "# Max Latencies:", lineNo);
    else if (line.startsWith("# Histogram Overflows:")) over = numbersAfter(line, "# Histogram Overflows:", lineNo);
    else {
      const th = /^# Thread (\d+):(.*)$/.exec(line);
      if (th) {
        const cyc: number[] = [];
        for (const tok of th[2].split("#")[0].trim().split(/\s+/)) {
          if (tok === "") continue;
          if (!/^\d+$/.test(tok)) throw new HistogramFormatError(`line ${lineNo}: overflow cycle numbers must be unsigned integers, got ${JSON.stringify(tok)}`);
          cyc.push(Number(tok));
        }
        overflowCycles.set(Number(th[1]), cyc);
      }
      // other "#" lines (/dev/cpu_dma_latency, "# Histogram Overflow at cycle number:") carry no data
    }
  });

  if (!seenHist) throw new HistogramFormatError('no "# Histogram" line: not the output of cyclictest -h N');
  if (min === undefined) throw new HistogramFormatError('no "# Min Latencies:" line after the histogram (truncated output?)');
  const threads = min.length;
  if (threads === 0) throw new HistogramFormatError('"# Min Latencies:" lists no thread');
  if (columns < 0) columns = threads;
  // -H/--histofall adds one summary column (buckets, Total, Max, Overflows) when threads > 1.
  const histofall = columns === threads + 1 && threads > 1;
  if (!histofall && columns !== threads) {
    throw new HistogramFormatError(`the buckets have ${columns} count column(s) but "# Min Latencies:" lists ${threads} thread(s)`);
  }
  const check = (name: string, arr: number[] | undefined, allowAll: boolean): number[] | undefined => {
    if (arr === undefined) return undefined;
    const want = threads + (allowAll && histofall ? 1 : 0);
    if (arr.length !== want) throw new HistogramFormatError(`"# ${name}" lists ${arr.length} value(s); expected ${want} (${threads} thread(s)${want > threads ? " + the --histofall column" : ""})`);
    return arr.slice(0, threads);
  };
  avg = check("Avg Latencies:", avg, false);
  max = check("Max Latencies:", max, true);
  over = check("Histogram Overflows:", over, true);
  total = check("Total:", total, true);
  if (avg === undefined || max === undefined) throw new HistogramFormatError('missing "# Avg Latencies:" or "# Max Latencies:" line');

  const n = buckets.size === 0 ? 0 : Math.max(...buckets.keys()) + 1;
  const hd: string[] = [], ht: number[] = [], hu: number[] = [], hc: number[] = [];
  const counts: Float64Array[] = [];
  for (let t = 0; t < threads; t++) {
    const c = new Float64Array(n);
    for (const [b, vals] of buckets) c[b] = vals[t];
    counts.push(c);
    for (let b = 0; b < n; b++) { hd.push(domain); ht.push(t); hu.push(b); hc.push(c[b]); }
  }
  if (n > 0 && buckets.size < n) warnings.push(`${n - buckets.size} of buckets 0..${n - 1} are not listed; counted as 0`);
  const inHistogram = counts.map((c) => c.reduce((a, b) => a + b, 0));
  if (total !== undefined) {
    total.forEach((tot, t) => {
      if (tot !== inHistogram[t]) warnings.push(`thread ${t}: "# Total" says ${tot} samples, the listed buckets hold ${inHistogram[t]}`);
    });
  }
  const overflows = over ?? new Array<number>(threads).fill(0);

  const od: string[] = [], ot: number[] = [], oc: number[] = [];
  for (let t = 0; t < threads; t++) {
    for (const c of overflowCycles.get(t) ?? []) { od.push(domain); ot.push(t); oc.push(c); }
  }
  const thread = Array.from({ length: threads }, (_, t) => t);
  const cycles = thread.map((t) => (total?.[t] ?? inHistogram[t]) + overflows[t]);
  const none = cycles.map((c) => c === 0);
  return {
    cyclictest: aq.table({
      domain: thread.map(() => domain),
      thread,
      priority: thread.map((t) => status.get(t)?.priority ?? null),
      interval_us: thread.map((t) => status.get(t)?.interval ?? null),
      cycles,
      // rt-tests prints min = 1000000 and avg = max = 0 for a thread without samples
      min_latency_us: thread.map((t) => (none[t] ? null : min![t])),
      avg_latency_us: thread.map((t) => (none[t] ? null : avg![t])),
      max_latency_us: thread.map((t) => (none[t] ? null : max![t])),
      overflows,
      p50_latency_us: thread.map((t) => histogramPercentile(counts[t], overflows[t], 50)),
      p99_latency_us: thread.map((t) => histogramPercentile(counts[t], overflows[t], 99)),
      p999_latency_us: thread.map((t) => histogramPercentile(counts[t], overflows[t], 99.9)),
      histogram_us: thread.map(() => n),
    }),
    latency_hist: aq.table({ domain: hd, thread: ht, latency_us: hu, count: hc }),
    latency_overflows: aq.table({ domain: od, thread: ot, cycle: oc }),
    warnings,
  };
}

/** {@link parseCyclictestHistogram} of a file (e.g. saved with `cyclictest -q -h 1000 > real.txt`). */
export function readCyclictestHistogram(path: string, opts: HistogramReadOptions = {}): CyclictestHistogram {
  return parseCyclictestHistogram(readFileSync(path, "utf8"), opts);
}

/** The tables {@link histogramSummary} needs: a `cyclictest` and a `latency_hist` table. */
export interface HistogramTables {
  /** Per-thread summary (the `cyclictest` table of a run or of {@link parseCyclictestHistogram}). */
  cyclictest: aq.ColumnTable;
  /** Buckets (`domain`, `thread`, `latency_us`, `count`). */
  latency_hist: aq.ColumnTable;
}

/**
 * The cyclictest summary of a real or simulated run in one table shape, for comparison:
 * `source`, `domain`, `thread`, `cycles`, `min_latency_us`, `avg_latency_us`,
 * `max_latency_us`, `overflows`, and `p50/p99/p999_latency_us` computed the same way for
 * both sources (from the 1 µs histogram, overflows counted above it; null when the
 * percentile lies among the overflows).
 *
 * @example
 * const sim = simulate(spec);
 * show(histogramSummary({ cyclictest: sim.table("cyclictest"), latency_hist: sim.table("latency_hist") }, "simulated"));
 */
export function histogramSummary(t: HistogramTables, source: string): aq.ColumnTable {
  const threads = t.cyclictest.objects() as Record<string, any>[];
  const hist = t.latency_hist.objects() as Record<string, any>[];
  const rows = threads.map((r) => {
    const own = hist.filter((h) => h.domain === r.domain && h.thread === r.thread);
    const n = own.reduce((m, h) => Math.max(m, Number(h.latency_us) + 1), 0);
    const counts = new Float64Array(n);
    for (const h of own) counts[h.latency_us] = Number(h.count);
    const over = Number(r.overflows ?? 0);
    return {
      source,
      domain: r.domain,
      thread: r.thread,
      cycles: r.cycles,
      min_latency_us: r.min_latency_us ?? null,
      avg_latency_us: r.avg_latency_us ?? null,
      max_latency_us: r.max_latency_us ?? null,
      overflows: over,
      p50_latency_us: histogramPercentile(counts, over, 50),
      p99_latency_us: histogramPercentile(counts, over, 99),
      p999_latency_us: histogramPercentile(counts, over, 99.9),
    };
  });
  return aq.from(rows);
}

/**
 * Two `latency_hist` tables (e.g. a real machine's and a simulation's) stacked with a `source`
 * column and a `series` column ("source · domain thread N"), ready for an overlay
 * ({@link histogramOverlayFigure} in the plots).
 */
export function overlayHistograms(parts: { source: string; latency_hist: aq.ColumnTable }[]): aq.ColumnTable {
  const rows: Record<string, unknown>[] = [];
  for (const p of parts) {
    for (const r of p.latency_hist.objects() as Record<string, any>[]) {
      rows.push({ source: p.source, series: `${p.source} · ${r.domain} thread ${r.thread}`, ...r });
    }
  }
  return aq.from(rows);
}
