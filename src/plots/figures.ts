/**
 * Plotly figure builders over Arquero tables. Every builder returns a plain, JSON-safe
 * {@link Figure} (no class instances, no typed arrays), with a title and axis titles that carry
 * units. Output is deterministic: the same table and options give the same figure.
 */
import * as aq from "arquero";
import {
  columnValues,
  fmtNumber,
  groupKey,
  groupRows,
  numericValues,
  pick,
  requireColumn,
} from "./columns.js";
import { isTimeUnit, labelFor, splitUnit, unitOf } from "./labels.js";

/** A loose Plotly object (trace, layout, config): any JSON-like record. */
export type PlotlyObject = { [key: string]: any };

/**
 * A Plotly figure as plain data: pass it to `show()` in a notebook, to `toHTMLFile()`, or to
 * `Plotly.newPlot(el, fig.data, fig.layout, fig.config)` in a browser. Fields can be tweaked
 * freely (`fig.layout.height = 600`).
 */
export interface Figure {
  /** Plotly traces. */
  data: PlotlyObject[];
  /** Plotly layout (always has `title.text`, `xaxis.title.text`, `yaxis.title.text`). */
  layout: PlotlyObject;
  /** Plotly config (`responsive`, `displaylogo`). */
  config?: PlotlyObject;
}

/** Options shared by every figure builder. */
export interface BaseFigureOptions {
  /** Figure title (required: every figure says what it shows). */
  title: string;
  /** Figure height in px (Plotly default 450, timelines scale with lane count). */
  height?: number;
  /** Figure width in px (default: responsive to the container). */
  width?: number;
}

/**
 * Small multiples: one panel per value of a column, panels sharing their axes, the same colour
 * for the same curve name in every panel and one legend entry per name.
 */
export interface FacetOptions {
  /** Column whose values split rows into one panel each (panels in order of first appearance). */
  facet?: string;
  /** Panels per row (default 2, or 1 for a single panel). */
  facetCols?: number;
}

/** Options of {@link lineFigure}. */
export interface LineFigureOptions extends BaseFigureOptions, FacetOptions {
  /** Column for the x axis. */
  x: string;
  /** Column for the y axis. */
  y: string;
  /** Column whose values split rows into one trace each (legend entries). */
  groupBy?: string;
  /** x-axis title; default derived from the column name (`load_pct` → "load (%)"). */
  xTitle?: string;
  /** y-axis title; default derived from the column name (`latency_us` → "latency (µs)"). */
  yTitle?: string;
  /** Column holding a symmetric ± spread drawn as error bars (e.g. a stddev or CI half-width). */
  errorY?: string;
  /** Logarithmic x axis. */
  logX?: boolean;
  /** Logarithmic y axis. */
  logY?: boolean;
  /** Plotly scatter mode; default "lines+markers" when every trace has ≤ 50 points, else "lines". */
  mode?: "lines" | "markers" | "lines+markers";
  /** Sort each trace by x when x is numeric (default true). */
  sortX?: boolean;
}

/** Options of {@link cdfFigure}. */
export interface CdfFigureOptions extends BaseFigureOptions, FacetOptions {
  /** Numeric column whose empirical distribution is plotted. */
  value: string;
  /** Column whose values split rows into one curve each. */
  groupBy?: string;
  /** x-axis title; default derived from the value column. */
  xTitle?: string;
  /** y-axis title; default "cumulative fraction" (or "fraction ≥ x" for a CCDF). */
  yTitle?: string;
  /** Logarithmic x axis. */
  logX?: boolean;
  /**
   * Plot the complementary CDF P(X ≥ x) on a log y axis instead, which shows latency tails
   * (p99.9, p99.99 …) clearly.
   */
  ccdf?: boolean;
  /** Maximum points per trace (default 2000, minimum 10); tails are kept dense. */
  maxPoints?: number;
}

