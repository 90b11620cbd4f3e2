// Credit2 caps (credit2.c l.95-162: unit_grab_budget, park_unit, unit_return_budget,
// replenish_domain_budget, unpark_parked_units) and several runqueues
// (cpu_add_to_runqueue, update_runq_load, csched2_res_pick, balance_load).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { Simulator } from "../src/engine/sim.js";
import { Credit2, type RunqueueArrangement } from "../src/sched/xen/credit2.js";
import { Pool, Xen } from "../src/virt/xen.js";
import type { Board } from "../src/hw/board.js";
import type { GuestSpec, SimSpec } from "../src/spec/types.js";
import { runIntervals, runningIn, traceRows } from "./xen-trace.js";

function c2(cpus: number[], guests: GuestSpec[], horizonS: number, opts: { ratelimit?: number | "off"; runqueue?: RunqueueArrangement; board?: string } = {}): SimSpec {
  return {
    board: { preset: opts.board ?? "ideal" }, horizon_s: horizonS, record: { trace_max: 200_000 },
    hypervisor: { kind: "xen", pools: [{ name: "P", cpus, scheduler: { name: "credit2", ratelimit_us: opts.ratelimit, runqueue: opts.runqueue } }] },
    guests,
  };
}
const hog = (name: string, o: Partial<GuestSpec> = {}): GuestSpec => ({ name, vcpus: 1, workloads: [{ kind: "cpu-hog", count: o.vcpus ?? 1 }], ...o });
const byDom = (r: ReturnType<typeof simulate>) => {
  const m: Record<string, { running: number; runnable: number; offline: number }> = {};
  for (const v of r.rows("vcpus") as any[]) {
    const x = (m[v.domain] ??= { running: 0, runnable: 0, offline: 0 });
    x.running += v.running_ms; x.runnable += v.runnable_ms; x.offline += v.offline_ms;
  }
  return m;
};

test("a capped CPU hog alone gets exactly cap% of every 10 ms period; the pCPU idles the rest", () => {
  for (const cap of [20, 50, 80]) {
    const r = simulate(c2([0, 1, 2, 3], [hog("A", { cap })], 0.2), { seed: 1 });
    const iv = runIntervals(traceRows(r), 200);
    for (let k = 0; k < 20; k++) assert.ok(Math.abs(runningIn(iv, "A.v0", 10 * k, 10 * k + 10) - cap / 10) < 1e-9, `cap ${cap}: period ${k}`);
    const d = byDom(r).A;
    assert.ok(Math.abs(d.offline - (200 - 2 * cap)) < 1e-6, "parked time is offline (steal)");
  }
});

test("overrun below the slice floor is charged to the next periods: cap 5% with a 1 ms ratelimit averages 5%", () => {
  // quota = tot = 0.5 ms but a newly picked unit runs >= the 1 ms ratelimit:
  // the 0.5 ms overrun empties the next period's budget
  const r = simulate(c2([0], [hog("A", { cap: 5 })], 1), { seed: 1 });
  const iv = runIntervals(traceRows(r), 1000);
  assert.ok(Math.abs(runningIn(iv, "A.v0", 0, 1000) - 50) < 1.01, `ran ${runningIn(iv, "A.v0", 0, 1000)} ms`);
  for (let k = 0; k < 50; k++) assert.equal(runningIn(iv, "A.v0", 20 * k, 20 * k + 20), 1, `every other period, 1 ms (window ${k})`);
});

test("the domain budget is shared by its vCPUs; an uncapped competitor gets the rest", () => {
  const r = simulate(c2([0, 1], [hog("A", { vcpus: 2, cap: 60 }), hog("B", { vcpus: 2 })], 1), { seed: 1 });
  const d = byDom(r);
  assert.ok(Math.abs(d.A.running - 600) < 2, `A ran ${d.A.running} ms`);
  assert.ok(Math.abs(d.B.running - 1400) < 2, `B ran ${d.B.running} ms`);
  // work conserving for the uncapped one: the pool is never idle
  for (const p of r.rows("pcpus") as any[]) if (p.pcpu < 2) assert.ok(p.idle_ms < 0.01);
});

test("caps bound the share below what weights would give, on a loaded pCPU with board costs", () => {
  const r = simulate(c2([0], [hog("A", { cap: 25, weight: 1024 }), hog("B", { weight: 256 })], 2, { board: "rcar-s4" }), { seed: 1 });
  const d = byDom(r);
  const share = d.A.running / (d.A.running + d.B.running);
  assert.ok(share > 0.24 && share <= 0.26, `capped share ${share}`);
  const iv = runIntervals(traceRows(r), 2000);
  for (let k = 0; k < 199; k++) {
    const c = runningIn(iv, "A.v0", 10 * k, 10 * k + 20);
    assert.ok(c <= 5 + 1 + 1e-6, `A ran ${c} ms in [${10 * k}, ${10 * k + 20}) ms`);
  }
});

