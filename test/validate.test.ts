import { test } from "node:test";
import assert from "node:assert/strict";
import { SpecError, validateSpec } from "../src/spec/validate.js";
import { simulate } from "../src/simulate.js";
import { context1Spec } from "./helpers.js";

function errorOf(mut: (s: any) => void): SpecError {
  const s: any = structuredClone(context1Spec({ ratelimitMs: 1 }));
  mut(s);
  try {
    simulate(s, { seed: 1 });
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${e}`);
    return e;
  }
  assert.fail("no error thrown");
}

test("zero, negative and out-of-range ratelimits name the field and Xen's range", () => {
  for (const v of [0, -5, 99, 500001, 1.5]) {
    const e = errorOf((s) => { s.hypervisor.pools[0].scheduler.ratelimit_us = v; });
    assert.match(e.message, /hypervisor\.pools\[0\]\.scheduler\.ratelimit_us/);
    assert.match(e.message, /100\.\.500000/);
    assert.match(e.message, new RegExp(`got ${v}`));
  }
  // "off" is how xl's -r 0 is written
  assert.doesNotThrow(() => validateSpec({ ...context1Spec({ ratelimitMs: 1 }), hypervisor: { kind: "xen", pools: [{ name: "p", cpus: [0, 1, 2, 3], scheduler: { name: "credit2", ratelimit_us: "off" } }] } }));
});

test("an unknown scheduler lists the allowed ones", () => {
  const e = errorOf((s) => { s.hypervisor.pools[0].scheduler = { name: "bvt" }; });
  assert.match(e.message, /scheduler\.name: unknown scheduler "bvt"; allowed: "credit2"/);
});

test("pinning to a pCPU that does not exist", () => {
  const e = errorOf((s) => { s.guests[1].pin = [[9]]; });
  assert.match(e.message, /guests\[1\]\.pin\[0\]\[0\]: pCPU 9 does not exist; board rcar-s4 has pCPUs 0\.\.7/);
});

test("zero vCPUs, bad weights, unknown fields and unknown boards", () => {
  assert.match(errorOf((s) => { s.guests[0].vcpus = 0; }).message, /guests\[0\]\.vcpus: must be an integer in 1\.\.64.*got 0/);
  assert.match(errorOf((s) => { s.guests[0].weight = 0; }).message, /guests\[0\]\.weight: must be an integer in 1\.\.65535/);
  assert.match(errorOf((s) => { s.guests[0].colour = "red"; }).message, /guests\[0\]: unknown field\(s\) "colour"/);
  assert.match(errorOf((s) => { s.board.preset = "rpi"; }).message, /board\.preset: unknown board "rpi"; allowed: .*"rcar-s4"/);
  assert.match(errorOf((s) => { s.guests[0].workloads[0].cpus = [4]; }).message, /workloads\[0\]\.cpus\[0\]: guest CPU 4 does not exist/);
  assert.match(errorOf((s) => { s.horizon_s = 0; }).message, /horizon_s/);
});

test("every problem is reported at once", () => {
  const e = errorOf((s) => { s.guests[0].vcpus = 0; s.hypervisor.pools[0].scheduler.ratelimit_us = 0; });
  assert.equal(e.issues.length, 2);
});