/** Options of {@link histLogFigure}. */
export interface HistLogFigureOptions extends BaseFigureOptions, FacetOptions {
  /** Column with the bin value (e.g. latency bucket `latency_us`, as in `cyclictest -h`). */
  bin: string;
  /** Column with the number of samples in the bin; zero counts are dropped (log axis). */
  count: string;
  /** Column whose values split rows into one histogram each. */
  groupBy?: string;
  /** x-axis title; default derived from the bin column. */
  xTitle?: string;
  /** y-axis title; default derived from the count column plus "(log scale)". */
  yTitle?: string;
  /** "bar" (default for one group) or "step" outlines (default for several groups). */
  style?: "bar" | "step";
  /**
   * Logarithmic x axis too (a log-log histogram, as latency people read `cyclictest -h`
   * output). A log axis cannot draw bins ≤ 0: see `binOffset`.
   */
  logX?: boolean;
  /**
   * Added to every bin value before drawing, e.g. 0.5 to draw the 1 µs bucket b (latencies in
   * [b, b+1) µs) at its centre, which keeps bucket 0 visible on a log x axis. Default 0.
   */
  binOffset?: number;
  /** Divide each group's counts by the group's total: fractions of samples, for comparing runs of different lengths. */
  normalize?: boolean;
}

/** Options of {@link histCdfFigure}. */
export interface HistCdfFigureOptions extends BaseFigureOptions, FacetOptions {
  /** Column with the bin value (e.g. the 1 µs bucket `latency_us`). */
  bin: string;
  /** Column with the number (or weight) of samples in the bin. */
  count: string;
  /** Column whose values split rows into one curve each. */
  groupBy?: string;
  /**
   * Plot the complementary CDF P(X ≥ x) on a log y axis (with `logX`, a log-log CCDF): the
   * tail (p99.9, p99.99, the worst case) gets as much room as the body.
   */
  ccdf?: boolean;
  /** Logarithmic x axis (bins ≤ 0 cannot be drawn on it). */
  logX?: boolean;
  /** x-axis title; default derived from the bin column. */
  xTitle?: string;
  /** y-axis title; default "fraction of samples ≤ x" (CDF) or "fraction of samples ≥ x (log scale)" (CCDF). */
  yTitle?: string;
}

/** Options of {@link histogramOverlayFigure}. */
export interface HistogramOverlayOptions extends BaseFigureOptions, FacetOptions {
  /** Column naming each histogram (default "series", as written by `overlayHistograms`). */
  groupBy?: string;
  /** Bin column (default "latency_us"). */
  bin?: string;
  /** Count column (default "count"). */
  count?: string;
  /** Divide counts by each histogram's total (default true: runs of different lengths compare). */
  normalize?: boolean;
}

/** Options of {@link barFigure}. */
export interface BarFigureOptions extends BaseFigureOptions {
  /** Column for the categories / x positions. */
  x: string;
  /** Column for the bar heights. */
  y: string;
  /** Column whose values split rows into one bar series each. */
  groupBy?: string;
  /** x-axis title; default derived from the column name. */
  xTitle?: string;
  /** y-axis title; default derived from the column name. */
  yTitle?: string;
  /** Column holding a symmetric ± spread drawn as error bars. */
  errorY?: string;
  /** Plotly barmode (default "group"). */
  barmode?: "group" | "stack" | "overlay" | "relative";
}

/** Options of {@link timelineFigure}. */
export interface TimelineFigureOptions extends BaseFigureOptions {
  /** Column naming the lane (one horizontal row per distinct value, e.g. `pcpu` or `vcpu`). */
  lane: string;
  /** Column with segment start times (caller's unit, e.g. `start_ms`). */
  start: string;
  /** Column with segment end times (same unit as `start`, e.g. `end_ms`). */
  end: string;
  /** Column whose value colours the segment; one legend entry per value (e.g. `state`, `domain`). */
  color: string;
  /** Extra columns listed in each segment's hover text. */
  hover?: string[];
  /** x-axis title; default "time (unit)" from the start column's unit suffix. */
  xTitle?: string;
  /** Lane-axis title; default derived from the lane column. */
  laneTitle?: string;
  /** Fixed colours per colour value, e.g. `{ running: "#2ca02c", steal: "#d62728" }`. */
  colors?: { [value: string]: string };
}

/** Options of {@link stackedBarFigure}. */
export interface StackedBarFigureOptions extends BaseFigureOptions {
  /** Column for the categories (one stacked bar per row). */
  x: string;
  /** Numeric columns stacked bottom-up; each becomes a legend entry (`guest_us` → "guest"). */
  components: string[];
  /** y-axis title with unit; default derived from the components' common unit suffix. */
  yTitle?: string;
  /** x-axis title; default derived from the x column. */
  xTitle?: string;
}

