/** Sweeps: grids over spec fields times seeds, worker threads, a result cache, shards and their merge. */
export { sweep, mergeParts, writePart, summaryTable, type SweepOptions, type SweepResult, type SweepInfo, type SweepProgress, type SweepPart, type RunRow } from "./sweep.js";
export { parseGridArg, expandGrid, setPath, getPath, type GridAxis, type GridPoint } from "./grid.js";
export { parseMetric, defaultMetrics, type MetricSpec, type MetricAgg } from "./metrics.js";
export { modelVersion, runKey, canonicalJson, encodeTables, decodeTables, RunCache, DEFAULT_CACHE_DIR } from "./cache.js";
export { summarize, studentTQuantile, type SampleSummary } from "./stats.js";
export { runSpecs, defaultWorkers, defaultCache, lastRunStats, runTotals, resetRunTotals, type RunOptions, type ExperimentRunOptions, type RunProgress, type RunStats } from "./runs.js";
export type { RunTask } from "./worker.js";
