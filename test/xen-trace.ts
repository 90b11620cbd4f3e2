// Helpers for the Xen scheduler tests: reading the hypervisor trace table,
// seeded spec generation. No tests in this file.
import type { SimResult } from "../src/results/result.js";

export interface TraceRow { t_ms: number; pcpu: number; prev: string; next: string }

/** A vCPU's stay on a pCPU, [start, end) in ms. */
export interface Interval { vcpu: string; pcpu: number; start: number; end: number }

export function traceRows(r: SimResult): TraceRow[] {
  return r.rows("trace") as unknown as TraceRow[];
}

/**
 * Checks that the trace is consistent and that no vCPU is ever current on two
 * pCPUs: a vCPU switched in somewhere must have been switched out of every
 * other pCPU before (rows are in the order the switches happened). Returns
 * the running intervals, closed at `endMs`, or throws with the offending row.
 */
export function runIntervals(rows: TraceRow[], endMs: number): Interval[] {
  const where = new Map<string, { pcpu: number; since: number }>();
  const currOf = new Map<number, string>();
  const out: Interval[] = [];
  rows.forEach((x, i) => {
    const cur = currOf.get(x.pcpu) ?? "idle";
    if (cur !== x.prev) throw new Error(`trace row ${i} (t=${x.t_ms} ms, pCPU ${x.pcpu}): prev ${x.prev} but ${cur} was current`);
    if (x.prev !== "idle") {
      const w = where.get(x.prev)!;
      out.push({ vcpu: x.prev, pcpu: x.pcpu, start: w.since, end: x.t_ms });
      where.delete(x.prev);
    }
    if (x.next !== "idle") {
      const w = where.get(x.next);
      if (w) throw new Error(`trace row ${i} (t=${x.t_ms} ms): ${x.next} switched in on pCPU ${x.pcpu} while current on pCPU ${w.pcpu}`);
      where.set(x.next, { pcpu: x.pcpu, since: x.t_ms });
    }
    currOf.set(x.pcpu, x.next);
  });
  for (const [v, w] of where) out.push({ vcpu: v, pcpu: w.pcpu, start: w.since, end: endMs });
  return out;
}

/** Running time of `vcpu` inside [a, b), ms. */
export function runningIn(iv: Interval[], vcpu: string, a: number, b: number): number {
  let s = 0;
  for (const x of iv) {
    if (x.vcpu !== vcpu) continue;
    const lo = Math.max(a, x.start), hi = Math.min(b, x.end);
    if (hi > lo) s += hi - lo;
  }
  return s;
}

/** Seeded PRNG (mulberry32). */
export function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(a: readonly T[]): T; chance(p: number): boolean } {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (a) => a[Math.floor(next() * a.length)],
    chance: (p) => next() < p,
  };
}
