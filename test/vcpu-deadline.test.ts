// SCHED_DEADLINE vCPU threads (vcpu_thread.policy "deadline"): a busy guest gets its reservation's share
// of the host CPU in the long run (runtime / period: an overrun of the budget between two ticks is paid
// back by throttling), and bad reservations or a host kernel without SCHED_DEADLINE are refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { SpecError } from "../src/spec/validate.js";
import type { SimSpec } from "../src/spec/types.js";

function spec(vt: Record<string, unknown>, hostVersion = "5.10"): SimSpec {
  return {
    board: { preset: "i7-6700" },
    hypervisor: { kind: "kvm", host_kernel: { version: hostVersion, preempt: "full" } },
    guests: [{ name: "g", vcpus: 1, vcpu_thread: { cpus: [1], ...vt }, workloads: [{ kind: "cpu-hog" }] }],
    horizon_s: 4, warmup_s: 0,
  } as unknown as SimSpec;
}

test("a busy guest's SCHED_DEADLINE vCPU thread gets runtime/period of its CPU", () => {
  for (const [rt, per] of [[300, 1000], [2000, 10000]]) {
    const r = simulate(spec({ policy: "deadline", dl_runtime_us: rt, dl_period_us: per }), { seed: 1 });
    const v = r.rows("vcpu_threads")[0] as { policy: string; in_guest_ms: number };
    assert.equal(v.policy, "deadline");
    const share = v.in_guest_ms / 4000;
    assert.ok(share <= (rt / per) * 1.02 && share >= (rt / per) * 0.85, `${rt}/${per}: share ${share.toFixed(3)}`);
  }
  // the same guest with a SCHED_FIFO thread takes (almost) the whole CPU
  const f = simulate(spec({ policy: "fifo", priority: 50 }), { seed: 1 }).rows("vcpu_threads")[0] as { in_guest_ms: number };
  assert.ok(f.in_guest_ms / 4000 > 0.9);
});

test("bad SCHED_DEADLINE reservations, and SCHED_DEADLINE on a 2.6.31 host, are SpecErrors naming the field", () => {
  const bad: [Record<string, unknown>, string, RegExp][] = [
    [{ policy: "deadline" }, "5.10", /vcpu_thread\.dl_runtime_us.*needed/],
    [{ policy: "deadline", dl_runtime_us: 2000, dl_period_us: 1000 }, "5.10", /dl_runtime_us.*<= the deadline/],
    [{ policy: "deadline", dl_runtime_us: 100, dl_deadline_us: 2000, dl_period_us: 1000 }, "5.10", /dl_deadline_us.*<= the period/],
    [{ policy: "fifo", dl_runtime_us: 100 }, "5.10", /dl_runtime_us.*"deadline" only/],
    [{ policy: "deadline", dl_runtime_us: 100, dl_period_us: 1000 }, "2.6.31", /SCHED_DEADLINE exists from Linux 3\.14/],
  ];
  for (const [vt, v, re] of bad) {
    assert.throws(() => simulate(spec(vt, v), { seed: 1 }), (e: unknown) => e instanceof SpecError && re.test(e.message), JSON.stringify(vt));
  }
});
