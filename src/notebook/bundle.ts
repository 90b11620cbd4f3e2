/**
 * Pure construction of Jupyter MIME bundles for the values `show()` understands:
 * Arquero tables, Plotly figures, Markdown strings, and anything else as plain text.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { inspect } from "node:util";

/** A Jupyter MIME bundle: MIME type → payload (string, or JSON object for `+json` types). */
export type MimeBundle = { [mimeType: string]: unknown };

/** MIME type of Plotly figures (rendered natively by VS Code and by Lab with jupyterlab-plotly). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/**
 * How a Plotly figure's `text/html` part gets plotly.js:
 * - `"inline"`: the html inlines plotly.min.js (≈4.8 MB), then draws (and drains queued draws);
 * - `"none"`: the html only draws, or queues the draw until `window.Plotly` exists;
 * - `"lean"`: no `text/html` at all, just the Plotly JSON and a text/plain summary.
 */
export type PlotlyJsMode = "inline" | "none" | "lean";

/** Options of `show()`. */
export interface ShowOptions {
  /** Maximum table rows rendered as HTML (default 20). */
  limit?: number;
  /** Title: a heading above tables/Markdown; replaces a figure's `layout.title`. */
  title?: string;
  /**
   * Format table cells for reading (default true): missing values as "–", numbers rounded to
   * 4 significant digits (integers as they are, ≥ 1000 to integers), and a time column whose shown values
   * reach 100,000 in its unit re-scaled to the next unit, with the column renamed to match
   * (`max_latency_us` 250000 → `max_latency_ms` 250). `false` shows the raw values.
   */
  format?: boolean;
}

/** Options of {@link bundleFor}: {@link ShowOptions} plus rendering details chosen by `show()`. */
export interface BundleOptions extends ShowOptions {
  /** plotly.js delivery for figures (default "none"; `show()` inlines once per process). */
  plotlyJs?: PlotlyJsMode;
  /** Element id of the figure `<div>` (default: derived from a counter). */
  divId?: string;
}

/** The minimal Arquero table surface used here (duck-typed, so no dependency on arquero). */
export interface TableLike {
  numRows(): number;
  numCols(): number;
  slice(start?: number, end?: number): TableLike;
  toHTML(options?: object): string;
  toMarkdown(options?: object): string;
  /** Arquero: the column names (used for cell formatting when present). */
  columnNames?(): string[];
  /** Arquero: one column's values (used for cell formatting when present). */
  array?(name: string): ArrayLike<unknown>;
  /** Arquero: a copy with columns renamed (used for unit re-scaling when present). */
  rename?(names: { [from: string]: string }): TableLike;
}

/** A Plotly figure as plain data. */
export interface FigureLike {
  data: any[];
  layout?: { [key: string]: any };
  config?: { [key: string]: any };
}

/** An object that renders itself: `show()` emits the bundle it returns as-is. */
export interface MimeBundleProvider {
  toMimeBundle(): MimeBundle;
}

/** True for Arquero tables (anything with `numRows()` and `toHTML()`). */
export function isTable(x: unknown): x is TableLike {
  return (
    typeof x === "object" &&
    x !== null &&
    typeof (x as TableLike).numRows === "function" &&
    typeof (x as TableLike).toHTML === "function"
  );
}

/** True for Plotly figures: `{ data: any[], layout?: object, config?: object }`. */
export function isFigure(x: unknown): x is FigureLike {
  if (typeof x !== "object" || x === null || !Array.isArray((x as FigureLike).data)) return false;
  const { layout, config } = x as FigureLike;
  return (layout === undefined || typeof layout === "object") && (config === undefined || typeof config === "object");
}

function isBundleProvider(x: unknown): x is MimeBundleProvider {
  return typeof x === "object" && x !== null && typeof (x as MimeBundleProvider).toMimeBundle === "function";
}

/** `1234567` → `"1,234,567"` (locale-independent). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Footer line for a table: "1,000,000 rows × 2 columns (showing first 20)". */
export function tableFooter(rows: number, cols: number, shown: number): string {
  const base = `${formatCount(rows)} ${rows === 1 ? "row" : "rows"} × ${formatCount(cols)} ${cols === 1 ? "column" : "columns"}`;
  return shown < rows ? `${base} (showing first ${formatCount(shown)})` : base;
}

/** Shown for a missing value (null, undefined, NaN) in a formatted table. */
export const MISSING = "–";

/** Time-unit suffixes and the next larger unit, for re-scaling large values. */
const NEXT_UNIT: { [suffix: string]: string } = { _ns: "_us", _us: "_ms", _ms: "_s" };

