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
