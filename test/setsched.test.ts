// Run-time sched_setscheduler / rt_mutex_setprio of the Linux kernel model (src/kernel/setsched.ts):
// preemption decisions as kernel/sched/core.c makes them, on the ideal (zero-cost) board.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator, type TimerTarget } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { LinuxKernel, type CpuHost } from "../src/kernel/linux.js";
import {
  A_COMPUTE, A_WAIT, CLS_FAIR, CLS_RT, type Program, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, type Task, TASK_SLEEPING,
} from "../src/kernel/task.js";

const MS = 1_000_000;
const hog: Program = { next(t) { t.act = A_COMPUTE; t.actArg = Infinity; } };
/** Waits for a wake-up, then computes 1 ms, and again. */
const waiter: Program = { next(t) { t.tag ^= 1; if (t.tag === 1) { t.act = A_WAIT; t.actArg = 0; } else { t.act = A_COMPUTE; t.actArg = MS; } } };

function kernel(ncpus = 1, pv?: { sched: [number, number, number][]; done: number[] }) {
  const sim = new Simulator(1);
  const k = new LinuxKernel(sim, {
    name: "k", ncpus, hz: 250, paravirtTimeAccounting: false, preemptFull: true, tunables: {},
    cost: resolveBoard("ideal").cost, jitterCv: 0,
  });
  const host: CpuHost = { halt() {}, kick() {}, steal: () => 0, sendIpi(_f, to, now) { k.raiseIrqAt(to, now); } };
  if (pv) {
    host.pvSched = (_cpu, target, policy, prio) => { pv.sched.push([target, policy, prio]); };
    host.pvIrqDone = (cpu) => { pv.done.push(cpu); };
  }
  k.host = host;
  return { sim, k };
}

/** Runs `f` at time `at` from a simulator event (no CPU context), then the simulation up to `until`. */
function at(sim: Simulator, t: number, f: (now: number) => void): void {
  const target: TimerTarget = { onTimer(_k, _a, now) { f(now); } };
  sim.arm(sim.timer(target, 0), t);
}

function exec(k: LinuxKernel, t: Task, now: number): number {
  k.settle(now);
  return t.sumExec;
}

test("setScheduler: a SCHED_OTHER task raised to SCHED_FIFO preempts the running CFS task at once", () => {
  const { sim, k } = kernel();
  const a = k.spawn("a", hog, 0, [0], 0, 0);
  const b = k.spawn("b", hog, 0, [0], 0, 0);
  k.resume(0, 0);
  sim.run(10 * MS);
  const cur = k.cpus[0].curr!;
  const other = cur === a ? b : a;
  let before = 0;
  at(sim, 10 * MS + 1, (now) => { before = exec(k, other, now); k.setScheduler(other, { policy: SCHED_FIFO, priority: 10 }, now); });
  sim.run(20 * MS);
  assert.equal(k.cpus[0].curr, other, "the raised task runs");
  assert.equal(other.cls, CLS_RT);
  assert.equal(other.prio, 89);
  // from the change on, the FIFO task had the CPU alone (no tick-based CFS sharing)
  assert.equal(exec(k, other, 20 * MS) - before, 10 * MS - 1);
  assert.equal(cur.onRq, true, "the preempted CFS task stays queued");
});

test("setScheduler: lowering a running FIFO task below a queued one reschedules; lowering it less does not", () => {
  const { sim, k } = kernel();
  const a = k.spawn("a", hog, 0, [0], 0, 0, 0, { policy: SCHED_FIFO, priority: 50 });
  const b = k.spawn("b", hog, 0, [0], 0, 0, 0, { policy: SCHED_FIFO, priority: 40 });
  k.resume(0, 0);
  sim.run(1 * MS);
  assert.equal(k.cpus[0].curr, a);
  at(sim, 2 * MS, (now) => k.setScheduler(a, { policy: SCHED_FIFO, priority: 45 }, now));
  sim.run(3 * MS);
  assert.equal(k.cpus[0].curr, a, "still above b: keeps the CPU");
  at(sim, 4 * MS, (now) => k.setScheduler(a, { policy: SCHED_RR, priority: 30 }, now));
  sim.run(5 * MS);
  assert.equal(k.cpus[0].curr, b, "below b: b runs");
  assert.equal(a.policy, SCHED_RR);
  assert.equal(exec(k, b, 5 * MS), 1 * MS);
  // back to SCHED_NORMAL: a leaves the RT class and waits behind b
  at(sim, 6 * MS, (now) => k.setScheduler(a, { policy: SCHED_NORMAL, nice: 5 }, now));
  sim.run(7 * MS);
  assert.equal(a.cls, CLS_FAIR);
  assert.equal(a.prio, 125);
  assert.equal(a.weight, 335);
  assert.equal(k.cpus[0].curr, b);
});

test("setScheduler: a sleeping task changed keeps sleeping, and wakes with its new class", () => {
  const { sim, k } = kernel();
  const h = k.spawn("hog", hog, 0, [0], 0, 0);
  const w = k.spawn("w", waiter, 0, [0], 0, 0);
  k.resume(0, 0);
  sim.run(5 * MS);
  assert.equal(w.state, TASK_SLEEPING);
  at(sim, 5 * MS + 10, (now) => k.setScheduler(w, { policy: SCHED_FIFO, priority: 90 }, now));
  sim.run(6 * MS);
  assert.equal(w.state, TASK_SLEEPING);
  assert.equal(w.onRq, false);
  assert.equal(k.cpus[0].curr, h);
  // woken, it preempts the CFS hog at once (check_preempt_curr: a higher class), not at a tick
  at(sim, 6 * MS + 123, (now) => k.wakeTask(w, now));
  let curr: Task | null = null;
  at(sim, 6 * MS + 124, () => { curr = k.cpus[0].curr; });
  sim.run(7 * MS);
  assert.equal(curr, w);
});

