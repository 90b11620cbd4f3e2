/**
 * Fluid generalised processor sharing (GPS), the scheduling-theory reference
 * for weighted fair sharing: `pcpus` processors are divided among the
 * unfinished programs at every instant in proportion to their weights, each
 * program's rate limited to min(cap, one processor), by water-filling
 * (programs whose weighted share exceeds their limit get the limit, the rest
 * is shared again among the others); a finished program's capacity goes to
 * the others at once. No time slices, accounting periods or overheads.
 * Moved here from the fluid-GPS cell of notebooks/05-xen-credit-weight-cap
 * (same algorithm; finish times agree to floating-point rounding).
 */

/** One program of a GPS system. */
export interface GpsProgram {
  /** Weight (default 256, Xen's default). */
  weight?: number;
  /** Cap, percent of one processor (0 or undefined: none). */
  cap?: number;
  /** CPU work, s. */
  workS: number;
}

/**
 * Finish time (s) of each program when all start at t = 0 on `pcpus`
 * processors (NaN for a program that never finishes: zero rate or infinite work).
 */
export function gpsFinishTimes(programs: GpsProgram[], pcpus: number): number[] {
  const left = programs.map((p) => p.workS);
  const done = programs.map(() => NaN);
  const weight = (i: number) => programs[i].weight ?? 256;
  const lim = (i: number) => Math.min(1, (programs[i].cap ?? 0) > 0 ? programs[i].cap! / 100 : 1);
  let t = 0;
  // each round finishes at least one program
  for (let round = 0; round <= programs.length; round++) {
    // unfinished programs share the CPUs (one with infinite work shares for ever)
    const act = programs.map((_, i) => i).filter((i) => !(done[i] >= 0));
    if (!act.length) break;
    // water-filling: rates proportional to weight, each <= its limit, total <= pcpus
    const rate: number[] = [];
    let cap = pcpus;
    let free = act.slice();
    while (free.length) {
      const wsum = free.reduce((a, i) => a + weight(i), 0);
      const over = free.filter((i) => (cap * weight(i)) / wsum >= lim(i));
      if (!over.length) { for (const i of free) rate[i] = (cap * weight(i)) / wsum; break; }
      for (const i of over) { rate[i] = lim(i); cap -= lim(i); }
      free = free.filter((i) => !over.includes(i));
    }
    const dt = Math.min(...act.map((i) => (rate[i] > 0 ? left[i] / rate[i] : Infinity)));
    if (!Number.isFinite(dt)) break;
    t += dt;
    for (const i of act) { left[i] -= rate[i] * dt; if (left[i] < 1e-9) done[i] = t; }
  }
  return done;
}
