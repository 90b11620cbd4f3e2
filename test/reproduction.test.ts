// Reproduction checks for takakura-context1 through the CLI contract
// (`hvsim reproduce takakura-context1 --json --quick`), against the published numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findingsFromTable, unexpectedFindings } from "../src/experiments/findings.js";

const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

test("hvsim reproduce takakura-context1 --json --quick", { timeout: 10 * 60 * 1000 }, () => {
  const out = execFileSync(process.execPath, [cli, "reproduce", "takakura-context1", "--json", "--quick"], {
    encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 * 1024 * 1024,
  });
  const j = JSON.parse(out); // stdout is exactly one JSON document
  assert.equal(j.experiment, "takakura-context1");
  const sweep = j.tables.sweep as any[];
  assert.deepEqual(sweep.map((r) => r.ratelimit_ms), [1, 2, 5, 10, 15, 20, 30, 50, 80, 128]);
  for (const r of sweep) {
    for (const c of ["ratelimit_ms", "loops_per_s_mean", "loops_per_s_sd", "fast_share"]) assert.equal(typeof r[c], "number", c);
    assert.equal(r.seeds, 5);
  }

  // The talk's findings (the ledger, data/reference/takakura-context1.findings.json): in these quick
  // runs every claim comes out as the ledger expects it at full length (test/findings-ledger.test.ts).
  const fs = findingsFromTable(j.tables.findings);
  for (const id of ["wakeup-granularity-3ms", "sleeper-threshold-9ms", "xen-introduces-imbalance", "pvta-off-makes-steal-visible", "right-ratelimit-keeps-fast-pattern", "best-beats-1ms"])
    assert.ok(fs.find((f) => f.id === id)?.holds, id);
  assert.deepEqual(unexpectedFindings(fs).map((f) => `${f.id}: ${f.measured}`), []);
  const shrink = (j.tables.shrink as any[])[0];
  assert.equal(shrink.published, 28);
});

test("hvsim list and bad input", () => {
  const list = JSON.parse(execFileSync(process.execPath, [cli, "list", "--json"], { encoding: "utf8" }));
  assert.ok(list.experiments.some((e: any) => e.id === "takakura-context1"));
  assert.throws(() => execFileSync(process.execPath, [cli, "reproduce", "nope"], { stdio: "pipe" }), /unknown experiment "nope"/);
});
