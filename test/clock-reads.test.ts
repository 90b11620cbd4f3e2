// Clock reads of the NO_HZ idle paths (Linux 5.0 kernel/time/tick-sched.c): an interrupt entered in
// idle with the tick stopped reads the clock once (tick_nohz_irq_enter), leaving idle reads it and
// reprograms the tick (tick_nohz_idle_exit: 3 reads with the clockevent's own). In a guest whose rdtsc
// traps, each read costs the trap, on the path of every wake-up from idle.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";
import { kernelData } from "../src/kernel/latency.js";
import { resolveBoard } from "../src/hw/board.js";

const spec = (): SimSpec => ({
  board: { preset: "core2duo-e8500", jitter_cv: 0 },
  hypervisor: { kind: "kvm", host_kernel: { preempt: "rt" } },
  guests: [{ name: "vm", vcpus: 1, kernel: { preempt: "rt" }, workloads: [{ kind: "cyclictest", priority: 99, interval_us: 1000, loops: 1500 }] }],
  horizon_s: 2, warmup_s: 0.3,
} as SimSpec);

/** Mean of the clock-read component of the guest's cyclictest latency (ns). */
function clockNs(): number {
  const rows = simulate(spec(), { seed: 2 }).rows("latency_breakdown") as { domain: string; component: string; mean_us: number | null }[];
  return rows.find((r) => r.domain === "vm" && r.component === "clock_read")!.mean_us! * 1000;
}

test("NO_HZ idle: each wake-up from idle pays idle_irq_enter + idle_exit clock reads, trapped in a guest without TSC pass-through", () => {
  const cr = kernelData("linux-5.0").clock_reads;
  assert.equal(cr.idle_irq_enter?.value, 1);
  assert.equal(cr.idle_exit?.value, 3);
  const trap = resolveBoard("core2duo-e8500").rdtscTrapNs!;
  const withIdle = clockNs();
  const saved = [cr.idle_irq_enter, cr.idle_exit];
  try {
    cr.idle_irq_enter = { value: 0, provenance: "test" };
    cr.idle_exit = { value: 0, provenance: "test" };
    const without = clockNs();
    // the guest CPU is idle before every sample: 1 + 3 reads more per sample
    assert.ok(Math.abs(withIdle - without - 4 * trap) < 0.05 * trap, `${withIdle} - ${without} vs 4 x ${trap} ns`);
  } finally {
    cr.idle_irq_enter = saved[0];
    cr.idle_exit = saved[1];
  }
});

test("clockevent programming: two per wake-up from idle (hrtimer_interrupt's reprogramming, the tick's restart), each a VM exit or hypercall plus the hypervisor's timer_program", () => {
  const avg = (s: SimSpec) => (simulate(s, { seed: 2 }).rows("cyclictest") as { domain: string; avg_latency_us: number | null }[]).find((r) => r.domain === "vm")!.avg_latency_us! * 1000;
  const withOp = (s: SimSpec, ns: number): SimSpec => ({ ...s, board: { ...s.board, costs_ns: { timer_program: ns } } } as SimSpec);
  // KVM: the TSC-deadline WRMSR exit
  const kvm = spec();
  const d1 = avg(withOp(kvm, 5000)) - avg(withOp(kvm, 0));
  assert.ok(Math.abs(d1 - 10_000) < 300, `KVM: +${d1} ns for 2 x 5000 ns`);
  // Xen HVM: the VCPUOP_set_singleshot_timer hypercall (VMCALL)
  const xen: SimSpec = {
    board: { preset: "core2duo-e8500", jitter_cv: 0 }, horizon_s: 2, warmup_s: 0.3,
    hypervisor: { kind: "xen", timer_slop_ns: 0, pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "null" } }] },
    guests: [{ name: "vm", vcpus: 1, pin: [[1]], type: "pvh", kernel: { preempt: "rt", xen_timer_slop_ns: 0 }, workloads: [{ kind: "cyclictest", priority: 99, interval_us: 1000, loops: 1500 }] }],
  } as SimSpec;
  const d2 = avg(withOp(xen, 5000)) - avg(withOp(xen, 0));
  assert.ok(Math.abs(d2 - 10_000) < 300, `Xen PVH: +${d2} ns for 2 x 5000 ns`);
  // native kernels program their LAPIC directly: nothing charged
  const nat: SimSpec = { board: { preset: "core2duo-e8500", jitter_cv: 0 }, hypervisor: { kind: "native" }, horizon_s: 2, warmup_s: 0.3,
    guests: [{ name: "vm", vcpus: 1, kernel: { preempt: "rt" }, workloads: [{ kind: "cyclictest", priority: 99, interval_us: 1000, loops: 1500 }] }] } as SimSpec;
  assert.equal(avg(withOp(nat, 5000)), avg(withOp(nat, 0)));
});
