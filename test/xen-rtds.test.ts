// RTDS rules (xen/common/sched/rt.c, RELEASE-4.20.0).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { Simulator } from "../src/engine/sim.js";
import { Rtds, RtUnit, rtUpdateDeadline, compareUnitPriority } from "../src/sched/xen/rtds.js";
import { Domain, Pool, VCpu, type SchedDecision, type Xen } from "../src/virt/xen.js";
import type { GuestSpec, RtdsParams, SimSpec } from "../src/spec/types.js";
import { runIntervals, runningIn, traceRows } from "./xen-trace.js";

const MS = 1e6;

function rtdsSpec(cpus: number[], guests: { name: string; rtds?: RtdsParams | RtdsParams[]; vcpus?: number; pin?: number[][]; idle?: boolean }[], horizonS: number, board = "ideal"): SimSpec {
  return {
    board: { preset: board }, horizon_s: horizonS, record: { trace_max: 100_000 },
    hypervisor: { kind: "xen", pools: [{ name: "P", cpus, scheduler: { name: "rtds" } }] },
    guests: guests.map((g): GuestSpec => ({
      name: g.name, vcpus: g.vcpus ?? 1, pin: g.pin, rtds: g.rtds,
      workloads: g.idle ? [] : [{ kind: "cpu-hog", count: g.vcpus ?? 1 }],
    })),
  };
}

function sched(r: ReturnType<typeof simulate>): string[] {
  return traceRows(r).map((x) => `${x.t_ms} ${x.next}`);
}

test("defaults: 4 ms budget every 10 ms; extratime (on by default) lets a lone vCPU use the idle time", () => {
  const off = simulate(rtdsSpec([0], [{ name: "a", rtds: { extratime: false } }], 0.1), { seed: 1 });
  const iv = runIntervals(traceRows(off), 100);
  for (let k = 0; k < 10; k++) assert.equal(runningIn(iv, "a.v0", 10 * k, 10 * k + 10), 4, `period ${k}`);
  // it runs at the start of each period (the deadline grid starts at 0) and is depleted 4 ms later
  assert.deepEqual(sched(off).slice(0, 4), ["0 a.v0", "4 idle", "10 a.v0", "14 idle"]);
  const on = simulate(rtdsSpec([0], [{ name: "a" }], 0.1), { seed: 1 });
  const v = on.rows("vcpus")[0] as any;
  assert.equal(v.running_ms, 100);
});

test("EDF on one pCPU: the earliest deadline runs; a replenished depleted vCPU preempts a later deadline", () => {
  // A: 6 ms every 12 ms, B: 2 ms every 4 ms (U = 1), no extratime
  const r = simulate(rtdsSpec([0], [
    { name: "A", rtds: { period_us: 12000, budget_us: 6000, extratime: false } },
    { name: "B", rtds: { period_us: 4000, budget_us: 2000, extratime: false } },
  ], 0.024), { seed: 1 });
  // B (deadline 4) first; at 4 B is replenished (deadline 8 < 12) and preempts A;
  // at 8 both deadlines are 12: no preemption on a tie
  assert.deepEqual(sched(r), ["0 B.v0", "2 A.v0", "4 B.v0", "6 A.v0", "10 B.v0", "14 A.v0", "16 B.v0", "18 A.v0", "22 B.v0"]);
  const iv = runIntervals(traceRows(r), 24);
  for (let k = 0; k < 6; k++) assert.ok(runningIn(iv, "B.v0", 4 * k, 4 * k + 4) >= 2 - 1e-9, `B in period ${k}`);
  for (let k = 0; k < 2; k++) assert.ok(runningIn(iv, "A.v0", 12 * k, 12 * k + 12) >= 6 - 1e-9, `A in period ${k}`);
});

test("4.20 quirk: with extratime, a replenished vCPU that had run out of budget does not preempt, and misses its deadline", () => {
  // same task set with extratime on: B exhausts its budget at 2 ms (priority_level 1);
  // at 4 ms repl_timer_handler refills it, but only depleted units are tickled, so A
  // keeps the pCPU until its own budget ends at 8 ms
  const r = simulate(rtdsSpec([0], [
    { name: "A", rtds: { period_us: 12000, budget_us: 6000 } },
    { name: "B", rtds: { period_us: 4000, budget_us: 2000 } },
  ], 0.024), { seed: 1 });
  assert.deepEqual(sched(r).slice(0, 3), ["0 B.v0", "2 A.v0", "8 B.v0"]);
  const iv = runIntervals(traceRows(r), 24);
  assert.equal(runningIn(iv, "B.v0", 4, 8), 0);
});

