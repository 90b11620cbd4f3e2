import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { context1Spec } from "./helpers.js";

test("same spec and seed give identical tables; another seed differs", () => {
  const spec = context1Spec({ ratelimitMs: 5, horizonS: 1 });
  const a = simulate(spec, { seed: 42 });
  const b = simulate(structuredClone(spec), { seed: 42 });
  assert.deepEqual(a.tableNames, b.tableNames);
  for (const n of a.tableNames) assert.deepEqual(a.rows(n), b.rows(n), `table ${n}`);
  const c = simulate(spec, { seed: 43 });
  assert.notDeepEqual(a.rows("context1_gap"), c.rows("context1_gap"));
});

test("the spec is JSON-serialisable and round-trips to the same result", () => {
  const spec = context1Spec({ ratelimitMs: 30, horizonS: 0.5 });
  const again = JSON.parse(JSON.stringify(spec));
  assert.deepEqual(simulate(spec, { seed: 1 }).rows("context1"), simulate(again, { seed: 1 }).rows("context1"));
});