const CONFIG: PlotlyObject = { responsive: true, displaylogo: false };

function baseLayout(
  opts: BaseFigureOptions,
  xTitle: string,
  yTitle: string,
  extra: PlotlyObject,
): PlotlyObject {
  const layout: PlotlyObject = {
    title: { text: opts.title },
    xaxis: { title: { text: xTitle }, automargin: true },
    yaxis: { title: { text: yTitle }, automargin: true },
    margin: { l: 70, r: 30, t: 60, b: 60 },
    hovermode: "closest",
  };
  for (const k of Object.keys(extra)) layout[k] = extra[k];
  if (opts.height !== undefined) layout.height = opts.height;
  if (opts.width !== undefined) layout.width = opts.width;
  return layout;
}

function legendFor(groupBy: string | undefined): PlotlyObject {
  return groupBy === undefined ? { showlegend: false } : { legend: { title: { text: labelFor(groupBy) } } };
}

function figure(data: PlotlyObject[], layout: PlotlyObject): Figure {
  return { data, layout, config: { ...CONFIG } };
}

/** Plotly's default colour sequence (plotly.js `colorway`). */
const COLORWAY = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** The rows of `t` whose `column` value has display key `key`, as a new table. */
function subTable(t: aq.ColumnTable, column: string, key: string): aq.ColumnTable {
  const values = t.array(column) as ArrayLike<unknown>;
  const keep: number[] = [];
  for (let i = 0; i < values.length; i++) if (groupKey(values[i]) === key) keep.push(i);
  const cols: { [name: string]: unknown[] } = {};
  for (const name of t.columnNames()) {
    const arr = t.array(name) as ArrayLike<unknown>;
    cols[name] = keep.map((i) => arr[i]);
  }
  return aq.table(cols);
}

/**
 * Build one figure per value of `opts.facet` with `build` and lay them out as small multiples:
 * a grid of panels with shared (matching) axes, a title above each panel, axis titles on the
 * outer panels only, one colour per trace name across panels and one legend entry per name.
 * Without `facet`, just `build(t)`.
 */
function faceted(t: aq.ColumnTable, opts: BaseFigureOptions & FacetOptions, fn: string, build: (sub: aq.ColumnTable) => Figure): Figure {
  if (opts.facet === undefined) return build(t);
  requireColumn(t, opts.facet, fn, "facet");
  const panels = groupRows(t, opts.facet).map((g) => ({ key: g.key, fig: build(subTable(t, opts.facet!, g.key)) }));
  const n = panels.length;
  const cols = Math.max(1, Math.min(n, Math.floor(opts.facetCols ?? 2)));
  const rows = Math.ceil(n / cols);
  const gapX = 0.06, gapY = rows > 1 ? 0.3 / rows : 0;
  const w = (1 - (cols - 1) * gapX) / cols;
  const h = (1 - (rows - 1) * gapY) / rows;
  const first = panels[0]?.fig.layout ?? baseLayout(opts, "", "", {});
  const layout: PlotlyObject = { ...first, annotations: [] as PlotlyObject[] };
  delete layout.xaxis;
  delete layout.yaxis;
  layout.height = opts.height ?? Math.max(360, 110 + 290 * rows);
  layout.margin = { l: 70, r: 30, t: 80, b: 60 };
  // Plotly does not wrap titles: break a long one at the last space before 90 characters.
  const title = String(first.title?.text ?? opts.title);
  if (title.length > 90 && !title.includes("<br>")) {
    const cut = title.lastIndexOf(" ", 90);
    if (cut > 0) {
      layout.title = { ...first.title, text: `${title.slice(0, cut)}<br>${title.slice(cut + 1)}` };
      layout.margin.t = 100;
    }
  }
  const colorOf = new Map<string, string>();
  const seen = new Set<string>();
  const data: PlotlyObject[] = [];
  panels.forEach((p, i) => {
    const col = i % cols;
    const row = Math.floor(i / cols);
    const suffix = i === 0 ? "" : String(i + 1);
    const x0 = col * (w + gapX);
    const y1 = 1 - row * (h + gapY);
    const xa: PlotlyObject = { ...p.fig.layout.xaxis, domain: [x0, x0 + w], anchor: `y${suffix}` };
    const ya: PlotlyObject = { ...p.fig.layout.yaxis, domain: [y1 - h, y1], anchor: `x${suffix}` };
    if (i > 0) {
      xa.matches = "x";
      ya.matches = "y";
    }
    // Axis titles on the bottom row and the left column only.
    if (row !== rows - 1 && i + cols < n) xa.title = { text: "" };
    if (col !== 0) ya.title = { text: "" };
    layout[`xaxis${suffix}`] = xa;
    layout[`yaxis${suffix}`] = ya;
    layout.annotations.push({
      text: `<b>${p.key}</b>`, showarrow: false, xref: "paper", yref: "paper",
      x: x0 + w / 2, y: y1, xanchor: "center", yanchor: "bottom", font: { size: 13 },
    });
    for (const tr of p.fig.data) {
      const name = String(tr.name ?? "");
      if (!colorOf.has(name)) colorOf.set(name, COLORWAY[colorOf.size % COLORWAY.length]);
      const color = colorOf.get(name)!;
      const out: PlotlyObject = { ...tr, xaxis: `x${suffix}`, yaxis: `y${suffix}`, legendgroup: name, showlegend: !seen.has(name) };
      if (tr.type === "bar") out.marker = { ...(tr.marker ?? {}), color: tr.marker?.color ?? color };
      else out.line = { ...(tr.line ?? {}), color: tr.line?.color ?? color };
      seen.add(name);
      data.push(out);
    }
  });
  layout.showlegend = true;
  return figure(data, layout);
}

