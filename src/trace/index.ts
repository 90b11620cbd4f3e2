/** Trace recording and export: trace-cmd's trace.dat, Perfetto JSON, running slices. */
export { EV_SWITCH, EV_WAKEUP, TraceEvents, type TraceLevel } from "./record.js";
export { traceDat } from "./dat.js";
export { perfettoTrace, type TraceEventJson } from "./perfetto.js";
export { runningSlices, type Slices } from "./slices.js";
