// Xen guest timer path: Linux's Xen PV clockevent min delta (TIMER_SLOP) and Xen's timer_slop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";

function cyc(intervalUs: number, slopNs: number, xenSlopNs?: number): any {
  const spec: SimSpec = {
    board: { preset: "ideal" }, horizon_s: 0.5,
    hypervisor: { kind: "xen", timer_slop_ns: xenSlopNs, pools: [{ name: "rt", cpus: [0], scheduler: { name: "credit" } }] },
    guests: [{ name: "domU", type: "pvh", vcpus: 1, kernel: { preempt: "rt", xen_timer_slop_ns: slopNs }, workloads: [{ kind: "cyclictest", interval_us: intervalUs, priority: 99, histogram_us: 1000 }] }],
  };
  return simulate(spec, { seed: 1 }).rows("cyclictest")[0];
}

test("TIMER_SLOP clamps the guest's timer: a 50 µs period on the ideal board gives latencies in [50, 100) µs", () => {
  // after a wake-up at t, cyclictest's next expiry E is 0..50 µs away (missed periods are
  // skipped); TIMER_SLOP makes the device fire at t + 100 µs, so latency = t + 100 - E
  const c = cyc(50, 100_000, 0);
  assert.ok(c.min_latency_us >= 50 && c.max_latency_us < 100, `min ${c.min_latency_us} max ${c.max_latency_us}`);
  assert.ok(c.cycles < 0.6 * 10_000, `missed periods are skipped: ${c.cycles} cycles`);
});

test("with TIMER_SLOP = 1 µs, Xen's own timer_slop bounds the latency instead", () => {
  // Xen programs its hardware for max(expiry, now + timer_slop): never more than 50 µs late here
  const c = cyc(50, 1000, 50_000);
  assert.ok(c.max_latency_us <= 50, `max ${c.max_latency_us}`);
  assert.ok(c.cycles > 0.99 * 10_000, "no period is missed");
  const none = cyc(50, 1000, 0);
  assert.ok(none.max_latency_us <= 1, `no slop anywhere: max ${none.max_latency_us}`);
});

test("periods longer than the slops see no timer-resolution latency", () => {
  for (const iv of [500, 1000]) assert.equal(cyc(iv, 100_000, 50_000).max_latency_us, 0);
});
