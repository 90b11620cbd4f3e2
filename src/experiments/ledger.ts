/**
 * Findings ledgers: every claim of a paper's text, where it is made, what it
 * implies for the simulation, and whether the model reproduces it.
 *
 * A ledger is data (`data/reference/<experiment>.findings.json`): per claim
 * an `id`, the `source` (section, table or figure), the `claim` in the
 * paper's words, the `comparison` the reproduction makes, and `expected`:
 * "holds" (the model reproduces it; a run where it stops holding fails the
 * suite) or "diverges" (the model does not reproduce it yet; `tried` lists the
 * hypotheses examined and the evidence for each). The experiment module
 * computes each claim from its own result tables through a check registered
 * under the same id, so the ledger text and the code that measures it stay
 * one-to-one (see test/findings-ledger.test.ts).
 */
import { readFileSync } from "node:fs";
import * as aq from "arquero";
import { DATA_DIR } from "../hw/board.js";

/** One claim of a paper, as the ledger states it. */
export interface LedgerClaim {
  id: string;
  source: string;
  claim: string;
  comparison: string;
  expected: "holds" | "diverges";
  /** For divergent claims: the hypotheses tried and what each showed. */
  tried?: string[];
}

/** A ledger file. */
export interface Ledger {
  experiment: string;
  paper: string;
  claims: LedgerClaim[];
}

/** The result of one check: a measured value (with its unit, as text) and whether the claim holds. */
export interface CheckResult {
  measured: string;
  holds: boolean;
}

/** One row of a `findings` table. */
export interface FindingRow {
  finding: string;
  source: string;
  claim: string;
  measured: string;
  holds: boolean;
  expected: "holds" | "diverges";
}

/** Reads `data/reference/<experiment>.findings.json`. */
export function readLedger(experiment: string): Ledger {
  return JSON.parse(readFileSync(`${DATA_DIR}reference/${experiment}.findings.json`, "utf8")) as Ledger;
}

/**
 * Evaluates every claim of a ledger with the checks registered for it and
 * returns the `findings` table (`finding`, `source`, `claim`, `measured`,
 * `holds`, `expected`). A claim without a check, or a check without a claim,
 * is an error: the ledger and the code must cover each other.
 */
export function evaluateLedger(ledger: Ledger, checks: Record<string, () => CheckResult>): aq.ColumnTable {
  const ids = new Set(ledger.claims.map((c) => c.id));
  const missing = ledger.claims.filter((c) => !Object.prototype.hasOwnProperty.call(checks, c.id)).map((c) => c.id);
  const extra = Object.keys(checks).filter((k) => !ids.has(k));
  if (missing.length || extra.length) {
    throw new Error(`findings ledger ${ledger.experiment}: claims without a check [${missing.join(", ")}], checks without a claim [${extra.join(", ")}]`);
  }
  const rows: FindingRow[] = ledger.claims.map((c) => {
    let r: CheckResult;
    try {
      r = checks[c.id]();
    } catch (e) {
      r = { measured: `not measurable: ${(e as Error).message}`, holds: false };
    }
    return { finding: c.id, source: c.source, claim: c.claim, measured: r.measured, holds: r.holds, expected: c.expected };
  });
  return aq.from(rows);
}

/** Rounds for display: integers above 100, one decimal below. */
export function fmt(x: number, unit = "µs"): string {
  if (!Number.isFinite(x)) return String(x);
  const v = Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 10) / 10;
  return `${v} ${unit}`.trim();
}
