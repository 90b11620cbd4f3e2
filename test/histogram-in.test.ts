// Reading real cyclictest -h output (src/results/histogram-in.ts): a hand-written fixture in
// rt-tests' print_hist() format (two threads, --histofall, overflows with "others", the status
// lines of a run without -q), a round trip through the simulator's own cyclictestHistogramText,
// malformed input, and `hvsim compare-histogram`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { simulate } from "../src/simulate.js";
import { cyclictestHistogramText } from "../src/workloads/cyclictest.js";
import {
  HistogramFormatError,
  histogramPercentile,
  histogramSummary,
  overlayHistograms,
  parseCyclictestHistogram,
  readCyclictestHistogram,
} from "../src/results/histogram-in.js";
import { histogramOverlayFigure } from "../src/plots/index.js";
import type { SimSpec } from "../src/spec/types.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const FIXTURE = join(ROOT, "test", "fixtures", "cyclictest-h8-histofall.txt");

type Row = Record<string, any>;

test("a real-format cyclictest -h 8 file with --histofall: every table as a simulated run's", () => {
  const h = readCyclictestHistogram(FIXTURE);
  assert.deepEqual(h.warnings, []);
  const ct = h.cyclictest.objects() as Row[];
  assert.equal(ct.length, 2, "two threads; the histofall column is not a thread");
  assert.deepEqual(ct[0], {
    domain: "real", thread: 0, priority: 99, interval_us: 1000, cycles: 1006, min_latency_us: 1, avg_latency_us: 2,
    max_latency_us: 12, overflows: 3, p50_latency_us: 2, p99_latency_us: 4, p999_latency_us: null, histogram_us: 8,
  });
  assert.equal(ct[1].priority, 98);
  assert.equal(ct[1].interval_us, 1500);
  assert.equal(ct[1].cycles, 671);
  assert.equal(ct[1].max_latency_us, 9, "the histofall maximum (12) is dropped");
  const hist = h.latency_hist.objects() as Row[];
  assert.deepEqual(h.latency_hist.columnNames(), ["domain", "thread", "latency_us", "count"]);
  assert.equal(hist.length, 16, "every bucket 0..7 of both threads");
  assert.deepEqual(hist.filter((r) => r.thread === 1).map((r) => r.count), [0, 200, 300, 120, 40, 8, 2, 0]);
  assert.deepEqual(h.latency_overflows.objects(), [
    { domain: "real", thread: 0, cycle: 17 }, { domain: "real", thread: 0, cycle: 503 }, { domain: "real", thread: 1, cycle: 654 },
  ]);
  const named = parseCyclictestHistogram(readFileSync(FIXTURE, "utf8"), { domain: "rt-host" });
  assert.ok((named.latency_hist.objects() as Row[]).every((r) => r.domain === "rt-host"));
});

test("percentiles over a histogram with overflows: null when the rank lies among the overflows", () => {
  assert.equal(histogramPercentile([0, 5, 5], 0, 50), 1);
  assert.equal(histogramPercentile([0, 5, 5], 0, 51), 2);
  assert.equal(histogramPercentile([0, 5, 4], 1, 95), null);
  assert.equal(histogramPercentile([], 0, 50), null);
});

function spec(histogramUs: number): SimSpec {
  return {
    board: { preset: "i7-6700" }, hypervisor: { kind: "native" }, horizon_s: 0.3,
    guests: [{ name: "linux", vcpus: 2, workloads: [
      { kind: "cyclictest", interval_us: 500, histogram_us: histogramUs },
      { kind: "cyclictest", interval_us: 700, cpu: 1, histogram_us: histogramUs },
    ] }],
  } as SimSpec;
}

test("round trip: the simulator's cyclictest -q -h text reads back into the run's own tables", () => {
  for (const n of [30, 2]) {
    const r = simulate(spec(n), { seed: 2 });
    const back = parseCyclictestHistogram(cyclictestHistogramText(r), { domain: "linux" });
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(back.latency_hist.objects(), r.rows("latency_hist"), `-h ${n}: latency_hist`);
    assert.deepEqual(back.latency_overflows.objects(), r.rows("latency_overflows"), `-h ${n}: logged overflow cycles`);
    const sim = r.rows("cyclictest") as Row[];
    const got = back.cyclictest.objects() as Row[];
    assert.equal(got.length, sim.length);
    sim.forEach((s, i) => {
      for (const k of ["domain", "thread", "cycles", "min_latency_us", "max_latency_us", "overflows", "histogram_us"]) {
        assert.equal(got[i][k], s[k], `-h ${n} thread ${i}: ${k}`);
      }
      assert.equal(got[i].avg_latency_us, Math.trunc(s.avg_latency_us), "cyclictest prints the mean truncated");
    });
    if (n === 2) assert.ok(sim.some((s) => s.overflows > 2), "with -h 2 some thread overflows more often than it logs");
    // One summary shape for both sources; percentiles from the same histogram agree.
    const a = histogramSummary(back, "real").objects() as Row[];
    const b = histogramSummary({ cyclictest: r.table("cyclictest"), latency_hist: r.table("latency_hist") }, "simulated").objects() as Row[];
    assert.deepEqual(a.map((x) => [x.p50_latency_us, x.p99_latency_us, x.p999_latency_us]), b.map((x) => [x.p50_latency_us, x.p99_latency_us, x.p999_latency_us]));
    assert.deepEqual(Object.keys(a[0]), Object.keys(b[0]));
  }
});

