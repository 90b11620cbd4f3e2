import * as aq from "arquero";
import type { SimSpec } from "../spec/types.js";
import { isTableName, TABLE_NAMES, type TableName, type TableRows, type TableSet } from "./tables.js";

/** Plain columns: name -> values. */
export type Columns = Record<string, ArrayLike<unknown>>;

/**
 * An Arquero table whose rows are `R`: `objects()`, `object()` and
 * `array(column)` are typed (and every other Arquero method is there).
 */
export type Table<R> = {
  objects(): R[];
  object(row?: number): R;
  array<C extends keyof R & string>(name: C): R[C][];
  columnNames(): (keyof R & string)[];
} & aq.ColumnTable;

/**
 * The result of one simulation run. Tables are Arquero tables with units in
 * the column names (see `TABLES` in results/tables.ts for every table and
 * column); `rows(name)` gives plain objects for JSON output.
 */
export class SimResult {
  private readonly cache = new Map<string, aq.ColumnTable>();
  private readonly columns: Record<string, Columns>;
  constructor(
    /** The validated spec that was simulated. */
    readonly spec: SimSpec,
    /** The seed of the run. */
    readonly seed: string,
    columns: TableSet | Record<string, Columns>,
    /** Engine statistics: events dispatched, wall-clock milliseconds, simulated seconds. */
    readonly stats: { events: number; wall_ms: number; simulated_s: number },
  ) {
    // catalogue order, whatever order the producers ran in
    const c = columns as Record<string, Columns>;
    this.columns = {};
    for (const n of TABLE_NAMES) if (c[n] !== undefined) this.columns[n] = c[n];
    for (const n of Object.keys(c)) if (!(n in this.columns)) this.columns[n] = c[n];
  }

  /** Names of the tables this run produced. */
  get tableNames(): TableName[] {
    return Object.keys(this.columns) as TableName[];
  }

  /** Whether this run produced table `name`. */
  has(name: string): name is TableName {
    return Object.prototype.hasOwnProperty.call(this.columns, name);
  }

  /**
   * One result table as an Arquero table, typed by its catalogue row.
   * Throws, listing the available tables, for a name this run did not produce.
   */
  table<N extends TableName>(name: N): Table<TableRows[N]>;
  /** A table named by a computed string: untyped rows. */
  table(name: string): aq.ColumnTable;
  table(name: string): aq.ColumnTable {
    let t = this.cache.get(name);
    if (t) return t;
    if (!this.has(name)) {
      const what = isTableName(name) ? "this run produced no table" : "no table";
      throw new Error(`${what} ${JSON.stringify(name)}; available: ${this.tableNames.join(", ")}`);
    }
    const cols = this.columns[name];
    const plain: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(cols)) plain[k] = Array.from(v as ArrayLike<unknown>);
    t = aq.table(plain);
    this.cache.set(name, t);
    return t;
  }

  /** One table as an array of row objects (typed by the catalogue). */
  rows<N extends TableName>(name: N): TableRows[N][];
  /** A table named by a computed string: untyped rows. */
  rows(name: string): Record<string, any>[];
  rows(name: string): object[] {
    return this.table(name).objects();
  }
}
