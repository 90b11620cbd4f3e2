/**
 * Small statistics helpers for sweep summaries: mean, sample standard
 * deviation and the 95 % confidence interval of the mean from Student's t
 * distribution (two-sided, n - 1 degrees of freedom).
 *
 * Local to src/sweep/ for now: a project-wide stats module is being written
 * in parallel, and these helpers are meant to be folded into it.
 *
 * The t quantile is computed, not tabulated: the CDF of Student's t is the
 * regularized incomplete beta function I_x(df/2, 1/2) with x = df/(df+t^2)
 * (Abramowitz & Stegun 26.7.1), evaluated with the Lentz continued fraction
 * (A&S 26.5.8), and inverted by bisection (monotone, 200 halvings reach the
 * float64 resolution). ln Gamma is Lanczos' approximation (g = 7, 9 terms).
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error about 1e-15). */
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
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d; h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d; if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c; if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  const bt = Math.exp(lbt);
  if (x < (a + 1) / (a + b + 2)) return (bt * betaCf(a, b, x)) / a;
  return 1 - (bt * betaCf(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with df degrees of freedom (0 < p < 1), by bisection. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  let lo = 0;
  let hi = 1;
  while (studentTCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Summary of a sample: what the sweep summary table reports per configuration and metric. */
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
 * n, mean, sample standard deviation (n - 1), the two-sided 95 % Student t
 * confidence interval of the mean (null below two values), min and max.
 * Values are summed in the order given (the caller fixes it, so results do
 * not depend on which worker finished first).
 */
export function summarize(values: readonly number[]): SampleSummary {
  const n = values.length;
  if (n === 0) return { n, mean: null, sd: null, ci95_low: null, ci95_high: null, min: null, max: null };
  let sum = 0, min = Infinity, max = -Infinity;
  for (const v of values) { sum += v; if (v < min) min = v; if (v > max) max = v; }
  const mean = sum / n;
  if (n === 1) return { n, mean, sd: null, ci95_low: null, ci95_high: null, min, max };
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  const sd = Math.sqrt(ss / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * sd) / Math.sqrt(n);
  return { n, mean, sd, ci95_low: mean - half, ci95_high: mean + half, min, max };
}
