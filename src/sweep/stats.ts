/**
 * The sweep's statistics helpers, folded into the project-wide stats module
 * (src/results/stats.ts: same names and shapes; mean and sd by Welford's
 * update, non-finite values skipped).
 */
export { lnGamma, incompleteBeta, studentTCdf, studentTQuantile, summarize, type SampleSummary } from "../results/stats.js";
