/**
 * Sweep metrics: one number per run, taken from one of the run's tables.
 *
 * A metric is written `TABLE.COLUMN:AGG` (e.g. `tasks.deadline_misses:sum`,
 * `cyclictest.max_latency_us:max`), optionally with row filters,
 * `TABLE[COL=VALUE,...].COLUMN:AGG` (e.g. `cyclictest[domain=domU].max_latency_us:max`),
 * and optionally named, `NAME=EXPR`. AGG is one of sum, mean, min, max,
 * count (non-null values), first (the first row's value; the default when
 * AGG is omitted). The column of the runs table is NAME, or
 * `AGG_TABLE_COLUMN` (e.g. `max_cyclictest_max_latency_us`), which keeps
 * the unit suffix last. Nulls and non-finite values are skipped; booleans
 * count as 0/1; a metric with no values is null.
 *
 * Without metrics, a sweep uses {@link defaultMetrics}: the headline figures
 * of the workloads and hypervisor the spec has.
 */
import type * as aq from "arquero";
import type { SimSpec } from "../spec/types.js";

/** How to reduce a column to one number per run. */
export type MetricAgg = "sum" | "mean" | "min" | "max" | "count" | "first";
const AGGS: readonly MetricAgg[] = ["sum", "mean", "min", "max", "count", "first"];

/** A metric in object form (what the string form parses to). */
export interface MetricSpec {
  /** Column name in the runs table (default `AGG_TABLE_COLUMN`). */
  name?: string;
  table: string;
  column: string;
  agg?: MetricAgg;
  /** Keep only the rows whose columns equal these values (compared as text). */
  where?: Record<string, string | number | boolean>;
}

