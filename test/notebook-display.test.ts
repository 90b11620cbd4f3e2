// Unit tests of hvsim/notebook (show() outside tslab, MIME bundles) and of the Plotly figure
// builders in src/plots.
import { describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as aq from "arquero";
import {
  barFigure,
  bundleFor,
  cdfFigure,
  cdfSampleIndices,
  emitBundle,
  histLogFigure,
  labelFor,
  lineFigure,
  markdown,
  plotlyJsMode,
  PLOTLY_MIME,
  show,
  stackedBarFigure,
  tableFooter,
  timelineFigure,
  toHTMLFile,
  type Figure,
  type TableLike,
} from "../src/notebook/index.js";

/** Run `fn` with console.log captured; returns the printed lines. */
function captureLog(fn: () => void): string[] {
  const lines: string[] = [];
  const m = mock.method(console, "log", (...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  try {
    fn();
  } finally {
    m.mock.restore();
  }
  return lines;
}

function sweepTable() {
  return aq.table({
    load_pct: [30, 10, 20, 10, 20, 30],
    p99_latency_us: [22, 12, 15, 10, 12, 14],
    ci_us: [2, 1, 1.5, 1, 1, 1.2],
    scheduler: ["credit", "credit", "credit", "rtds", "rtds", "rtds"],
  });
}

function bigTable(n: number) {
  return aq.table({ i: Array.from({ length: n }, (_, k) => k), v: Array.from({ length: n }, (_, k) => k * 0.5) });
}

describe("show() outside tslab", () => {
  it("prints a table's text/plain (Markdown + footer)", () => {
    const lines = captureLog(() => show(bigTable(25)));
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^\|i\|v\|/);
    assert.match(lines[0], /25 rows × 2 columns \(showing first 10\)$/);
    assert.equal(lines[0].split("\n").filter((l) => l.startsWith("|")).length, 2 + 10);
  });

  it("prints a one-line summary for a figure", () => {
    const fig = lineFigure(sweepTable(), { x: "load_pct", y: "p99_latency_us", groupBy: "scheduler", title: "p99 vs load" });
    assert.deepEqual(captureLog(() => show(fig)), ["Plotly figure: p99 vs load (2 traces)"]);
  });

  it("shows each element of an array, strings as Markdown", () => {
    assert.deepEqual(captureLog(() => show(["# a", "b"])), ["# a", "b"]);
    assert.deepEqual(captureLog(() => markdown("**x**")), ["**x**"]);
  });

  it("falls back to the console when tslab is absent", () => {
    const lines = captureLog(() => assert.equal(emitBundle({ "text/plain": "hi", "text/html": "<b>hi</b>" }), "console"));
    assert.deepEqual(lines, ["hi"]);
  });

  it("reads HVSIM_PLOTLY_JS", () => {
    const saved = process.env.HVSIM_PLOTLY_JS;
    try {
      delete process.env.HVSIM_PLOTLY_JS;
      assert.equal(plotlyJsMode(), "inline");
      process.env.HVSIM_PLOTLY_JS = "lean";
      assert.equal(plotlyJsMode(), "lean");
      process.env.HVSIM_PLOTLY_JS = "none";
      assert.equal(plotlyJsMode(), "none");
    } finally {
      if (saved === undefined) delete process.env.HVSIM_PLOTLY_JS;
      else process.env.HVSIM_PLOTLY_JS = saved;
    }
  });
});

describe("bundleFor", () => {
  it("renders a table as html (first `limit` rows) and plain (first 10 rows)", () => {
    const b = bundleFor(bigTable(1000), { limit: 5 });
    assert.deepEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
    const html = b["text/html"] as string;
    assert.match(html, /<table/);
    assert.equal((html.match(/<tr/g) ?? []).length, 1 + 5);
    assert.match(html, /1,000 rows × 2 columns \(showing first 5\)/);
    assert.match(b["text/plain"] as string, /1,000 rows × 2 columns \(showing first 5\)$/);
  });

  it("defaults to 20 html rows and omits 'showing' when everything fits", () => {
    assert.match(bundleFor(bigTable(30))["text/html"] as string, /30 rows × 2 columns \(showing first 20\)/);
    const small = bundleFor(bigTable(3));
    assert.match(small["text/html"] as string, /3 rows × 2 columns<\/div>$/);
    assert.equal(tableFooter(1, 1, 1), "1 row × 1 column");
    assert.equal(tableFooter(1000000, 2, 20), "1,000,000 rows × 2 columns (showing first 20)");
  });

  it("slices before rendering (never formats the whole table)", () => {
    const rendered: number[] = [];
    const fake = (n: number): TableLike => ({
      numRows: () => n,
      numCols: () => 1,
      slice: (s = 0, e = n) => fake(Math.max(0, Math.min(n, e) - s)),
      toHTML: () => {
        rendered.push(n);
        return "<table></table>";
      },
      toMarkdown: () => {
        rendered.push(n);
        return "|x|\n";
      },
    });
    bundleFor(fake(1_000_000));
    assert.deepEqual(rendered, [20, 10]);
  });

  it("adds a title to tables and strings", () => {
    assert.match(bundleFor(bigTable(2), { title: "T <1>" })["text/html"] as string, /^<h4>T &lt;1&gt;<\/h4>/);
    assert.deepEqual(bundleFor("body", { title: "H" }), { "text/markdown": "**H**\n\nbody", "text/plain": "**H**\n\nbody" });
  });

  it("renders a figure as plotly json + html + plain", () => {
    const fig = lineFigure(sweepTable(), { x: "load_pct", y: "p99_latency_us", title: "one" });
    const b = bundleFor(fig, { divId: "fig-1" });
    assert.deepEqual(Object.keys(b).sort(), [PLOTLY_MIME, "text/html", "text/plain"].sort());
    const json = b[PLOTLY_MIME] as Figure;
    assert.deepEqual(json.data, fig.data);
    assert.equal(b["text/plain"], "Plotly figure: one (1 trace)");
    const html = b["text/html"] as string;
    assert.match(html, /^<div id="fig-1" class="hvsim-plotly" data-hvsim-plot="1"/);
    assert.match(html, /window\.__hvsimPlotlyQueue/);
    assert.ok(html.length < 10_000, "mode none must not inline plotly.js");
  });

  it("inlines plotly.js only in inline mode, and emits no html in lean mode", () => {
    const fig = { data: [{ type: "scatter", x: [1], y: [2] }], layout: { title: { text: "t" } } };
    const inline = bundleFor(fig, { plotlyJs: "inline", divId: "a" })["text/html"] as string;
    assert.ok(inline.length > 1_000_000);
    assert.ok(inline.indexOf("Plotly.newPlot") > inline.indexOf("plotly.js v"), "library before the draw");
    const lean = bundleFor(fig, { plotlyJs: "lean" });
    assert.deepEqual(Object.keys(lean).sort(), [PLOTLY_MIME, "text/plain"]);
  });

  it("makes figures JSON-safe and script-safe, without mutating the input", () => {
    const fig = {
      data: [{ type: "scatter", x: new Float64Array([1, 2]), y: [BigInt(3), BigInt(4)] }],
      layout: { title: "</script><b>" },
    };
    const b = bundleFor(fig, { divId: "d", title: "new </script> title" });
    const json = b[PLOTLY_MIME] as Figure;
    assert.deepEqual(json.data[0].x, [1, 2]);
    assert.deepEqual(json.data[0].y, [3, 4]);
    assert.deepEqual(json.layout.title, { text: "new </script> title" });
    assert.equal(fig.layout.title, "</script><b>");
    const html = b["text/html"] as string;
    assert.equal(html.split("</script>").length, 2, "only the closing tag of our own script");
  });

  it("uses toMimeBundle() and util.inspect for other values", () => {
    assert.deepEqual(bundleFor({ toMimeBundle: () => ({ "text/plain": "custom" }) }), { "text/plain": "custom" });
    assert.deepEqual(bundleFor(42), { "text/plain": "42" });
  });
});

describe("labels", () => {
  it("derives axis labels with units from column names", () => {
    assert.equal(labelFor("latency_us"), "latency (µs)");
    assert.equal(labelFor("wakeup_latency_ns"), "wakeup latency (ns)");
    assert.equal(labelFor("start_ms"), "start (ms)");
    assert.equal(labelFor("load_pct"), "load (%)");
    assert.equal(labelFor("throughput_per_s"), "throughput (1/s)");
    assert.equal(labelFor("vcpus"), "vcpus");
    assert.equal(labelFor("us"), "us");
  });
});

describe("figure builders", () => {
  it("lineFigure: title, axis titles, one trace per group, x sorted, error bars", () => {
    const fig = lineFigure(sweepTable(), {
      x: "load_pct",
      y: "p99_latency_us",
      groupBy: "scheduler",
      errorY: "ci_us",
      title: "p99 vs load",
      logY: true,
    });
    assert.equal(fig.layout.title.text, "p99 vs load");
    assert.equal(fig.layout.xaxis.title.text, "load (%)");
    assert.equal(fig.layout.yaxis.title.text, "p99 latency (µs)");
    assert.equal(fig.layout.yaxis.type, "log");
    assert.equal(fig.layout.xaxis.type, undefined);
    assert.equal(fig.data.length, 2);
    assert.deepEqual(fig.data.map((d) => d.name), ["credit", "rtds"]);
    assert.deepEqual(fig.data[0].x, [10, 20, 30]);
    assert.deepEqual(fig.data[0].y, [12, 15, 22]);
    assert.deepEqual(fig.data[0].error_y.array, [1, 1.5, 2]);
    assert.equal(fig.data[0].mode, "lines+markers");
  });

  it("lineFigure: explicit axis titles, deterministic output, readable errors", () => {
    const opts = { x: "load_pct", y: "p99_latency_us", title: "t", xTitle: "offered load (%)", yTitle: "p99 (µs)" };
    const a = lineFigure(sweepTable(), opts);
    assert.equal(a.layout.xaxis.title.text, "offered load (%)");
    assert.equal(a.layout.yaxis.title.text, "p99 (µs)");
    assert.equal(JSON.stringify(a), JSON.stringify(lineFigure(sweepTable(), opts)));
    assert.throws(() => lineFigure(sweepTable(), { x: "nope", y: "p99_latency_us", title: "t" }), /no column "nope".*load_pct/);
  });

  it("cdfFigure: monotone, ends at 1, down-sampled to ≤ 2000 points with min and max kept", () => {
    const n = 100_000;
    const values = Array.from({ length: n }, (_, i) => ((i * 7919) % 100_003) / 10);
    const t = aq.table({ latency_us: values, cfg: values.map((_, i) => (i % 2 ? "a" : "b")) });
    const fig = cdfFigure(t, { value: "latency_us", groupBy: "cfg", title: "cdf", logX: true });
    assert.equal(fig.data.length, 2);
    assert.equal(fig.layout.xaxis.title.text, "latency (µs)");
    assert.equal(fig.layout.xaxis.type, "log");
    assert.equal(fig.layout.yaxis.title.text, "cumulative fraction");
    for (const tr of fig.data) {
      const x = tr.x as number[];
      const y = tr.y as number[];
      assert.ok(x.length <= 2000 && x.length > 1000, `points: ${x.length}`);
      for (let i = 1; i < x.length; i++) {
        assert.ok(x[i] >= x[i - 1] && y[i] > y[i - 1], `monotone at ${i}`);
      }
      assert.equal(y[y.length - 1], 1);
    }
    const all = values.filter((_, i) => i % 2 === 0); // group "b" appears first
    assert.equal(fig.data[0].x[0], Math.min(...all));
    assert.equal(fig.data[0].x[fig.data[0].x.length - 1], Math.max(...all));
  });

  it("cdfFigure: small samples keep every point; ccdf decreases on a log axis", () => {
    const t = aq.table({ v_ms: [3, 1, 2, NaN, 4] });
    const cdf = cdfFigure(t, { value: "v_ms", title: "c" });
    assert.deepEqual(cdf.data[0].x, [1, 2, 3, 4]);
    assert.deepEqual(cdf.data[0].y, [0.25, 0.5, 0.75, 1]);
    const ccdf = cdfFigure(t, { value: "v_ms", title: "c", ccdf: true });
    assert.deepEqual(ccdf.data[0].y, [1, 0.75, 0.5, 0.25]);
    assert.equal(ccdf.layout.yaxis.type, "log");
    const idx = cdfSampleIndices(1_000_000, 2000);
    assert.ok(idx.length <= 2000);
    assert.equal(idx[0], 0);
    assert.equal(idx[idx.length - 1], 999_999);
    assert.ok(idx.filter((i) => i >= 999_000).length >= 100, "upper tail kept dense");
  });

  it("histLogFigure: log y, zero bins dropped, step style for groups", () => {
    const t = aq.table({ latency_us: [1, 2, 3, 1, 2, 3], samples: [100, 0, 3, 50, 5, 0], cpu: [0, 0, 0, 1, 1, 1] });
    const one = histLogFigure(t.filter((d: any) => d.cpu === 0), { bin: "latency_us", count: "samples", title: "h" });
    assert.equal(one.layout.yaxis.type, "log");
    assert.equal(one.layout.xaxis.title.text, "latency (µs)");
    assert.equal(one.layout.yaxis.title.text, "samples (log scale)");
    assert.equal(one.data.length, 1);
    assert.equal(one.data[0].type, "bar");
    assert.deepEqual(one.data[0].x, [1, 3]);
    const two = histLogFigure(t, { bin: "latency_us", count: "samples", groupBy: "cpu", title: "h" });
    assert.equal(two.data.length, 2);
    assert.equal(two.data[1].line.shape, "hvh");
    assert.deepEqual(two.data[1].y, [50, 5]);
  });

  it("barFigure: grouped bars with error bars", () => {
    const fig = barFigure(sweepTable(), { x: "load_pct", y: "p99_latency_us", groupBy: "scheduler", errorY: "ci_us", title: "b" });
    assert.equal(fig.layout.barmode, "group");
    assert.equal(fig.data.length, 2);
    assert.equal(fig.data[0].type, "bar");
    assert.deepEqual(fig.data[1].error_y.array, [1, 1, 1.2]);
    assert.equal(fig.layout.yaxis.title.text, "p99 latency (µs)");
    assert.equal(barFigure(sweepTable(), { x: "scheduler", y: "ci_us", title: "b", barmode: "stack" }).layout.barmode, "stack");
  });

  it("timelineFigure: one bar trace per colour, base = start, length = end - start", () => {
    const seg = aq.table({
      pcpu: ["p1", "p0", "p1", "p0"],
      start_ms: [0, 1, 5, 6],
      end_ms: [4, 3, 9, 6.5],
      vcpu: ["d1v0", "d2v0", "d2v0", "d1v0"],
      dom: ["d1", "d2", "d2", "d1"],
    });
    const fig = timelineFigure(seg, {
      lane: "pcpu",
      start: "start_ms",
      end: "end_ms",
      color: "vcpu",
      hover: ["dom"],
      title: "tl",
      colors: { d1v0: "#123456" },
    });
    assert.equal(fig.layout.title.text, "tl");
    assert.equal(fig.layout.xaxis.title.text, "time (ms)");
    assert.equal(fig.layout.yaxis.title.text, "pcpu");
    assert.deepEqual(fig.layout.yaxis.categoryarray, ["p1", "p0"]);
    assert.equal(fig.layout.barmode, "overlay");
    assert.deepEqual(fig.data.map((d) => d.name), ["d1v0", "d2v0"]);
    for (const tr of fig.data) {
      assert.equal(tr.type, "bar");
      assert.equal(tr.orientation, "h");
    }
    assert.deepEqual(fig.data[0].y, ["p1", "p0"]);
    assert.deepEqual(fig.data[0].base, [0, 6]);
    assert.deepEqual(fig.data[0].x, [4, 0.5]);
    assert.deepEqual(fig.data[1].base, [1, 5]);
    assert.deepEqual(fig.data[1].x, [2, 4]);
    assert.deepEqual(fig.data[0].marker, { color: "#123456" });
    assert.match(fig.data[1].hovertext[0], /p0 · d2v0<br>1 – 3 ms \(2 ms\)<br>dom = d2/);
  });

  it("stackedBarFigure: one trace per component, stacked, unit-derived y title", () => {
    const t = aq.table({ config: ["a", "b"], guest_us: [1, 2], hypervisor_us: [3, 4] });
    const fig = stackedBarFigure(t, { x: "config", components: ["guest_us", "hypervisor_us"], title: "s" });
    assert.equal(fig.layout.barmode, "stack");
    assert.deepEqual(fig.data.map((d) => d.name), ["guest", "hypervisor"]);
    assert.deepEqual(fig.data[1].y, [3, 4]);
    assert.equal(fig.layout.yaxis.title.text, "time (µs)");
    const own = stackedBarFigure(t, { x: "config", components: ["guest_us"], title: "s", yTitle: "latency (µs)" });
    assert.equal(own.layout.yaxis.title.text, "latency (µs)");
  });

  it("figures are plain JSON", () => {
    const fig = lineFigure(sweepTable(), { x: "load_pct", y: "p99_latency_us", title: "j" });
    assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
    assert.ok(Array.isArray(fig.data[0].x));
  });
});

describe("toHTMLFile", () => {
  it("writes a standalone page with plotly inlined and one div per figure", () => {
    const dir = mkdtempSync(join(tmpdir(), "hvsim-html-"));
    try {
      const figs = [
        lineFigure(sweepTable(), { x: "load_pct", y: "p99_latency_us", title: "a" }),
        barFigure(sweepTable(), { x: "scheduler", y: "ci_us", title: "b" }),
      ];
      const file = join(dir, "sub", "figs.html");
      toHTMLFile(figs, file, "My <figures>");
      const html = readFileSync(file, "utf8");
      assert.match(html, /^<!DOCTYPE html>/);
      assert.match(html, /<title>My &lt;figures&gt;<\/title>/);
      assert.ok(html.includes("plotly.js v"));
      assert.equal((html.match(/data-hvsim-plot="1"/g) ?? []).length, 2);
      assert.throws(() => toHTMLFile([{ nope: 1 }], join(dir, "x.html")), /not a Plotly figure/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
