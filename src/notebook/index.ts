/**
 * `hvsim/notebook`: rich display for Jupyter notebooks running the tslab kernel, plus the
 * Plotly figure builders of `hvsim` plots (re-exported so a notebook needs one import).
 *
 * ```ts
 * import * as aq from "arquero";
 * import { show, lineFigure } from "hvsim/notebook";
 * show(table);                                   // HTML table + footer "N rows × M columns"
 * show(lineFigure(table, { x: "load_pct", y: "p99_us", title: "p99 vs load" }));
 * ```
 *
 * Environment: `HVSIM_PLOTLY_JS=lean` emits figures as Plotly JSON + text only (no inlined
 * plotly.js; render HTML with the `hvsim-lean` nbconvert template); `HVSIM_PLOTLY_JS=none`
 * emits the drawing `<div>` but never inlines plotly.js.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  bundleFor,
  figureDivHtml,
  isFigure,
  plainFigure,
  plotlyLoaderHtml,
  type PlotlyJsMode,
  type ShowOptions,
} from "./bundle.js";
import { emitBundle } from "./display.js";

export {
  bundleFor,
  isTable,
  isFigure,
  tableFooter,
  formatCount,
  formatCell,
  tableFormats,
  MISSING,
  figureTitle,
  plainFigure,
  PLOTLY_MIME,
} from "./bundle.js";
export type {
  MimeBundle,
  ShowOptions,
  BundleOptions,
  PlotlyJsMode,
  TableLike,
  FigureLike,
  MimeBundleProvider,
} from "./bundle.js";
export { emitBundle, plainText } from "./display.js";
export type { EmitChannel } from "./display.js";
export * from "../plots/index.js";

/** True once this process has sent plotly.js inline to the front end. */
let plotlyInlined = false;

/** The plotly.js delivery mode from `HVSIM_PLOTLY_JS` ("inline" unless "lean" or "none"). */
export function plotlyJsMode(): PlotlyJsMode {
  const v = (process.env.HVSIM_PLOTLY_JS ?? "").trim().toLowerCase();
  return v === "lean" || v === "none" ? v : "inline";
}

/**
 * Display a value in the notebook (in plain Node: print its text form).
 * - Arquero table: HTML of the first `limit` rows (default 20) plus a "N rows × M columns"
 *   footer; text/plain is the Markdown of the first 10 rows.
 * - Plotly figure `{data, layout?, config?}`: Plotly JSON + HTML (plotly.js inlined with the
 *   first figure of the kernel process) + a one-line text summary; `title` replaces the
 *   figure's title. With `HVSIM_PLOTLY_JS=lean`, JSON + text only.
 * - string: Markdown.
 * - array: each element in turn.
 * - object with `toMimeBundle()`: that bundle; anything else: `util.inspect` text.
 */
export function show(x: unknown, opts?: ShowOptions): void {
  const o: ShowOptions = opts ?? {};
  if (Array.isArray(x)) {
    for (const el of x) show(el, o);
    return;
  }
  let plotlyJs = plotlyJsMode();
  const figure = isFigure(x);
  if (figure && plotlyJs === "inline" && plotlyInlined) plotlyJs = "none";
  const channel = emitBundle(bundleFor(x, { limit: o.limit, title: o.title, plotlyJs }));
  if (figure && plotlyJs === "inline" && channel !== "console") plotlyInlined = true;
}

/** Display a Markdown string (shortcut for `show(s)` with a string). */
export function markdown(s: string): void {
  emitBundle(bundleFor(String(s)));
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * Write a standalone HTML page showing `figures` (Plotly figures, e.g. from `lineFigure`) with
 * plotly.js inlined, so it works offline; creates the parent directory. For CLI export.
 */
export function toHTMLFile(figures: object[], path: string, title?: string): void {
  const list = Array.isArray(figures) ? figures : [figures];
  const pageTitle = title ?? "hvsim figures";
  const body = list.map((f, i) => {
    if (!isFigure(f)) throw new Error(`toHTMLFile: element ${i} is not a Plotly figure ({data: [], layout?: {}})`);
    return `<section class="hvsim-figure">\n${figureDivHtml(plainFigure(f), `hvsim-fig-${i + 1}`)}\n</section>`;
  });
  const html =
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${escapeHtml(pageTitle)}</title>\n` +
    `<style>body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em}` +
    `section.hvsim-figure{margin:1.5em 0}</style>\n` +
    plotlyLoaderHtml() +
    `</head>\n<body>\n<h1>${escapeHtml(pageTitle)}</h1>\n${body.join("\n")}\n</body>\n</html>\n`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
}
