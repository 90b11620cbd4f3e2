import { test } from "node:test";
import assert from "node:assert/strict";
import { SpecError } from "../src/spec/validate.js";
import { simulate } from "../src/simulate.js";
import { PvKernel, pvCosts, type PvKernelSpec } from "../src/virt/pvops/model.js";
import { lmbenchBenchmarks, runLmbench } from "../src/workloads/lmbench.js";
import * as exp from "../src/experiments/pv-guest-regressions.js";
import { readLedger } from "../src/experiments/ledger.js";

const BOARD = "xeon-w3530";
const P33: PvKernelSpec = { variant: "pvops-3.3", bits: 32 };

test("time = counts x per-board costs: every hypercall and trap type, and the total", () => {
  const c = pvCosts(BOARD);
  for (const k of [P33, { variant: "classic-2.6.32", bits: 32 }, { variant: "pvops-3.3", bits: 64 }] as PvKernelSpec[]) {
    for (const b of lmbenchBenchmarks()) {
      const r = runLmbench(k, BOARD, b, { iterations: 100 });
      const pk = r.kernel;
      for (const [t, n] of pk.trapCount) {
        const [cls, name] = t.split(":");
        assert.equal(pk.trapTime.get(t), n * c[`${cls}_${name}`], `${b} ${t}`);
      }
      const xv = pk.hcCount.get("xen_version") ?? 0;
      assert.equal(pk.hcTime.get("xen_version") ?? 0, xv * (c.hypercall + c.body_xen_version));
      const mc = pk.hcCount.get("multicall") ?? 0;
      assert.equal(pk.hcTime.get("multicall") ?? 0, mc * c.hypercall);
      const ud = pk.hcCount.get("multicall/update_descriptor") ?? 0;
      assert.equal(pk.hcTime.get("multicall/update_descriptor") ?? 0, ud * (c.multicall_entry + c.body_update_descriptor));
      // the total is work + native instructions + hypervisor entries, nothing else
      assert.ok(Math.abs(pk.now - (pk.workNs + pk.nativeNs + pk.hvNs())) < 1e-6 * pk.now, b);
      let opSum = 0;
      for (const v of pk.opTime.values()) opSum += v;
      assert.ok(Math.abs(opSum - (pk.nativeNs + pk.hvNs())) < 1e-6 * pk.now, `${b}: per-operation times add up`);
    }
  }
});

function countsOf(k: PvKernelSpec, b: string): Map<string, number> {
  const r = runLmbench(k, BOARD, b, { iterations: 200 });
  return new Map([...r.kernel.hcCount, ...r.kernel.trapCount]);
}

test("variants differ only where their switches differ", () => {
  const touched: Record<string, RegExp> = {
    "irq-restore-pending-check": /^xen_version$/,
    "tls-skip-unchanged": /^multicall(\/update_descriptor)?$|^(stack_switch|mmuext_op)$|^multicall\/(stack_switch|mmuext_op)$/,
    "set-pte-hypercall": /^trap:ptwr$|^mmu_update$/,
  };
  let changed = 0;
  for (const [f, re] of Object.entries(touched)) {
    for (const b of lmbenchBenchmarks()) {
      const a = countsOf(P33, b), z = countsOf({ ...P33, fixes: [f] }, b);
      for (const key of new Set([...a.keys(), ...z.keys()])) {
        if ((a.get(key) ?? 0) === (z.get(key) ?? 0)) continue;
        changed++;
        assert.match(key, re, `${f} changed ${key} on ${b}`);
      }
    }
  }
  assert.ok(changed > 0);
  // without fixes, 64-bit and 32-bit differ in the PTE traps and the syscall path, never in xen_version
  const a = countsOf(P33, "ctxsw"), z = countsOf({ variant: "pvops-3.3", bits: 64 }, "ctxsw");
  assert.equal(a.get("xen_version"), z.get("xen_version"));
  assert.equal(a.get("bounce:int80"), 2 * 200);
  assert.equal(z.get("bounce:syscall64"), 2 * 200);
});

test("an HVM/PVH container runs the same paths with no hypercall or trap", () => {
  for (const b of lmbenchBenchmarks()) {
    const r = runLmbench({ ...P33, mode: "hvm" }, BOARD, b, { iterations: 50 });
    assert.equal(r.kernel.hcCount.size + r.kernel.trapCount.size, 0, b);
    assert.ok(r.latencyUs < runLmbench(P33, BOARD, b, { iterations: 50 }).latencyUs, b);
  }
});

test("multicalls: a batch of one entry is a direct hypercall; lazy-MMU batching turns munmap's traps into entries", () => {
  const r = runLmbench({ ...P33, fixes: ["lazy-mmu-ptep-clear"] }, BOARD, "munmap", { iterations: 10 });
  assert.equal(r.kernel.trapCount.get("trap:ptwr") ?? 0, 0);
  assert.equal(r.kernel.hcCount.get("multicall/mmu_update"), 160);
  assert.equal(r.kernel.hcCount.get("multicall"), 10);
  // ctxsw with the TLS fix on 32-bit: stack_switch + new_baseptr stay a two-entry multicall
  const c = runLmbench({ ...P33, fixes: ["tls-skip-unchanged"] }, BOARD, "ctxsw", { iterations: 10 });
  assert.equal(c.kernel.hcCount.get("multicall"), 10);
  assert.equal(c.kernel.hcCount.get("multicall/update_descriptor") ?? 0, 0);
});

test("lat_ctx subtracts lmbench's overhead loop, measured apart and not counted", () => {
  const r = runLmbench(P33, BOARD, "ctxsw", { iterations: 100 });
  assert.ok(r.overheadUs > 0);
  assert.ok(Math.abs(r.latencyUs + r.overheadUs - r.kernel.now / 100 / 1000) < 1e-9);
  assert.equal(runLmbench(P33, BOARD, "null", { iterations: 10 }).overheadUs, 0);
});