/**
 * Line chart for sweep curves (y vs. a swept parameter) and time series: one trace per value of
 * `groupBy`, optional ± error bars from `errorY`, optional log axes.
 *
 * @example
 * lineFigure(t, { x: "load_pct", y: "p99_latency_us", groupBy: "scheduler",
 *                 errorY: "p99_ci_us", title: "p99 wake-up latency vs. load" })
 */
export function lineFigure(t: aq.ColumnTable, opts: LineFigureOptions): Figure {
  return faceted(t, opts, "lineFigure", (sub) => lineFigure1(sub, opts));
}

function lineFigure1(t: aq.ColumnTable, opts: LineFigureOptions): Figure {
  const fn = "lineFigure";
  requireColumn(t, opts.x, fn, "x");
  requireColumn(t, opts.y, fn, "y");
  if (opts.groupBy !== undefined) requireColumn(t, opts.groupBy, fn, "groupBy");
  if (opts.errorY !== undefined) requireColumn(t, opts.errorY, fn, "errorY");

  const xs = columnValues(t, opts.x);
  const ys = columnValues(t, opts.y);
  const es = opts.errorY !== undefined ? columnValues(t, opts.errorY) : undefined;
  const groups = groupRows(t, opts.groupBy);
  const maxLen = groups.reduce((m, g) => Math.max(m, g.rows.length), 0);
  const mode = opts.mode ?? (maxLen <= 50 ? "lines+markers" : "lines");
  const sortX = opts.sortX ?? true;

  const data = groups.map((g) => {
    let rows = g.rows;
    if (sortX && rows.every((r) => typeof xs[r] === "number")) {
      // Stable sort by numeric x.
      rows = rows
        .map((r, i) => [r, i] as const)
        .sort((a, b) => (xs[a[0]] as number) - (xs[b[0]] as number) || a[1] - b[1])
        .map((p) => p[0]);
    }
    const trace: PlotlyObject = {
      type: "scatter",
      mode,
      name: opts.groupBy === undefined ? labelFor(opts.y) : g.key,
      x: pick(xs, rows),
      y: pick(ys, rows),
    };
    if (es !== undefined) trace.error_y = { type: "data", array: pick(es, rows), visible: true };
    return trace;
  });

  const layout = baseLayout(opts, opts.xTitle ?? labelFor(opts.x), opts.yTitle ?? labelFor(opts.y), legendFor(opts.groupBy));
  if (opts.logX) layout.xaxis.type = "log";
  if (opts.logY) layout.yaxis.type = "log";
  return figure(data, layout);
}

/**
 * Rank positions to keep when down-sampling a sorted sample of size `n` to at most `maxPoints`:
 * evenly spaced ranks for the body plus geometrically spaced ranks in the upper tail (so
 * p99.9/p99.99 stay visible), always including the minimum and maximum.
 */
