// Null scheduler rules (xen/common/sched/null.c, RELEASE-4.20.0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { GuestSpec, SimSpec } from "../src/spec/types.js";
import { runIntervals, traceRows } from "./xen-trace.js";

function nullSpec(cpus: number[], guests: GuestSpec[], horizonS = 0.1, board = "ideal"): SimSpec {
  return {
    board: { preset: board }, horizon_s: horizonS, record: { trace_max: 100_000 },
    hypervisor: { kind: "xen", pools: [{ name: "N", cpus, scheduler: { name: "null" } }] },
    guests,
  };
}
const hog = (name: string, vcpus = 1, pin?: number[][]): GuestSpec => ({ name, vcpus, pin, workloads: [{ kind: "cpu-hog", count: vcpus }] });

test("1:1 assignment: each vCPU owns a pCPU, is switched in once and never preempted", () => {
  const r = simulate(nullSpec([1, 2, 3], [hog("A", 2), hog("B")], 0.5, "rcar-s4"), { seed: 1 });
  for (const v of r.rows("vcpus") as any[]) {
    assert.equal(v.switches_in, 1, `${v.domain}.v${v.vcpu}`);
    assert.ok(v.running_ms > 499.9, `${v.domain}.v${v.vcpu} ran ${v.running_ms} ms`);
  }
  const iv = runIntervals(traceRows(r), 500);
  assert.deepEqual(iv.map((x) => `${x.vcpu}@${x.pcpu}`).sort(), ["A.v0@1", "A.v1@2", "B.v0@3"]);
});

test("more vCPUs than pCPUs: the excess vCPUs wait forever (no time sharing)", () => {
  const r = simulate(nullSpec([0, 1], [hog("A", 2), hog("B", 1)], 0.2), { seed: 1 });
  const v = r.rows("vcpus") as any[];
  const waiting = v.filter((x) => x.running_ms === 0);
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0].domain, "B");
  assert.equal(waiting[0].runnable_ms, 200, "runnable (stolen) all the time");
  for (const p of r.rows("pcpus") as any[]) if (p.pcpu < 2) assert.equal(p.switches, 1);
});

test("a blocked vCPU leaves its pCPU idle: nobody else runs there", () => {
  // the idle guest takes pCPU 0 first; the hog pinned to pCPU 0 has to wait
  const r = simulate(nullSpec([0, 1], [{ name: "sleeper", vcpus: 1, pin: [[0]], workloads: [] }, hog("B", 1, [[0]]), hog("C")], 0.1), { seed: 1 });
  const v = Object.fromEntries((r.rows("vcpus") as any[]).map((x) => [x.domain, x]));
  assert.equal(v.B.running_ms, 0);
  assert.equal(v.sleeper.blocked_ms, 100);
  const p0 = (r.rows("pcpus") as any[]).find((x) => x.pcpu === 0);
  assert.equal(p0.busy_ms, 0);
  // C (unpinned) got the free pCPU 1
  assert.equal(v.C.running_ms, 100);
});

test("pick_res keeps a vCPU on a free pCPU of its hard affinity", () => {
  const r = simulate(nullSpec([0, 1, 2, 3], [hog("A", 2, [[3], [2]]), hog("B", 1, [[1, 2]])], 0.05), { seed: 1 });
  const iv = runIntervals(traceRows(r), 50);
  const at = Object.fromEntries(iv.map((x) => [x.vcpu, x.pcpu]));
  assert.deepEqual(at, { "A.v0": 3, "A.v1": 2, "B.v0": 1 });
});
