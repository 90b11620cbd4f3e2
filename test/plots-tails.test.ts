// Latency figures that show their tails (CCDF from binned counts, log-log histograms, small
// multiples) and table formatting for reading (no null cells, rounding, units that fit).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as aq from "arquero";
import { bundleFor, formatCell, histCdfFigure, histLogFigure, lineFigure, MISSING } from "../src/notebook/index.js";

const hist = () =>
  aq.table({
    config: ["a", "a", "a", "a", "b", "b", "b"],
    latency_us: [0, 1, 2, 900, 3, 4, 5],
    count: [0, 90, 9, 1, 50, 0, 50],
  });

test("histCdfFigure: CDF and CCDF of binned counts; only occupied bins; log axes on request", () => {
  const cdf = histCdfFigure(hist(), { bin: "latency_us", count: "count", groupBy: "config", title: "CDF" });
  const a = cdf.data.find((d) => d.name === "a")!;
  assert.deepEqual(a.x, [1, 2, 900]);
  assert.deepEqual(a.y, [0.9, 0.99, 1]);
  assert.equal(a.line.shape, "hv");
  assert.deepEqual(cdf.layout.yaxis.range, [0, 1.02]);
  const ccdf = histCdfFigure(hist(), { bin: "latency_us", count: "count", groupBy: "config", ccdf: true, logX: true, title: "CCDF" });
  const ac = ccdf.data.find((d) => d.name === "a")!;
  assert.deepEqual(ac.x, [1, 2, 900]);
  assert.ok(Math.abs(ac.y[2] - 0.01) < 1e-12, "P(X ≥ 900 µs) = 1 %: the tail is a visible point, not 1 - 1 = 0");
  assert.equal(ac.y[0], 1);
  assert.equal(ac.line.shape, "vh");
  assert.equal(ccdf.layout.xaxis.type, "log");
  assert.equal(ccdf.layout.yaxis.type, "log");
  assert.throws(() => histCdfFigure(hist(), { bin: "nope", count: "count", title: "x" }), /no column "nope"/);
});

test("histLogFigure: log-log with bucket centres and normalised counts", () => {
  const f = histLogFigure(hist(), { bin: "latency_us", count: "count", groupBy: "config", logX: true, binOffset: 0.5, normalize: true, title: "H" });
  assert.equal(f.layout.xaxis.type, "log");
  assert.equal(f.layout.yaxis.type, "log");
  const b = f.data.find((d) => d.name === "b")!;
  assert.deepEqual(b.x, [3.5, 5.5]);
  assert.deepEqual(b.y, [0.5, 0.5]);
  const noOffset = histLogFigure(aq.table({ latency_us: [0, 1], count: [5, 5] }), { bin: "latency_us", count: "count", logX: true, title: "H" });
  assert.deepEqual(noOffset.data[0].x, [1], "bin 0 cannot be drawn on a log axis without an offset");
});

test("small multiples: one panel per facet value, shared axes, one colour and legend entry per curve name", () => {
  const t = aq.table({
    pair: ["NRT/NRT", "NRT/NRT", "NRT/NRT", "NRT/NRT", "RT/RT", "RT/RT", "RT/RT", "RT/RT", "RT/NRT", "RT/NRT"],
    hv: ["xen", "xen", "kvm", "kvm", "xen", "xen", "kvm", "kvm", "kvm", "kvm"],
    latency_us: [1, 2, 1, 2, 1, 2, 1, 2, 1, 2],
    count: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
  });
  const f = histCdfFigure(t, { bin: "latency_us", count: "count", groupBy: "hv", facet: "pair", logX: true, ccdf: true, title: "F" });
  assert.equal(f.data.length, 5);
  assert.deepEqual(f.data.map((d) => d.xaxis), ["x", "x", "x2", "x2", "x3"]);
  assert.deepEqual(f.layout.annotations.map((a: any) => a.text), ["<b>NRT/NRT</b>", "<b>RT/RT</b>", "<b>RT/NRT</b>"]);
  assert.equal(f.layout.xaxis2.matches, "x");
  assert.equal(f.layout.yaxis3.matches, "y");
  assert.equal(f.layout.xaxis3.type, "log", "every panel keeps the log axes");
  assert.equal(f.layout.yaxis2.type, "log");
  const kvm = f.data.filter((d) => d.name === "kvm");
  assert.equal(new Set(kvm.map((d) => d.line.color)).size, 1, "same colour for the same curve in every panel");
  assert.deepEqual(kvm.map((d) => d.showlegend), [true, false, false]);
  assert.notEqual(kvm[0].line.color, f.data.find((d) => d.name === "xen")!.line.color);
  // The y domain of the second row lies below the first.
  assert.ok(f.layout.yaxis3.domain[1] < f.layout.yaxis.domain[0]);
  const long = "A".repeat(50) + " " + "B".repeat(50);
  assert.equal(histCdfFigure(t, { bin: "latency_us", count: "count", facet: "pair", title: long }).layout.title.text, "A".repeat(50) + "<br>" + "B".repeat(50), "long panel-figure titles wrap");
  const plain = lineFigure(t, { x: "latency_us", y: "count", groupBy: "hv", title: "no facet" });
  assert.equal(plain.layout.annotations, undefined);
});

test("table formatting: missing values, rounding, time units re-scaled when values reach 100,000", () => {
  assert.equal(formatCell(null), MISSING);
  assert.equal(formatCell(NaN), MISSING);
  assert.equal(formatCell(12.3456), "12.35");
  assert.equal(formatCell(0.0123456), "0.01235");
  assert.equal(formatCell(250123.4), "250123");
  assert.equal(formatCell(7), "7");
  const t = aq.from([
    { config: "a", max_latency_us: 250123.4, avg_latency_us: 12.3456, published_us: null },
    { config: "b", max_latency_us: 99.5, avg_latency_us: 1.2, published_us: 602 },
  ]);
  const b = bundleFor(t);
  const html = b["text/html"] as string;
  assert.doesNotMatch(html, />null</);
  assert.match(html, /<th[^>]*>max_latency_ms<\/th>/);
  assert.match(html, />250\.1</);
  assert.match(html, />0\.0995</);
  assert.match(html, />12\.35</);
  assert.match(html, />–</);
  assert.match(html, /max_latency_ms = max_latency_us \/ 1000/);
  assert.match(b["text/plain"] as string, /\|a\|250\.1\|12\.35\|–\|/);
  const raw = bundleFor(t, { format: false });
  assert.match(raw["text/plain"] as string, /250123\.4/);
});