export function cdfSampleIndices(n: number, maxPoints: number): number[] {
  const m = Math.max(10, Math.floor(maxPoints));
  if (n <= m) return Array.from({ length: n }, (_, i) => i);
  const keep = new Set<number>([0, n - 1]);
  const tail = Math.floor(m / 4);
  const body = m - tail - 2;
  for (let k = 0; k < body; k++) keep.add(Math.round((k * (n - 1)) / (body - 1)));
  const qMax = 0.05;
  const qMin = 1 / n;
  for (let k = 0; k < tail; k++) {
    const q = qMax * Math.pow(qMin / qMax, k / (tail - 1));
    keep.add(Math.min(n - 1, Math.max(0, n - Math.ceil(q * n))));
  }
  return Array.from(keep).sort((a, b) => a - b);
}

/**
 * Empirical CDF (or CCDF with `ccdf: true`) of a numeric column, one step curve per group,
 * down-sampled to at most `maxPoints` (default 2000) points per trace. Non-finite values are
 * ignored.
 *
 * @example
 * cdfFigure(samples, { value: "latency_us", groupBy: "config", logX: true,
 *                      title: "Wake-up latency distribution" })
 */
export function cdfFigure(t: aq.ColumnTable, opts: CdfFigureOptions): Figure {
  return faceted(t, opts, "cdfFigure", (sub) => cdfFigure1(sub, opts));
}

function cdfFigure1(t: aq.ColumnTable, opts: CdfFigureOptions): Figure {
  const fn = "cdfFigure";
  requireColumn(t, opts.value, fn, "value");
  if (opts.groupBy !== undefined) requireColumn(t, opts.groupBy, fn, "groupBy");
  const values = numericValues(t, opts.value);
  const maxPoints = opts.maxPoints ?? 2000;
  const ccdf = opts.ccdf === true;

  const data = groupRows(t, opts.groupBy).map((g) => {
    const sample = Float64Array.from(pick(values, g.rows).filter((v) => Number.isFinite(v)));
    sample.sort();
    const n = sample.length;
    const idx = cdfSampleIndices(n, maxPoints);
    const x = idx.map((i) => sample[i]);
    const y = idx.map((i) => (ccdf ? (n - i) / n : (i + 1) / n));
    return {
      type: "scatter",
      mode: "lines",
      line: { shape: "hv" },
      name: opts.groupBy === undefined ? labelFor(opts.value) : g.key,
      x,
      y,
      hovertemplate: `%{x}<br>${ccdf ? "P(X ≥ x)" : "P(X ≤ x)"} = %{y:.6f}<extra>%{fullData.name}</extra>`,
    } as PlotlyObject;
  });

  const yTitle = opts.yTitle ?? (ccdf ? "fraction ≥ x (log scale)" : "cumulative fraction");
  const layout = baseLayout(opts, opts.xTitle ?? labelFor(opts.value), yTitle, legendFor(opts.groupBy));
  if (opts.logX) layout.xaxis.type = "log";
  if (ccdf) layout.yaxis.type = "log";
  else layout.yaxis.range = [0, 1.02];
  return figure(data, layout);
}

/**
 * Histogram of pre-binned counts on a logarithmic y axis, in the style of `cyclictest -h`
 * output: `bin` is the bucket (e.g. `latency_us`), `count` the number of samples. Bins with a
 * zero or missing count are dropped (they cannot be drawn on a log axis).
 *
 * @example
 * histLogFigure(hist, { bin: "latency_us", count: "samples", groupBy: "cpu",
 *                       title: "cyclictest latency histogram" })
 */
export function histLogFigure(t: aq.ColumnTable, opts: HistLogFigureOptions): Figure {
  return faceted(t, opts, "histLogFigure", (sub) => histLogFigure1(sub, opts));
}

