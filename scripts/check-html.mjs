#!/usr/bin/env node
// Render smoke test of an exported notebook HTML page in headless Debian chromium, driven by
// playwright-core (which downloads no browser):
//   - waits until every Plotly figure has drawn (a `.js-plotly-plot` containing `.main-svg`);
//   - asserts the number of drawn figures equals --expect N (default: the number of
//     `div[data-hvsim-plot]` placeholders in the page);
//   - fails on JavaScript errors thrown by the page (except the harmless ones of Debian's
//     nbconvert: missing file:///usr/share/javascript/{requirejs,mathjax});
//   - optionally saves a full-page screenshot (--png out.png).
// Without /usr/bin/chromium it prints "skipped: no chromium" and exits 0.
//
// Usage: node scripts/check-html.mjs FILE.html [--png out.png] [--expect N] [--timeout-ms MS]
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const CHROMIUM = process.env.HVSIM_CHROMIUM ?? "/usr/bin/chromium";

function usage(msg) {
  if (msg) console.error(`check-html: ${msg}`);
  console.error("usage: node scripts/check-html.mjs FILE.html [--png out.png] [--expect N] [--timeout-ms MS]");
  process.exit(2);
}

let file;
let png;
let expect;
let timeoutMs = 120_000;
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
if (!existsSync(CHROMIUM)) {
  console.log(`check-html: skipped: no chromium (${CHROMIUM})`);
  process.exit(0);
}

const HARMLESS = /usr\/share\/javascript\/(requirejs|mathjax)|require is not defined|MathJax is not defined/i;

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
    }));
    if (png) await page.screenshot({ path: png, fullPage: true });

    const fatalErrors = pageErrors.filter((m) => !HARMLESS.test(m));
    const problems = [];
    if (timedOut) problems.push(`timed out after ${timeoutMs} ms waiting for ${want} drawn figure(s)`);
    if (stats.plots !== want) problems.push(`expected ${want} Plotly figure(s), found ${stats.plots} (${stats.drawn} drawn)`);
    if (stats.drawn !== stats.plots) problems.push(`${stats.plots - stats.drawn} figure(s) not drawn`);
    if (expect !== undefined && placeholders !== expect) {
      problems.push(`expected ${expect} figure placeholder div(s), found ${placeholders}`);
    }
    for (const m of fatalErrors) problems.push(`page error: ${m.slice(0, 300)}`);

    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    const summary = `${stats.drawn}/${want} figures drawn, ${stats.tables} tables${png ? `, screenshot ${png}` : ""}, ${secs} s`;
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
