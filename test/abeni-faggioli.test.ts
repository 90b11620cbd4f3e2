/**
 * Abeni & Faggioli (seed 001): the paper's findings, asserted on short runs
 * of the experiment's own specs (the notebook shows the long ones). Each
 * finding comes out of the mechanisms; none is coded in. Run lengths are
 * 1-2 simulated seconds, so worst cases are lower than the paper's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findingsFromTable } from "../src/experiments/findings.js";
import { measure, plan, setup, type LatencyConfig } from "../src/experiments/abeni-faggioli.js";
import { simulate } from "../src/simulate.js";
import { C, resolveBoard } from "../src/hw/board.js";

const H = { horizonS: 1.5 };

test("abeni-faggioli: the plan covers every experiment of the paper, with the published values of Tables 1-2 and section 5.2", () => {
  const p = plan();
  for (const e of ["table1", "table2", "fig3", "fig4", "fig5", "fig6-7", "table3", "null", "table4", "table5", "qemu-fifo99", "fig10"])
    assert.ok(p.some((x) => x.experiment === e), e);
  assert.equal(p.filter((x) => x.experiment === "table1" && x.published !== null).length, 8);
  assert.equal(p.find((x) => x.experiment === "table2" && x.c.hv === "kvm" && x.c.host === "RT" && x.c.guest === "RT")!.published, 28);
  // withheld tables carry no published value
  assert.ok(p.filter((x) => ["table3", "table4", "table5", "fig10"].includes(x.experiment)).every((x) => x.published === null));
});

test("hvsim reproduce abeni-faggioli --json --quick: the ledger's findings table, and the claims 2 s runs can show", { timeout: 10 * 60 * 1000 }, () => {
  // The ledger (data/reference/abeni-faggioli.findings.json) is checked at full length by
  // test/findings-ledger.test.ts; worst cases need long runs, so here only the claims about averages,
  // the Null scheduler and KVM's bound are asserted on the quick runs.
  const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
  const out = execFileSync(process.execPath, [cli, "reproduce", "abeni-faggioli", "--json", "--quick"], {
    encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 128 * 1024 * 1024,
  });
  const fs = findingsFromTable(JSON.parse(out).tables.findings);
  for (const id of ["kvm-below-100us", "stress-kvm-rt-controlled", "longer-periods-lower-xen-latency", "timer-slop-1us-reduces-latency", "xen-still-above-kvm-after-slop", "null-scheduler-does-not-reduce"])
    assert.ok(fs.find((f) => f.id === id && f.expected === "holds")?.holds, id);
});

test("Xen 4.11 emulates every domU's TSC on the Core 2 Duo (no invariant TSC): PV reads trap as #GP emulation, HVM as VM exits, Dom0 and the i7's guests read natively", () => {
  const clockMean = (c: LatencyConfig) => {
    const rows = simulate(setup(c, H), { seed: 1 }).rows("latency_breakdown") as { domain: string; component: string; mean_us: number | null }[];
    const r = rows.find((x) => x.component === "clock_read" && x.domain !== "dom0");
    return r!.mean_us! * 1000;
  };
  const base: LatencyConfig = { cpu: "core2duo-e8500", host: "RT", guest: "RT", hv: "xen-hvm", timerSlopNs: 1000 };
  const hvm = clockMean(base), pv = clockMean({ ...base, hv: "xen-pv" });
  const b = resolveBoard("core2duo-e8500");
  // the same reads per sample, each at its own trap cost
  assert.ok(Math.abs(pv / hvm - b.cost[C.rdtsc_trap_pv] / b.rdtscTrapNs!) < 0.05, `PV ${pv} ns, HVM ${hvm} ns of clock reads per sample`);
  const i7 = clockMean({ ...base, cpu: "i7-6700", hv: "xen-pv" });
  assert.ok(i7 < 0.1 * pv, `i7 PV ${i7} ns: the TSC is reliable there, no emulation`);
  // Dom0 (the hardware domain) always reads the TSC natively
  const d0 = simulate(setup({ cpu: "core2duo-e8500", host: "RT", guest: "RT", hv: "dom0" }, H), { seed: 1 }).rows("latency_breakdown") as { component: string; mean_us: number | null }[];
  assert.ok(d0.find((x) => x.component === "clock_read")!.mean_us! * 1000 < 0.1 * pv);
});

test("abeni-faggioli: an HVM guest's device accesses are ioreqs served by its QEMU in Dom0 (at least the dm_ioreq cost each); QEMU's policy is the spec's; PV/PVH have no device model", () => {
  const ioreq = (c: LatencyConfig) => simulate(setup(c, { horizonS: 5 }), { seed: 1 }).rows("device_models")[0] as any;
  const c: LatencyConfig = { cpu: "i7-6700", host: "RT", guest: "RT", hv: "xen-hvm", timerSlopNs: 1000 };
  const idle = ioreq(c), fifo = ioreq({ ...c, stress: true, dm: "fifo99" });
  assert.ok(idle.ioreqs > 0 && fifo.ioreqs > 0);
  assert.ok(idle.mean_ioreq_us >= 6 && idle.max_ioreq_us < 1000, `ioreq round trip ${idle.mean_ioreq_us} µs (dm_ioreq alone is 6 µs on the i7)`);
  assert.equal(idle.policy, "other");
  assert.equal(fifo.policy, "fifo");
  assert.equal(fifo.priority, 99);
  const pvh = simulate(setup({ ...c, hv: "xen-pvh", stress: true }, { horizonS: 1 }), { seed: 1 }).rows("device_models");
  assert.equal(pvh.length, 0);
});

test("mechanism (not the paper's setup): with a device-heavy HVM guest, Dom0 stress delays its ioreqs by milliseconds (QEMU waits behind CFS stressors), not PV/PVH guests; QEMU at SCHED_FIFO 99 removes that", () => {
  // A mechanism test of the ioreq path, not a check of the paper: the guest makes 500 emulated-device
  // accesses per second on top of the paper's setup, so that 3 s runs exercise QEMU's starvation
  // often. The paper's own findings in its own setup (no added load, 20 s runs) are checked by
  // test/findings-ledger.test.ts: dom0-stress-raises-hvm-worst-case, qemu-fifo99-like-pvh,
  // dom0-stress-barely-affects-pv-pvh, hvm-with-dom0-load-very-high.
  const run = (c: LatencyConfig) => {
    const s = setup(c, { horizonS: 3 });
    s.guests.find((g) => g.name === "domU")!.workloads.push({ kind: "device-io", rate_hz: 500 });
    const r = simulate(s, { seed: 2 });
    return { dm: r.rows("device_models")[0] as any, ct: r.rows("cyclictest")[0] as any };
  };
  for (const host of ["NRT", "RT"] as const) {
    const c: LatencyConfig = { cpu: "i7-6700", host, guest: "RT", hv: "xen-hvm", timerSlopNs: 1000 };
    const idle = run(c), stress = run({ ...c, stress: true }), fifo = run({ ...c, stress: true, dm: "fifo99" });
    const tag = `${host} Dom0: ioreq mean/max idle ${idle.dm.mean_ioreq_us.toFixed(1)}/${idle.dm.max_ioreq_us}, stress ${stress.dm.mean_ioreq_us.toFixed(1)}/${stress.dm.max_ioreq_us}, fifo99 ${fifo.dm.mean_ioreq_us.toFixed(1)}/${fifo.dm.max_ioreq_us}`;
    assert.ok(stress.dm.mean_ioreq_us > 2 * idle.dm.mean_ioreq_us && stress.dm.max_ioreq_us > 1000, tag);
    assert.ok(stress.ct.max_latency_us > 1000 && stress.ct.max_latency_us > 10 * idle.ct.max_latency_us, `${tag}; cyclictest max ${idle.ct.max_latency_us} -> ${stress.ct.max_latency_us}`);
    assert.ok(fifo.dm.mean_ioreq_us < idle.dm.mean_ioreq_us * 1.2 && fifo.dm.max_ioreq_us < stress.dm.max_ioreq_us / 5, tag);
    assert.ok(fifo.ct.max_latency_us < stress.ct.max_latency_us / 5, `${tag}; cyclictest max fifo99 ${fifo.ct.max_latency_us}`);
    for (const hv of ["xen-pv", "xen-pvh"] as const) {
      const a = run({ ...c, hv }), b = run({ ...c, hv, stress: true });
      assert.ok(b.ct.max_latency_us <= a.ct.max_latency_us * 1.5 + 20, `${host} Dom0, ${hv}: cyclictest max ${a.ct.max_latency_us} -> ${b.ct.max_latency_us} with Dom0 stress`);
    }
  }
});
