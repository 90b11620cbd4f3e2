// cyclictest (rt-tests timerthread): measurement rules, the -q -h output format, missed periods,
// the latency breakdown, and memory that does not grow with the loop count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import v8 from "node:v8";
import vm from "node:vm";
import { simulate } from "../src/simulate.js";
import { SimResult } from "../src/results/result.js";
import { DATA_DIR } from "../src/hw/board.js";
import { calcdiffUs, cyclictestHistogramText } from "../src/workloads/cyclictest.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";

type Row = Record<string, any>;

function native(workloads: WorkloadSpec[], horizonS: number, opts: { board?: string; costs?: Record<string, number>; kernel?: object; vcpus?: number; jitter?: number } = {}): SimSpec {
  return {
    board: { preset: opts.board ?? "ideal", ...(opts.costs ? { costs_ns: opts.costs as any } : {}), ...(opts.jitter !== undefined ? { jitter_cv: opts.jitter } : {}) },
    hypervisor: { kind: "native" }, horizon_s: horizonS,
    guests: [{ name: "linux", vcpus: opts.vcpus ?? 1, kernel: opts.kernel, workloads }],
  };
}

test("cyclictest -q -h text: exactly print_hist() of rt-tests <= 2.6 on a hand-made case", () => {
  const r = new SimResult(native([], 1), "1", {
    cyclictest: {
      domain: ["a", "a"], thread: [0, 1], cpu: [0, 1], priority: [99, 99], interval_us: [1000, 1000], cycles: [5, 4],
      min_latency_us: [0, 1], avg_latency_us: [3.4, 1.75], max_latency_us: [12, 3], overflows: [2, 3], histogram_us: [4, 4],
    },
    latency_hist: {
      domain: ["a", "a", "a", "a", "a", "a", "a", "a"], thread: [0, 0, 0, 0, 1, 1, 1, 1],
      latency_us: [0, 1, 2, 3, 0, 1, 2, 3], count: [2, 0, 1, 0, 0, 1, 0, 0],
    },
    latency_overflows: { domain: ["a", "a", "a"], thread: [0, 0, 1], cycle: [5, 7, 123456] },
  }, { events: 0, wall_ms: 0, simulated_s: 0 });
  const expected = [
    "# Histogram",
    "000000 000002\t000000",
    "000001 000000\t000001",
    "000002 000001\t000000",
    "000003 000000\t000000",
    "# Total: 000000003 000000001",
    "# Min Latencies: 00000 00001",
    "# Avg Latencies: 00003 00001",
    "# Max Latencies: 00012 00003",
    "# Histogram Overflows: 00002 00003",
    "# Histogram Overflow at cycle number:",
    "# Thread 0: 00005 00007",
    "# Thread 1: 123456 # 00002 others",
    "",
    "",
  ].join("\n");
  assert.equal(cyclictestHistogramText(r), expected);
});

test("calcdiff truncates the sub-second part towards zero, like rt-utils.h", () => {
  assert.equal(calcdiffUs(2_000_999, 1_000_000), 1000);
  assert.equal(calcdiffUs(1_000_000_500, 999_999_900), 1); // 600 ns across a second boundary: 1e6 + trunc(-999999.4)
  assert.equal(calcdiffUs(1_000_000_500, 1_000_000_000), 0);
});

