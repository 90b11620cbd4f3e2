#!/usr/bin/env node
// Calibration of the idle-system parameters of the Abeni & Faggioli
// reproduction, on the only results allowed as targets: Tables 1-2 (no load)
// and the no-load worst cases of Dom0 (section 5.2 text). The native RT worst
// cases are checks in the findings ledger, not targets. Everything else in notebooks/02 is predicted with the frozen
// values this script writes.
//
// Parameters (data/kernels/linux-5.0.json, values for the i7-6700 reference):
//   hk_none_max_us  housekeeping.sections.none.np_us.max_us  (longest non-preemptible stretch of idle NRT kernel work)
//   hk_rt_max_us    housekeeping.sections.rt.np_us.max_us    (longest raw section of idle RT kernel work)
//   burst_accesses  device_burst.accesses                    (register accesses per driver operation, all under the driver's lock)
// Procedure: coordinate descent, one pass in that order, each over a fixed
// grid, minimising the sum of squared log residuals log(sim / published)
// over the targets that parameter acts on (all targets are listed with the
// final residuals). Run length CAL_HORIZON_S (default 20 s, the notebook's) per
// configuration and seed; seeds 1..CAL_SEEDS (default 5). The simulated value of
// a target is the MEDIAN over the seeds of each run's worst case: one run's
// maximum is a chaotic statistic in this model (the maxima of seeds 1-5 differ
// by up to 3x without load), and the published value is one run's maximum, so
// the median estimates what one run typically gives. (Until 2026-12-04 the fit
// used seed 1 alone.)
//
// Usage: npm run build && node scripts/calibrate-abeni.mjs [--write]
//   --write  stores the chosen values in data/kernels/linux-5.0.json and the
//            report in data/calibration/abeni-faggioli.json
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { abeniFaggioli as A, kernelData } from "../dist/index.js";

const H = Number(process.env.CAL_HORIZON_S ?? 20);
// In this process, without the result cache and without worker threads: the grid values are set in
// this process's copy of the kernel data, which neither a worker thread nor a cache key sees.
const RUN = { cache: false, workers: 1 };
const SEEDS = Array.from({ length: Number(process.env.CAL_SEEDS ?? 5) }, (_, i) => i + 1);
const write = process.argv.includes("--write");
const data = kernelData("linux-5.0");
const hk = data.activities.housekeeping.sections;
const params = {
  hk_none_max_us: { get: () => hk.none.np_us.max_us, set: (v) => { hk.none.np_us.max_us = v; }, grid: [100, 300, 800, 2000] },
  hk_rt_max_us: { get: () => hk.rt.np_us.max_us, set: (v) => { hk.rt.np_us.max_us = v; }, grid: [10, 20, 40, 80, 150, 400] },
  burst_accesses: { get: () => data.activities.device_burst.accesses.value, set: (v) => { data.activities.device_burst.accesses.value = v; }, grid: [4, 16, 32, 64, 128] },
};

// targets: the allowed calibration set (Tables 1-2 and the no-load Dom0 worst cases of section 5.2).
// The native RT worst cases (fig3) are not fitted: they are a check (findings ledger), not a target.
const targets = A.plan().filter((p) => ["table1", "table2", "fig4"].includes(p.experiment) && p.published !== null);
// which parameter each target depends on most
const acts = (p) => {
  const c = p.c;
  if (c.hv === "dom0") return c.host === "RT" ? "hk_rt_max_us" : "hk_none_max_us";
  if (c.hv === "kvm") return c.host === "NRT" || c.guest === "NRT" ? "hk_none_max_us" : "hk_rt_max_us";
  return c.guest === "NRT" ? "burst_accesses" : "hk_rt_max_us";
};

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
function evalTargets(ts) {
  return ts.map((p) => {
    const maxima = SEEDS.map((seed) => A.measure(p.c, { horizonS: H, seed, ...RUN }).maxUs);
    const m = median(maxima);
    return { label: A.label(p.c), experiment: p.experiment, published: p.published, simulated: m, seed_maxima: maxima, residual: Math.log(m / p.published) };
  });
}
const sse = (rs) => rs.reduce((a, r) => a + r.residual * r.residual, 0);