function histLogFigure1(t: aq.ColumnTable, opts: HistLogFigureOptions): Figure {
  const fn = "histLogFigure";
  requireColumn(t, opts.bin, fn, "bin");
  requireColumn(t, opts.count, fn, "count");
  if (opts.groupBy !== undefined) requireColumn(t, opts.groupBy, fn, "groupBy");
  const bins = columnValues(t, opts.bin);
  const counts = numericValues(t, opts.count);
  const groups = groupRows(t, opts.groupBy);
  const style = opts.style ?? (groups.length > 1 ? "step" : "bar");

  const offset = opts.binOffset ?? 0;
  const data = groups.map((g) => {
    let rows = g.rows.filter((r) => counts[r] > 0);
    if (opts.logX) rows = rows.filter((r) => typeof bins[r] === "number" && (bins[r] as number) + offset > 0);
    const name = opts.groupBy === undefined ? labelFor(opts.count) : g.key;
    const x = offset === 0 ? pick(bins, rows) : rows.map((r) => (bins[r] as number) + offset);
    let y = pick(counts, rows);
    if (opts.normalize) {
      const total = g.rows.reduce((a, r) => a + (counts[r] > 0 ? counts[r] : 0), 0);
      y = y.map((c) => c / total);
    }
    if (style === "bar") {
      const trace: PlotlyObject = { type: "bar", name, x, y };
      if (groups.length > 1) trace.opacity = 0.6;
      return trace;
    }
    return { type: "scatter", mode: "lines", line: { shape: "hvh" }, name, x, y } as PlotlyObject;
  });

  const extra = legendFor(opts.groupBy);
  if (style === "bar") {
    extra.barmode = "overlay";
    extra.bargap = 0;
  }
  const yTitle = opts.yTitle ?? (opts.normalize ? "fraction of samples (log scale)" : `${labelFor(opts.count)} (log scale)`);
  const xTitle = opts.xTitle ?? (opts.logX ? `${labelFor(opts.bin)}, log scale` : labelFor(opts.bin));
  const layout = baseLayout(opts, xTitle, yTitle, extra);
  layout.yaxis.type = "log";
  if (opts.logX) layout.xaxis.type = "log";
  return figure(data, layout);
}

/**
 * CDF, or with `ccdf: true` the complementary CDF on a log y axis, of pre-binned counts (e.g.
 * a `latency_hist` table, or a CDF table turned back into per-bin fractions). One step curve
 * per group; only bins with a positive count become points, so a 10,000-bucket histogram with
 * a few hundred occupied buckets stays small. With `logX` the x axis is logarithmic, which
 * shows µs bodies and ms tails in one figure.
 *
 * @example
 * histCdfFigure(r.table("latency_hist"), { bin: "latency_us", count: "count", groupBy: "domain",
 *                                           ccdf: true, logX: true, title: "Latency CCDF" })
 */
export function histCdfFigure(t: aq.ColumnTable, opts: HistCdfFigureOptions): Figure {
  return faceted(t, opts, "histCdfFigure", (sub) => histCdfFigure1(sub, opts));
}

function histCdfFigure1(t: aq.ColumnTable, opts: HistCdfFigureOptions): Figure {
  const fn = "histCdfFigure";
  requireColumn(t, opts.bin, fn, "bin");
  requireColumn(t, opts.count, fn, "count");
  if (opts.groupBy !== undefined) requireColumn(t, opts.groupBy, fn, "groupBy");
  const bins = numericValues(t, opts.bin);
  const counts = numericValues(t, opts.count);
  const ccdf = opts.ccdf === true;
  const data = groupRows(t, opts.groupBy).map((g) => {
    const rows = g.rows.filter((r) => Number.isFinite(bins[r]) && counts[r] > 0).sort((a, b) => bins[a] - bins[b]);
    const total = rows.reduce((a, r) => a + counts[r], 0);
    const x: number[] = [];
    const y: number[] = [];
    let acc = 0;
    for (const r of rows) {
      // CDF: P(X ≤ bin) after adding the bin; CCDF: P(X ≥ bin) before adding it.
      if (ccdf) y.push((total - acc) / total);
      acc += counts[r];
      if (!ccdf) y.push(acc / total);
      x.push(bins[r]);
    }
    return {
      type: "scatter",
      mode: "lines",
      line: { shape: ccdf ? "vh" : "hv" },
      name: opts.groupBy === undefined ? labelFor(opts.count) : g.key,
      x,
      y,
      hovertemplate: `%{x}<br>${ccdf ? "P(X ≥ x)" : "P(X ≤ x)"} = %{y:.6g}<extra>%{fullData.name}</extra>`,
    } as PlotlyObject;
  });
  const yTitle = opts.yTitle ?? (ccdf ? "fraction of samples ≥ x (log scale)" : "fraction of samples ≤ x");
  const xTitle = opts.xTitle ?? (opts.logX ? `${labelFor(opts.bin)}, log scale` : labelFor(opts.bin));
  const layout = baseLayout(opts, xTitle, yTitle, legendFor(opts.groupBy));
  if (opts.logX) layout.xaxis.type = "log";
  if (ccdf) {
    layout.yaxis.type = "log";
    layout.yaxis.exponentformat = "power";
  } else layout.yaxis.range = [0, 1.02];
  return figure(data, layout);
}

