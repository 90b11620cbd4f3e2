// Paravirtual scheduling of KVM vCPU threads (src/virt/pvsched.ts, issue 14 part 6): the priority
// mapping, the interrupt and timer-pending boosts, the per-switch hypercalls and their cost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";
import { Simulator, type TimerTarget } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { LinuxKernel, type CpuHost } from "../src/kernel/linux.js";
import { A_COMPUTE, type Program, SCHED_FIFO, SCHED_NORMAL, SCHED_RR } from "../src/kernel/task.js";
import { type PvCarrier, PvSched, pvHostPriority } from "../src/virt/pvsched.js";

type Row = Record<string, any>;

/** A KVM host on the Core 2 board, one guest (PREEMPT_RT, one vCPU thread on host CPU 1, SCHED_OTHER: -rt policy=ts). */
function spec(o: { pvsched?: boolean; maxprio?: number; host?: "full" | "rt"; hostFifo?: number; guest: WorkloadSpec[]; horizonS?: number }): SimSpec {
  const hostWorkloads: WorkloadSpec[] = o.hostFifo === undefined ? [] : [
    // a host SCHED_FIFO task that always runs, from 10 ms on (the guest has booted and armed its timer)
    { kind: "periodic", name: "hostrt", period_us: 100_000, exec: 100_000, offset_us: 10_000, policy: "fifo", priority: o.hostFifo, cpus: [1] },
  ];
  const rt = o.pvsched === undefined ? { maxprio: o.maxprio ?? 98, policy: "ts" as const } : { maxprio: o.maxprio ?? 98, policy: "ts" as const, pvsched: o.pvsched };
  return {
    board: { preset: "core2duo-e8500" }, horizon_s: o.horizonS ?? 1,
    hypervisor: { kind: "kvm", host_kernel: { preempt: o.host ?? "full" }, host_workloads: hostWorkloads },
    guests: [{ name: "vm", vcpus: 1, kernel: { preempt: "rt" }, vcpu_thread: { cpus: [1] }, qemu: { rt }, workloads: o.guest }],
  };
}

const rows = (s: SimSpec, table: string): Row[] => simulate(s, { seed: 1 }).rows(table as "tasks") as Row[];
const job = (prio: number): WorkloadSpec => ({ kind: "periodic", name: "g", period_us: 10_000, exec: 2_000, policy: "fifo", priority: prio });
const guestTask = (s: SimSpec): Row => rows(s, "tasks").find((t) => t.task === "g")!;

test("priority mapping: p = floor(p_guest * p_max / 99), p_max = maxprio - 1", () => {
  assert.equal(pvHostPriority(99, 97), 97);
  assert.equal(pvHostPriority(60, 49), 29);
  assert.equal(pvHostPriority(1, 97), 0);
  assert.equal(pvHostPriority(50, 97), 48);
});

test("a SCHED_OTHER vCPU thread whose guest runs a FIFO task takes the mapped host priority: it preempts host FIFO tasks below it, not at or above", () => {
  // without pvsched the SCHED_OTHER vCPU thread only gets the host's RT-throttling slack
  const none = guestTask(spec({ hostFifo: 50, guest: [job(99)] }));
  assert.ok(none.deadline_misses >= 90, `no pvsched: misses ${none.deadline_misses}`);
  // guest FIFO 99, maxprio 98: host FIFO floor(99 * 97 / 99) = 97. The few misses left are the host's
  // RT throttling (sched_rt_runtime_us 950 ms per 1 s, shared by every RT task of the CPU, the vCPU included)
  const below = guestTask(spec({ pvsched: true, hostFifo: 96, guest: [job(99)] }));
  assert.ok(below.jobs >= 95 && below.deadline_misses <= 6, `host FIFO 96: jobs ${below.jobs}, misses ${below.deadline_misses}`);
  const equal = guestTask(spec({ pvsched: true, hostFifo: 97, guest: [job(99)] }));
  assert.ok(equal.deadline_misses >= 50, `host FIFO 97 (equal, FIFO does not preempt): misses ${equal.deadline_misses}`);
  // guest FIFO 60, maxprio 50: host FIFO floor(60 * 49 / 99) = 29
  const m28 = guestTask(spec({ pvsched: true, maxprio: 50, hostFifo: 28, guest: [job(60)] }));
  assert.ok(m28.deadline_misses <= 6, `host FIFO 28 below 29: misses ${m28.deadline_misses}`);
  const m30 = guestTask(spec({ pvsched: true, maxprio: 50, hostFifo: 30, guest: [job(60)] }));
  assert.ok(m30.deadline_misses >= 90, `host FIFO 30 above 29: misses ${m30.deadline_misses}`);
});