/**
 * Format one table cell: missing values (null, undefined, NaN) as "–"; integers as they are;
 * other numbers of magnitude ≥ 1000 rounded to integers, smaller ones to 4 significant digits.
 */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return MISSING;
  if (typeof v !== "number") return typeof v === "object" ? JSON.stringify(v) : String(v);
  if (Number.isNaN(v)) return MISSING;
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  return String(Number(v.toPrecision(4)));
}

/**
 * Per-column display plan for the rows shown: the formatter, and a new column name when a time
 * column is re-scaled to the next unit (values ≥ 100,000 in the old unit).
 */
export function tableFormats(t: TableLike): { format: { [col: string]: (v: unknown) => string }; rename: { [from: string]: string } } {
  const format: { [col: string]: (v: unknown) => string } = {};
  const rename: { [from: string]: string } = {};
  if (typeof t.columnNames !== "function" || typeof t.array !== "function") return { format, rename };
  for (const name of t.columnNames()) {
    const values = Array.from(t.array(name) as ArrayLike<unknown>);
    const present = values.filter((v) => v !== null && v !== undefined && !(typeof v === "number" && Number.isNaN(v)));
    const numeric = present.length > 0 && present.every((v) => typeof v === "number");
    if (!numeric) {
      if (present.length < values.length) format[name] = (v) => formatCell(v);
      continue;
    }
    let scale = 1;
    let shown = name;
    const suffix = Object.keys(NEXT_UNIT).find((u) => name.endsWith(u));
    const maxAbs = Math.max(...present.map((v) => Math.abs(v as number)).filter(Number.isFinite), 0);
    if (suffix !== undefined && maxAbs >= 100_000) {
      scale = 1000;
      shown = name.slice(0, -suffix.length) + NEXT_UNIT[suffix];
      rename[name] = shown;
    }
    format[shown] = scale === 1 ? (v) => formatCell(v) : (v) => formatCell(typeof v === "number" ? v / scale : v);
  }
  return { format, rename };
}

function tableBundle(t: TableLike, opts: ShowOptions): MimeBundle {
  const limit = Math.max(0, Math.floor(opts.limit ?? 20));
  const rows = t.numRows();
  const cols = t.numCols();
  const htmlRows = Math.min(rows, limit);
  const plainRows = Math.min(rows, 10, limit);
  // Slice first: toHTML({limit}) would still scan every row for format inference.
  const render = (n: number, how: "toHTML" | "toMarkdown"): string => {
    let part = t.slice(0, n);
    if (opts.format === false) return part[how]();
    const { format, rename } = tableFormats(part);
    if (Object.keys(rename).length > 0 && typeof part.rename === "function") part = part.rename(rename);
    else for (const [from, to] of Object.entries(rename)) { format[from] = format[to]; delete format[to]; }
    return part[how]({ format });
  };
  const renamed = opts.format === false ? [] : Object.entries(tableFormats(t.slice(0, htmlRows)).rename);
  const note = renamed.length > 0 ? `; ${renamed.map(([a, b]) => `${b} = ${a} / 1000`).join(", ")}` : "";
  const html =
    (opts.title !== undefined ? `<h4>${escapeHtml(opts.title)}</h4>\n` : "") +
    render(htmlRows, "toHTML") +
    `\n<div style="font-size:85%;color:#666;margin-top:0.3em">${tableFooter(rows, cols, htmlRows)}${escapeHtml(note)}</div>`;
  const plain =
    (opts.title !== undefined ? `${opts.title}\n\n` : "") +
    render(plainRows, "toMarkdown") +
    `\n${tableFooter(rows, cols, plainRows)}`;
  return { "text/html": html, "text/plain": plain };
}

/** The title text of a Plotly layout (string or `{text}`), or undefined. */
export function figureTitle(fig: FigureLike): string | undefined {
  const title = fig.layout?.title;
  if (typeof title === "string") return title;
  if (typeof title === "object" && title !== null && typeof title.text === "string") return title.text;
  return undefined;
}

/**
 * Deep-copy a figure into plain JSON (typed arrays → arrays, bigint → number, Date → ISO
 * string, NaN/±Infinity → null), optionally replacing its title.
 */
export function plainFigure(fig: FigureLike, title?: string): { data: any[]; layout: { [key: string]: any }; config: { [key: string]: any } } {
  const json = JSON.stringify(fig, (_key, value) => {
    if (typeof value === "bigint") return Number(value);
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
    return value;
  });
  const copy = JSON.parse(json) as { data: any[]; layout?: { [key: string]: any }; config?: { [key: string]: any } };
  const layout = copy.layout ?? {};
  if (title !== undefined) {
    layout.title = typeof layout.title === "object" && layout.title !== null ? { ...layout.title, text: title } : { text: title };
  }
  return { data: copy.data, layout, config: copy.config ?? {} };
}