const log = [];
for (const [name, prm] of Object.entries(params)) {
  const ts = targets.filter((p) => acts(p) === name);
  let best = null;
  for (const v of prm.grid) {
    prm.set(v);
    const rs = evalTargets(ts);
    const s = sse(rs);
    log.push({ parameter: name, value: v, sse: s });
    process.stderr.write(`${name} = ${v}: SSE ${s.toFixed(3)}  [${rs.map((r) => `${r.simulated}/${r.published}`).join(" ")}]\n`);
    log[log.length - 1].targets = rs.map((r) => ({ label: r.label, simulated: r.simulated }));
    if (best === null || s < best.sse) best = { v, sse: s };
  }
  prm.set(best.v);
  process.stderr.write(`-> ${name} = ${best.v}\n`);
}
// Identifiability: a parameter is identified when the error rises on both sides of the chosen grid
// value (by more than 2 %); flat on one side means the targets only bound it; flat on both, that they
// do not constrain it at all. A parameter that is not identified should be pinned by physics instead.
const identifiability = {};
for (const [name, prm] of Object.entries(params)) {
  const rows = log.filter((r) => r.parameter === name);
  const i = rows.findIndex((r) => r.value === prm.get());
  const best = rows[i].sse;
  const rises = (j) => j >= 0 && j < rows.length && rows[j].sse > best * 1.02;
  const lo = i > 0 ? rises(i - 1) : null, hi = i < rows.length - 1 ? rises(i + 1) : null;
  const rise = (j) => rows[j].sse / best - 1;
  const weakest = lo && hi ? Math.min(rise(i - 1), rise(i + 1)) : 0;
  identifiability[name] = lo && hi ? (weakest < 0.1 ? `weakly identified (the error rises on both sides, on one by only ${Math.round(weakest * 100)} %)` : "identified (the error rises on both sides)")
    : lo === false && hi === false ? "not identified (flat on both sides)"
    : hi === false || (hi === null && lo) ? "bounded below only (flat above the chosen value, or at the grid's top)"
    : "bounded above only (flat below the chosen value, or at the grid's bottom)";
}
const final = evalTargets(targets);
const report = {
  id: "abeni-faggioli",
  procedure: "coordinate descent over fixed grids (one pass: hk_none_max_us, hk_rt_max_us, burst_accesses), minimising the sum of squared log(sim/published) over the targets each parameter acts on; the simulated value of a target is the median over seeds of the worst-case latency of one run of horizon_s simulated seconds",
  date: new Date().toISOString().slice(0, 10),
  horizon_s: H,
  seeds: SEEDS,
  fitted: Object.fromEntries(Object.entries(params).map(([k, p]) => [k, p.get()])),
  grid: log,
  identifiability,
  targets: final,
  total_sse: sse(final),
};
console.log(JSON.stringify(report, null, 2));
if (write) {
  // The provenance of each fitted value keeps its text up to the word FITTED (what the value is and
  // what was assumed around it) and gets a new FITTED clause; the interpretation (what the grid says,
  // the history of earlier fits) is for a person to write into the report's note and these clauses.
  const path = new URL("../data/kernels/linux-5.0.json", import.meta.url);
  const raw = JSON.parse(readFileSync(path, "utf8"));
  const fitted = (name, v, old) => `${old.split("FITTED")[0]}FITTED: ${v}, by scripts/calibrate-abeni.mjs --write on ${report.date} on the medians over seeds ${SEEDS[0]}-${SEEDS[SEEDS.length - 1]} of Tables 1-2 and the no-load Dom0 worst cases (data/calibration/abeni-faggioli.json); ${identifiability[name]}.`;
  const s = raw.activities.housekeeping.sections;
  s.none.np_us.max_us = params.hk_none_max_us.get();
  s.none.np_us.provenance = fitted("hk_none_max_us", s.none.np_us.max_us, s.none.np_us.provenance);
  s.rt.np_us.max_us = params.hk_rt_max_us.get();
  s.rt.np_us.provenance = fitted("hk_rt_max_us", s.rt.np_us.max_us, s.rt.np_us.provenance);
  const acc = raw.activities.device_burst.accesses;
  acc.value = params.burst_accesses.get();
  acc.provenance = fitted("burst_accesses", acc.value, acc.provenance);
  writeFileSync(path, JSON.stringify(raw, null, 2) + "\n");
  mkdirSync(new URL("../data/calibration/", import.meta.url), { recursive: true });
  const note = `Written by scripts/calibrate-abeni.mjs --write on ${report.date}; the interpretation (identifiability in words, residuals no parameter removes, earlier fits) is still to be written here.`;
  writeFileSync(new URL("../data/calibration/abeni-faggioli.json", import.meta.url), JSON.stringify({ id: report.id, note, ...report }, null, 2) + "\n");
  process.stderr.write("written: data/kernels/linux-5.0.json, data/calibration/abeni-faggioli.json\n");
}
