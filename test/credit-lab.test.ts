// The Credit weight/cap lab (seed 004) through its CLI contract, and the BOOST mechanism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findingsFromTable, unexpectedFindings } from "../src/experiments/findings.js";

const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

test("hvsim reproduce credit-weight-cap --json: table shares", { timeout: 120_000 }, () => {
  const j = JSON.parse(execFileSync(process.execPath, [cli, "reproduce", "credit-weight-cap", "--json", "--quick"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
  assert.equal(j.experiment, "credit-weight-cap");
  const rows = j.tables.shares as any[];
  for (const c of ["domain", "weight", "cap_pct", "cpu_share", "exec_time_s"]) assert.ok(c in rows[0], c);
  const get = (sc: string, d: string) => rows.find((r) => r.scenario === sc && r.domain === d);
  // weights 512:256 under contention: the heavy program runs at 2/3 (work 2 s -> 3 s), the light one ends at 4 s
  assert.ok(Math.abs(get("weight-2:1", "dom1").exec_time_s - 3) < 0.06);
  assert.ok(Math.abs(get("weight-2:1", "dom2").exec_time_s - 4) < 0.06);
  // The lab's statements as findings (src/experiments/credit-weight-cap.ts `findings`): weights against
  // fluid GPS, a cap holds alone, work conservation, and BOOST (p99 < 100 µs at 10 % demand, > 10 ms at
  // 40 %, from two 2 s boostRun runs). Each must hold.
  const fs = findingsFromTable(j.tables.findings);
  assert.deepEqual(fs.map((f) => f.id), ["weights-share", "cap-alone", "work-conserving", "boost-under-share", "boost-only-under"]);
  assert.deepEqual(unexpectedFindings(fs).map((f) => `${f.id}: ${f.measured}`), []);
  assert.ok(fs.every((f) => f.holds));
});
