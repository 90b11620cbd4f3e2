#!/usr/bin/env node
// Checks executed notebooks (.ipynb written by `jupyter nbconvert --execute`) for failures that
// nbconvert's exit code does not catch:
//   - stderr streams mentioning `UncaughtException` or `UnhandledPromiseRejection` (tslab prints
//     these in a *later* cell when a timer or an un-awaited promise throws after its cell ended);
//   - a cell whose value printed as a rejected promise (`Promise { <rejected> ... }` on stdout:
//     a forgotten `await`; tslab neither fails the cell nor reports an unhandled rejection);
//   - `error` outputs (written by nbconvert/execute.py for the failing cell: the error's name,
//     message and short stack are printed here);
//   - code cells that were not run because an earlier cell failed;
//   - figures with no data (no traces, or no trace with any point);
//   - notebooks that cannot be parsed.
// Other stderr output is reported as a warning only.
//
// Usage:
//   node scripts/check-notebooks.mjs build/notebooks/A.ipynb [B.ipynb ...]
//   node scripts/check-notebooks.mjs --count-figures build/notebooks/A.ipynb
//       (prints the number of Plotly figure outputs; used to set check-html's --expect)
import { readFileSync } from "node:fs";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";
const FATAL_STDERR = /UncaughtException|UnhandledPromiseRejection/;
const REJECTED_PROMISE = /Promise \{\s*<rejected>/;
const NOT_RUN = /^not run: execution stopped at the error in cell/;

/** Number of data points of a Plotly trace (x, y, values, z or lat, whichever it has). */
function tracePoints(trace) {
  for (const k of ["x", "y", "values", "z", "lat", "r"]) {
    const v = trace?.[k];
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === "object" && typeof v.bdata === "string") return v.bdata.length > 0 ? 1 : 0;
  }
  return 0;
}

/** True when a Plotly figure would draw nothing: no traces, or no trace with a point. */
export function isEmptyFigure(fig) {
  const data = Array.isArray(fig?.data) ? fig.data : [];
  return data.length === 0 || data.every((t) => tracePoints(t) === 0);
}

function text(x) {
  return Array.isArray(x) ? x.join("") : typeof x === "string" ? x : "";
}

function excerpt(s, n = 600) {
  const t = s.trim();
  return t.length > n ? `${t.slice(0, n)} …` : t;
}

function load(file) {
  const nb = JSON.parse(readFileSync(file, "utf8"));
  if (!nb || !Array.isArray(nb.cells)) throw new Error("not a notebook (no cells array)");
  return nb;
}

const args = process.argv.slice(2);

if (args[0] === "--count-figures") {
  let n = 0;
  for (const file of args.slice(1)) {
    for (const cell of load(file).cells) {
      for (const out of cell.outputs ?? []) if (out.data && PLOTLY_MIME in out.data) n++;
    }
  }
  console.log(n);
  process.exit(0);
}

if (args.length === 0) {
  console.error("usage: check-notebooks.mjs NOTEBOOK.ipynb [...] | --count-figures NOTEBOOK.ipynb");
  process.exit(2);
}

let failures = 0;
for (const file of args) {
  let nb;
  try {
    nb = load(file);
  } catch (e) {
    console.error(`[check] FAIL ${file}: cannot read: ${e.message}`);
    failures++;
    continue;
  }
  const problems = [];
  let warnings = 0;
  let codeCells = 0;
  let outputs = 0;
  let figures = 0;
  let notRun = 0;
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    codeCells++;
    const where = `cell ${i + 1}${cell.id ? ` (id ${cell.id})` : ""}`;
    for (const out of cell.outputs ?? []) {
      outputs++;
      if (out.data && PLOTLY_MIME in out.data) {
        figures++;
        const fig = out.data[PLOTLY_MIME];
        if (isEmptyFigure(fig)) {
          const t = fig?.layout?.title;
          problems.push(`${where}: empty figure "${typeof t === "string" ? t : t?.text ?? "untitled"}" (no trace has any data point)`);
        }
      }
      if (out.output_type === "error") {
        const tb = Array.isArray(out.traceback) && out.traceback.length > 0
          ? out.traceback.join("\n")
          : `${out.ename ?? "Error"}: ${out.evalue ?? ""}`;
        // Strip ANSI colour codes (IPython-style tracebacks) so the log stays readable.
        problems.push(`${where}, In [${cell.execution_count ?? " "}]: ${excerpt(tb.replace(/\x1b\[[0-9;]*m/g, ""), 1500)}`);
      } else if (out.output_type === "stream" && out.name === "stderr" && NOT_RUN.test(text(out.text))) {
        notRun++;
      } else if (out.output_type === "stream" && out.name === "stdout" && REJECTED_PROMISE.test(text(out.text))) {
        problems.push(`${where}: the cell's value is a rejected promise (missing await?):\n${excerpt(text(out.text))}`);
      } else if (out.output_type === "stream" && out.name === "stderr") {
        const s = text(out.text);
        if (FATAL_STDERR.test(s)) {
          problems.push(`${where}: stderr reports an uncaught error:\n${excerpt(s)}`);
        } else if (s.trim() !== "") {
          warnings++;
          console.warn(`[check] warning ${file} ${where}: stderr output:\n${excerpt(s, 300)}`);
        }
      }
    }
  });
  if (notRun > 0) problems.push(`${notRun} later code cell(s) not run because of the error above`);
  if (problems.length > 0) {
    failures++;
    console.error(`[check] FAIL ${file}: ${problems.length} problem(s)`);
    for (const p of problems) console.error(`  - ${p}`);
  } else {
    console.log(
      `[check] ok   ${file}: ${codeCells} code cells, ${outputs} outputs, ${figures} figures` +
        (warnings > 0 ? `, ${warnings} stderr warning(s)` : ""),
    );
  }
}
process.exit(failures > 0 ? 1 : 0);
