#!/usr/bin/env node
// Checks of an exported notebook HTML page. Static checks (no browser needed):
//   - no `file://` reference anywhere in the page (it would break once published);
//   - every relative `src=`/`href=` asset (plotly.min.js, hvsim-lab.css) exists next to the page;
//   - page size: at most 1 MB while plotly.js is a shared file (the default; --single-file
//     pages inline plotly.js and the CSS, and may be larger: limit 8 MB);
//   - --max-bytes N overrides the size limit.
// Then the render smoke test in headless Debian chromium, driven by playwright-core (which
// downloads no browser), unless --static-only:
//   - waits until every Plotly figure has drawn (a `.js-plotly-plot` containing `.main-svg`);
//   - asserts the number of drawn figures equals --expect N (default: the number of
//     `div[data-hvsim-plot]` placeholders in the page);
//   - fails on an empty figure (no trace with any data point);
//   - fails on JavaScript errors thrown by the page (except the harmless ones of Debian's
//     nbconvert: missing file:///usr/share/javascript/{requirejs,mathjax});
//   - optionally saves a full-page screenshot (--png out.png).
// Without /usr/bin/chromium the render test is skipped ("skipped: no chromium").
//
// Usage: node scripts/check-html.mjs FILE.html [--png out.png] [--expect N] [--timeout-ms MS]
//                                    [--static-only] [--single-file] [--max-bytes N]
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const CHROMIUM = process.env.HVSIM_CHROMIUM ?? "/usr/bin/chromium";

function usage(msg) {
  if (msg) console.error(`check-html: ${msg}`);
  console.error(
    "usage: node scripts/check-html.mjs FILE.html [--png out.png] [--expect N] [--timeout-ms MS] [--static-only] [--single-file] [--max-bytes N]",
  );
  process.exit(2);
}

let file;
let png;
let expect;
let timeoutMs = 120_000;
let staticOnly = false;
let singleFile = false;
let maxBytes;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--png") png = argv[++i] ?? usage("--png needs a path");
  else if (a === "--expect") {
    expect = Number(argv[++i]);
    if (!Number.isInteger(expect) || expect < 0) usage("--expect needs a non-negative integer");
  } else if (a === "--timeout-ms") {
    timeoutMs = Number(argv[++i]);
    if (!(timeoutMs > 0)) usage("--timeout-ms needs a positive number");
  } else if (a === "--static-only") staticOnly = true;
  else if (a === "--single-file") singleFile = true;
  else if (a === "--max-bytes") {
    maxBytes = Number(argv[++i]);
    if (!(maxBytes > 0)) usage("--max-bytes needs a positive number");
  } else if (a === "-h" || a === "--help") usage();
  else if (a.startsWith("--")) usage(`unknown option ${a}`);
  else if (file === undefined) file = a;
  else usage(`unexpected argument ${a}`);
}
if (file === undefined) usage("missing FILE.html");
if (!existsSync(file)) {
  console.error(`check-html: FAIL ${file}: no such file`);
  process.exit(1);
}

const MB = 1024 * 1024;

