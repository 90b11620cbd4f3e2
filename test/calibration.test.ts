// The frozen calibration (data/calibration/abeni-faggioli.json) and the kernel data agree: the values
// in data/kernels/linux-5.0.json are the report's fitted ones, each says FITTED in its provenance, the
// report states identifiability for every parameter, fits only the allowed targets (Tables 1-2 and the
// Dom0 worst cases, never the native RT ones) and its total SSE is the sum of its targets' residuals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { calibration } from "../src/experiments/abeni-faggioli.js";
import { kernelData } from "../src/kernel/latency.js";

test("calibration report and kernel data agree; only allowed targets; identifiability stated", () => {
  const cal = calibration();
  const k = kernelData("linux-5.0") as any;
  const hk = k.activities.housekeeping.sections;
  const frozen: Record<string, { value: number; provenance: string }> = {
    hk_none_max_us: { value: hk.none.np_us.max_us, provenance: hk.none.np_us.provenance },
    hk_rt_max_us: { value: hk.rt.np_us.max_us, provenance: hk.rt.np_us.provenance },
    burst_accesses: { value: k.activities.device_burst.accesses.value, provenance: k.activities.device_burst.accesses.provenance },
  };
  assert.deepEqual(Object.keys(cal.fitted).sort(), Object.keys(frozen).sort());
  for (const [name, f] of Object.entries(frozen)) {
    assert.equal(f.value, cal.fitted[name], `${name}: kernel data ${f.value}, report ${cal.fitted[name]}`);
    assert.match(f.provenance, /FITTED/, `${name}: provenance says FITTED`);
    assert.ok(typeof cal.identifiability[name] === "string" && cal.identifiability[name].length > 10, `${name}: identifiability stated`);
  }
  assert.ok(cal.seeds.length >= 3, "fitted on several seeds");
  assert.ok(cal.targets.every((t: any) => t.experiment === "table1" || t.experiment === "table2" || t.experiment === "fig4"), "targets: Tables 1-2 and the Dom0 worst cases only");
  assert.ok(cal.targets.every((t: any) => !/native/.test(t.label)), "no native target");
  assert.equal(cal.targets.length, 20);
  const sse = cal.targets.reduce((a: number, t: any) => a + t.residual * t.residual, 0);
  assert.ok(Math.abs(sse - cal.total_sse) < 1e-9);
  for (const t of cal.targets) assert.ok(Math.abs(Math.log(t.simulated / t.published) - t.residual) < 1e-9, t.label);
});