test("ideal board, zero costs: every latency is exactly 0; cycles, min/avg/max, histogram and text", () => {
  const r = simulate(native([{ kind: "cyclictest", interval_us: 1000, histogram_us: 10 }], 0.1), { seed: 1 });
  const c = r.rows("cyclictest")[0] as Row;
  assert.equal(c.cycles, 100, "expiries at 1, 2, ..., 100 ms");
  assert.deepEqual([c.min_latency_us, c.avg_latency_us, c.max_latency_us, c.overflows], [0, 0, 0, 0]);
  assert.equal(c.priority, 99);
  const h = r.rows("latency_hist") as Row[];
  assert.equal(h.length, 10, "every -h bucket is a row");
  assert.equal(h[0].count, 100);
  assert.ok(h.slice(1).every((x) => x.count === 0));
  const text = cyclictestHistogramText(r);
  assert.match(text, /^# Histogram\n000000 000100\n000001 000000\n/);
  assert.match(text, /# Total: 000000100\n# Min Latencies: 00000\n# Avg Latencies: 00000\n# Max Latencies: 00000\n# Histogram Overflows: 00000\n# Histogram Overflow at cycle number:\n# Thread 0:\n\n$/);
  // -l stops the thread after that many cycles
  const l = simulate(native([{ kind: "cyclictest", interval_us: 1000, loops: 37 }], 0.1), { seed: 1 }).rows("cyclictest")[0] as Row;
  assert.equal(l.cycles, 37);
  // one timer interrupt per cycle, plus the RT bandwidth timer's first expiry (1 ns after the first
  // RT enqueue), and nothing else: the tick stops on the idle CPU
  const cpu = r.rows("guest_cpus")[0] as Row;
  assert.equal(cpu.interrupts, 101);
});

test("known costs: latency = timer interrupt + context switch, truncated to µs; breakdown per component", () => {
  const r = simulate(native([{ kind: "cyclictest", interval_us: 1000, samples_max: 50 }], 0.05, { costs: { timer_irq: 2000, context_switch: 1700 } }), { seed: 1 });
  const s = r.rows("latency_samples") as Row[];
  assert.ok(s.length >= 48);
  for (const x of s) {
    assert.equal(x.latency_us, 3, "3.7 µs truncated");
    assert.equal(x.irq_us, 2);
    assert.equal(x.sched_us, 1.7);
    assert.ok(Math.abs(x.truncation_us + 0.7) < 1e-9);
  }
  const b = Object.fromEntries((r.rows("latency_breakdown") as Row[]).map((x) => [x.component, x]));
  assert.ok(Math.abs(b.irq.mean_us - 2) < 1e-9 && Math.abs(b.sched.max_us - 1.7) < 1e-9);
  assert.ok(Math.abs((Object.values(b) as Row[]).reduce((a, x) => a + x.share_pct, 0) - 100) < 1e-6, "shares add up to 100 %");
});

test("missed periods are skipped, not replayed", () => {
  // a FIFO-50 job of 2.5 ms every 10 ms (from 0.5 ms) blocks a FIFO-10 cyclictest at 1 kHz
  const r = simulate(native([
    { kind: "cyclictest", interval_us: 1000, priority: 10, samples_max: 1000 },
    { kind: "periodic", name: "blocker", period_us: 10_000, exec: 2500, offset_us: 500, policy: "fifo", priority: 50 },
  ], 0.1), { seed: 1 });
  const s = r.rows("latency_samples") as Row[];
  const byE = new Map(s.map((x) => [Math.round(x.expiry_us), x.latency_us]));
  for (let k = 0; k < 10; k++) {
    assert.equal(byE.get(10_000 * k + 1000), 2000, "woken at 1 ms, runs when the blocker ends at 3 ms");
    assert.ok(!byE.has(10_000 * k + 2000), "the 2 ms period is skipped");
    assert.equal(byE.get(10_000 * k + 3000), 0, "the next expiry is 3 ms: no replay of 2 ms");
  }
  assert.equal((r.rows("cyclictest")[0] as Row).cycles, 90);
  for (const x of s) assert.equal(x.expiry_us % 1000, 0, "expiries stay on the interval grid");
});

test("clockevent minimum delta: latency = min delta - (next - now) when the next expiry is closer", () => {
  // reference model of one cyclictest cycle on a zero-cost board with a timer interrupt of irq ns:
  // the sleep programs the device at `now` for max(next, now + minDelta); the task wakes irq ns after it fires
  const expected = (interval: number, minDelta: number, irq: number, n: number) => {
    const out: { e: number; lat: number }[] = [];
    let now = 0, next = interval;
    while (out.length < n) {
      const fire = Math.max(next, now + minDelta);
      const wake = fire + irq;
      out.push({ e: next, lat: Math.trunc((wake - next) / 1000) });
      now = wake;
      next += interval;
      while (now > next) next += interval;
    }
    return out;
  };
  // (RT throttling off: its period timer, armed 1 ns after the first RT enqueue, would take the first clamped interrupt)
  for (const [iv, md, irq] of [[50, 100, 0], [120, 100, 30_000], [70, 30, 5_000], [1000, 100, 0]] as const) {
    const r = simulate(native([{ kind: "cyclictest", interval_us: iv, samples_max: 200 }], 0.01,
      { costs: { lapic_min_delta: md * 1000, timer_irq: irq }, kernel: { rt_runtime_us: "off" } }), { seed: 1 });
    const s = (r.rows("latency_samples") as Row[]).slice(0, 50);
    const exp = expected(iv * 1000, md * 1000, irq, s.length);
    assert.deepEqual(s.map((x) => [x.expiry_us, x.latency_us]), exp.map((x) => [x.e / 1000, x.lat]), `interval ${iv} µs, min delta ${md} µs, irq ${irq} ns`);
  }
  // min delta 100 µs, interval 50 µs: the first cycle is 50 µs late, then every other period is
  // skipped and each sleep (to now) is clamped to the full 100 µs
  const r = simulate(native([{ kind: "cyclictest", interval_us: 50, samples_max: 100 }], 0.005, { costs: { lapic_min_delta: 100_000 }, kernel: { rt_runtime_us: "off" } }), { seed: 1 });
  const lat = (r.rows("latency_samples") as Row[]).map((x) => x.latency_us);
  assert.equal(lat[0], 50);
  assert.ok(lat.slice(1).every((x) => x === 100));
  const b = Object.fromEntries((r.rows("latency_breakdown") as Row[]).map((x) => [x.component, x]));
  assert.ok(Math.abs(b.timer_slop.share_pct - 100) < 1e-9, "all of it is timer slop");
});

/**
 * The PREEMPT_RT latency bound of data/kernels on the ideal (zero-cost) board: a section in
 * progress ([interrupts off][raw non-preemptible]), a primary handler in progress, one pending
 * per device line, and one more per line arriving while the raw section ends.
 */
function rtBoundUs(): number {
  const d = JSON.parse(readFileSync(`${DATA_DIR}kernels/linux-5.0.json`, "utf8"));
  let sec = 0, prim = 0;
  for (const a of Object.values(d.activities) as any[]) {
    const s = a.sections?.rt;
    if (s) sec = Math.max(sec, (s.irqoff_us?.max_us ?? 0) + (s.np_us?.max_us ?? 0));
    if (a.rt_primary_us) prim = Math.max(prim, a.rt_primary_us.max_us);
  }
  const lines = Object.keys(d.stress.irq_rates_hz).length;
  return sec + prim * (1 + 2 * lines);
}

test("RT vs NRT under stress: NRT waits for long non-preemptible sections, RT stays within the raw-section bound", () => {
  const ws = (): WorkloadSpec[] => [{ kind: "cyclictest", interval_us: 500, samples_max: 1_000_000 }, { kind: "stress" }];
  const bound = rtBoundUs();
  const rt = simulate(native(ws(), 4, { kernel: { preempt: "rt" } }), { seed: 3 });
  const nrt = simulate(native(ws(), 4, { kernel: { preempt: "none" } }), { seed: 3 });
  const crt = rt.rows("cyclictest")[0] as Row, cnrt = nrt.rows("cyclictest")[0] as Row;
  assert.ok(crt.max_latency_us <= bound, `RT max ${crt.max_latency_us} µs > bound ${bound} µs from data/kernels`);
  const npMax = Math.max(...(nrt.rows("latency_samples") as Row[]).map((x) => x.kernel_nonpreemptible_us));
  assert.ok(npMax > bound, `NRT waited at most ${npMax} µs for a non-preemptible section`);
  assert.ok(cnrt.max_latency_us >= Math.floor(npMax), "NRT max latency covers the longest non-preemptible section that overlapped a wake-up");
  assert.ok(cnrt.max_latency_us > 5 * crt.max_latency_us, `NRT ${cnrt.max_latency_us} µs vs RT ${crt.max_latency_us} µs`);
  // RT: the stress load never runs a preemptible stretch ahead of the woken cyclictest
  const rtNp = Math.max(...(rt.rows("latency_samples") as Row[]).map((x) => x.kernel_nonpreemptible_us));
  assert.ok(rtNp <= bound);
  // both kernels give the stress load the same work (same activity stream)
  assert.equal((rt.rows("stress")[0] as Row).processes, (nrt.rows("stress")[0] as Row).processes);
});

test("breakdown components sum to the reported latency for every sample (Xen guest with trapped rdtsc, stress, a competing vCPU)", () => {
  const spec: SimSpec = {
    board: { preset: "core2duo-e8500" },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "credit" } }] },
    horizon_s: 2,
    guests: [
      { name: "domU", vcpus: 1, pin: [[1]], kernel: { preempt: "none" }, workloads: [{ kind: "cyclictest", interval_us: 1000, samples_max: 100_000 }, { kind: "stress", intensity: 0.5 }] },
      { name: "hog", vcpus: 1, pin: [[1]], workloads: [{ kind: "cpu-hog" }] },
    ],
  };
  const r = simulate(spec, { seed: 1 });
  const s = r.rows("latency_samples") as Row[];
  assert.ok(s.length > 300, `${s.length} samples`);
  const comps = ["timer_slop_us", "hypervisor_us", "vcpu_not_running_us", "clock_read_us", "kernel_nonpreemptible_us", "irq_us", "sched_us", "truncation_us"];
  for (const x of s) {
    const sum = comps.reduce((a, c) => a + x[c], 0);
    assert.ok(Math.abs(sum - x.latency_us) < 1e-6, `cycle ${x.cycle}: components ${sum} vs latency ${x.latency_us}`);
    for (const c of comps.slice(0, 7)) assert.ok(x[c] >= 0, `${c} ${x[c]}`);
    assert.ok(x.truncation_us > -1 && x.truncation_us < 1);
  }
  const tot = (c: string) => s.reduce((a, x) => a + x[c], 0);
  assert.ok(tot("vcpu_not_running_us") > 0, "the vCPU shares its pCPU with a hog");
  assert.ok(tot("clock_read_us") / s.length > 1, "trapped rdtsc: several 443 ns clock reads per wake-up");
  assert.ok(tot("kernel_nonpreemptible_us") > 0);
});

