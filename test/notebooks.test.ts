// Executes the notebooks headlessly (scripts/run-notebooks.sh) with HVSIM_QUICK=1 and requires a
// clean run. Needs the Debian jupyter packages (bash scripts/setup.sh); set
// HVSIM_SKIP_NOTEBOOKS=1 to skip explicitly. Expects `npm run build` to have run (npm test does).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
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

test("notebooks/*.ipynb execute cleanly (HVSIM_QUICK=1)", { timeout: TIMEOUT_MS, skip }, async () => {
  requireJupyter();
  const { code, output } = await runNotebooks([], { HVSIM_QUICK: "1" });
  assert.equal(code, 0, `scripts/run-notebooks.sh exited with ${code}; last output:\n${tail(output)}`);
});

const SMOKE = join(ROOT, "test", "fixtures", "smoke.ipynb");

test(
  "notebook pipeline smoke fixture (tslab + hvsim/notebook + plotly)",
  { timeout: TIMEOUT_MS, skip: skip || (existsSync(SMOKE) ? false : "no test/fixtures/smoke.ipynb") },
  async () => {
    requireJupyter();
    const out = resolve(ROOT, "build", "test-fixtures");
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
