#!/usr/bin/env node
// Checks executed notebooks (.ipynb written by `jupyter nbconvert --execute`) for failures that
// nbconvert's exit code does not catch:
//   - stderr streams mentioning `UncaughtException` or `UnhandledPromiseRejection` (tslab prints
//     these in a *later* cell when a timer or an un-awaited promise throws after its cell ended);
//   - a cell whose value printed as a rejected promise (`Promise { <rejected> ... }` on stdout:
//     a forgotten `await`; tslab neither fails the cell nor reports an unhandled rejection);
//   - `error` outputs (output_type "error", i.e. an execute reply with status "error");
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
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    codeCells++;
    const where = `cell ${i + 1}${cell.id ? ` (id ${cell.id})` : ""}`;
    for (const out of cell.outputs ?? []) {
      outputs++;
      if (out.data && PLOTLY_MIME in out.data) figures++;
      if (out.output_type === "error") {
        problems.push(`${where}: error output ${out.ename ?? ""}: ${excerpt(String(out.evalue ?? ""))}`);
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