// ------------------------------------------------------------ runqueues

function fakeBoard(cpus: number, sockets: number, threadsPerCore: number): Board {
  return { id: "fake", name: "fake", cpus, sockets, threadsPerCore, cost: new Float64Array(14), jitterCv: 0 };
}
function layout(cpus: number, sockets: number, tpc: number, arr: RunqueueArrangement, pool?: number[]): number[][] {
  const board = fakeBoard(cpus, sockets, tpc);
  const xen = new Xen(new Simulator(1), board);
  const p = new Pool("P", pool ?? Array.from({ length: cpus }, (_, i) => i));
  return new Credit2(xen, p, { ratelimitUs: 1000, runqueue: arr }, tpc, sockets, cpus).runqueues.map((rq) => rq.cpus);
}

test("cpu_add_to_runqueue: runqueues follow the topology, keep SMT siblings together, at most 16 pCPUs", () => {
  assert.deepEqual(layout(16, 2, 2, "socket"), [[0, 1, 2, 3, 4, 5, 6, 7], [8, 9, 10, 11, 12, 13, 14, 15]]);
  assert.deepEqual(layout(16, 2, 2, "core"), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]]);
  assert.equal(layout(16, 2, 2, "cpu").length, 16);
  assert.deepEqual(layout(16, 2, 2, "all"), [Array.from({ length: 16 }, (_, i) => i)]);
  assert.deepEqual(layout(8, 1, 1, "socket"), [[0, 1, 2, 3, 4, 5, 6, 7]]);
  // 32 pCPUs on one socket: two runqueues of 16 (max_cpus_runq = 32 / 2)
  const big = layout(32, 1, 2, "socket");
  assert.deepEqual(big.map((x) => x.length), [16, 16]);
  for (const rq of big) for (const c of rq) assert.ok(rq.includes(c ^ 1), "siblings together");
  // a pool spanning two sockets of an 8-pCPU board
  assert.deepEqual(layout(8, 2, 1, "socket", [2, 3, 4, 5]), [[2, 3], [4, 5]]);
});

test("one runqueue per pCPU: csched2_res_pick spreads new vCPUs over the least loaded runqueues", () => {
  const r = simulate(c2([0, 1, 2, 3], [hog("A", { vcpus: 4 })], 0.5, { runqueue: "cpu" }), { seed: 1 });
  const iv = runIntervals(traceRows(r), 500);
  assert.deepEqual(iv.map((x) => x.pcpu).sort(), [0, 1, 2, 3], "each vCPU on its own pCPU, never moved");
  for (const v of r.rows("vcpus") as any[]) assert.equal(v.running_ms, 500);
});

test("balance_load after credit resets evens out per-pCPU runqueues (6 hogs, 4 runqueues)", () => {
  const r = simulate(c2([0, 1, 2, 3], [hog("A", { vcpus: 6 })], 3, { runqueue: "cpu" }), { seed: 1 });
  const v = r.rows("vcpus") as any[];
  for (const x of v) assert.ok(Math.abs(x.running_ms - 2000) < 200, `A.v${x.vcpu} ran ${x.running_ms} ms, fair share 2000`);
  const iv = runIntervals(traceRows(r), 3000);
  const moved = v.filter((x) => new Set(iv.filter((i) => i.vcpu === `A.v${x.vcpu}`).map((i) => i.pcpu)).size > 1).length;
  assert.ok(moved >= 2, `${moved} vCPUs migrated between runqueues`);
  // without balancing (one runqueue per pCPU and pinned vCPUs) the two pCPUs with two hogs would halve them
  const pinned = simulate(c2([0, 1, 2, 3], [hog("A", { vcpus: 6, pin: [[0], [1], [2], [3], [0], [1]] })], 1, { runqueue: "cpu" }), { seed: 1 });
  const pv = pinned.rows("vcpus") as any[];
  assert.ok(Math.abs(pv[0].running_ms - 500) < 20 && Math.abs(pv[2].running_ms - 1000) < 1e-6);
});

test("arrangements on a 1-socket board without SMT: core = cpu (3 runqueues), all = socket = node (1 runqueue)", () => {
  const spec = (rq: RunqueueArrangement) => c2([0, 1, 2], [hog("A", { vcpus: 4 })], 1, { runqueue: rq });
  const rows = (rq: RunqueueArrangement) => simulate(spec(rq), { seed: 1 }).rows("vcpus");
  assert.deepEqual(rows("core"), rows("cpu"));
  const all = rows("all");
  assert.deepEqual(all, rows("socket"));
  assert.deepEqual(all, rows("node"));
  assert.notDeepEqual(all, rows("cpu"));
  const sum = (all as any[]).reduce((a, x) => a + x.running_ms, 0);
  assert.ok(Math.abs(sum - 3000) < 1e-6, "three busy pCPUs");
});
