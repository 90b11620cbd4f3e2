/**
 * Sweep grids: dotted paths into a spec's JSON (`hypervisor.pools.0.scheduler.ratelimit_us`,
 * array indices as numbers), value lists parsed from the command line, the
 * product of several axes, and the validation of every grid point before any
 * run starts.
 */
import { SpecError, validateSpec, type SpecIssue } from "../spec/validate.js";
import { periodicIssues } from "../workloads/periodic.js";
import type { SimSpec } from "../spec/types.js";

/** One axis of a grid: a dotted path into the spec and the values it takes, in order. */
export interface GridAxis {
  path: string;
  values: unknown[];
}

/** One point of a grid: its index in the product (first axis outermost) and its value per axis. */
export interface GridPoint {
  index: number;
  values: unknown[];
  spec: SimSpec;
}

/** Splits `a,b,[1,2],{"x":1}` on the commas outside brackets, braces and quotes. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, quote = false, start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === '"') quote = false;
    } else if (ch === '"') quote = true;
    else if (ch === "[" || ch === "{") depth++;
    else if (ch === "]" || ch === "}") depth--;
    else if (ch === "," && depth === 0) { out.push(s.slice(start, i)); start = i + 1; }
  }
  out.push(s.slice(start));
  return out;
}

/** A command-line value: JSON where it parses (numbers, true/false/null, strings in quotes, arrays, objects), else the text. */
export function parseValue(s: string): unknown {
  const t = s.trim();
  try { return JSON.parse(t); } catch { return t; }
}

/** Parses `PATH=V1,V2,...` (one `--grid` flag) into an axis; throws with the flag's text on a malformed one. */
export function parseGridArg(arg: string): GridAxis {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`--grid ${JSON.stringify(arg)}: expected PATH=V1,V2,... (e.g. hypervisor.pools.0.scheduler.ratelimit_us=1000,5000)`);
  const path = arg.slice(0, eq).trim();
  const raw = arg.slice(eq + 1);
  if (raw.trim() === "") throw new Error(`--grid ${path}: no values after "="`);
  const parts = splitTopLevel(raw);
  if (parts.some((p) => p.trim() === "")) throw new Error(`--grid ${path}: an empty value in ${JSON.stringify(raw)}`);
  return { path, values: parts.map(parseValue) };
}

function pathSegments(path: string): string[] {
  const segs = path.split(".");
  if (path === "" || segs.some((s) => s === "")) throw new SpecError([{ path, message: "is not a dotted path (e.g. hypervisor.pools.0.scheduler.ratelimit_us)" }]);
  return segs;
}

/**
 * Sets `path` in a (copied) spec object. Every container on the way must
 * exist (an array index within its length); the last field may be new (a
 * field left at its default), and the spec validation decides whether it
 * is allowed. Throws a SpecError naming the path otherwise.
 */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const segs = pathSegments(path);
  let cur: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const here = segs.slice(0, i).join(".") || "(the spec)";
    const last = i === segs.length - 1;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) throw new SpecError([{ path, message: `${here} is a list: "${seg}" must be an index 0..${cur.length - 1}` }]);
      const k = Number(seg);
      if (k >= cur.length) throw new SpecError([{ path, message: `index ${k} is out of range: ${here} has ${cur.length} element(s)` }]);
      if (last) cur[k] = value;
      else cur = cur[k];
    } else if (cur !== null && typeof cur === "object") {
      const o = cur as Record<string, unknown>;
      if (last) o[seg] = value;
      else {
        if (!(seg in o) || o[seg] === null || typeof o[seg] !== "object")
          throw new SpecError([{ path, message: `${here} has no object or list field "${seg}" to go into` }]);
        cur = o[seg];
      }
    } else {
      throw new SpecError([{ path, message: `${here} is not an object or a list` }]);
    }
  }
}

/** Reads `path` from a spec (undefined when absent). */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Number of points of the product of the axes. */
export function gridSize(axes: readonly GridAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** The values of point `index` (first axis outermost, last axis fastest). */
export function pointValues(axes: readonly GridAxis[], index: number): unknown[] {
  const out = new Array<unknown>(axes.length);
  for (let a = axes.length - 1; a >= 0; a--) {
    const n = axes[a].values.length;
    out[a] = axes[a].values[index % n];
    index = Math.floor(index / n);
  }
  return out;
}

/**
 * Every point of the grid as a validated spec, in grid order. Checks the
 * axes (non-empty, distinct paths) and validates each point's spec (the
 * schema and the kernel's admission checks) before anything runs; a failure
 * is a SpecError that names the grid point, its path(s) and value(s).
 */
export function expandGrid(base: SimSpec, axes: readonly GridAxis[]): GridPoint[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.path)) issues.push({ path: a.path, message: "appears in two grid axes" });
    seen.add(a.path);
    if (!Array.isArray(a.values) || a.values.length === 0) issues.push({ path: a.path, message: "has no values" });
  }
  if (issues.length) throw new SpecError(issues);
  const n = gridSize(axes);
  const points: GridPoint[] = [];
  for (let i = 0; i < n; i++) {
    const values = pointValues(axes, i);
    const spec = structuredClone(base) as unknown as Record<string, unknown>;
    axes.forEach((a, k) => setPath(spec, a.path, structuredClone(values[k])));
    const where = axes.map((a, k) => `${a.path}=${JSON.stringify(values[k])}`).join(", ");
    try {
      validateSpec(spec);
      const rt = periodicIssues(spec as unknown as SimSpec);
      if (rt.length) throw new SpecError(rt);
    } catch (err) {
      if (err instanceof SpecError) {
        throw new SpecError(err.issues.map((x) => ({ path: x.path, message: `${x.message} (grid point ${i}: ${where})` })));
      }
      throw err;
    }
    points.push({ index: i, values, spec: spec as unknown as SimSpec });
  }
  return points;
}

/** A grid value as a table cell: scalars as they are, lists and objects as JSON text. */
export function cellValue(v: unknown): string | number | boolean | null {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  return JSON.stringify(v);
}
