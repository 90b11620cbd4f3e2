import { test } from "node:test";
import assert from "node:assert/strict";
import { C, resolveBoard } from "../src/hw/board.js";
import { simulate } from "../src/simulate.js";
import { guestCostTable, pvKernelOf } from "../src/virt/pvops/latency.js";

test("latency hook: a PV DomU's kernel costs carry its privileged operations; PVH, HVM and an implicit Dom0 keep the board's", () => {
  const b = resolveBoard("i7-6700");
  const pv = guestCostTable(b, { name: "d", type: "pv", vcpus: 1, workloads: [] });
  for (const id of [C.syscall, C.context_switch, C.timer_irq, C.ipi_irq]) assert.ok(pv[id] > b.cost[id], `cost ${id}`);
  assert.equal(pv[C.pipe_read], b.cost[C.pipe_read]);
  for (const g of [{ type: "pvh" }, { type: "hvm" }, { type: "pv", dom0: true }, {}] as any[])
    assert.equal(guestCostTable(b, { name: "d", vcpus: 1, workloads: [], ...g }), b.cost);
  // an explicit kernel.pvops applies to Dom0 too
  assert.notEqual(guestCostTable(b, { name: "d", dom0: true, type: "pv", vcpus: 1, workloads: [], kernel: { pvops: { variant: "pvops-3.3", bits: 64 } } }), b.cost);
  // boards without pv_costs_ns: no hook
  assert.equal(pvKernelOf({ name: "d", type: "pv", vcpus: 1, workloads: [] }, "rcar-s4"), null);
  // the default kernel is pv-ops with every upstream fix for its bitness
  assert.deepEqual(pvKernelOf({ name: "d", type: "pv", vcpus: 1, workloads: [] }, "i7-6700"), { variant: "pvops-3.3", bits: 64, fixes: ["irq-restore-pending-check", "tls-skip-unchanged"] });
});

test("the buggy pv-ops 3.3 irq restore makes a PV guest's wake-ups dearer than with the fix", () => {
  const b = resolveBoard("xeon-w3530");
  const k = (fixes: string[]) => guestCostTable(b, { name: "d", type: "pv", vcpus: 1, workloads: [], kernel: { pvops: { variant: "pvops-3.3", bits: 64, fixes } } });
  assert.ok(k([])[C.wake_up] > k(["irq-restore-pending-check"])[C.wake_up] + 100);
});

function spec(type: "pv" | "pvh"): any {
  return {
    board: { preset: "i7-6700" },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "credit" } }] },
    guests: [
      { name: "dom0", dom0: true, type: "pv", vcpus: 1, pin: [[0]], workloads: [] },
      { name: "domU", type, vcpus: 1, pin: [[1]], kernel: { xen_timer_slop_ns: 1000 }, workloads: [{ kind: "cyclictest", interval_us: 50, priority: 99 }] },
    ],
    horizon_s: 0.2,
  };
}

test("PV and PVH guests no longer give identical latencies: PV pays its hypercalls and bounces", () => {
  const pv = simulate(spec("pv"), { seed: 1 }).rows("cyclictest")[0] as any;
  const pvh = simulate(spec("pvh"), { seed: 1 }).rows("cyclictest")[0] as any;
  assert.ok(pv.avg_latency_us > pvh.avg_latency_us, `${pv.avg_latency_us} vs ${pvh.avg_latency_us}`);
});

test("lat_ctx through the guest kernel's pipes: the TLS fix saves exactly its three multicall entries per switch", async () => {
  const { latCtxSpec } = await import("../src/experiments/pv-guest-regressions.js");
  const { pvCosts } = await import("../src/virt/pvops/model.js");
  const per = (fixes: string[], procs: number) =>
    (simulate(latCtxSpec({ variant: "pvops-3.3", bits: 32, fixes }, procs, { horizonS: 0.05 })).rows("lat_ctx")[0] as any).us_per_pass;
  const c = pvCosts("xeon-w3530");
  const saved = (per([], 2) - per(["tls-skip-unchanged"], 2)) * 1000;
  assert.ok(Math.abs(saved - 3 * (c.multicall_entry + c.body_update_descriptor)) < 1, `saved ${saved} ns`);
  // the overhead loop (one process, no switch) does not context-switch: the TLS fix cannot change it
  assert.equal(per([], 1), per(["tls-skip-unchanged"], 1));
  // a ring of 2 passes the token through a switch each time: slower than the overhead loop
  assert.ok(per([], 2) > per([], 1) + 1);
});

test("lat-ctx workload: bad process count names the field", () => {
  const s: any = spec("pv");
  s.guests[1].workloads = [{ kind: "lat-ctx", procs: 0 }];
  assert.throws(() => simulate(s), /guests\[1\]\.workloads\[0\]\.procs/);
});
