import * as aq from "arquero";
import type { SimSpec } from "../spec/types.js";

/** Plain columns: name -> values. */
export type Columns = Record<string, ArrayLike<unknown>>;

/**
 * The result of one simulation run. Tables are Arquero tables with units in
 * the column names; `rows(name)` gives plain objects for JSON output.
 */
export class SimResult {
  private readonly cache = new Map<string, aq.ColumnTable>();
  constructor(
    /** The validated spec that was simulated. */
    readonly spec: SimSpec,
    /** The seed of the run. */
    readonly seed: string,
    private readonly columns: Record<string, Columns>,
    /** Engine statistics: events dispatched, wall-clock milliseconds, simulated seconds. */
    readonly stats: { events: number; wall_ms: number; simulated_s: number },
  ) {}

  /** Names of the tables this run produced. */
  get tableNames(): string[] {
    return Object.keys(this.columns);
  }

  /** One result table as an Arquero table. Throws with the list of names if unknown. */
  table(name: string): aq.ColumnTable {
    let t = this.cache.get(name);
    if (t) return t;
    const cols = this.columns[name];
    if (!cols) throw new Error(`no table ${JSON.stringify(name)}; available: ${this.tableNames.join(", ")}`);
    const plain: Record<string, unknown[]> = {};
    for (const [k, v] of Object.entries(cols)) plain[k] = Array.from(v as ArrayLike<unknown>);
    t = aq.table(plain);
    this.cache.set(name, t);
    return t;
  }

  /** One table as an array of row objects. */
  rows(name: string): Record<string, unknown>[] {
    return this.table(name).objects() as Record<string, unknown>[];
  }
}
