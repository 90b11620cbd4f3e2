import * as aq from "arquero";
import type { SimSpec } from "../spec/types.js";
import { writeFileSync } from "node:fs";
import { perfettoTrace } from "../trace/perfetto.js";
import { traceDat } from "../trace/dat.js";
import { runningSlices } from "../trace/slices.js";
import type { TraceEvents } from "../trace/record.js";
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
    /** Recorded scheduling events (with record.trace_events_max > 0), else null. */
    readonly traceEvents: TraceEvents | null = null,
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

  /**
   * Running slices of every level's CPUs from the recorded scheduling events
   * (record.trace_events_max): columns level (the hypervisor "xen", or a
   * kernel's name), cpu, task (task or vCPU name), pid, start_ms, end_ms.
   * Throws when the run recorded no events.
   */
  taskSlices(): aq.ColumnTable {
    const ev = this.needEvents();
    const s = runningSlices(ev);
    return aq.table({
      level: s.level.map((l) => ev.levels[l].name), cpu: s.cpu,
      task: s.pid.map((p, i) => ev.levels[s.level[i]].comms.get(p) ?? `pid ${p}`), pid: s.pid,
      start_ms: s.start_ns.map((t) => t / 1e6), end_ms: s.end_ns.map((t) => t / 1e6),
    });
  }

  /**
   * Writes the recorded scheduling events (record.trace_events_max > 0) as a trace:
   * - format "dat" (default for a path ending in .dat): trace-cmd's trace.dat (version 6), one file
   *   per level: `path` for the first level (Xen's pCPUs, the KVM host kernel or the bare-metal
   *   kernel), `<path without .dat>.<level>.dat` for each guest kernel; open with `trace-cmd report`
   *   or KernelShark;
   * - format "json" (default otherwise): Chrome/Perfetto trace-event JSON, one file, one process per level.
   * Returns the paths written. Throws when the run recorded no events.
   */
  exportTrace(path: string, opts: { format?: "dat" | "json" } = {}): string[] {
    const ev = this.needEvents();
    const format = opts.format ?? (path.toLowerCase().endsWith(".dat") ? "dat" : "json");
    if (format === "json") {
      writeFileSync(path, JSON.stringify(perfettoTrace(ev, { seed: this.seed, simulated_s: this.stats.simulated_s })));
      return [path];
    }
    if (format !== "dat") throw new Error(`exportTrace: format must be "dat" or "json", not ${JSON.stringify(format)}`);
    const base = path.toLowerCase().endsWith(".dat") ? path.slice(0, -4) : path;
    return ev.levels.map((L, l) => {
      const p = l === 0 ? path : `${base}.${L.name.replace(/[^A-Za-z0-9_-]/g, "_")}.dat`;
      writeFileSync(p, traceDat(ev, l));
      return p;
    });
  }

  private needEvents(): TraceEvents {
    if (this.traceEvents === null) {
      throw new Error("this run recorded no scheduling events: set record.trace_events_max (e.g. 1000000) in the spec");
    }
    return this.traceEvents;
  }
}