/**
 * Overlay of latency histograms from different sources, e.g. a real machine's
 * `cyclictest -h` output and a simulation (the table of `overlayHistograms`): log-log step
 * outlines, each normalised to fractions of its samples by default, 1 µs buckets drawn at
 * their centres (b + 0.5) so bucket 0 shows on the log axis.
 *
 * @example
 * const t = overlayHistograms([{ source: "real", latency_hist: real.latency_hist },
 *                              { source: "simulated", latency_hist: sim.table("latency_hist") }]);
 * histogramOverlayFigure(t, { title: "cyclictest: real machine against the simulation" })
 */
export function histogramOverlayFigure(t: aq.ColumnTable, opts: HistogramOverlayOptions): Figure {
  return histLogFigure(t, {
    title: opts.title,
    height: opts.height,
    width: opts.width,
    facet: opts.facet,
    facetCols: opts.facetCols,
    bin: opts.bin ?? "latency_us",
    count: opts.count ?? "count",
    groupBy: opts.groupBy ?? "series",
    style: "step",
    logX: true,
    binOffset: 0.5,
    normalize: opts.normalize ?? true,
    xTitle: "latency (µs, 1 µs buckets at their centres, log scale)",
  });
}

/**
 * Bar chart: one bar series per value of `groupBy` (grouped by default), optional ± error bars.
 *
 * @example
 * barFigure(summary, { x: "scheduler", y: "mean_latency_us", errorY: "sd_latency_us",
 *                      title: "Mean latency by scheduler" })
 */
export function barFigure(t: aq.ColumnTable, opts: BarFigureOptions): Figure {
  const fn = "barFigure";
  requireColumn(t, opts.x, fn, "x");
  requireColumn(t, opts.y, fn, "y");
  if (opts.groupBy !== undefined) requireColumn(t, opts.groupBy, fn, "groupBy");
  if (opts.errorY !== undefined) requireColumn(t, opts.errorY, fn, "errorY");
  const xs = columnValues(t, opts.x);
  const ys = columnValues(t, opts.y);
  const es = opts.errorY !== undefined ? columnValues(t, opts.errorY) : undefined;

  const data = groupRows(t, opts.groupBy).map((g) => {
    const trace: PlotlyObject = {
      type: "bar",
      name: opts.groupBy === undefined ? labelFor(opts.y) : g.key,
      x: pick(xs, g.rows),
      y: pick(ys, g.rows),
    };
    if (es !== undefined) trace.error_y = { type: "data", array: pick(es, g.rows), visible: true };
    return trace;
  });

  const extra = legendFor(opts.groupBy);
  extra.barmode = opts.barmode ?? "group";
  return figure(data, baseLayout(opts, opts.xTitle ?? labelFor(opts.x), opts.yTitle ?? labelFor(opts.y), extra));
}

/**
 * Gantt-style timeline: one horizontal lane per value of `lane`, one bar per row from `start`
 * to `end`, coloured by the `color` column with one legend entry (bar trace) per colour value.
 * Times are in the caller's unit (typically `start_ms` / `end_ms`). Rows with a non-finite
 * start or end are skipped. Lanes are listed top-down in order of first appearance.
 *
 * @example
 * timelineFigure(segments, { lane: "pcpu", start: "start_ms", end: "end_ms", color: "vcpu",
 *                            hover: ["domain"], title: "Physical CPU occupancy" })
 */
