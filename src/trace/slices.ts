/**
 * Running slices from recorded sched_switch events: on each CPU of each
 * level, the entity switched in runs until the next switch on that CPU (the
 * last slice ends at the end of the run, or at the last kept event when the
 * trace was truncated). Idle time is not a slice.
 */
import { EV_SWITCH, type TraceEvents } from "./record.js";

/** Running slices, structure of arrays, ordered by level, CPU, start. */
export interface Slices {
  level: number[];
  cpu: number[];
  pid: number[];
  start_ns: number[];
  end_ns: number[];
}

/** The running slices of every level's CPUs. */
export function runningSlices(ev: TraceEvents): Slices {
  const out: Slices = { level: [], cpu: [], pid: [], start_ns: [], end_ns: [] };
  const end = ev.truncated && ev.n > 0 ? ev.t[ev.n - 1] : ev.endNs;
  // current (pid, since) per level and CPU
  const cur = ev.levels.map((l) => ({ pid: new Int32Array(l.cpus), since: new Float64Array(l.cpus).fill(-1) }));
  const raw: [number, number, number, number, number][] = [];
  for (let i = 0; i < ev.n; i++) {
    if (ev.kind[i] !== EV_SWITCH) continue;
    const c = cur[ev.level[i]], cpu = ev.cpu[i];
    if (c.since[cpu] >= 0 && c.pid[cpu] !== 0 && ev.t[i] > c.since[cpu]) raw.push([ev.level[i], cpu, c.pid[cpu], c.since[cpu], ev.t[i]]);
    c.pid[cpu] = ev.arg[i];
    c.since[cpu] = ev.t[i];
  }
  cur.forEach((c, l) => {
    for (let cpu = 0; cpu < c.pid.length; cpu++) {
      if (c.since[cpu] >= 0 && c.pid[cpu] !== 0 && end > c.since[cpu]) raw.push([l, cpu, c.pid[cpu], c.since[cpu], end]);
    }
  });
  raw.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[3] - b[3]);
  for (const r of raw) {
    out.level.push(r[0]); out.cpu.push(r[1]); out.pid.push(r[2]); out.start_ns.push(r[3]); out.end_ns.push(r[4]);
  }
  return out;
}