test("global EDF over the pool: runq_tickle wakes idle pCPUs first, then preempts the latest deadline", () => {
  // three vCPUs on two pCPUs: the two earliest deadlines run at once
  const r = simulate(rtdsSpec([2, 3], [
    { name: "a", rtds: { period_us: 10000, budget_us: 3000, extratime: false } },
    { name: "b", rtds: { period_us: 5000, budget_us: 1000, extratime: false } },
    { name: "c", rtds: { period_us: 20000, budget_us: 8000, extratime: false } },
  ], 0.1), { seed: 1 });
  const iv = runIntervals(traceRows(r), 100);
  // at t = 0: b (deadline 5) and a (10) run, c (20) waits
  assert.ok(runningIn(iv, "b.v0", 0, 1) === 1 && runningIn(iv, "a.v0", 0, 1) === 1 && runningIn(iv, "c.v0", 0, 1) === 0);
  for (let k = 0; k < 5; k++) assert.ok(runningIn(iv, "c.v0", 20 * k, 20 * k + 20) >= 8 - 1e-9);
  for (let k = 0; k < 10; k++) assert.ok(runningIn(iv, "a.v0", 10 * k, 10 * k + 10) >= 3 - 1e-9);
  for (let k = 0; k < 20; k++) assert.ok(runningIn(iv, "b.v0", 5 * k, 5 * k + 5) >= 1 - 1e-9);
  // units migrate freely across the pool: some vCPU ran on both pCPUs
  assert.ok(["a.v0", "b.v0", "c.v0"].some((v) => new Set(iv.filter((x) => x.vcpu === v).map((x) => x.pcpu)).size === 2));
});

test("rt_update_deadline keeps the period grid; compare_unit_priority orders by level then deadline", () => {
  const u = new RtUnit(null as unknown as VCpu, 10 * MS, 4 * MS, true, new Uint8Array(1));
  u.curDeadline = 10 * MS; u.curBudget = 1; u.priorityLevel = 3;
  rtUpdateDeadline(35 * MS, u);
  assert.equal(u.curDeadline, 40 * MS);
  assert.equal(u.curBudget, 4 * MS);
  assert.equal(u.priorityLevel, 0);
  assert.equal(u.lastStart, 35 * MS);
  // more than 1024 periods behind: the multiplication path lands on the same grid
  rtUpdateDeadline(40 * MS + 5000 * 10 * MS + 3, u);
  assert.equal(u.curDeadline, 40 * MS + 5001 * 10 * MS);
  const a = new RtUnit(null as unknown as VCpu, 1, 1, true, new Uint8Array(1));
  const b = new RtUnit(null as unknown as VCpu, 1, 1, true, new Uint8Array(1));
  a.curDeadline = 5; b.curDeadline = 9;
  assert.ok(compareUnitPriority(a, b) > 0);
  a.priorityLevel = 1;
  assert.ok(compareUnitPriority(a, b) < 0, "a lower level beats an earlier deadline");
});

test("deferrable server (rt_unit_wake): a blocked vCPU keeps budget and deadline until the deadline passes", () => {
  const sim = new Simulator(1);
  const pcpus = [{ curr: null as VCpu | null }];
  const tickles: number[] = [];
  const xen = { board: { cpus: 1 }, sim, pcpus, tickle: (c: number) => tickles.push(c) } as unknown as Xen;
  const pool = new Pool("P", [0]);
  const dom = new Domain(0, "d", pool, 256, null as never, { name: "d", vcpus: 1, workloads: [] });
  const v = new VCpu(0, dom, 0, [0]);
  dom.vcpus.push(v);
  const s = new Rtds(xen, pool);
  const dec: SchedDecision = { next: null, time: -1 };
  const u = () => v.sdata as RtUnit;
  s.insert(v, 0);
  v.blocked = true; // created offline, woken at boot
  v.blocked = false; s.wake(v, 0);
  assert.deepEqual(tickles, [0]);
  s.doSchedule(0, null, 0, dec);
  assert.equal(dec.next, v); assert.equal(dec.time, 4 * MS);
  pcpus[0].curr = v; v.isRunning = true;
  // runs 1 ms, then blocks
  v.blocked = true;
  s.doSchedule(0, v, 1 * MS, dec);
  assert.equal(dec.next, null); assert.equal(dec.time, -1);
  pcpus[0].curr = null; v.isRunning = false;
  s.contextSaved(v, 1 * MS);
  assert.equal(s.replq.length, 0, "a blocked unit leaves the ReplQ");
  // wakes before its deadline: keeps the 3 ms left and the 10 ms deadline
  v.blocked = false; s.wake(v, 5 * MS);
  assert.equal(u().curBudget, 3 * MS); assert.equal(u().curDeadline, 10 * MS);
  s.doSchedule(0, null, 5 * MS, dec);
  assert.equal(dec.time, 3 * MS, "runs back to back to the deadline with the preserved budget");
  pcpus[0].curr = v; v.isRunning = true;
  v.blocked = true;
  s.doSchedule(0, v, 6 * MS, dec);
  pcpus[0].curr = null; v.isRunning = false;
  s.contextSaved(v, 6 * MS);
  // wakes after its deadline: new deadline on the grid, full budget
  v.blocked = false; s.wake(v, 23 * MS);
  assert.equal(u().curDeadline, 30 * MS); assert.equal(u().curBudget, 4 * MS);
  assert.equal(sim.expiry(s.replTimer), 30 * MS, "the replenishment timer is armed at the ReplQ head");
});

