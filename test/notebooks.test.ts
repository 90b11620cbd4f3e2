// Executes the notebooks headlessly (scripts/run-notebooks.sh) with HVSIM_QUICK=1 into their own
// folder, build/test-notebooks, and requires a clean run; checks that the published site
// (build/site, written only by full-length runs: `npm run setup-and-run`) is left untouched, that
// a failing cell is reported with its message, and the static page checks. Needs the Debian
// jupyter packages (bash scripts/setup.sh); set HVSIM_SKIP_NOTEBOOKS=1 to skip the notebook runs
// explicitly. Expects `npm run build` to have run (npm test does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const JUPYTER = "/usr/bin/jupyter";
const TIMEOUT_MS = 40 * 60 * 1000;
const skip = process.env.HVSIM_SKIP_NOTEBOOKS === "1" ? "HVSIM_SKIP_NOTEBOOKS=1" : false;

/** The repository root: the nearest ancestor of this file holding scripts/run-notebooks.sh. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "scripts", "run-notebooks.sh"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

const ROOT = repoRoot();

function requireJupyter(): void {
  if (!existsSync(JUPYTER)) {
    assert.fail(
      `${JUPYTER} is missing, so the notebooks cannot be executed. Run \`bash scripts/setup.sh\` ` +
        "(as root; it installs jupyter-nbconvert, python3-nbclient, python3-jupyter-client and chromium), " +
        "or set HVSIM_SKIP_NOTEBOOKS=1 to skip this test explicitly.",
    );
  }
}

/** Run scripts/run-notebooks.sh, streaming its output to stderr; resolve with code and output. */
function runNotebooks(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", [join(ROOT, "scripts", "run-notebooks.sh"), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer): void => {
      const s = chunk.toString();
      output += s;
      process.stderr.write(s);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("close", (code) => resolvePromise({ code, output }));
  });
}

function tail(s: string, lines = 80): string {
  return s.split("\n").slice(-lines).join("\n");
}

/** path → "size mtime sha1" of every file under dir (empty map when dir does not exist). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        out.set(p, `${st.size} ${st.mtimeMs} ${createHash("sha1").update(readFileSync(p)).digest("hex")}`);
      }
    }
  };
  walk(dir);
  return out;
}

const SITE = join(ROOT, "build", "site");
const TEST_OUT = join(ROOT, "build", "test-notebooks");

test("notebooks/*.ipynb execute cleanly (HVSIM_QUICK=1) into build/test-notebooks, leaving build/site untouched", { timeout: TIMEOUT_MS, skip }, async () => {
  requireJupyter();
  const before = snapshot(SITE);
  const { code, output } = await runNotebooks([], { HVSIM_QUICK: "1", HVSIM_NOTEBOOK_OUT: TEST_OUT });
  assert.equal(code, 0, `scripts/run-notebooks.sh exited with ${code}; last output:\n${tail(output)}`);
  assert.deepEqual(snapshot(SITE), before, "a quick (test) run must not write into the published build/site");
  const pages = readdirSync(join(TEST_OUT, "site")).filter((f) => f.endsWith(".html") && f !== "index.html");
  const notebooks = readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb"));
  assert.deepEqual(pages.sort(), notebooks.map((f) => f.replace(/\.ipynb$/, ".html")).sort(), `one page per notebook in ${TEST_OUT}/site`);
  const index = readFileSync(join(TEST_OUT, "site", "index.html"), "utf8");
  for (const p of pages) assert.ok(index.includes(`href="${p}"`), `index.html links ${p}`);
  for (const asset of ["plotly.min.js", "hvsim-lab.css"]) assert.ok(existsSync(join(TEST_OUT, "site", asset)), `shared ${asset}`);
  for (const p of pages) {
    const html = readFileSync(join(TEST_OUT, "site", p), "utf8");
    assert.doesNotMatch(html, /file:\/\/\/?\w/, `${p} must not reference file:// paths`);
    assert.match(html, /In&nbsp;\[1\]/, `${p} shows execution counts`);
  }
});

const FAILING = join(ROOT, "test", "fixtures", "failing.ipynb");

test("a failing cell: its message in the run log, the page and the check; later cells marked not run", { timeout: TIMEOUT_MS, skip }, async () => {
  requireJupyter();
  const out = join(TEST_OUT, "failing");
  const { code, output } = await runNotebooks([FAILING], { HVSIM_QUICK: "1", HVSIM_NOTEBOOK_OUT: out, HVSIM_SKIP_HTML_CHECK: "1" });
  assert.notEqual(code, 0, "a failing cell must fail the run");
  // The SpecError's own message reaches the log (nbconvert alone printed an empty "<Error>:").
  assert.match(output, /FAILED failing\.ipynb cell 3 \(id f2\), In \[2\]/);
  assert.match(output, /SpecError: invalid hvsim spec:/);
  assert.match(output, /horizon_s: must be a number in 0\.000001\.\.1000000/);
  assert.match(output, /1 later code cell\(s\) not run/);
  const nb = JSON.parse(readFileSync(join(out, "notebooks", "failing.ipynb"), "utf8"));
  const cells = nb.cells.filter((c: any) => c.cell_type === "code");
  assert.deepEqual(cells.map((c: any) => c.execution_count), [1, 2, null]);
  const err = cells[1].outputs.find((o: any) => o.output_type === "error");
  assert.equal(err.ename, "SpecError");
  assert.match(err.evalue, /horizon_s: must be a number in/);
  assert.ok(!cells[2].outputs.some((o: any) => /third cell ran/.test(JSON.stringify(o))), "the cell after the error must not run");
  assert.match(JSON.stringify(cells[2].outputs), /not run: execution stopped at the error in cell 3/);
  const html = readFileSync(join(out, "site", "failing.html"), "utf8");
  assert.match(html, /horizon_s: must be a number in 0\.000001\.\.1000000/, "the page shows the message");
});

test("check-html: fails on a file:// reference, a missing asset and a page over 1 MB with shared plotly.js", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvsim-check-html-"));
  const run = (name: string, body: string): { status: number | null; out: string } => {
    const page = join(dir, name);
    writeFileSync(page, `<!DOCTYPE html><html><head><script src="plotly.min.js"></script></head><body>${body}</body></html>`);
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "check-html.mjs"), page, "--static-only"], { encoding: "utf8" });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const missing = run("a.html", "<p>hi</p>");
  assert.equal(missing.status, 1);
  assert.match(missing.out, /missing asset next to the page: plotly\.min\.js/);
  writeFileSync(join(dir, "plotly.min.js"), "/* stand-in */");
  assert.equal(run("b.html", "<p>hi</p>").status, 0);
  const abs = run("c.html", '<script src="file:///usr/share/javascript/mathjax/MathJax.js"></script>');
  assert.equal(abs.status, 1);
  assert.match(abs.out, /absolute file:\/\/ reference: file:\/\/\/usr\/share\/javascript\/mathjax/);
  const big = run("d.html", `<p>${"x".repeat(1_100_000)}</p>`);
  assert.equal(big.status, 1);
  assert.match(big.out, /over the 1 MB limit for a page that shares plotly\.min\.js/);
});