test("memory stays flat in the loop count: 10^6 loops", () => {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  const run = (loops: number) => simulate(native([{ kind: "cyclictest", interval_us: 1000, loops }], loops / 1000 + 0.01), { seed: 1 });
  run(1000);
  gc();
  const before = process.memoryUsage().heapUsed;
  const r = run(1_000_000);
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal((r.rows("cyclictest")[0] as Row).cycles, 1_000_000);
  assert.ok(grown < 8 * 2 ** 20, `heap grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 10^6 loops`);
});

test("two threads on one CPU: each keeps its own breakdown; runs are reproducible", () => {
  const spec = native([
    { kind: "cyclictest", interval_us: 1000, priority: 99, samples_max: 10_000 },
    { kind: "cyclictest", interval_us: 1000, priority: 80, samples_max: 10_000 },
    { kind: "stress", intensity: 0.5 },
  ], 0.5, { board: "xeon-w3530", kernel: { preempt: "full" } });
  const r = simulate(spec, { seed: 7 });
  const s = r.rows("latency_samples") as Row[];
  const comps = ["timer_slop_us", "hypervisor_us", "vcpu_not_running_us", "clock_read_us", "kernel_nonpreemptible_us", "irq_us", "sched_us", "truncation_us"];
  for (const x of s) assert.ok(Math.abs(comps.reduce((a, c) => a + x[c], 0) - x.latency_us) < 1e-6, `thread ${x.thread} cycle ${x.cycle}`);
  const t = r.rows("cyclictest") as Row[];
  assert.deepEqual(t.map((x) => x.thread), [0, 1]);
  // both expire together: the FIFO-80 thread always waits for the FIFO-99 one
  const lat = (k: number) => s.filter((x) => x.thread === k).reduce((a, x) => a + x.latency_us, 0);
  assert.ok(lat(1) > lat(0));
  assert.match(cyclictestHistogramText(r), /^000000 \d{6}\t\d{6}$/m);
  const again = simulate(spec, { seed: 7 });
  for (const n of r.tableNames) assert.deepEqual(again.rows(n), r.rows(n), n);
});

test("hvsim run FILE --histogram prints the run's histogram as cyclictest -q -h does (the same text as cyclictestHistogramText); a spec without cyclictest is refused", async () => {
  const { execFileSync, spawnSync } = await import("node:child_process");
  const { mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), "hvsim-hist-"));
  const spec = native([{ kind: "cyclictest", interval_us: 1000, histogram_us: 20 }], 0.3, { kernel: { preempt: "rt" } });
  writeFileSync(join(dir, "ct.json"), JSON.stringify(spec));
  const out = execFileSync(process.execPath, [cli, "run", join(dir, "ct.json"), "--histogram", "--seed", "3"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  assert.equal(out, cyclictestHistogramText(simulate(spec, { seed: 3 })));
  assert.match(out, /^# Histogram\n000000 \d{6}\n/);
  assert.match(out, /# Total: \d{9}\n# Min Latencies: \d{5}\n# Avg Latencies: \d{5}\n# Max Latencies: \d{5}\n/);
  const noCt = native([{ kind: "stress" }], 0.1);
  writeFileSync(join(dir, "no.json"), JSON.stringify(noCt));
  const r = spawnSync(process.execPath, [cli, "run", join(dir, "no.json"), "--histogram"], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--histogram: .* has no cyclictest workload/);
});