test("setScheduler and rt_mutex_setprio: CPU time is conserved across many changes of running and queued tasks", () => {
  const { sim, k } = kernel();
  const ts = [0, 1, 2].map((i) => k.spawn(`t${i}`, hog, 0, [0], 0, 0));
  k.resume(0, 0);
  const attrs = [
    { policy: SCHED_FIFO, priority: 20 }, { policy: SCHED_NORMAL, nice: -5 }, { policy: SCHED_RR, priority: 20 },
    { policy: SCHED_NORMAL, nice: 10 }, { policy: SCHED_FIFO, priority: 70 }, { policy: SCHED_NORMAL, nice: 0 },
  ];
  let n = 0;
  for (let i = 1; i < 200; i++) {
    at(sim, i * 250_000 + (i % 7) * 1000, (now) => {
      const t = ts[n % 3];
      if (n % 5 === 4) k.rtMutexSetprio(t, k.inheritedPrio(t) >= 0 ? -1 : 10, now);
      else k.setScheduler(t, attrs[n % attrs.length], now);
      n++;
    });
  }
  const end = 60 * MS;
  sim.run(end);
  k.settle(end);
  const total = ts.reduce((s, t) => s + t.sumExec, 0);
  assert.equal(total, end, "every ns of the CPU went to exactly one task");
  assert.ok(n >= 199);
  // every task ran at some point
  for (const t of ts) assert.ok(t.sumExec > 0, t.name);
});

test("rt_mutex_setprio: a SCHED_OTHER task boosted to its waiter's RT prio preempts a lower FIFO task, and drops back", () => {
  const { sim, k } = kernel();
  const owner = k.spawn("owner", hog, 0, [0], 0, 0);
  k.resume(0, 0);
  sim.run(1 * MS);
  const f = k.spawn("f50", hog, 0, [0], 0, 1 * MS, 0, { policy: SCHED_FIFO, priority: 50 });
  sim.run(2 * MS);
  assert.equal(k.cpus[0].curr, f);
  // the waiter is FIFO 60 (prio 39): the owner inherits it
  at(sim, 2 * MS, (now) => k.rtMutexSetprio(owner, 39, now));
  sim.run(3 * MS);
  assert.equal(k.cpus[0].curr, owner);
  assert.equal(owner.policy, SCHED_NORMAL, "the policy is kept");
  assert.equal(owner.cls, CLS_RT);
  assert.equal(k.normalPrio(owner), 120);
  // a sched_setscheduler meanwhile keeps the boost (rt_effective_prio)
  at(sim, 3 * MS, (now) => k.setScheduler(owner, { policy: SCHED_NORMAL, nice: 3 }, now));
  sim.run(4 * MS);
  assert.equal(owner.prio, 39);
  assert.equal(k.cpus[0].curr, owner);
  at(sim, 4 * MS, (now) => k.rtMutexSetprio(owner, -1, now));
  sim.run(5 * MS);
  assert.equal(owner.cls, CLS_FAIR);
  assert.equal(owner.prio, 123);
  assert.equal(k.cpus[0].curr, f);
});

test("pv hooks: schedule() reports every switch's next task; setScheduler of the running task reports it too", () => {
  const pv = { sched: [] as [number, number, number][], done: [] as number[] };
  const { sim, k } = kernel(1, pv);
  const a = k.spawn("a", hog, 0, [0], 0, 0, 0, { policy: SCHED_FIFO, priority: 50 });
  k.resume(0, 0);
  sim.run(1 * MS);
  assert.deepEqual(pv.sched, [[0, SCHED_FIFO, 50]]);
  at(sim, 2 * MS, (now) => k.setScheduler(a, { policy: SCHED_FIFO, priority: 60 }, now));
  sim.run(21 * MS);
  assert.deepEqual(pv.sched, [[0, SCHED_FIFO, 50], [0, SCHED_FIFO, 60]]);
  // ticks (HZ 250) with nothing to reschedule: every irq_exit reports interrupt done
  assert.equal(pv.done.length, 5);
  const switches = k.cpus[0].switches;
  assert.equal(pv.sched.length, switches + 1);
});

test("setScheduler from another CPU's code: resched_curr sends that CPU's IPI, the target CPU switches when it lands", () => {
  const { sim, k } = kernel(2);
  const a = k.spawn("a", hog, 1, [1], 0, 0);
  const b = k.spawn("b", hog, 1, [1], 0, 0);
  k.spawn("c0", hog, 0, [0], 0, 0);
  k.resume(0, 0);
  k.resume(1, 0);
  sim.run(2 * MS);
  const cur = k.cpus[1].curr!;
  const other = cur === a ? b : a;
  const ipis = k.cpus[0].ipisSent;
  // as if code on CPU 0 (from = 0) raised the queued task on CPU 1
  at(sim, 2 * MS + 7, (now) => k.setScheduler(other, { policy: SCHED_RR, priority: 5 }, now, 0));
  sim.run(2 * MS + 7);
  assert.equal(k.cpus[0].ipisSent, ipis + 1, "one reschedule IPI from CPU 0");
  sim.run(3 * MS);
  assert.equal(k.cpus[1].curr, other);
  assert.equal(k.cpus[1].needResched, false);
});