test("check-notebooks: fails on an empty figure", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvsim-check-nb-"));
  const nb = (data: unknown[]) => ({
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [{ cell_type: "code", id: "c1", execution_count: 1, metadata: {}, source: "show(fig)",
      outputs: [{ output_type: "display_data", metadata: {}, data: { "application/vnd.plotly.v1+json": { data, layout: { title: { text: "T" } } }, "text/plain": "fig" } }] }],
  });
  const check = (name: string, data: unknown[]) => {
    writeFileSync(join(dir, name), JSON.stringify(nb(data)));
    return spawnSync(process.execPath, [join(ROOT, "scripts", "check-notebooks.mjs"), join(dir, name)], { encoding: "utf8" });
  };
  const empty = check("empty.ipynb", [{ type: "scatter", x: [], y: [] }]);
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /empty figure "T"/);
  assert.equal(check("none.ipynb", []).status, 1);
  assert.equal(check("ok.ipynb", [{ type: "scatter", x: [1], y: [2] }]).status, 0);
});

const SMOKE = join(ROOT, "test", "fixtures", "smoke.ipynb");

test(
  "notebook pipeline smoke fixture (tslab + hvsim/notebook + plotly)",
  { timeout: TIMEOUT_MS, skip: skip || (existsSync(SMOKE) ? false : "no test/fixtures/smoke.ipynb") },
  async () => {
    requireJupyter();
    const out = resolve(TEST_OUT, "fixtures");
    const { code, output } = await runNotebooks([SMOKE], { HVSIM_QUICK: "1", HVSIM_NOTEBOOK_OUT: out });
    assert.equal(code, 0, `scripts/run-notebooks.sh exited with ${code}; last output:\n${tail(output)}`);
    const executed = readFileSync(join(out, "notebooks", "smoke.ipynb"), "utf8");
    assert.match(executed, /HVSIM_QUICK=1/, "the caller's environment must reach the kernel");
    assert.match(executed, /application\/vnd\.plotly\.v1\+json/);
    const html = readFileSync(join(out, "site", "smoke.html"), "utf8");
    assert.match(html, /data-hvsim-plot/);
    assert.match(html, /<table/);
  },
);
