/**
 * The piscina worker of a sweep: runs one (spec, seed) and returns the run's
 * tables encoded as a cache value (Arrow IPC), which the main thread both
 * stores and decodes, so a fresh run and a cache hit go through the same
 * bytes.
 */
import { simulate } from "../simulate.js";
import type { SimSpec } from "../spec/types.js";
import { encodeTables, resultTables } from "./cache.js";

/** One run of a sweep, as sent to a worker. */
export interface RunTask {
  spec: SimSpec;
  seed: number | string;
}

/** Simulates one run and encodes its tables. */
export function runEncoded(task: RunTask): Uint8Array {
  return encodeTables(resultTables(simulate(task.spec, { seed: task.seed })));
}

export default function (task: RunTask): Uint8Array {
  return runEncoded(task);
}
