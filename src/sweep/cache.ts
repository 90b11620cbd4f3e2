/**
 * A content-addressed cache of simulation runs.
 *
 * Key: SHA-256 of the canonical JSON (object keys sorted at every level) of
 * `{spec, seed, model}`, where `spec` is the run's spec as validated, `seed`
 * the seed as text (simulate() uses String(seed)), and `model` the model
 * version (see {@link modelVersion}).
 *
 * Value: every table of the run as Arrow IPC (Arquero's toArrowIPC /
 * fromArrow, with explicit column types so that -0, NaN, ±Infinity, nulls,
 * integers beyond 2^31 and empty tables come back exactly), in one file:
 * the magic `HVSIMRUN`, a little-endian uint32 header length, a JSON header
 * (`{v, tables: [{name, bytes, json}]}`, padded with spaces) and the IPC
 * streams one after the other, each padded to a multiple of 8 bytes. Files are written to a temporary name and renamed, so concurrent
 * writers (Slurm array tasks sharing a cache) never expose half a file.
 *
 * Layout: `DIR/v1/<first two hex digits>/<key>.hvrun`, DIR `.hvsim-cache`
 * in the working directory by default.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as aq from "arquero";
import { bool, float64, utf8, type DataType } from "@uwdata/flechette";
import type { SimResult } from "../results/result.js";

/** Default cache folder, relative to the working directory. */
export const DEFAULT_CACHE_DIR = ".hvsim-cache";
const MAGIC = "HVSIMRUN";
const FORMAT = 1;

/** JSON with object keys sorted at every level (undefined fields dropped, as JSON.stringify does). */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = sortKeys(o[k]);
    return out;
  }
  return v;
}

/** SHA-256, hex. */
export function sha256(s: string | Uint8Array): string {
  return createHash("sha256").update(s).digest("hex");
}

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && keep(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** Hash of the files under `dir` that `keep` accepts: their paths relative to `dir` and their contents. */
export function hashTree(dir: string, keep: (f: string) => boolean = () => true): string {
  const h = createHash("sha256");
  for (const f of filesUnder(dir, keep)) {
    h.update(relative(dir, f).split("\\").join("/")).update("\0").update(readFileSync(f)).update("\0");
  }
  return h.digest("hex");
}

let cachedVersion: string | undefined;

/**
 * The model version that keys the cache: `hvsim@VERSION data:H1 code:H2`,
 * where H1 hashes every file under the package's `data/` (presets,
 * calibrated costs) and H2 every compiled `.js` file of the package's code
 * (the folder this module was compiled into: `dist/`, or the test build).
 * The code is hashed as well because model code changes far more often than
 * the package version: any rebuild that changes the emitted JavaScript
 * invalidates the cache, at the price of also invalidating it for changes
 * that cannot affect results (the CLI, plots). Computed once per process.
 */
export function modelVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  const codeDir = dirname(dirname(fileURLToPath(import.meta.url)));
  let root = codeDir;
  while (!existsSync(join(root, "package.json")) || !existsSync(join(root, "data"))) {
    const up = dirname(root);
    if (up === root) throw new Error(`hvsim: cannot find the package root (package.json and data/) above ${codeDir}`);
    root = up;
  }
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  const data = hashTree(join(root, "data")).slice(0, 16);
  const code = hashTree(codeDir, (f) => f.endsWith(".js")).slice(0, 16);
  cachedVersion = `hvsim@${pkg.version} data:${data} code:${code}`;
  return cachedVersion;
}

/** The cache key of one run. */
export function runKey(spec: unknown, seed: number | string, model: string): string {
  return sha256(canonicalJson({ spec, seed: String(seed), model }));
}

type Cell = unknown;

function arrowType(values: ArrayLike<Cell>): "f64" | "utf8" | "bool" | "json" {
  let kind: "f64" | "utf8" | "bool" | "json" | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const k = typeof v === "number" ? "f64" : typeof v === "string" ? "utf8" : typeof v === "boolean" ? "bool" : "json";
    if (kind === undefined) kind = k;
    else if (kind !== k) return "json";
  }
  return kind ?? "f64";
}