test("the trace records hypercalls and traps up to its bound; counting goes on", () => {
  const r = runLmbench(P33, BOARD, "pagefault", { iterations: 100, traceMax: 7 });
  assert.equal(r.kernel.trace.length, 7);
  assert.equal(r.kernel.trapCount.get("trap:ptwr"), 200);
  assert.deepEqual(r.kernel.trace.slice(0, 2).map((x) => x.name), ["bounce:page_fault", "xen_version"]);
});

test("the post's findings emerge from the model, claim by claim as the ledger expects", () => {
  const t = exp.reproduce({ quick: true });
  const f = t.findings.objects() as any[];
  const ledger = readLedger("pv-guest-regressions");
  assert.deepEqual(f.map((r) => r.finding), ledger.claims.map((c) => c.id));
  for (const c of ledger.claims) {
    assert.ok(c.source && c.claim && c.comparison, c.id);
    if (c.expected === "diverges") assert.ok(c.tried && c.tried.length > 0, `${c.id}: what was tried`);
  }
  for (const r of f) assert.equal(r.holds, r.expected === "holds", `${r.finding} (${r.expected}): ${r.measured}`);
  // the withheld page-fault gain is shown, never compared with a published number
  assert.match(f.find((r) => r.finding === "pte-fix-pagefault-gain").measured, /^simulated only: /);
  assert.deepEqual(t.hypercalls.columnNames(), ["variant", "benchmark", "hypercall", "count", "time_us"]);
  assert.deepEqual(t.traps.columnNames(), ["variant", "benchmark", "kind", "count", "time_us"]);
  assert.deepEqual(t.benchmarks.columnNames().slice(0, 4), ["variant", "benchmark", "latency_us", "vs_classic_pct"]);
  assert.deepEqual(t.fixes.columnNames(), ["fix", "benchmark", "gain_pct"]);
  assert.deepEqual(t.findings.columnNames().slice(0, 5), ["finding", "source", "claim", "measured", "holds"]);
});

test("deterministic: two reproductions are identical", () => {
  const a = exp.reproduce({ quick: true }), b = exp.reproduce({ quick: true });
  for (const k of Object.keys(a)) assert.deepEqual(a[k].objects(), b[k].objects(), k);
});

function pvSpec(mut: (g: any) => void, type = "pv"): any {
  const g: any = { name: "domU", type, vcpus: 1, pin: [[1]], kernel: {}, workloads: [{ kind: "cpu-hog" }] };
  mut(g);
  return {
    board: { preset: BOARD },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "credit" } }] },
    guests: [{ name: "dom0", dom0: true, type: "pv", vcpus: 1, pin: [[0]], workloads: [] }, g],
    horizon_s: 0.01,
  };
}

function specError(s: any): SpecError {
  try { simulate(s, { seed: 1 }); } catch (e) { assert.ok(e instanceof SpecError, String(e)); return e; }
  assert.fail("no error");
}

test("bad input: unknown variant or fix, a fix for the other bitness, a PV-only setting on an HVM guest", () => {
  let e = specError(pvSpec((g) => { g.kernel.pvops = { variant: "pvops-9.9", bits: 32 }; }));
  assert.match(e.message, /guests\[1\]\.kernel\.pvops\.variant: unknown PV kernel variant "pvops-9.9"; allowed: "classic-2.6.32", "pvops-3.3"/);
  e = specError(pvSpec((g) => { g.kernel.pvops = { variant: "pvops-3.3", bits: 32, fixes: ["tls-skip-unchanged", "fix-everything"] }; }));
  assert.match(e.message, /guests\[1\]\.kernel\.pvops\.fixes\[1\]: unknown fix "fix-everything"/);
  e = specError(pvSpec((g) => { g.kernel.pvops = { variant: "pvops-3.3", bits: 64, fixes: ["set-pte-hypercall"] }; }));
  assert.match(e.message, /guests\[1\]\.kernel\.pvops\.fixes\[0\]: fix "set-pte-hypercall" applies to 32-bit PAE guests only; this guest is 64-bit/);
  e = specError(pvSpec((g) => { g.kernel.pvops = { variant: "pvops-3.3", bits: 32 }; }, "hvm"));
  assert.match(e.message, /guests\[1\]\.kernel\.pvops: a PV-only setting: guest domU is HVM/);
  e = specError(pvSpec((g) => { g.kernel.pvops = { variant: "pvops-3.3", bits: 48 }; }));
  assert.match(e.message, /guests\[1\]\.kernel\.pvops\.bits/);
  assert.doesNotThrow(() => simulate(pvSpec((g) => { g.kernel.pvops = { variant: "classic-2.6.32", bits: 32, fixes: [] }; }), { seed: 1 }));
  // the operation model's own entry point rejects the same
  assert.throws(() => new PvKernel({ variant: "pvops-3.3", bits: 64, fixes: ["set-pte-hypercall"] }, BOARD), SpecError);
});

test("kernel.pvops is checked by validateSpec (so build() rejects what simulate() rejects)", async () => {
  const { validateSpec, SpecError } = await import("../src/spec/validate.js");
  const spec = {
    board: { preset: "i7-6700" }, hypervisor: { kind: "native" }, horizon_s: 1,
    guests: [{ name: "g", vcpus: 1, kernel: { pvops: { variant: "nope" } }, workloads: [] }],
  };
  assert.throws(() => validateSpec(spec as any), (e: unknown) => e instanceof SpecError && /guests\[0\]\.kernel\.pvops\.variant/.test((e as Error).message));
});