export function timelineFigure(t: aq.ColumnTable, opts: TimelineFigureOptions): Figure {
  const fn = "timelineFigure";
  requireColumn(t, opts.lane, fn, "lane");
  requireColumn(t, opts.start, fn, "start");
  requireColumn(t, opts.end, fn, "end");
  requireColumn(t, opts.color, fn, "color");
  const hoverCols = opts.hover ?? [];
  for (const h of hoverCols) requireColumn(t, h, fn, "hover");

  const lanes = columnValues(t, opts.lane).map(groupKey);
  const starts = numericValues(t, opts.start);
  const ends = numericValues(t, opts.end);
  const hoverValues = hoverCols.map((h) => columnValues(t, h));
  const unit = unitOf(opts.start);
  const unitSuffix = unit === undefined ? "" : ` ${unit}`;

  const laneOrder: string[] = [];
  const seenLane = new Set<string>();
  for (const l of lanes) {
    if (!seenLane.has(l)) {
      seenLane.add(l);
      laneOrder.push(l);
    }
  }

  const data = groupRows(t, opts.color).map((g) => {
    const rows = g.rows.filter((r) => Number.isFinite(starts[r]) && Number.isFinite(ends[r]));
    const hovertext = rows.map((r) => {
      let s =
        `${lanes[r]} · ${g.key}<br>${fmtNumber(starts[r])} – ${fmtNumber(ends[r])}${unitSuffix}` +
        ` (${fmtNumber(ends[r] - starts[r])}${unitSuffix})`;
      hoverCols.forEach((h, i) => {
        const v = hoverValues[i][r];
        s += `<br>${h} = ${typeof v === "number" ? fmtNumber(v) : groupKey(v)}`;
      });
      return s;
    });
    const trace: PlotlyObject = {
      type: "bar",
      orientation: "h",
      name: g.key,
      y: pick(lanes, rows),
      base: pick(starts, rows),
      x: rows.map((r) => ends[r] - starts[r]),
      hovertext,
      hoverinfo: "text",
      width: 0.8,
    };
    const fixed = opts.colors?.[g.key];
    if (fixed !== undefined) trace.marker = { color: fixed };
    return trace;
  });

  const xTitle = opts.xTitle ?? (unit !== undefined && isTimeUnit(unit) ? `time (${unit})` : labelFor(opts.start));
  const extra: PlotlyObject = {
    barmode: "overlay",
    legend: { title: { text: labelFor(opts.color) } },
    height: Math.min(1200, Math.max(300, 140 + 32 * laneOrder.length)),
  };
  const layout = baseLayout(opts, xTitle, opts.laneTitle ?? labelFor(opts.lane), extra);
  layout.yaxis.type = "category";
  layout.yaxis.categoryorder = "array";
  layout.yaxis.categoryarray = laneOrder;
  layout.yaxis.autorange = "reversed";
  return figure(data, layout);
}

/**
 * Stacked bars: one bar per row of `x`, stacking the numeric `components` columns bottom-up
 * (e.g. a latency breakdown `["guest_us", "hypervisor_us", "queue_us"]`). Each component is a
 * legend entry named after its column without the unit suffix.
 *
 * @example
 * stackedBarFigure(breakdown, { x: "config", components: ["irq_us", "sched_us", "run_us"],
 *                               title: "Latency breakdown", yTitle: "latency (µs)" })
 */
export function stackedBarFigure(t: aq.ColumnTable, opts: StackedBarFigureOptions): Figure {
  const fn = "stackedBarFigure";
  requireColumn(t, opts.x, fn, "x");
  if (!Array.isArray(opts.components) || opts.components.length === 0) {
    throw new Error(`${fn}: option "components" must be a non-empty array of column names`);
  }
  for (const c of opts.components) requireColumn(t, c, fn, "components");
  const xs = columnValues(t, opts.x);
  const data = opts.components.map((c) => ({
    type: "bar",
    name: splitUnit(c).name,
    x: xs,
    y: columnValues(t, c),
  }) as PlotlyObject);

  let yTitle = opts.yTitle;
  if (yTitle === undefined) {
    const units = new Set(opts.components.map(unitOf));
    const unit = units.size === 1 ? Array.from(units)[0] : undefined;
    yTitle = unit === undefined ? "value" : isTimeUnit(unit) ? `time (${unit})` : `value (${unit})`;
  }
  const extra: PlotlyObject = { barmode: "stack", legend: { title: { text: "component" } } };
  return figure(data, baseLayout(opts, opts.xTitle ?? labelFor(opts.x), yTitle, extra));
}
