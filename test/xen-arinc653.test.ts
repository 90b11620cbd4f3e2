// ARINC653 rules (xen/common/sched/arinc653.c, RELEASE-4.20.0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { Arinc653Frame, GuestSpec, SimSpec } from "../src/spec/types.js";
import { runIntervals, runningIn, traceRows } from "./xen-trace.js";

function a653(major: number, frames: Arinc653Frame[], guests: GuestSpec[], horizonS: number, board = "ideal", cpu = 3): SimSpec {
  return {
    board: { preset: board }, horizon_s: horizonS, record: { trace_max: 100_000 },
    hypervisor: { kind: "xen", pools: [{ name: "A653", cpus: [cpu], scheduler: { name: "arinc653", major_frame_ms: major, frames } }] },
    guests,
  };
}
const hog = (name: string, vcpus = 1): GuestSpec => ({ name, vcpus, workloads: [{ kind: "cpu-hog", count: vcpus }] });
const idle = (name: string): GuestSpec => ({ name, vcpus: 1, workloads: [] });

test("the table runs back to back from time 0, the rest of the major frame is idle", () => {
  const r = simulate(a653(20, [{ guest: "A", runtime_ms: 5 }, { guest: "B", runtime_ms: 10 }], [hog("A"), hog("B")], 0.06), { seed: 1 });
  const seq = traceRows(r).map((x) => `${x.t_ms} ${x.next}`);
  assert.deepEqual(seq, ["0 A.v0", "5 B.v0", "15 idle", "20 A.v0", "25 B.v0", "35 idle", "40 A.v0", "45 B.v0", "55 idle", "60 A.v0"]);
  const v = r.rows("vcpus") as any[];
  assert.equal(v[0].running_ms, 15);
  assert.equal(v[1].running_ms, 30);
  const p = (r.rows("pcpus") as any[]).find((x) => x.pcpu === 3);
  assert.equal(p.busy_ms, 45);
});

test("no slack reclaiming: a blocked vCPU's window stays idle, and a vCPU outside the table never runs", () => {
  const r = simulate(a653(10, [{ guest: "sleeper", runtime_ms: 4 }, { guest: "B", runtime_ms: 6 }],
    [idle("sleeper"), hog("B"), hog("C")], 0.1), { seed: 1 });
  const iv = runIntervals(traceRows(r), 100);
  for (let k = 0; k < 10; k++) {
    assert.equal(runningIn(iv, "B.v0", 10 * k, 10 * k + 4), 0, "B does not get the sleeper's window");
    assert.equal(runningIn(iv, "B.v0", 10 * k + 4, 10 * k + 10), 6);
  }
  const v = Object.fromEntries((r.rows("vcpus") as any[]).map((x) => [x.domain, x]));
  assert.equal(v.C.running_ms, 0);
  assert.equal(v.C.runnable_ms, 100, "C waits the whole time");
  assert.ok(v.sleeper.running_ms < 0.01, "the sleeper only ran to halt");
});

test("several vCPUs and repeated entries: each vCPU runs exactly its windows", () => {
  const frames = [
    { guest: "A", vcpu: 0, runtime_ms: 1 }, { guest: "A", vcpu: 1, runtime_ms: 2 },
    { guest: "B", runtime_ms: 1.5 }, { guest: "A", vcpu: 0, runtime_ms: 0.5 },
  ];
  const r = simulate(a653(7, frames, [hog("A", 2), hog("B")], 0.07), { seed: 1 });
  const iv = runIntervals(traceRows(r), 70);
  for (let k = 0; k < 10; k++) {
    const o = 7 * k;
    assert.equal(runningIn(iv, "A.v0", o, o + 7), 1.5);
    assert.equal(runningIn(iv, "A.v0", o + 4.5, o + 5), 0.5);
    assert.equal(runningIn(iv, "A.v1", o + 1, o + 3), 2);
    assert.equal(runningIn(iv, "B.v0", o + 3, o + 4.5), 1.5);
    assert.equal(runningIn(iv, "A.v0", o + 5, o + 7) + runningIn(iv, "A.v1", o + 5, o + 7) + runningIn(iv, "B.v0", o + 5, o + 7), 0);
  }
});

test("an empty table leaves the pCPU idle (10 ms idle steps)", () => {
  const r = simulate(a653(10, [], [hog("A")], 0.05), { seed: 1 });
  assert.equal((r.rows("vcpus")[0] as any).running_ms, 0);
});

test("with board costs the windows still hold (decisions at the boundaries, switch cost inside the window)", () => {
  const r = simulate(a653(10, [{ guest: "A", runtime_ms: 3 }, { guest: "B", runtime_ms: 3 }], [hog("A"), hog("B")], 0.1, "rcar-s4"), { seed: 1 });
  const iv = runIntervals(traceRows(r), 100);
  for (const x of iv) {
    const o = x.start % 10;
    if (x.vcpu === "A.v0") assert.ok(o >= -1e-9 && x.end - x.start <= 3 + 1e-9);
    else assert.ok(Math.abs(o - 3) < 1e-9 && x.end - x.start <= 3 + 1e-9);
  }
  assert.equal(iv.filter((x) => x.end > x.start).length, 20);
});