/** Encodes named tables into one cache value. */
export function encodeTables(tables: Record<string, aq.ColumnTable>): Uint8Array {
  const head: { name: string; bytes: number; json: string[] }[] = [];
  const parts: Uint8Array[] = [];
  for (const [name, t0] of Object.entries(tables)) {
    let t = t0;
    const types: Record<string, DataType> = {};
    const json: string[] = [];
    for (const c of t.columnNames()) {
      const vals = t.array(c) as ArrayLike<Cell>;
      const k = arrowType(vals);
      if (k === "json") {
        json.push(c);
        t = t.derive({ [c]: aq.escape((d: Record<string, unknown>) => (d[c] === null || d[c] === undefined ? null : JSON.stringify(d[c]))) });
        types[c] = utf8();
      } else types[c] = k === "f64" ? float64() : k === "utf8" ? utf8() : bool();
    }
    const ipc = aq.toArrowIPC(t, { types }) as Uint8Array;
    // each stream starts on an 8-byte boundary (Arrow buffers are read as typed-array views)
    const bytes = new Uint8Array(Math.ceil(ipc.length / 8) * 8);
    bytes.set(ipc);
    head.push({ name, bytes: bytes.length, json });
    parts.push(bytes);
  }
  let headText = JSON.stringify({ v: FORMAT, tables: head });
  headText += " ".repeat((8 - ((12 + headText.length) % 8)) % 8);
  const header = new TextEncoder().encode(headText);
  const total = 12 + header.length + parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  let off = 12 + header.length;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Decodes a cache value back into named Arquero tables (in their original order). */
export function decodeTables(buf: Uint8Array): Record<string, aq.ColumnTable> {
  if (buf.byteOffset % 8 !== 0) buf = buf.slice();
  if (buf.length < 12 || new TextDecoder().decode(buf.subarray(0, 8)) !== MAGIC) throw new Error("not an hvsim cached run (bad magic)");
  const hl = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + hl))) as { v: number; tables: { name: string; bytes: number; json: string[] }[] };
  if (header.v !== FORMAT) throw new Error(`hvsim cached run format ${header.v}, expected ${FORMAT}`);
  const out: Record<string, aq.ColumnTable> = {};
  let off = 12 + hl;
  for (const h of header.tables) {
    let t = aq.fromArrow(buf.subarray(off, off + h.bytes)) as aq.ColumnTable;
    off += h.bytes;
    for (const c of h.json) {
      t = t.derive({ [c]: aq.escape((d: Record<string, unknown>) => (d[c] === null ? null : JSON.parse(d[c] as string))) });
    }
    out[h.name] = t;
  }
  return out;
}

/** Every table of a result, by name. */
export function resultTables(r: SimResult): Record<string, aq.ColumnTable> {
  const out: Record<string, aq.ColumnTable> = {};
  for (const n of r.tableNames) out[n] = r.table(n);
  return out;
}

/** A cache folder of encoded runs. */
export class RunCache {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, `v${FORMAT}`, key.slice(0, 2), `${key}.hvrun`);
  }

  /** The stored value of `key`, or null on a miss (or an unreadable entry). */
  get(key: string): Uint8Array | null {
    const f = this.file(key);
    try {
      return new Uint8Array(readFileSync(f));
    } catch {
      return null;
    }
  }

  /** Stores a value (atomically: a temporary file renamed into place). */
  put(key: string, value: Uint8Array): void {
    const f = this.file(key);
    mkdirSync(dirname(f), { recursive: true });
    const tmp = `${f}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    writeFileSync(tmp, value);
    renameSync(tmp, f);
  }

  /** Number of stored runs (for messages and tests). */
  size(): number {
    const d = join(this.dir, `v${FORMAT}`);
    if (!existsSync(d) || !statSync(d).isDirectory()) return 0;
    return filesUnder(d, (f) => f.endsWith(".hvrun")).length;
  }
}
