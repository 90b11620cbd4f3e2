/**
 * Statistics for analysing results, in one place: quantiles (one default
 * definition, and the two others the experiments need, each named), mean,
 * sample standard deviation, Student-t 95 % confidence intervals and a
 * min/max summary.
 *
 * Quantile definitions (Hyndman & Fan 1996 numbering where there is one),
 * for an ascending sample x[0..n-1] and q in [0, 1]:
 * - "nearest-rank" (the default; H&F type 1, the inverse of the empirical
 *   CDF): x[ceil(q n) - 1], clamped to the sample. Every percentile is an
 *   observed value, the smallest with at least q n values <= it. Used for
 *   latency percentiles (five-schedulers).
 * - "high": x[floor(q n)], clamped. The smallest value with more than q n
 *   values <= it; for q = 0.5 and even n the upper of the two middle values
 *   (Python's statistics.median_high). Differs from nearest-rank only when
 *   q n is an integer. Used by the Context1 experiment's Δ shrink medians, which
 *   were computed this way before this module (kept for byte-identical
 *   outputs).
 * - "linear" (H&F type 7, the default of R, NumPy and Arquero's
 *   op.quantile / op.median): x[i] + (x[i+1] - x[i]) (h - i) with
 *   h = (n - 1) q, i = floor(h).
 * The cyclictest table's p50/p99/p999 columns are not computed here: they
 * come from the thread's HDR histogram (3 significant digits), as a long
 * cyclictest run would report them without keeping every sample.
 *
 * Mean and variance use Welford's online update, as Arquero's op.mean and
 * op.variance do, so that a value computed here and one rolled up by
 * Arquero are bit-identical. Non-finite values and nulls are skipped by
 * every function that takes unsorted values (as Arquero skips invalid
 * values); empty input gives NaN (null in {@link summarize}).
 *
 * Student's t: the CDF is the regularised incomplete beta function
 * I_x(df/2, 1/2) with x = df/(df+t²) (Abramowitz & Stegun 26.7.1), by the
 * Lentz continued fraction (A&S 26.5.8) with Lanczos' ln Γ, inverted by
 * bisection. `summarize`, `SampleSummary`, `studentTQuantile`,
 * `studentTCdf`, `incompleteBeta` and `lnGamma` have the names and shapes of
 * the sweep's helpers (src/sweep/stats.ts on main, written to be folded in
 * here): that file can become a re-export of this one.
 */

/** Quantile definitions; see the module header. */
export type QuantileMethod = "nearest-rank" | "high" | "linear";

/** The finite values of `values`, sorted ascending (nulls, NaN and ±Infinity dropped). */
export function sortedFinite(values: Iterable<number | null | undefined> | ArrayLike<number | null | undefined>): Float64Array {
  const src = (typeof (values as Iterable<unknown>)[Symbol.iterator] === "function"
    ? Array.from(values as Iterable<number | null | undefined>)
    : Array.from(values as ArrayLike<number | null | undefined>));
  const out = Float64Array.from(src.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
  return out.sort();
}

/** Quantile q (0..1) of an ascending sample; NaN when empty. */
export function quantile(sorted: ArrayLike<number>, q: number, method: QuantileMethod = "nearest-rank"): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const clamp = (i: number) => Math.min(n - 1, Math.max(0, i));
  switch (method) {
    case "nearest-rank":
      return sorted[clamp(Math.ceil(q * n) - 1)];
    case "high":
      return sorted[clamp(Math.floor(q * n))];
    case "linear": {
      if (q <= 0 || n < 2) return sorted[0];
      if (q >= 1) return sorted[n - 1];
      const h = (n - 1) * q;
      const i = Math.floor(h);
      return sorted[i] + (sorted[i + 1] - sorted[i]) * (h - i);
    }
  }
}

/** Percentile p (0..100) of an ascending sample; nearest-rank unless told otherwise. NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number, method: QuantileMethod = "nearest-rank"): number {
  return quantile(sorted, p / 100, method);
}

/** Median of an ascending sample ("linear": the mean of the two middle values for even n). */
export function median(sorted: ArrayLike<number>, method: QuantileMethod = "linear"): number {
  return quantile(sorted, 0.5, method);
}

/** Welford accumulation over the finite values: count, mean, sum of squared deviations. */
function welford(values: ArrayLike<number | null | undefined>): { n: number; mean: number; m2: number } {
  let n = 0, mean = 0, m2 = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return { n, mean, m2 };
}

/** Arithmetic mean of the finite values (NaN when there are none). */
export function mean(values: ArrayLike<number | null | undefined>): number {
  const w = welford(values);
  return w.n ? w.mean : NaN;
}

/** Sample variance (n − 1) of the finite values (NaN with fewer than two). */
export function variance(values: ArrayLike<number | null | undefined>): number {
  const w = welford(values);
  return w.n > 1 ? w.m2 / (w.n - 1) : NaN;
}

/** Sample standard deviation (n − 1) of the finite values (NaN with fewer than two). */
export function stdev(values: ArrayLike<number | null | undefined>): number {
  return Math.sqrt(variance(values));
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error about 1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c; if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betaCf(a, b, x)) / a : 1 - (bt * betaCf(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` degrees of freedom (0 < p < 1), by bisection to float64 resolution. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0, hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A mean with its two-sided confidence interval (Student t, sample standard deviation). */
export interface ConfidenceInterval {
  n: number;
  mean: number;
  /** Half-width: t(1 − α/2, n − 1) · sd / √n (NaN with fewer than two values). */
  half_width: number;
  lo: number;
  hi: number;
}

/** Mean and its confidence interval at `level` (default 0.95) over the finite values, assuming independent samples. */
export function confidenceInterval(values: ArrayLike<number | null | undefined>, level = 0.95): ConfidenceInterval {
  const w = welford(values);
  const m = w.n ? w.mean : NaN;
  const hw = w.n > 1 ? studentTQuantile(1 - (1 - level) / 2, w.n - 1) * Math.sqrt(w.m2 / (w.n - 1) / w.n) : NaN;
  return { n: w.n, mean: m, half_width: hw, lo: m - hw, hi: m + hw };
}

/** Summary of a sample: n, mean, sample sd, the two-sided 95 % Student-t interval of the mean, min and max (null where undefined). */
export interface SampleSummary {
  n: number;
  mean: number | null;
  sd: number | null;
  ci95_low: number | null;
  ci95_high: number | null;
  min: number | null;
  max: number | null;
}

/**
 * {@link SampleSummary} of the finite values (n counts them): mean and sd
 * as {@link mean} and {@link stdev}, the interval as
 * {@link confidenceInterval}; sd and the interval are null below two values,
 * everything but n is null for none.
 */
export function summarize(values: ArrayLike<number | null | undefined>): SampleSummary {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const ci = confidenceInterval(values);
  if (ci.n === 0) return { n: 0, mean: null, sd: null, ci95_low: null, ci95_high: null, min: null, max: null };
  if (ci.n === 1) return { n: 1, mean: ci.mean, sd: null, ci95_low: null, ci95_high: null, min, max };
  return { n: ci.n, mean: ci.mean, sd: stdev(values), ci95_low: ci.lo, ci95_high: ci.hi, min, max };
}
