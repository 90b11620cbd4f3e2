import * as aq from "arquero";

/**
 * Turns a hypervisor switch trace (table `trace`: t_ms, pcpu, prev, next)
 * into schedule segments (pcpu lane, start_ms, end_ms, vcpu) for a timeline,
 * clipped to [fromMs, toMs]. Idle segments are kept with vcpu "idle".
 */
export function traceSegments(trace: aq.ColumnTable, fromMs: number, toMs: number): aq.ColumnTable {
  const t = trace.array("t_ms") as number[];
  const p = trace.array("pcpu") as number[];
  const nx = trace.array("next") as string[];
  const last = new Map<number, { start: number; who: string }>();
  const lane: string[] = [], s: number[] = [], e: number[] = [], who: string[] = [];
  const emit = (pc: number, a: number, b: number, w: string) => {
    const lo = Math.max(a, fromMs), hi = Math.min(b, toMs);
    if (hi > lo) { lane.push(`pCPU ${pc}`); s.push(lo); e.push(hi); who.push(w); }
  };
  for (let i = 0; i < t.length; i++) {
    const prev = last.get(p[i]);
    if (prev) emit(p[i], prev.start, t[i], prev.who);
    last.set(p[i], { start: t[i], who: nx[i] });
  }
  for (const [pc, x] of last) emit(pc, x.start, toMs, x.who);
  return aq.table({ pcpu: lane, start_ms: s, end_ms: e, vcpu: who }).orderby("pcpu", "start_ms");
}
