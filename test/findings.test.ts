// Findings exported by each experiment (issue 9, part 5): the mechanism, and a finding's outcome decides the suite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { experiments } from "../src/experiments/index.js";
import { FINDING_COLUMNS, findingsFromTable, findingsTable, unexpectedFindings, withUnit, type Finding } from "../src/experiments/findings.js";
import * as F from "../src/experiments/five-schedulers.js";

const f = (id: string, holds: boolean, expected?: "holds" | "diverges"): Finding =>
  ({ id, source: "s", claim: "c", measured: holds ? "1 µs" : 2, holds, expected });

test("findings table: its columns, a round trip, and which findings are unexpected", () => {
  const fs = [f("a", true), f("b", false, "diverges"), f("c", false), f("d", true, "diverges")];
  const t = findingsTable(fs);
  assert.deepEqual(t.columnNames(), [...FINDING_COLUMNS]);
  assert.deepEqual(t.array("measured"), ["1 µs", "2", "2", "1 µs"]);
  assert.deepEqual(findingsFromTable(t).map((x) => [x.id, x.holds, x.expected]), [["a", true, "holds"], ["b", false, "diverges"], ["c", false, "holds"], ["d", true, "diverges"]]);
  // a claim expected to hold that does not, and a known divergence that now holds, are both unexpected
  assert.deepEqual(unexpectedFindings(fs).map((x) => x.id), ["c", "d"]);
  assert.equal(withUnit(19.872545869317328, "µs/ms", 3), "19.9 µs/ms");
  assert.equal(withUnit(NaN, "µs"), "n/a");
});

test("every experiment exports findings", () => {
  assert.deepEqual(experiments.map((e) => typeof e.findings), experiments.map(() => "function"));
});

test("five-schedulers findings from short runs: the ledger's expectations hold, ids are unique", () => {
  const all = F.runAll({ horizonS: 2.5, traceMax: 0 });
  const tables = {
    summary: all.summary,
    credit2_ratelimit: F.credit2Ratelimits({ horizonS: 2.5, ratelimitsUs: ["off", 1000] }),
    rtds_reservations: F.rtdsReservations({ horizonS: 2.5 }),
  };
  const fs = F.findings(tables);
  assert.equal(new Set(fs.map((x) => x.id)).size, fs.length);
  assert.deepEqual(unexpectedFindings(fs).map((x) => `${x.id}: ${x.measured}`), []);
  assert.ok(fs.some((x) => x.expected === "diverges" && x.note), "a known divergence says why");
});
