/**
 * Small allocation-free helpers shared by the Xen scheduler models: ordered
 * arrays used as Xen's intrusive lists (insert/remove without `splice`, which
 * allocates its return array), and cpumask-like Uint8Array masks indexed by
 * pCPU id (nr_cpu_ids = the board's CPU count).
 */
import type { VCpu } from "../../virt/xen.js";

/** Inserts `x` at index `i` of `a` (list_add_tail before the i-th element). */
export function insertAt<T>(a: T[], i: number, x: T): void {
  let j = a.length;
  a.push(x);
  for (; j > i; j--) a[j] = a[j - 1];
  a[i] = x;
}

/** Removes the element at index `i` of `a`. */
export function removeAt<T>(a: T[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1];
  a.length = n;
}

/** Removes `x` from `a` if present; returns the index it had, or -1. */
export function removeItem<T>(a: T[], x: T): number {
  const i = a.indexOf(x);
  if (i >= 0) removeAt(a, i);
  return i;
}

/** cpumask of a vCPU's hard affinity intersected with its cpupool (cpupool_domain_master_cpumask & cpu_hard_affinity). */
export function hardMask(v: VCpu, poolCpus: readonly number[], ncpu: number): Uint8Array {
  const m = new Uint8Array(ncpu);
  const inPool = new Uint8Array(ncpu);
  for (const c of poolCpus) inPool[c] = 1;
  for (const c of v.hard) if (inPool[c]) m[c] = 1;
  return m;
}