/** A parsed, named metric. */
export interface Metric {
  name: string;
  table: string;
  column: string;
  agg: MetricAgg;
  where: [string, string][];
  /** The string form, for the sweep's identity and for messages. */
  text: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `[NAME=]TABLE[FILTERS].COLUMN[:AGG]`; throws a message that names the metric on a malformed one. */
export function parseMetric(m: string | MetricSpec): Metric {
  if (typeof m !== "string") {
    const agg = m.agg ?? "first";
    const where = Object.entries(m.where ?? {}).map(([k, v]) => [k, String(v)] as [string, string]);
    const filt = where.length ? `[${where.map(([k, v]) => `${k}=${v}`).join(",")}]` : "";
    const text = `${m.name ? m.name + "=" : ""}${m.table}${filt}.${m.column}:${agg}`;
    return check({ name: m.name ?? `${agg}_${m.table}_${m.column}`, table: m.table, column: m.column, agg, where, text }, text);
  }
  const text = m.trim();
  const re = /^(?:([A-Za-z_][A-Za-z0-9_]*)=)?([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\]]*)\])?\.([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?$/;
  const g = re.exec(text);
  if (!g) throw new Error(`metric ${JSON.stringify(m)}: expected [NAME=]TABLE[COL=VALUE,...].COLUMN[:AGG], e.g. tasks.deadline_misses:sum`);
  const [, name, table, filt, column, aggText] = g;
  const where: [string, string][] = [];
  if (filt !== undefined) {
    for (const f of filt.split(",")) {
      const eq = f.indexOf("=");
      if (eq <= 0) throw new Error(`metric ${JSON.stringify(m)}: filter ${JSON.stringify(f)} is not COL=VALUE`);
      where.push([f.slice(0, eq).trim(), f.slice(eq + 1).trim()]);
    }
  }
  const agg = (aggText ?? "first") as MetricAgg;
  return check({ name: name ?? `${agg}_${table}_${column}`, table, column, agg, where, text }, text);
}

function check(x: Metric, text: string): Metric {
  if (!AGGS.includes(x.agg)) throw new Error(`metric ${JSON.stringify(text)}: unknown aggregate ${JSON.stringify(x.agg)}; allowed: ${AGGS.join(", ")}`);
  if (!IDENT.test(x.name)) throw new Error(`metric ${JSON.stringify(text)}: name ${JSON.stringify(x.name)} must be letters, digits and _`);
  return x;
}

/** Parses a metric list and checks that names are distinct and do not clash with the sweep's own columns. */
export function parseMetrics(list: readonly (string | MetricSpec)[], reserved: readonly string[]): Metric[] {
  const ms = list.map(parseMetric);
  const seen = new Set(reserved);
  for (const m of ms) {
    if (seen.has(m.name)) throw new Error(`metric ${JSON.stringify(m.text)}: column name ${JSON.stringify(m.name)} is used twice (name it: NAME=${m.text})`);
    seen.add(m.name);
  }
  return ms;
}

/**
 * Default metrics for a spec, from the workload kinds and the hypervisor
 * it has: Context1 loops/s; cyclictest worst, mean and p99 latency;
 * periodic tasks' jobs, deadline misses, worst response and preemptions;
 * finite CPU hogs' last finish; device-model access times; Xen vCPU
 * runnable (waiting) time; and always the guest CPUs' busy time.
 */
export function defaultMetrics(spec: SimSpec): string[] {
  const kinds = new Set<string>();
  const units = [...spec.guests.map((g) => g.workloads), spec.hypervisor.kind === "kvm" ? spec.hypervisor.host_workloads ?? [] : []];
  let finiteHog = false;
  for (const ws of units) for (const w of ws) {
    kinds.add(w.kind);
    if (w.kind === "cpu-hog" && w.work_ms !== undefined) finiteHog = true;
  }
  const out: string[] = [];
  if (kinds.has("context1")) out.push("context1.loops_per_s:sum");
  if (kinds.has("cyclictest")) out.push("cyclictest.max_latency_us:max", "cyclictest.avg_latency_us:mean", "cyclictest.p99_latency_us:max");
  if (kinds.has("periodic")) out.push("tasks.jobs:sum", "tasks.deadline_misses:sum", "tasks.max_response_us:max", "tasks.preemptions:sum");
  if (finiteHog) out.push("programs.finish_ms:max");
  if (kinds.has("device-io")) out.push("device_io.mean_access_us:mean", "device_io.max_access_us:max");
  if (spec.hypervisor.kind === "xen") out.push("vcpus.runnable_ms:sum");
  out.push("guest_cpus.busy_ms:sum");
  return out;
}

/** Evaluates one metric on a run's tables; throws naming the table or column (and what exists) when missing. */
export function evalMetric(m: Metric, tables: Record<string, aq.ColumnTable>): number | null {
  const t = tables[m.table];
  if (!t) throw new Error(`metric ${JSON.stringify(m.text)}: the run has no table ${JSON.stringify(m.table)}; it has ${Object.keys(tables).join(", ")}`);
  const cols = t.columnNames();
  for (const c of [m.column, ...m.where.map(([k]) => k)]) {
    if (!cols.includes(c)) throw new Error(`metric ${JSON.stringify(m.text)}: table ${m.table} has no column ${JSON.stringify(c)}; it has ${cols.join(", ")}`);
  }
  const n = t.numRows();
  const vals: number[] = [];
  let rows = 0;
  let first: number | null | undefined;
  for (let r = 0; r < n; r++) {
    if (m.where.some(([k, v]) => String(t.get(k, r)) !== v)) continue;
    rows++;
    const raw = t.get(m.column, r);
    const x = typeof raw === "boolean" ? (raw ? 1 : 0) : typeof raw === "number" && Number.isFinite(raw) ? raw : null;
    if (first === undefined) first = x;
    if (x !== null) vals.push(x);
  }
  if (rows === 0) return null;
  switch (m.agg) {
    case "first": return first ?? null;
    case "count": return vals.length;
    case "sum": return vals.reduce((a, b) => a + b, 0);
    case "mean": return vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null;
    case "min": return vals.length ? vals.reduce((a, b) => (b < a ? b : a)) : null;
    case "max": return vals.length ? vals.reduce((a, b) => (b > a ? b : a)) : null;
  }
}
