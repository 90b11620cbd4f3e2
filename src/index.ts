/**
 * hvsim: a discrete-event simulator of CPU scheduling and latency in
 * virtualized systems (Xen, Linux guests), for notebooks and scripts.
 *
 * Build a spec with the fluent builders, run it with {@link simulate}, read
 * Arquero tables from the result, and turn them into Plotly figures with the
 * builders in `plots`.
 */
export * from "./spec/types.js";
export * from "./spec/builders.js";
export { validateSpec, SpecError, type SpecIssue } from "./spec/validate.js";
export { SimError } from "./engine/sim.js";
export { simulate, type SimulateOptions } from "./simulate.js";
export { SimResult, type Table } from "./results/result.js";
export * from "./results/tables.js";
export * from "./results/stats.js";
export { gpsFinishTimes, type GpsProgram } from "./results/gps.js";
export { WORKLOADS, WORKLOAD_KINDS, workloadModule, type WorkloadModule, type WorkloadSet, type WorkloadPlace, type WorkloadRun, type TaskStats } from "./workloads/registry.js";
export { traceSegments } from "./results/trace.js";
export { TraceEvents, traceDat, perfettoTrace, runningSlices, EV_SWITCH, EV_WAKEUP, type TraceLevel, type TraceEventJson, type Slices } from "./trace/index.js";
export * from "./results/histogram-in.js";
export { boardPresets, resolveBoard, COST_NAMES, type BoardPreset, type Board } from "./hw/board.js";
export { sysctlFactor, cfsTunables } from "./sched/linux/cfs.js";
export * from "./experiments/index.js";
export { rtApp, parseRtAppText, isRtApp, RtAppError, type RtAppOptions, type RtAppResult } from "./workloads/rtapp.js";
export { wcetUs } from "./workloads/periodic.js";
export { cyclictestHistogramText, calcdiffUs } from "./workloads/cyclictest.js";
export { kernelData, type KernelData } from "./kernel/latency.js";
export { LAT_COMPONENTS } from "./kernel/linux.js";
export { toRatio, checkParamDl } from "./sched/linux/deadline.js";
export { rrTimesliceTicks } from "./sched/linux/rt.js";
export {
  sweep, mergeParts, parseGridArg, defaultMetrics, modelVersion, runKey, RunCache, decodeTables, encodeTables,
  summarize, studentTQuantile, runSpecs,
  type RunOptions, type ExperimentRunOptions, type RunTask,
  type SweepOptions, type SweepResult, type SweepInfo, type SweepProgress, type MetricSpec, type MetricAgg, type GridAxis, type SampleSummary,
} from "./sweep/index.js";
// issue 11: the PV privileged-operation model, lmbench-style benchmarks and the latency hook
export { PvKernel, pvData, pvVariants, pvFixes, upstreamFixes, pvCosts, type PvKernelSpec, type PvTraceRow } from "./virt/pvops/model.js";
export { guestCostTable, pvKernelOf } from "./virt/pvops/latency.js";
export { runLmbench, mixedLoad, lmbenchBenchmarks, type LmbenchResult, type MixRow } from "./workloads/lmbench.js";