test("malformed histograms are refused naming the line and the expectation", () => {
  const bad = (text: string, re: RegExp) => assert.throws(() => parseCyclictestHistogram(text), (e: unknown) => e instanceof HistogramFormatError && re.test((e as Error).message));
  bad("T: 0 ( 1) P:99 I:1000 C: 5 Min: 1 Act: 1 Avg: 1 Max: 2\n", /no "# Histogram" line/);
  bad("# Histogram\n000000 000001\t000002\n000001 000003\n# Min Latencies: 00000 00000\n", /line 3: bucket 1 has 1 count column\(s\), earlier buckets 2/);
  bad("# Histogram\n000000 000001\n000001 000003\n", /no "# Min Latencies:" line/);
  bad("# Histogram\n000000 000001\nfoo\n# Min Latencies: 00000\n", /line 3: expected a bucket line/);
  bad("# Histogram\n000000 000001\n# Min Latencies: 00000\n# Avg Latencies: 00000 00001\n# Max Latencies: 00000\n", /"# Avg Latencies:" lists 2 value\(s\); expected 1/);
  // A trimmed paste: missing buckets count 0 and a disagreeing Total is a warning, not an error.
  const trimmed = parseCyclictestHistogram("# Histogram\n000002 000005\n# Total: 000000006\n# Min Latencies: 00002\n# Avg Latencies: 00002\n# Max Latencies: 00002\n# Histogram Overflows: 00000\n");
  assert.equal(trimmed.warnings.length, 2);
  assert.match(trimmed.warnings[1], /"# Total" says 6 samples, the listed buckets hold 5/);
});

test("histogramOverlayFigure: real and simulated histograms as normalised log-log steps", () => {
  const real = readCyclictestHistogram(FIXTURE);
  const r = simulate(spec(30), { seed: 2 });
  const t = overlayHistograms([{ source: "real", latency_hist: real.latency_hist }, { source: "simulated", latency_hist: r.table("latency_hist") }]);
  const fig = histogramOverlayFigure(t, { title: "real against simulated" });
  assert.equal(fig.data.length, 4, "one trace per source and thread");
  assert.equal(fig.layout.xaxis.type, "log");
  assert.equal(fig.layout.yaxis.type, "log");
  const t0 = fig.data.find((d) => d.name === "real · real thread 0")!;
  assert.deepEqual(t0.x, [1.5, 2.5, 3.5, 4.5, 5.5, 7.5], "non-empty buckets at their centres");
  assert.ok(Math.abs(t0.y.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-12, "normalised to fractions");
});

test("hvsim compare-histogram REAL.txt SPEC.json prints both summaries (text and --json)", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvsim-cmp-"));
  const specFile = join(dir, "spec.json");
  writeFileSync(specFile, JSON.stringify(spec(30)));
  const cli = join(ROOT, "dist", "cli.js");
  const text = spawnSync(process.execPath, [cli, "compare-histogram", FIXTURE, specFile, "--seed", "2"], { encoding: "utf8" });
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /## real/);
  assert.match(text.stdout, /## simulated/);
  assert.match(text.stdout, /p999_latency_us/);
  const js = spawnSync(process.execPath, [cli, "compare-histogram", FIXTURE, specFile, "--seed", "2", "--json"], { encoding: "utf8" });
  assert.equal(js.status, 0, js.stderr);
  const doc = JSON.parse(js.stdout);
  assert.equal(doc.real.summary.length, 2);
  assert.equal(doc.real.summary[0].cycles, 1006);
  assert.deepEqual(doc.simulated.summary.map((r: Row) => r.cycles), (simulate(spec(30), { seed: 2 }).rows("cyclictest") as Row[]).map((r) => r.cycles));
  const broken = join(dir, "broken.txt");
  writeFileSync(broken, "# Histogram\n000000 000001\n");
  const bad = spawnSync(process.execPath, [cli, "compare-histogram", broken, specFile], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /broken\.txt: no "# Min Latencies:" line/);
});
