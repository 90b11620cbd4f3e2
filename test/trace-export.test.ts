// Trace export: trace-cmd's trace.dat read back by Debian's `trace-cmd report`, the Perfetto
// trace-event JSON checked against the format, the cap, and the task-level Gantt figure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";
import { EV_SWITCH, EV_WAKEUP } from "../src/trace/record.js";
import { taskGanttFigure } from "../src/plots/gantt.js";

/** A Xen system: Context1 (pipe ping-pong, many wake-ups) on a 2-vCPU guest beside a CPU hog, Credit2 on 2 pCPUs. */
function xenSpec(max: number, horizon = 0.2): SimSpec {
  return {
    board: { preset: "rcar-s4" },
    hypervisor: { kind: "xen", pools: [{ name: "p", cpus: [0, 1], scheduler: { name: "credit2" } }] },
    horizon_s: horizon,
    record: { trace_events_max: max },
    guests: [
      { name: "domU", vcpus: 2, workloads: [{ kind: "context1" }] },
      { name: "hog", vcpus: 1, workloads: [{ kind: "cpu-hog", count: 1 }] },
    ],
  } as SimSpec;
}

const tmp = mkdtempSync(join(tmpdir(), "hvsim-trace-"));

function traceCmd(): boolean {
  const r = spawnSync("trace-cmd", ["--version"], { encoding: "utf8" });
  if (r.error) {
    const msg = "trace-cmd is not installed (bash scripts/setup.sh installs Debian's trace-cmd)";
    if (process.env.CI === "true") assert.fail(msg);
    return false;
  }
  return true;
}

test("trace.dat: `trace-cmd report` reads back every simulated event of every level, same count, CPU, pid and ns time", (t) => {
  if (!traceCmd()) { t.skip("trace-cmd is not installed (bash scripts/setup.sh installs it)"); return; }
  const r = simulate(xenSpec(200_000), { seed: 3 });
  const ev = r.traceEvents!;
  assert.ok(ev.n > 1000 && !ev.truncated, `${ev.n} events, none dropped`);
  const files = r.exportTrace(join(tmp, "xen.dat"));
  assert.deepEqual(files.map((f) => f.slice(tmp.length + 1)), ["xen.dat", "xen.domU.dat", "xen.hog.dat"]);
  ev.levels.forEach((L, l) => {
    const out = execFileSync("trace-cmd", ["report", "-t", files[l]], { encoding: "utf8", maxBuffer: 1 << 28, stdio: ["ignore", "pipe", "pipe"] });
    const read: string[] = [];
    const re = /\[(\d+)\]\s+(\d+)\.(\d{9}):\s+(sched_switch|sched_wakeup):\s+(.*)$/;
    for (const line of out.split("\n")) {
      const m = re.exec(line);
      if (!m) continue;
      const tns = Number(m[2]) * 1e9 + Number(m[3]);
      let pids: string;
      if (m[4] === "sched_switch") {
        // "prev:pid [prio] S ==> next:pid [prio]"
        const s = /:(\d+) \[(-?\d+)\] (\S+) ==> .*:(\d+) \[(-?\d+)\]/.exec(m[5]);
        assert.ok(s, `sched_switch line parses: ${line}`);
        pids = `${s![1]}>${s![4]} ${s![3]}`;
      } else {
        const w = /:(\d+) \[(-?\d+)\] CPU:(\d+)/.exec(m[5]);
        assert.ok(w, `sched_wakeup line parses: ${line}`);
        pids = `${w![1]}@${Number(w![3])}`;
      }
      read.push(`${tns} ${Number(m[1])} ${m[4]} ${pids}`);
    }
    const want: string[] = [];
    let switches = 0, wakeups = 0;
    for (let i = 0; i < ev.n; i++) {
      if (ev.level[i] !== l) continue;
      const tns = Math.round(ev.t[i]);
      if (ev.kind[i] === EV_SWITCH) {
        switches++;
        want.push(`${tns} ${ev.cpu[i]} sched_switch ${ev.pid[i]}>${ev.arg[i]} ${ev.state[i] ? "S" : "R"}`);
      } else if (ev.kind[i] === EV_WAKEUP) {
        wakeups++;
        want.push(`${tns} ${ev.cpu[i]} sched_wakeup ${ev.pid[i]}@${ev.arg[i]}`);
      }
    }
    assert.ok(switches > 0, `level ${L.name} has switches`);
    if (L.name !== "hog") assert.ok(wakeups > 0, `level ${L.name} has wake-ups`);
    assert.equal(read.length, want.length, `level ${L.name}: trace-cmd read ${read.length} events, simulated ${want.length}`);
    // trace-cmd merges the CPUs by time; equal timestamps may come in either order
    assert.deepEqual(read.slice().sort(), want.slice().sort(), `level ${L.name}: the same events at the same ns`);
  });
});