test("an interrupt for the vCPU boosts it to p_max until the guest reports it done, on PREEMPT and PREEMPT_RT hosts", () => {
  // a SCHED_OTHER guest hog (one task: its ticks need no reschedule) under a host FIFO 50 hog
  const none = simulate(spec({ hostFifo: 50, guest: [{ kind: "cpu-hog" }] }), { seed: 1 });
  const gNone = (none.rows("guest_cpus") as Row[]).find((c) => c.domain === "vm")!;
  for (const host of ["full", "rt"] as const) {
    const r = simulate(spec({ pvsched: true, host, hostFifo: 50, guest: [{ kind: "cpu-hog" }] }), { seed: 1 });
    const g = (r.rows("guest_cpus") as Row[]).find((c) => c.domain === "vm")!;
    const p = (r.rows("pvsched") as Row[])[0];
    // HZ 250 for 1 s: every guest tick is handled, boosted through the host's FIFO task
    assert.ok(g.interrupts >= 245, `${host}: guest ticks ${g.interrupts} (without pvsched ${gNone.interrupts})`);
    assert.ok(gNone.interrupts < 50, `without pvsched: ${gNone.interrupts}`);
    assert.ok(g.irq_wait_suspended_ms < 5 && gNone.irq_wait_suspended_ms > 500, `${host}: ${g.irq_wait_suspended_ms} vs ${gNone.irq_wait_suspended_ms} ms`);
    // each tick: a timer-pending boost, turned into an interrupt boost at entry, ended by Interrupt Done
    assert.equal(p.timer_boosts, g.interrupts);
    assert.equal(p.boosts, p.timer_boosts);
    assert.equal(p.irq_done_calls, p.boosts);
    assert.equal(p.setscheduler_calls, 2 * p.boosts, "boost and deboost once per tick");
    // the boost lasts from the host timer to the guest's Interrupt Done: microseconds, not the rest of the period
    const perBoostUs = (p.boosted_time_ms * 1000) / p.boosts;
    assert.ok(perBoostUs > 1 && perBoostUs < 20, `${host}: boosted ${perBoostUs} µs per tick`);
    assert.equal(p.host_policy, "other");
    const hostTasks = (r.rows("tasks") as Row[]).filter((t) => t.domain === "host").map((t) => t.task);
    // KVM's timer callback runs in hard-interrupt context on both hosts of this (5.x) kernel model: the boosts
    // go through the per-CPU FIFO 99 threads (the thread-context case is tested on PvSched below)
    assert.ok(hostTasks.includes("kvm-pvsched/1"), host);
  }
});

test("the per-switch hypercalls raise cyclictest's average slightly; one Set Scheduling Parameters per guest context switch", () => {
  const ct: WorkloadSpec = { kind: "cyclictest", interval_us: 1000, priority: 99, histogram_us: 1000 };
  for (const host of ["full", "rt"] as const) {
    const off = simulate(spec({ host, guest: [ct] }), { seed: 1 });
    const on = simulate(spec({ pvsched: true, host, guest: [ct] }), { seed: 1 });
    const a = (off.rows("cyclictest") as Row[])[0], b = (on.rows("cyclictest") as Row[])[0];
    const d = b.avg_latency_us - a.avg_latency_us;
    assert.ok(d > 0.5 && d < 10, `${host}: avg ${a.avg_latency_us} -> ${b.avg_latency_us} µs`);
    assert.ok(b.max_latency_us < a.max_latency_us + 20, `${host}: max ${a.max_latency_us} -> ${b.max_latency_us} µs`);
    const p = (on.rows("pvsched") as Row[])[0];
    const g = (on.rows("guest_cpus") as Row[]).find((c) => c.domain === "vm")!;
    assert.equal(p.set_sched_calls, g.context_switches, "cpu_set_sched on every context switch");
    assert.ok(p.set_sched_calls >= 2 * 990);
    // more exits: the guest's two switches per cycle are hypercalls
    const va = (off.rows("vcpu_threads") as Row[])[0], vb = (on.rows("vcpu_threads") as Row[])[0];
    assert.ok(vb.vm_exits >= va.vm_exits + p.set_sched_calls + p.irq_done_calls, `exits ${va.vm_exits} -> ${vb.vm_exits}`);
    assert.ok(Math.abs(p.hypercall_time_ms - ((p.set_sched_calls + p.irq_done_calls) * (348 + 823)) / 1e6) < 1e-9, `hypercall time ${p.hypercall_time_ms}`);
    assert.ok(!(off.tableNames as string[]).includes("pvsched"), "no pvsched table when off");
  }
});

