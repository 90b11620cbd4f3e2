import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CostName } from "../spec/types.js";

/** All cost names, in a fixed order (index = cost id). */
export const COST_NAMES: readonly CostName[] = [
  "syscall", "pipe_read", "pipe_write", "wake_up", "wake_up_remote", "sleep", "schedule",
  "context_switch", "timer_irq", "ipi_irq", "ipi_send", "hv_vcpu_switch", "hv_ipi_latency", "hv_wake",
];

/** A value with its provenance, as stored in data/ presets. */
export interface Sourced<T> {
  value: T;
  provenance: string;
}

/** A board preset as stored in data/boards/*.json. */
export interface BoardPreset {
  id: string;
  name: string;
  arch: string;
  cpus: number;
  sockets: number;
  threads_per_core: number;
  clock_mhz: number;
  provenance: string;
  jitter_cv: Sourced<number>;
  costs_ns: Record<CostName, Sourced<number>>;
}

/** Directory of the data/ presets shipped with the package (the nearest `data/boards` above this module). */
export const DATA_DIR = findDataDir();

function findDataDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, "data", "boards"))) return join(d, "data") + "/";
    d = dirname(d);
  }
  throw new Error("hvsim: cannot find the data/ presets directory above " + fileURLToPath(import.meta.url));
}

let cache: Map<string, BoardPreset> | null = null;

/** All board presets, by id. */
export function boardPresets(): Map<string, BoardPreset> {
  if (cache) return cache;
  const m = new Map<string, BoardPreset>();
  const dir = DATA_DIR + "boards/";
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".json")) continue;
    const p = JSON.parse(readFileSync(dir + f, "utf8")) as BoardPreset;
    m.set(p.id, p);
  }
  cache = m;
  return m;
}

/** The resolved board a simulation runs on. */
export interface Board {
  id: string;
  name: string;
  cpus: number;
  sockets: number;
  threadsPerCore: number;
  /** Cost per operation, ns, indexed like COST_NAMES. */
  cost: Float64Array;
  jitterCv: number;
}

/** Resolves a preset plus overrides into a Board. */
export function resolveBoard(preset: string, overrides?: Partial<Record<CostName, number>>, jitterCv?: number): Board {
  const p = boardPresets().get(preset);
  if (!p) throw new Error(`unknown board preset ${preset}`);
  const cost = new Float64Array(COST_NAMES.length);
  COST_NAMES.forEach((n, i) => {
    const o = overrides?.[n];
    cost[i] = o !== undefined ? o : p.costs_ns[n].value;
  });
  return {
    id: p.id, name: p.name, cpus: p.cpus, sockets: p.sockets, threadsPerCore: p.threads_per_core,
    cost, jitterCv: jitterCv ?? p.jitter_cv.value,
  };
}

/** Cost ids (indices into Board.cost). */
export const C = {
  syscall: 0, pipe_read: 1, pipe_write: 2, wake_up: 3, wake_up_remote: 4, sleep: 5, schedule: 6,
  context_switch: 7, timer_irq: 8, ipi_irq: 9, ipi_send: 10, hv_vcpu_switch: 11, hv_ipi_latency: 12, hv_wake: 13,
} as const;
