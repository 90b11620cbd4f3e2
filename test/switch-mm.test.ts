// context_switch() and switch_mm (kernel/sched/core.c): a switch loads another address space only when
// the next task's mm differs from the loaded one; kernel threads borrow it (enter_lazy_tlb). A board that
// states switch_mm (core2-t5500) charges context_switch without it then. And the PREEMPT_RT softirq
// thread of 2.6.31-rt (sirq-hrtimer/N) runs only the softirq work, not the hard part a second time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";
import { kernelData } from "../src/kernel/latency.js";
import * as K from "../src/experiments/kiszka-rt-hypervisor.js";

function nativeSpec(switchMm: number, hog: boolean): SimSpec {
  return {
    board: { preset: "core2-t5500", smi: false, jitter_cv: 0, costs_ns: { switch_mm: switchMm } },
    hypervisor: { kind: "native" },
    guests: [{
      name: "os", vcpus: 2, kernel: { version: "2.6.31", preempt: "full" },
      workloads: [
        { kind: "cyclictest", priority: 99, interval_us: 1000, cpu: 1, loops: 2000 },
        ...(hog ? [{ kind: "cpu-hog", cpus: [1] }] : []),
      ],
    }],
    horizon_s: 3.1, warmup_s: 1,
  } as SimSpec;
}

/** Mean of the scheduler component (wake-up, schedule, context switch) of cyclictest's latency, ns. */
function schedNs(s: SimSpec): number {
  const rows = simulate(s, { seed: 3 }).rows("latency_breakdown") as { component: string; mean_us: number | null }[];
  return rows.find((r) => r.component === "sched")!.mean_us! * 1000;
}

test("switch_mm: idle -> cyclictest keeps the loaded address space and skips it; a hog -> cyclictest pays it", () => {
  const sm = 904;
  // nothing else on CPU 1: the idle task borrows cyclictest's mm, so the switch back needs no CR3 load
  const idleWith = schedNs(nativeSpec(sm, false)), idleWithout = schedNs(nativeSpec(0, false));
  assert.ok(Math.abs(idleWithout - idleWith - sm) < 30, `idle: ${idleWithout} - ${idleWith} should be ${sm} ns`);
  // a CPU hog (another process) ran in between: the switch loads cyclictest's mm, full cost either way
  const hogWith = schedNs(nativeSpec(sm, true)), hogWithout = schedNs(nativeSpec(0, true));
  assert.ok(Math.abs(hogWithout - hogWith) < 30, `hog: ${hogWithout} vs ${hogWith} ns`);
  assert.ok(hogWith > idleWith + sm - 30, `hog ${hogWith} vs idle ${idleWith} ns`);
});

test("2.6.31-rt: sirq-hrtimer/N runs the softirq work only; the hard part stays in the hard interrupt", () => {
  const c = K.WHAT_IFS.find((x) => x.figure === "rt-no-io")!;
  const spec = K.setup(c, { loops: 3000 });
  spec.board = { preset: "core2-t5500", smi: false } as SimSpec["board"];
  const perRun = () => {
    const rows = simulate(spec, { seed: 5 }).rows("tasks") as { task: string; sum_exec_ms: number; wakeups: number }[];
    const t = rows.find((r) => r.task.startsWith("sirq-hrtimer/"))!;
    assert.ok(t.wakeups > 2900, `${t.wakeups} wake-ups`);
    return (t.sum_exec_ms * 1e6) / t.wakeups;
  };
  const a = kernelData("linux-2.6.31").activities.hrtimer_softirq;
  assert.equal(a.thread_body, "softirq");
  const softirqOnly = perRun();
  try {
    a.thread_body = "handler+softirq";
    const both = perRun();
    // the hard part (hardirq_us: lognormal, median 1 us on the reference machine, sigma 0.4) scaled by
    // the board's kernel_work_scale 2.87: mean 2.87 x exp(0.08) = 3.1 us more per activation when the
    // thread runs it again
    const d = both - softirqOnly;
    assert.ok(d > 2600 && d < 3600, `thread runs the hard part too: +${d.toFixed(0)} ns per activation`);
  } finally {
    a.thread_body = "softirq";
  }
});
