// The Credit weight/cap lab (seed 004) through its CLI contract, and the BOOST mechanism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { boostRun } from "../src/experiments/credit-weight-cap.js";

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
  // a cap holds on an otherwise idle pCPU; without one, a lone domain gets all of it
  assert.ok(Math.abs(get("cap-50-alone", "dom1").cpu_share - 0.5) < 0.01);
  assert.ok(get("alone", "dom1").cpu_share > 0.99);
});

test("credit BOOST: a waking domain under its fair share preempts hogs at once; at the share it waits for slices", () => {
  const lat = (execUs: number) => {
    const a = Array.from(boostRun({ execUs, horizonS: 2 }).jobs.array("wakeup_latency_us") as ArrayLike<number>).sort((x, y) => x - y);
    return a[Math.floor(0.99 * (a.length - 1))];
  };
  assert.ok(lat(1000) < 100, `p99 at 10 % demand: ${lat(1000)} µs`);
  assert.ok(lat(4000) > 10_000, `p99 at 40 % demand: ${lat(4000)} µs`);
});
