// Two-level mechanisms: steal time, PARAVIRT_TIME_ACCOUNTING and the Context1 hand-off patterns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { context1Spec } from "./helpers.js";

test("without PARAVIRT_TIME_ACCOUNTING the guest charges steal time to its tasks", () => {
  const r = simulate(context1Spec({ ratelimitMs: 20, horizonS: 2 }), { seed: 1 });
  const v0 = (r.rows("vcpus") as any[]).find((x) => x.domain === "domU" && x.vcpu === 0);
  const sum = (r.rows("tasks") as any[]).filter((x) => x.domain === "domU").reduce((a, x) => a + x.sum_exec_ms, 0);
  assert.ok(v0.runnable_ms > 900, "the vCPU was preempted about half the time");
  // charged time = running + runnable (all of wall time), minus the switch-cost gaps
  assert.ok(sum > v0.running_ms + 0.9 * v0.runnable_ms, `sum_exec ${sum} vs running ${v0.running_ms}`);
});

test("with PARAVIRT_TIME_ACCOUNTING tasks are charged only the time their vCPU ran", () => {
  const r = simulate(context1Spec({ ratelimitMs: 20, horizonS: 2, pvta: true }), { seed: 1 });
  const v0 = (r.rows("vcpus") as any[]).find((x) => x.domain === "domU" && x.vcpu === 0);
  const sum = (r.rows("tasks") as any[]).filter((x) => x.domain === "domU").reduce((a, x) => a + x.sum_exec_ms, 0);
  assert.ok(sum <= v0.running_ms + 1e-6, `sum_exec ${sum} > running ${v0.running_ms}`);
  assert.ok(sum > 0.99 * v0.running_ms - 2, "and nearly all of it");
});

test("steal-time jumps keep Context1 in the fast pattern; without them it falls into the slow one", () => {
  const off = simulate(context1Spec({ ratelimitMs: 20, horizonS: 3 }), { seed: 1 }).rows("context1")[0] as any;
  const on = simulate(context1Spec({ ratelimitMs: 20, horizonS: 3, pvta: true }), { seed: 1 }).rows("context1")[0] as any;
  assert.ok(off.fast_share > 0.95, `fast share ${off.fast_share} without PVTA`);
  assert.ok(on.fast_share < 0.3, `fast share ${on.fast_share} with PVTA`);
  assert.ok(off.loops_per_s > on.loops_per_s, "the fast pattern is the faster one");
});

test("native run of Context1 on the ideal board: zero costs except user work", () => {
  const spec = {
    board: { preset: "ideal" }, hypervisor: { kind: "native" as const }, horizon_s: 0.01,
    guests: [{ name: "linux", vcpus: 1, workloads: [{ kind: "context1" as const, user_ns: 1000, sample_us: 0 }] }],
  };
  const c = simulate(spec, { seed: 1 }).rows("context1")[0] as any;
  // each loop = two half-loops of 1 µs user work and nothing else -> 500 k loops/s
  assert.ok(Math.abs(c.loops_per_s - 500_000) < 500, `loops/s ${c.loops_per_s}`);
});
