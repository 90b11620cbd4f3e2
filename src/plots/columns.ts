/**
 * Internal helpers to read Arquero columns as plain, JSON-safe JavaScript arrays and to split
 * rows into groups. Not part of the public API.
 */
import * as aq from "arquero";

/** Convert one Arquero cell value into something JSON.stringify and Plotly handle well. */
export function plainValue(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Throw a readable error if `name` is not a column of `t`. */
export function requireColumn(t: aq.ColumnTable, name: string, fn: string, role: string): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new Error(`${fn}: option "${role}" must be a column name`);
  }
  const names = t.columnNames();
  if (!names.includes(name)) {
    throw new Error(`${fn}: no column "${name}" (option "${role}"); columns are: ${names.join(", ")}`);
  }
}

/** A column as a plain Array (respecting the table's filter and order), JSON-safe values. */
export function columnValues(t: aq.ColumnTable, name: string): unknown[] {
  const arr = t.array(name) as ArrayLike<unknown>;
  const out = new Array<unknown>(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = plainValue(arr[i]);
  return out;
}

/** A column as numbers (`NaN` for anything non-numeric or missing). */
export function numericValues(t: aq.ColumnTable, name: string): number[] {
  const arr = t.array(name) as ArrayLike<unknown>;
  const out = new Array<number>(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = toNumber(arr[i]);
  return out;
}

/** Coerce a cell to a number: numbers and bigints as-is, Dates to epoch ms, else NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/** Display key for a group value. */
export function groupKey(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** One group of rows: its display key and the row positions (into the column arrays). */
export interface RowGroup {
  key: string;
  rows: number[];
}

/**
 * Split rows by the value of `groupBy` (one group with key "" when `groupBy` is undefined).
 * Groups appear in order of first appearance, so the caller controls order with `orderby`.
 */
export function groupRows(t: aq.ColumnTable, groupBy: string | undefined): RowGroup[] {
  const n = t.numRows();
  if (groupBy === undefined) {
    const rows = new Array<number>(n);
    for (let i = 0; i < n; i++) rows[i] = i;
    return [{ key: "", rows }];
  }
  const values = t.array(groupBy) as ArrayLike<unknown>;
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = groupKey(values[i]);
    let rows = byKey.get(k);
    if (rows === undefined) {
      rows = [];
      byKey.set(k, rows);
    }
    rows.push(i);
  }
  return Array.from(byKey, ([key, rows]) => ({ key, rows }));
}

/** Pick `rows` out of `values`. */
export function pick<T>(values: T[], rows: number[]): T[] {
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = values[rows[i]];
  return out;
}

/** Format a number for hover text: integers as-is, others with 6 significant digits. */
export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}