test("pvsched off (default or explicit false) changes nothing", () => {
  const ct: WorkloadSpec = { kind: "cyclictest", interval_us: 1000, priority: 99, histogram_us: 1000 };
  const a = simulate(spec({ guest: [ct], hostFifo: 50, horizonS: 0.3 }), { seed: 3 });
  const b = simulate(spec({ pvsched: false, guest: [ct], hostFifo: 50, horizonS: 0.3 }), { seed: 3 });
  for (const t of a.tableNames) assert.deepEqual(b.rows(t), a.rows(t), t);
});

test("SpecError: pvsched needs a KVM host", () => {
  const s: SimSpec = {
    board: { preset: "core2duo-e8500" }, horizon_s: 1, hypervisor: { kind: "native" },
    guests: [{ name: "linux", vcpus: 1, qemu: { rt: { maxprio: 98, pvsched: true } }, workloads: [] }],
  };
  assert.throws(() => validateSpec(s), (e: unknown) => e instanceof SpecError && /guests\[0\]\.qemu\.rt\.pvsched: paravirtual scheduling needs a KVM host/.test(e.message));
});

// ---- the hypercall semantics of §5.2 on the PvSched object itself (no guest running: the calls come from events)

function unit(preempt: "full" | "rt", hrtimerInThread = false) {
  const sim = new Simulator(1);
  const cfg = (name: string, ncpus: number) => ({
    name, ncpus, hz: 250, paravirtTimeAccounting: false, preemptFull: true, preempt, tunables: {}, cost: resolveBoard("ideal").cost, jitterCv: 0,
  });
  const hk = new LinuxKernel(sim, cfg("host", 2));
  hk.host = { halt() {}, kick() {}, steal: () => 0, sendIpi(_f, to, now) { hk.raiseIrqAt(to, now); } };
  const gk = new LinuxKernel(sim, cfg("vm", 2));
  const gh: CpuHost = { halt() {}, kick() {}, steal: () => 0, sendIpi() {} };
  gk.host = gh;
  const hog: Program = { next(t) { t.act = A_COMPUTE; t.actArg = Infinity; } };
  const nop: TimerTarget = { onTimer() {} };
  const vs: PvCarrier[] = [0, 1].map((i) => ({
    thread: hk.spawn(`vm/vcpu${i}`, hog, i, [i], 0, 0), guest: "vm", idx: i, gk,
    inSeg: false, guestOn: false, guestSince: 0, inGuestNs: 0, vmExits: 0, resumeT: sim.timer(nop, 0), hcUntil: 0,
  }));
  const pv = new PvSched(sim, hk, 0, 0, 500, hrtimerInThread);
  const ps = pv.attachGuest(vs, gh, 97, 0);
  for (let c = 0; c < 2; c++) hk.resume(c, 0);
  const at = (t: number, f: (now: number) => void) => sim.arm(sim.timer({ onTimer(_k, _a, now) { f(now); } }, 0), t);
  return { sim, hk, gh, vs, ps, at, pv };
}

