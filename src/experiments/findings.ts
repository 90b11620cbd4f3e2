/**
 * Findings: each experiment's ledger of the paper's claims, computed from
 * its runs. A finding names the claim and where the paper makes it, what the
 * runs measured (with its unit), the comparison that decides it (`check`,
 * with its tolerance), whether it holds, and what the ledger expects
 * ("holds", or "diverges" for a claim the model is known not to reproduce;
 * `note` then says why, or what is missing). The same findings drive
 * `hvsim reproduce --json` (table `findings`), the experiment tests (a
 * finding whose outcome differs from its expectation fails the suite) and
 * the notebooks.
 */
import * as aq from "arquero";

/** One checked claim. */
export interface Finding {
  /** Stable id, unique within the experiment (kebab-case). */
  id: string;
  /** Where the claim is made: paper/seed, section, table, figure or slide. */
  source: string;
  /** The claim, in the paper's terms. */
  claim: string;
  /** What the runs measured, with its unit (a plain number when unitless). */
  measured: string | number;
  /** Whether the claim holds in the runs, by `check`. */
  holds: boolean;
  /** The comparison that decides `holds`, with its tolerance. */
  check?: string;
  /** What the ledger expects of these runs (default "holds"). */
  expected?: "holds" | "diverges";
  /** Why a claim is expected to diverge, or what it depends on. */
  note?: string;
}

/** Columns of the `findings` table of `hvsim reproduce --json`. */
export const FINDING_COLUMNS = ["finding", "source", "claim", "measured", "holds", "expected"] as const;

/** The `findings` table: finding, source, claim, measured (as text, with its unit), holds, expected. */
export function findingsTable(fs: Finding[]): aq.ColumnTable {
  return aq.table({
    finding: fs.map((f) => f.id),
    source: fs.map((f) => f.source),
    claim: fs.map((f) => f.claim),
    measured: fs.map((f) => String(f.measured)),
    holds: fs.map((f) => f.holds),
    expected: fs.map((f) => f.expected ?? "holds"),
  });
}

/** Findings back from a `findings` table (or its JSON rows): the inverse of {@link findingsTable}. */
export function findingsFromTable(t: aq.ColumnTable | Record<string, unknown>[]): Finding[] {
  const rows = (Array.isArray(t) ? t : t.objects()) as Record<string, any>[];
  return rows.map((r) => ({
    id: String(r.finding), source: String(r.source), claim: String(r.claim), measured: r.measured,
    holds: r.holds === true, expected: r.expected === "diverges" ? "diverges" : "holds",
  }));
}

/** The findings whose outcome differs from the ledger's expectation (an empty list: all as expected). */
export function unexpectedFindings(fs: Finding[]): Finding[] {
  return fs.filter((f) => f.holds !== ((f.expected ?? "holds") === "holds"));
}

/** A number with a unit, rounded to `digits` significant digits ("n/a" when not finite). */
export function withUnit(x: number | null | undefined, unit: string, digits = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "n/a";
  const s = Number(x.toPrecision(digits)).toString();
  return unit ? `${s} ${unit}` : s;
}
