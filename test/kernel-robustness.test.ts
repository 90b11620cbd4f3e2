// Issue 9 part 6, kernel and engine side: interrupt lines grow with the system, and a system that
// cannot make progress (a zero-time loop) ends with a SimError instead of hanging.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { SimError, Simulator, type TimerTarget } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { LinuxKernel, type CpuHost } from "../src/kernel/linux.js";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";

function idleKernel(ncpus: number, beforeResume?: (k: LinuxKernel) => void) {
  const sim = new Simulator(1);
  const kernel = new LinuxKernel(sim, {
    name: "k", ncpus, hz: 250, paravirtTimeAccounting: false, preemptFull: false, tunables: {},
    cost: resolveBoard("ideal").cost, jitterCv: 0,
  });
  const host: CpuHost = { halt() {}, kick() {}, steal: () => 0, sendIpi(_f, to, now) { kernel.raiseIrqAt(to, now); } };
  kernel.host = host;
  beforeResume?.(kernel);
  for (let i = 0; i < ncpus; i++) kernel.resume(i, 0);
  return { sim, kernel };
}

test("interrupt lines grow with the system: 100 device lines, each delivered, lower lines first", () => {
  const { sim, kernel } = idleKernel(1);
  const taken: number[] = [];
  const lines: number[] = [];
  for (let i = 0; i < 100; i++) {
    const n = i;
    lines.push(kernel.registerIrq("net_rx", () => { taken.push(n); }));
  }
  assert.equal(new Set(lines).size, 100);
  // raise lines in a scrambled order at one instant: the first is taken at once (the CPU is
  // idle) and its hard handler (data/kernels net_rx) keeps interrupts off while the others are
  // raised, so those are all pending together and must come out in line order, across the
  // boundary of the pendingIrq word (irq 31 = line 29)
  const order = [97, 3, 64, 31, 30, 29, 99, 0, 33, 62, 95, 28, 32, 1];
  const target: TimerTarget = {
    onTimer() { for (const i of order) kernel.raiseDeviceIrq(0, lines[i], sim.now); },
  };
  sim.arm(sim.timer(target, 0), 1000);
  sim.run(10_000_000);
  assert.deepEqual(taken, [97, ...order.slice(1).sort((a, b) => a - b)]);
  assert.equal(kernel.cpus[0].irqs, order.length);
  assert.equal(kernel.cpus[0].pendingIrq, 0);
  assert.ok(kernel.cpus[0].pendingHigh.every((w) => w === 0));
});

test("interrupt lines grow with the system: 16 stress workloads in one guest, Dom0 plus 31 HVM guests", () => {
  const stress: SimSpec = {
    board: { preset: "i7-6700" }, horizon_s: 0.02, hypervisor: { kind: "native" },
    guests: [{ name: "linux", vcpus: 2, workloads: Array.from({ length: 16 }, () => ({ kind: "stress" as const })) }],
  };
  const r1 = simulate(stress, { seed: 1 });
  assert.ok(r1.stats.events > 0);
  const hvm: SimSpec = {
    board: { preset: "i7-6700" }, horizon_s: 0.02,
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1, 2, 3, 4, 5, 6, 7], scheduler: { name: "credit" } }] },
    guests: [
      { name: "dom0", dom0: true, type: "pv", vcpus: 2, workloads: [{ kind: "housekeeping" }] },
      ...Array.from({ length: 31 }, (_, i) => ({
        name: `hvm${i}`, type: "hvm" as const, vcpus: 1, workloads: [{ kind: "cyclictest" as const, interval_us: 1000 }],
      })),
    ],
  };
  const r2 = simulate(hvm, { seed: 1 });
  const ct = r2.rows("cyclictest");
  assert.equal(ct.length, 31);
  // every guest's device model (an event-channel line of Dom0's kernel, 31 of them) worked:
  // every cyclictest ran its cycles
  for (const row of ct as Record<string, any>[]) assert.ok(row.cycles > 0, `${row.guest ?? JSON.stringify(row)}: no cycles`);
});

test("a zero-time loop between components ends with a SimError from the run loop", () => {
  const sim = new Simulator(1);
  let a = -1, b = -1;
  const ping: TimerTarget = { onTimer(k, _x, now) { sim.arm(k === 0 ? b : a, now); } };
  a = sim.timer(ping, 0);
  b = sim.timer(ping, 1);
  sim.arm(a, 5);
  assert.throws(() => sim.run(100), (e: unknown) => e instanceof SimError && /no progress/.test(e.message) && e.time_ns === 5);
  // a large but finite burst at one instant is fine
  const sim2 = new Simulator(1);
  let left = 100_000;
  const burst: TimerTarget = { onTimer(_k, _x, now) { if (--left > 0) sim2.arm(t2, now); } };
  const t2 = sim2.timer(burst, 0);
  sim2.arm(t2, 7);
  sim2.run(100);
  assert.equal(sim2.events, 100_000);
});

// A hang cannot be caught in-process (the loop is synchronous): the specs run in a child process
// with a time limit, so a regression fails this test instead of hanging the suite.
const child = (spec: SimSpec) => {
  const simulateJs = fileURLToPath(new URL("../src/simulate.js", import.meta.url));
  const code = `import { simulate } from ${JSON.stringify(simulateJs)};
    try { simulate(${JSON.stringify(spec)}, { seed: 1 }); console.log("RETURNED"); }
    catch (e) { console.log(e.name + ": " + e.message); }`;
  return spawnSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8", timeout: 60_000 });
};

test("Context1 with user_ns 0 on the ideal board, native and under Xen: a SimError, not a hang", () => {
  const guests: SimSpec["guests"] = [{ name: "g", vcpus: 1, workloads: [{ kind: "context1", user_ns: 0 }] }];
  const specs: SimSpec[] = [
    { board: { preset: "ideal" }, horizon_s: 0.000001, hypervisor: { kind: "native" }, guests },
    {
      board: { preset: "ideal" }, horizon_s: 0.000001, guests,
      hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0], scheduler: { name: "credit2" } }] },
    },
  ];
  for (const spec of specs) {
    const r = child(spec);
    assert.equal(r.error, undefined, `${spec.hypervisor.kind}: the child did not finish (${r.error})`);
    assert.match(r.stdout, /^SimError: g: no progress: .*t=0 ns.*task g\/context1.* zero-time loop.*give some operation a cost/m, `${spec.hypervisor.kind}: ${r.stdout}${r.stderr}`);
  }
});