test("RTDS on rcar-s4 with several vCPUs per guest and per-vCPU parameters", () => {
  const spec = rtdsSpec([0, 1], [
    { name: "rt", vcpus: 2, rtds: [{ period_us: 2000, budget_us: 500, extratime: false }, { period_us: 5000, budget_us: 2500, extratime: false }] },
    { name: "bg", vcpus: 2, rtds: { period_us: 10000, budget_us: 1000 } },
  ], 0.2, "rcar-s4");
  const r = simulate(spec, { seed: 1 });
  const iv = runIntervals(traceRows(r), 200);
  for (let k = 0; k < 100; k++) {
    const c = runningIn(iv, "rt.v0", 2 * k, 2 * k + 2);
    assert.ok(c <= 0.5 + 1e-9 && c >= 0.5 - 0.02, `rt.v0 got ${c} ms in period ${k}`);
  }
  for (let k = 0; k < 40; k++) {
    const c = runningIn(iv, "rt.v1", 5 * k, 5 * k + 5);
    assert.ok(c <= 2.5 + 1e-9 && c >= 2.5 - 0.02, `rt.v1 got ${c} ms in period ${k}`);
  }
  // the background vCPUs soak up the rest with extratime: no pCPU idles
  for (const p of r.rows("pcpus") as any[]) if (p.pcpu < 2) assert.ok(p.idle_ms < 0.1, `pCPU ${p.pcpu} idle ${p.idle_ms} ms`);
});

test("4.20 quirk: the ReplQ is ordered by priority level first, so a level-1 unit's replenishment can come late", () => {
  const sim = new Simulator(1);
  const pcpus = [{ curr: null as VCpu | null }];
  const xen = { board: { cpus: 1 }, sim, pcpus, tickle: () => {} } as unknown as Xen;
  const pool = new Pool("P", [0]);
  const mk = (id: number, name: string, rtds: RtdsParams) => {
    const d = new Domain(id, name, pool, 256, null as never, { name, vcpus: 1, rtds, workloads: [] });
    const v = new VCpu(id, d, 0, [0]);
    d.vcpus.push(v);
    return v;
  };
  const X = mk(0, "X", { period_us: 10000, budget_us: 1000 });
  const Y = mk(1, "Y", { period_us: 30000, budget_us: 1000 });
  const s = new Rtds(xen, pool);
  const dec: SchedDecision = { next: null, time: -1 };
  s.insert(X, 0); s.insert(Y, 0);
  s.wake(X, 0); s.wake(Y, 0);
  s.doSchedule(0, null, 0, dec);
  assert.equal(dec.next, X);
  pcpus[0].curr = X; X.isRunning = true;
  // X exhausts its budget (extratime: priority_level 1) and blocks at the same time
  X.blocked = true;
  s.doSchedule(0, X, 1 * MS, dec);
  assert.equal(dec.next, Y);
  pcpus[0].curr = Y; X.isRunning = false;
  s.contextSaved(X, 1 * MS);
  assert.equal(sim.expiry(s.replTimer), 30 * MS, "X left the ReplQ: the timer follows Y");
  // X wakes before its 10 ms deadline, still at level 1: inserted behind Y
  X.blocked = false; s.wake(X, 2 * MS);
  assert.deepEqual(s.replq.map((u) => u.v.dom.name), ["Y", "X"]);
  assert.equal(sim.expiry(s.replTimer), 30 * MS, "nothing fires at X's deadline (10 ms)");
  sim.run(29 * MS);
  assert.equal((X.sdata as RtUnit).curDeadline, 10 * MS);
  sim.run(30 * MS);
  assert.equal((X.sdata as RtUnit).curDeadline, 40 * MS, "replenished only when the handler reaches it, at 30 ms");
});
