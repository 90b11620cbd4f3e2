// The findings ledgers (data/reference/*.findings.json): every claim of a paper's text is computed by
// its experiment at full length, in the paper's own setup, and every claim the ledger expects to hold
// must hold. Claims the ledger lists as diverging are reported (they are the notebook's "what this
// reproduction does not show") and must carry what was tried. Full-length runs: about 2 minutes for
// abeni-faggioli, 1-2 minutes for takakura-context1 and about 1 minute for kiszka-rt-hypervisor on one core.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readLedger, type FindingRow as Row } from "../src/experiments/ledger.js";
import * as abeni from "../src/experiments/abeni-faggioli.js";
import * as takakura from "../src/experiments/takakura-context1.js";
import * as kiszka from "../src/experiments/kiszka-rt-hypervisor.js";

function checkLedger(id: string, rows: Row[]): void {
  const ledger = readLedger(id);
  assert.deepEqual(rows.map((r) => r.finding), ledger.claims.map((c) => c.id), "the findings table covers the ledger, in order");
  assert.equal(new Set(rows.map((r) => r.finding)).size, rows.length, "claim ids are unique");
  for (const c of ledger.claims) {
    assert.ok(c.source && c.claim && c.comparison, `${c.id}: source, claim and comparison are stated`);
    if (c.expected === "diverges") assert.ok(c.tried && c.tried.length > 0, `${c.id}: a diverging claim lists what was tried`);
  }
  const broken = rows.filter((r) => r.expected === "holds" && !r.holds);
  const diverging = rows.filter((r) => r.expected === "diverges");
  for (const r of diverging) process.stderr.write(`[${id}] diverges (${r.holds ? "now holds: update the ledger" : "as listed"}): ${r.finding}: ${r.measured}\n`);
  assert.deepEqual(
    broken.map((r) => `${r.finding}: ${r.measured}`),
    [],
    `${id}: claims the ledger expects to hold no longer hold`,
  );
  const nowHolding = diverging.filter((r) => r.holds).map((r) => r.finding);
  assert.deepEqual(nowHolding, [], `${id}: claims listed as diverging now hold: move them to "holds" in the ledger`);
}

test("abeni-faggioli: every claim of the paper, full length (20 s per configuration)", () => {
  const t = abeni.reproduce({ quick: false });
  checkLedger("abeni-faggioli", t.findings.objects() as unknown as Row[]);
});

test("takakura-context1: every claim of the talk, full length (10 s x 5 seeds per ratelimit)", () => {
  const t = takakura.reproduce({ quick: false });
  checkLedger("takakura-context1", t.findings.objects() as unknown as Row[]);
});

test("kiszka-rt-hypervisor: every claim of the paper, default length (2x10^5 cyclictest loops per configuration)", () => {
  const t = kiszka.reproduce({});
  checkLedger("kiszka-rt-hypervisor", t.findings.objects() as unknown as Row[]);
});
