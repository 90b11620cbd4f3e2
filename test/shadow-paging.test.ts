// Shadow paging (issue 10): on a CPU without EPT/NPT (board `hap` false) Xen and KVM shadow the guest
// page tables and every guest CR3 write is a VM exit (CR3-load exiting) plus the hypervisor's shadow-root
// switch (board costs shadow_cr3_kvm / shadow_cr3_xen). A Linux 5.0 guest on a Meltdown-affected CPU runs
// with page-table isolation, so the return to user mode after the wake-up is such a write: one exit on
// the path of every cyclictest sample. A PV guest (PTI off, no shadow of its own tables), a CPU with HAP
// and a 2.6 kernel (no PTI) pay none on that path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";
import { resolveBoard } from "../src/hw/board.js";
import { kernelData } from "../src/kernel/latency.js";

const ct = { kind: "cyclictest", priority: 99, interval_us: 1000, loops: 1500 };
const kvm = (board: string, version?: string): SimSpec => ({
  board: { preset: board, jitter_cv: 0 },
  hypervisor: { kind: "kvm", host_kernel: { preempt: "rt" } },
  guests: [{ name: "vm", vcpus: 1, kernel: { preempt: "rt", ...(version ? { version } : {}) }, workloads: [ct] }],
  horizon_s: 2, warmup_s: 0.3,
} as SimSpec);
const xen = (board: string, type: string): SimSpec => ({
  board: { preset: board, jitter_cv: 0 }, horizon_s: 2, warmup_s: 0.3,
  hypervisor: { kind: "xen", timer_slop_ns: 0, pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "null" } }] },
  guests: [
    // an HVM guest's QEMU runs in Dom0 (idle here)
    { name: "dom0", dom0: true, vcpus: 1, pin: [[0]], kernel: { preempt: "rt" }, workloads: [] },
    { name: "vm", vcpus: 1, pin: [[1]], type, kernel: { preempt: "rt", xen_timer_slop_ns: 0 }, workloads: [ct] },
  ],
} as SimSpec);
const withCost = (s: SimSpec, name: string, ns: number): SimSpec => ({ ...s, board: { ...s.board, costs_ns: { [name]: ns } } } as SimSpec);
const avgNs = (s: SimSpec) => (simulate(s, { seed: 2 }).rows("cyclictest") as { domain: string; avg_latency_us: number | null }[]).find((r) => r.domain === "vm")!.avg_latency_us! * 1000;
const delta = (s: SimSpec, name: string) => avgNs(withCost(s, name, 5000)) - avgNs(withCost(s, name, 0));

test("the presets: the Core 2 CPUs have no EPT, the i7, W3530 and 2950X have HAP; Intel's are Meltdown-affected, AMD's is not; Linux 5.0 has PTI, 2.6.31 not", () => {
  assert.equal(resolveBoard("core2duo-e8500").hap, false);
  assert.equal(resolveBoard("core2-t5500").hap, false);
  for (const b of ["i7-6700", "xeon-w3530", "tr-2950x"]) assert.equal(resolveBoard(b).hap, true, b);
  for (const b of ["core2duo-e8500", "core2-t5500", "i7-6700", "xeon-w3530"]) assert.equal(resolveBoard(b).meltdown, true, b);
  assert.equal(resolveBoard("tr-2950x").meltdown, false);
  assert.equal(kernelData("linux-5.0").pti?.value, true);
  assert.equal(kernelData("linux-2.6.31").pti?.value, false);
});

test("KVM without EPT: a 5.0 guest with PTI pays one CR3 exit per sample (the return to user mode after the wake-up), counted in vm_exits", () => {
  const d = delta(kvm("core2duo-e8500"), "shadow_cr3_kvm");
  assert.ok(Math.abs(d - 5000) < 150, `+${d} ns for one 5000 ns exit`);
  const exits = (s: SimSpec) => (simulate(s, { seed: 2 }).rows("vcpu_threads") as { vm_exits: number }[]).reduce((a, r) => a + r.vm_exits, 0);
  const base = kvm("core2duo-e8500");
  // the exits counted with and without the CR3 cost are the same run (timing aside): at least one per sample more than with HAP
  assert.ok(exits(base) >= exits(kvm("i7-6700")) + 1000, `${exits(base)} exits on the E8500 vs ${exits(kvm("i7-6700"))} on the i7`);
});

test("KVM with EPT, or a 2.6.31 guest (no PTI, no address-space change on the path): no CR3 exit on the path", () => {
  assert.equal(delta(kvm("i7-6700"), "shadow_cr3_kvm"), 0);
  assert.equal(delta(kvm("core2duo-e8500", "2.6.31"), "shadow_cr3_kvm"), 0);
});

test("Xen without HAP: HVM and PVH guests pay the shadow CR3 exit, a PV guest does not", () => {
  for (const type of ["hvm", "pvh"]) {
    const d = delta(xen("core2duo-e8500", type), "shadow_cr3_xen");
    assert.ok(Math.abs(d - 5000) < 150, `${type}: +${d} ns for one 5000 ns exit`);
  }
  assert.equal(delta(xen("core2duo-e8500", "pv"), "shadow_cr3_xen"), 0);
  assert.equal(delta(xen("i7-6700", "hvm"), "shadow_cr3_xen"), 0);
});
