// Reproduction checks for takakura-context1 through the CLI contract
// (`hvsim reproduce takakura-context1 --json --quick`), against the published numbers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

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

  // Published: Δ shrinks by about 28 µs per ms in the fast pattern (slide "Why not set a large
  // ratelimit?"). Tolerance: within ±50 % — the per-operation costs of the R-Car S4 are assumed,
  // not measured, and the drift is the difference of two such costs.
  const shrink = (j.tables.shrink as any[])[0];
  assert.equal(shrink.published, 28);
  assert.ok(shrink.simulated > 14 && shrink.simulated < 42, `simulated shrink ${shrink.simulated} µs/ms`);

  // The talk's mechanism, qualitatively: the best ratelimit beats -r 1ms, by keeping the fast pattern.
  const best = (j.tables.best as any[])[0].simulated;
  const at = (rl: number) => sweep.find((r) => r.ratelimit_ms === rl);
  assert.ok(at(best).loops_per_s_mean > 1.02 * at(1).loops_per_s_mean, "best beats 1 ms by > 2 %");
  assert.ok(at(best).fast_share > at(1).fast_share + 0.1, "and has more fast-pattern hand-offs");

  // What-if: PARAVIRT_TIME_ACCOUNTING=y hides the steal-time jumps, so the fast pattern disappears.
  for (const r of j.tables.sweep_pvta as any[]) assert.ok(r.fast_share < 0.2, `PVTA fast share ${r.fast_share} at ${r.ratelimit_ms} ms`);
});

test("hvsim list and bad input", () => {
  const list = JSON.parse(execFileSync(process.execPath, [cli, "list", "--json"], { encoding: "utf8" }));
  assert.ok(list.experiments.some((e: any) => e.id === "takakura-context1"));
  assert.throws(() => execFileSync(process.execPath, [cli, "reproduce", "nope"], { stdio: "pipe" }), /unknown experiment "nope"/);
});