test("trace: a long idle gap (> 2^27 ns) is carried by a time extend and read back at the right time", (t) => {
  if (!traceCmd()) { t.skip("trace-cmd is not installed"); return; }
  // a periodic task waking every 300 ms: the guest CPU idles 300 ms between its events
  const spec: SimSpec = {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 1, record: { trace_events_max: 1000 },
    guests: [{ name: "os", vcpus: 1, workloads: [{ kind: "periodic", name: "slow", period_us: 300_000, exec: 1000 }] }],
  } as SimSpec;
  const r = simulate(spec, { seed: 1 });
  const ev = r.traceEvents!;
  const [f] = r.exportTrace(join(tmp, "gap.dat"));
  const out = execFileSync("trace-cmd", ["report", "-t", f], { encoding: "utf8" });
  const times = [...out.matchAll(/(\d+)\.(\d{9}): sched_switch/g)].map((m) => Number(m[1]) * 1e9 + Number(m[2]));
  const want: number[] = [];
  for (let i = 0; i < ev.n; i++) if (ev.kind[i] === EV_SWITCH) want.push(Math.round(ev.t[i]));
  assert.ok(want.some((x, i) => i > 0 && x - want[i - 1] > 2 ** 27), "the run has a gap over 2^27 ns");
  assert.deepEqual(times, want);
});

test("Perfetto JSON follows the trace-event format: fields and types, ts in µs, per-track monotonic, no overlap", () => {
  const r = simulate(xenSpec(50_000, 0.1), { seed: 1 });
  const [f] = r.exportTrace(join(tmp, "t.json"));
  const doc = JSON.parse(readFileSync(f, "utf8"));
  assert.ok(Array.isArray(doc.traceEvents) && doc.traceEvents.length > 100);
  const procs = new Map<number, string>();
  const last = new Map<string, number>();
  let xs = 0, runningUs = 0;
  for (const e of doc.traceEvents) {
    assert.equal(typeof e.name, "string");
    assert.ok(["X", "i", "M"].includes(e.ph), `phase ${e.ph}`);
    assert.ok(Number.isInteger(e.pid) && Number.isInteger(e.tid), "integer pid and tid");
    if (e.ph === "M") {
      assert.ok(["process_name", "thread_name", "process_sort_index", "thread_sort_index"].includes(e.name));
      if (e.name === "process_name") procs.set(e.pid, e.args.name);
      continue;
    }
    assert.equal(typeof e.ts, "number");
    assert.ok(e.ts >= 0 && e.ts <= 0.1e6 + 1e-6, `ts in µs within the 0.1 s run: ${e.ts}`);
    if (e.ph === "X") {
      xs++;
      assert.ok(typeof e.dur === "number" && e.dur > 0, "complete events have a positive dur");
      const k = `${e.pid}/${e.tid}`;
      assert.ok(e.ts >= (last.get(k) ?? 0) - 1e-9, `track ${k}: slices in time order without overlap`);
      last.set(k, e.ts + e.dur);
      if (e.pid === 1) runningUs += e.dur;
    } else assert.equal(e.s, "t");
  }
  assert.ok(xs > 50);
  assert.deepEqual([...procs.values()], ["Xen pCPUs", "domU vCPUs", "hog vCPUs"]);
  // pid 1's slices cover exactly the pCPUs' busy time (the pcpus table, same run)
  const busyMs = r.rows("pcpus").reduce((a, p) => a + p.busy_ms, 0);
  assert.ok(Math.abs(runningUs / 1000 - busyMs) < 1e-6 * busyMs + 1e-6, `slices ${runningUs / 1000} ms vs busy ${busyMs} ms`);
});

test("trace recording is bounded: the first N events are kept, the rest counted and reported", () => {
  const r = simulate(xenSpec(500), { seed: 1 });
  const ev = r.traceEvents!;
  assert.equal(ev.n, 500);
  assert.ok(ev.dropped > 0 && ev.truncated);
  const doc = JSON.parse(readFileSync(r.exportTrace(join(tmp, "cap.json"))[0], "utf8"));
  assert.equal(doc.otherData.truncated, true);
  assert.equal(doc.otherData.events_dropped, ev.dropped);
  // without the option nothing is recorded, and export says how to turn it on
  const off = simulate({ ...xenSpec(0), record: undefined } as SimSpec, { seed: 1 });
  assert.equal(off.traceEvents, null);
  assert.throws(() => off.exportTrace(join(tmp, "none.json")), /trace_events_max/);
});

test("recording does not change the simulation", () => {
  const a = simulate(xenSpec(100_000), { seed: 5 });
  const b = simulate({ ...xenSpec(0), record: undefined } as SimSpec, { seed: 5 });
  for (const n of b.tableNames) assert.deepEqual(a.rows(n), b.rows(n), `table ${n}`);
});

test("task Gantt: one row per task, slices coloured by CPU, the running time of each task", () => {
  const r = simulate(xenSpec(100_000, 0.05), { seed: 1 });
  const s = r.taskSlices();
  const fig = taskGanttFigure(s, { level: "domU", title: "domU tasks" });
  const rows = new Set(fig.data.flatMap((d) => d.y as string[]));
  assert.deepEqual([...rows].sort(), ["domU/context1#0:master", "domU/context1#0:slave"]);
  // bar lengths per task add up to the task's slices
  const total = fig.data.reduce((a, d) => a + (d.x as number[]).reduce((x, y) => x + y, 0), 0);
  const want = s.filter((d: any) => d.level === "domU").rollup({ t: "d => op.sum(d.end_ms - d.start_ms)" }).get("t");
  assert.ok(Math.abs(total - want) < 1e-9);
  assert.ok(fig.data.every((d) => /^CPU \d$/.test(d.name)), "one legend entry per CPU");
  assert.throws(() => taskGanttFigure(s, { level: "nope", title: "x" }), /levels: xen, domU, hog/);
});