/** JSON for embedding inside a `<script>`: no `</script`, no `<!--`, no U+2028/2029. */
export function scriptJson(x: unknown): string {
  return JSON.stringify(x)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

let plotlyJsCache: string | undefined;

/** The contents of plotly.min.js from the `plotly.js-dist-min` package (read once, cached). */
export function plotlyJsSource(): string {
  if (plotlyJsCache === undefined) {
    const require = createRequire(import.meta.url);
    const file = require.resolve("plotly.js-dist-min/plotly.min.js");
    plotlyJsCache = readFileSync(file, "utf8").replace(/<\/script/gi, "<\\/script");
  }
  return plotlyJsCache;
}

/** Script that inlines plotly.js and then runs any figure draws queued before it loaded. */
export function plotlyLoaderHtml(): string {
  return (
    `<script type="text/javascript">${plotlyJsSource()}\n</script>\n` +
    `<script type="text/javascript">(function(){var q=window.__hvsimPlotlyQueue||[];window.__hvsimPlotlyQueue=[];` +
    `for(var i=0;i<q.length;i++){try{q[i]();}catch(e){console.error(e);}}})();</script>\n`
  );
}

/**
 * `<div>` + `<script>` drawing one figure: calls `Plotly.newPlot` when `window.Plotly` exists,
 * else queues the draw on `window.__hvsimPlotlyQueue` (drained by {@link plotlyLoaderHtml}).
 */
export function figureDivHtml(fig: { data: any[]; layout: { [key: string]: any }; config: { [key: string]: any } }, divId: string): string {
  const height = typeof fig.layout.height === "number" ? fig.layout.height : 450;
  const width = typeof fig.layout.width === "number" ? `${fig.layout.width}px` : "100%";
  const id = escapeHtml(divId);
  return (
    `<div id="${id}" class="hvsim-plotly" data-hvsim-plot="1" style="width:${width};height:${height}px;"></div>\n` +
    `<script type="text/javascript">(function(){` +
    `var el=document.getElementById(${scriptJson(divId)})||(document.currentScript&&document.currentScript.previousElementSibling);` +
    `var fig=${scriptJson(fig)};` +
    `function draw(){window.Plotly.newPlot(el,fig.data,fig.layout,fig.config);}` +
    `if(window.Plotly&&window.Plotly.newPlot){draw();}else{(window.__hvsimPlotlyQueue=window.__hvsimPlotlyQueue||[]).push(draw);}` +
    `})();</script>`
  );
}

let divCounter = 0;
const divToken = process.pid.toString(36) + Date.now().toString(36);

/** A fresh figure div id: `hvsim-plot-<process token>-<counter>`. */
export function nextDivId(): string {
  divCounter += 1;
  return `hvsim-plot-${divToken}-${divCounter}`;
}

function figureBundle(fig: FigureLike, opts: BundleOptions): MimeBundle {
  const plain = plainFigure(fig, opts.title);
  const title = figureTitle(plain) ?? "untitled";
  const n = plain.data.length;
  const bundle: MimeBundle = {
    [PLOTLY_MIME]: plain,
    "text/plain": `Plotly figure: ${title} (${n} ${n === 1 ? "trace" : "traces"})`,
  };
  const mode = opts.plotlyJs ?? "none";
  if (mode !== "lean") {
    const div = figureDivHtml(plain, opts.divId ?? nextDivId());
    bundle["text/html"] = mode === "inline" ? plotlyLoaderHtml() + div : div;
  }
  return bundle;
}

/**
 * Build the MIME bundle `show()` would emit for `x` (pure apart from the div-id counter when
 * `divId` is not given):
 * - Arquero table → `text/html` (first `limit` rows + footer) and `text/plain` (Markdown of the
 *   first 10 rows + footer);
 * - Plotly figure → `application/vnd.plotly.v1+json`, `text/html` (unless `plotlyJs: "lean"`)
 *   and a one-line `text/plain`;
 * - string → `text/markdown` + `text/plain`;
 * - object with `toMimeBundle()` → that bundle;
 * - anything else → `text/plain` (`util.inspect`).
 */
export function bundleFor(x: unknown, opts: BundleOptions = {}): MimeBundle {
  if (isTable(x)) return tableBundle(x, opts);
  if (isFigure(x)) return figureBundle(x, opts);
  if (typeof x === "string") {
    const text = opts.title !== undefined ? `**${opts.title}**\n\n${x}` : x;
    return { "text/markdown": text, "text/plain": text };
  }
  if (isBundleProvider(x)) return x.toMimeBundle();
  const text = inspect(x, { depth: 4, maxArrayLength: 50, breakLength: 100 });
  return { "text/plain": opts.title !== undefined ? `${opts.title}\n${text}` : text };
}