/** Problems found without a browser: file:// references, missing local assets, page size. */
function staticProblems(path) {
  const html = readFileSync(path, "utf8");
  const problems = [];
  // A file:// URL with a path (plotly.min.js itself contains the bare string "file://").
  const fileRefs = html.match(/file:\/\/\/?[\w.~%-][^\s"'<>)]*/gi) ?? [];
  for (const ref of [...new Set(fileRefs)].slice(0, 10)) problems.push(`absolute file:// reference: ${ref.slice(0, 200)}`);
  for (const m of html.matchAll(/<(?:script|link|img)\b[^>]*?\s(?:src|href)="([^"]+)"/gi)) {
    const ref = m[1];
    if (/^(?:[a-z][a-z0-9+.-]*:|\/\/|#)/i.test(ref)) {
      if (!/^(?:data|https?):/i.test(ref)) problems.push(`asset with an unusable URL: ${ref}`);
      continue;
    }
    if (ref.startsWith("/")) {
      problems.push(`asset with an absolute path: ${ref}`);
      continue;
    }
    const local = join(dirname(path), decodeURIComponent(ref.split(/[?#]/)[0]));
    if (!existsSync(local)) problems.push(`missing asset next to the page: ${ref}`);
  }
  const bytes = statSync(path).size;
  const shared = /<script src="plotly\.min\.js"><\/script>/.test(html);
  const limit = maxBytes ?? (singleFile || !shared ? 8 * MB : 1 * MB);
  if (bytes > limit) {
    problems.push(
      `page is ${(bytes / MB).toFixed(2)} MB, over the ${(limit / MB).toFixed(0)} MB limit` +
        (shared ? " for a page that shares plotly.min.js" : ""),
    );
  }
  return { problems, bytes };
}

const stat = staticProblems(file);
if (stat.problems.length > 0) {
  console.error(`check-html: FAIL ${file} (${(stat.bytes / 1024).toFixed(0)} kB):`);
  for (const p of stat.problems) console.error(`  - ${p}`);
  process.exit(1);
}
if (staticOnly) {
  console.log(`check-html: ok (static) ${file}: ${(stat.bytes / 1024).toFixed(0)} kB, no file:// references, assets present`);
  process.exit(0);
}
if (!existsSync(CHROMIUM)) {
  console.log(`check-html: static checks ok (${(stat.bytes / 1024).toFixed(0)} kB); render test skipped: no chromium (${CHROMIUM})`);
  process.exit(0);
}

// No page error is harmless any more: the pages load nothing from absolute paths.

async function main() {
  const t0 = Date.now();
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  let failed = false;
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const pageErrors = [];
    page.on("pageerror", (err) => pageErrors.push(String(err && err.message ? err.message : err)));
    await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: "load", timeout: timeoutMs });

    const placeholders = await page.evaluate(() => document.querySelectorAll("div[data-hvsim-plot]").length);
    const want = expect ?? placeholders;
    let timedOut = false;
    try {
      await page.waitForFunction(
        (n) =>
          Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".main-svg"))
            .length >= n,
        want,
        { timeout: timeoutMs, polling: 200 },
      );
    } catch {
      timedOut = true;
    }
    const stats = await page.evaluate(() => ({
      plots: document.querySelectorAll(".js-plotly-plot").length,
      drawn: Array.from(document.querySelectorAll(".js-plotly-plot")).filter((el) => el.querySelector(".main-svg")).length,
      tables: document.querySelectorAll("table").length,
      empty: Array.from(document.querySelectorAll(".js-plotly-plot"))
        .filter((el) => {
          const data = Array.isArray(el.data) ? el.data : [];
          const n = (t) => {
            for (const k of ["x", "y", "values", "z", "lat", "r"]) if (t && t[k] && t[k].length !== undefined) return t[k].length;
            return 0;
          };
          return data.length === 0 || data.every((t) => n(t) === 0);
        })
        .map((el) => {
          const t = el.layout && el.layout.title;
          return typeof t === "string" ? t : (t && t.text) || "untitled";
        }),
    }));
    if (png) await page.screenshot({ path: png, fullPage: true });

    const fatalErrors = pageErrors;
    const problems = [];
    if (timedOut) problems.push(`timed out after ${timeoutMs} ms waiting for ${want} drawn figure(s)`);
    if (stats.plots !== want) problems.push(`expected ${want} Plotly figure(s), found ${stats.plots} (${stats.drawn} drawn)`);
    if (stats.drawn !== stats.plots) problems.push(`${stats.plots - stats.drawn} figure(s) not drawn`);
    if (expect !== undefined && placeholders !== expect) {
      problems.push(`expected ${expect} figure placeholder div(s), found ${placeholders}`);
    }
    for (const m of fatalErrors) problems.push(`page error: ${m.slice(0, 300)}`);
    for (const t of stats.empty) problems.push(`empty figure (no data points): ${t}`);

    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const summary = `${(stat.bytes / 1024).toFixed(0)} kB, ${stats.drawn}/${want} figures drawn, ${stats.tables} tables${png ? `, screenshot ${png}` : ""}, ${secs} s`;
    if (problems.length > 0) {
      failed = true;
      console.error(`check-html: FAIL ${file}: ${summary}`);
      for (const p of problems) console.error(`  - ${p}`);
    } else {
      console.log(`check-html: ok ${file}: ${summary}`);
    }
  } finally {
    await browser.close();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`check-html: FAIL ${file}: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
