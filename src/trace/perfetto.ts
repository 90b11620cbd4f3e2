/**
 * Chrome / Perfetto trace-event JSON (the "JSON Object Format" of the Trace
 * Event Format: `{"traceEvents": [...]}`) from recorded scheduling events,
 * for ui.perfetto.dev or chrome://tracing:
 * - one process per level (pid 1 = the first level: Xen's pCPUs, the KVM host
 *   kernel or the bare-metal kernel; then each guest's vCPUs), named by
 *   `process_name` and ordered by `process_sort_index` metadata ("M") events;
 * - one thread per CPU of the level (tid = CPU + 1, named "pCPU 0", "vCPU 0"...);
 * - a complete event ("X", ts and dur in µs) per running slice, named by the
 *   task or vCPU, args {pid};
 * - an instant event ("i", scope thread) per wake-up on the target CPU's track.
 * Events are sorted by ts (ties: longer slices first, so nesting is well formed).
 */
import { EV_WAKEUP, type TraceEvents } from "./record.js";
import { runningSlices } from "./slices.js";

/** One trace event of the JSON format. */
export interface TraceEventJson {
  name: string;
  ph: "X" | "i" | "M";
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: "t";
  args?: Record<string, unknown>;
}

/** The JSON object of a trace for the Perfetto UI. */
export function perfettoTrace(ev: TraceEvents, meta: Record<string, unknown> = {}): { traceEvents: TraceEventJson[]; displayTimeUnit: "ns"; otherData: Record<string, unknown> } {
  const out: TraceEventJson[] = [];
  ev.levels.forEach((L, l) => {
    const pid = l + 1;
    const what = L.hypervisor ? "Xen pCPUs" : `${L.name} ${L.cpuLabel}s`;
    out.push({ name: "process_name", ph: "M", pid, tid: 0, args: { name: what } });
    out.push({ name: "process_sort_index", ph: "M", pid, tid: 0, args: { sort_index: l } });
    for (let c = 0; c < L.cpus; c++) {
      out.push({ name: "thread_name", ph: "M", pid, tid: c + 1, args: { name: `${L.cpuLabel} ${c}` } });
      out.push({ name: "thread_sort_index", ph: "M", pid, tid: c + 1, args: { sort_index: c } });
    }
  });
  const timed: TraceEventJson[] = [];
  const s = runningSlices(ev);
  for (let i = 0; i < s.pid.length; i++) {
    const L = ev.levels[s.level[i]];
    timed.push({
      name: L.comms.get(s.pid[i]) ?? `pid ${s.pid[i]}`, cat: "sched", ph: "X",
      ts: s.start_ns[i] / 1000, dur: (s.end_ns[i] - s.start_ns[i]) / 1000,
      pid: s.level[i] + 1, tid: s.cpu[i] + 1, args: { pid: s.pid[i] },
    });
  }
  for (let i = 0; i < ev.n; i++) {
    if (ev.kind[i] !== EV_WAKEUP) continue;
    const L = ev.levels[ev.level[i]];
    timed.push({
      name: `wakeup ${L.comms.get(ev.pid[i]) ?? ev.pid[i]}`, cat: "sched", ph: "i", s: "t",
      ts: ev.t[i] / 1000, pid: ev.level[i] + 1, tid: ev.arg[i] + 1, args: { pid: ev.pid[i], waker_cpu: ev.cpu[i] },
    });
  }
  timed.sort((a, b) => a.ts! - b.ts! || (b.dur ?? 0) - (a.dur ?? 0));
  return {
    traceEvents: out.concat(timed),
    displayTimeUnit: "ns",
    otherData: { ...meta, events_kept: ev.n, events_dropped: ev.dropped, truncated: ev.truncated, end_us: ev.endNs / 1000 },
  };
}