test("hypercalls: Set Scheduling Parameters of a remote vCPU, boost clearing by the caller only, Interrupt Done, timer pending kept", () => {
  const { sim, gh, vs, ps, at } = unit("full");
  const pol = (i: number) => [vs[i].thread.policy, vs[i].thread.rtPriority];
  // vCPU 0 sets vCPU 1 to guest FIFO 50: host FIFO floor(50 * 97 / 99) = 48, after the handler's 500 ns
  at(1000, (now) => gh.pvSched!(0, 1, SCHED_FIFO, 50, now));
  sim.run(1499);
  assert.deepEqual(pol(1), [SCHED_NORMAL, 0]);
  sim.run(1500);
  assert.deepEqual(pol(1), [SCHED_FIFO, 48]);
  assert.deepEqual(pol(0), [SCHED_NORMAL, 0]);
  assert.equal(ps[0].setSchedCalls, 1);
  // an interrupt for vCPU 0: SCHED_OTHER -> FIFO p_max; for vCPU 1 (RR base) the policy is kept
  at(2000, (now) => { gh.pvSched!(1, 1, SCHED_RR, 10, now); });
  at(3000, (now) => { ps[0].kick(false, now); ps[1].kick(false, now); });
  sim.run(3000);
  assert.deepEqual(pol(0), [SCHED_FIFO, 97]);
  assert.deepEqual(pol(1), [SCHED_RR, 97]);
  // a remote Set Scheduling Parameters does not clear the caller's boost; the target's base changes under its boost
  at(4000, (now) => gh.pvSched!(0, 1, SCHED_FIFO, 99, now));
  sim.run(5000);
  assert.deepEqual(pol(0), [SCHED_FIFO, 97]);
  assert.deepEqual(pol(1), [SCHED_FIFO, 97]);
  // the caller's own Set Scheduling Parameters clears its boost
  at(6000, (now) => gh.pvSched!(0, 0, SCHED_NORMAL, 0, now));
  sim.run(7000);
  assert.deepEqual(pol(0), [SCHED_NORMAL, 0]);
  // Interrupt Done ends vCPU 1's boost: back to its base FIFO floor(99 * 97 / 99)
  at(8000, (now) => gh.pvIrqDone!(1, now));
  sim.run(9000);
  assert.deepEqual(pol(1), [SCHED_FIFO, 97]);
  assert.equal(ps[1].depth, 0);
  // timer pending on vCPU 0 (non-RT host: through the boost thread), not cleared by guest calls, settled at entry
  at(10_000, (now) => ps[0].timerFired(false, now));
  sim.run(20_000);
  assert.deepEqual(pol(0), [SCHED_FIFO, 97]);
  at(21_000, (now) => { gh.pvSched!(0, 0, SCHED_NORMAL, 0, now); gh.pvIrqDone!(0, now); });
  sim.run(30_000);
  assert.deepEqual(pol(0), [SCHED_FIFO, 97], "timer pending survives the guest's calls");
  at(31_000, (now) => ps[0].entry(now)); // no interrupt pending for the guest: the boost ends
  sim.run(32_000);
  assert.deepEqual(pol(0), [SCHED_NORMAL, 0]);
  assert.equal(ps[0].timerBoosts, 1);
  // NMI nesting: an NMI marked during an interrupt boost needs two Interrupt Done calls
  at(33_000, (now) => { ps[0].kick(false, now); ps[0].kick(false, now, true); });
  at(34_000, (now) => gh.pvIrqDone!(0, now));
  sim.run(35_000);
  assert.deepEqual(pol(0), [SCHED_FIFO, 97]);
  at(36_000, (now) => gh.pvIrqDone!(0, now));
  sim.run(37_000);
  assert.deepEqual(pol(0), [SCHED_NORMAL, 0]);
});

test("timer pending: from a hard-irq callback through the host CPU's FIFO 99 boost thread, from a threaded callback directly", () => {
  for (const inThread of [false, true]) {
    const { sim, hk, vs, ps, at } = unit(inThread ? "rt" : "full", inThread);
    const boost = hk.tasks.find((t) => t.name === "kvm-pvsched/0");
    assert.equal(boost !== undefined, !inThread, "boost threads only where the callback runs in hard-interrupt context");
    at(10_000, (now) => ps[0].timerFired(false, now));
    sim.run(10_000);
    // with the thread: not yet (the boost thread runs its kvm_hypercall ns of work first); without: at once
    assert.equal(vs[0].thread.policy, inThread ? SCHED_FIFO : SCHED_NORMAL);
    sim.run(11_000);
    assert.deepEqual([vs[0].thread.policy, vs[0].thread.rtPriority], [SCHED_FIFO, 97]);
    if (boost !== undefined) assert.ok(boost.sumExec >= 500, `boost thread ran ${boost.sumExec} ns`);
  }
});
