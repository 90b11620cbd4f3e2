// Linux scheduling classes (SCHED_FIFO/RR, SCHED_DEADLINE, RT throttling) against scheduling
// theory, on the ideal (zero-cost) board where the tick and every kernel path cost nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { LinuxKernel, type CpuHost } from "../src/kernel/linux.js";
import { A_COMPUTE, SCHED_FIFO, SCHED_RR, type Task } from "../src/kernel/task.js";
import { simulate } from "../src/simulate.js";
import type { KernelSpec, PeriodicSpec, SimSpec } from "../src/spec/types.js";

type Row = Record<string, any>;
/** [period µs, execution µs] */
type TaskSet = [number, number][];

function native(workloads: PeriodicSpec[], horizonS: number, opts: { vcpus?: number; kernel?: KernelSpec; jobsMax?: number; extra?: SimSpec["guests"][0]["workloads"] } = {}): SimSpec {
  const s: SimSpec = {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: horizonS,
    guests: [{ name: "linux", vcpus: opts.vcpus ?? 1, kernel: opts.kernel, workloads: [...workloads, ...(opts.extra ?? [])] }],
  };
  if (opts.jobsMax) s.record = { jobs_max: opts.jobsMax };
  return s;
}

const rows = (spec: SimSpec, table = "tasks"): Row[] => simulate(spec, { seed: 1 }).rows(table);
const byName = (rs: Row[], name: string): Row => rs.find((r) => r.task === name)!;

/** Exact response-time analysis for fixed priorities (index order = priority order): R = C + Σ ceil(R/Tj) Cj. */
function rta(set: TaskSet): number[] {
  return set.map(([, C], i) => {
    let R = C;
    for (;;) {
      const next = C + set.slice(0, i).reduce((a, [Tj, Cj]) => a + Math.ceil(R / Tj) * Cj, 0);
      if (next === R) return R;
      R = next;
    }
  });
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const hyperperiodUs = (set: TaskSet) => set.reduce((a, [T]) => (a * T) / gcd(a, T), 1);
const utilisation = (set: TaskSet) => set.reduce((a, [T, C]) => a + C / T, 0);

test("SCHED_FIFO with rate-monotonic priorities: worst-case response times = exact response-time analysis", () => {
  const sets: TaskSet[] = [
    [[4000, 1000], [10000, 2000], [20000, 5000]],
    [[1000, 250], [2000, 500], [3000, 750], [5000, 400]],
    [[7000, 3000], [12000, 3000], [20000, 5000]], // the last one finishes exactly at its deadline
    [[5000, 1000], [8000, 2000], [12000, 3000], [30000, 4000], [40000, 1000]],
  ];
  for (const set of sets) {
    const R = rta(set);
    // rate-monotonic: shorter period, higher priority; synchronous release at t = 0 (the critical instant)
    const ws: PeriodicSpec[] = set.map(([T, C], i) => ({ kind: "periodic", name: `t${i}`, period_us: T, exec: C, policy: "fifo", priority: 90 - i }));
    const horizon = (2 * hyperperiodUs(set)) / 1e6;
    const rs = rows(native(ws, horizon));
    set.forEach((_, i) => {
      const r = byName(rs, `t${i}`);
      assert.equal(r.max_response_us, R[i], `set U=${utilisation(set).toFixed(3)} task t${i}: simulated ${r.max_response_us} µs, RTA ${R[i]} µs`);
      assert.equal(r.deadline_misses, 0);
    });
  }
});

test("EDF (SCHED_DEADLINE, runtime = C, implicit deadlines): no miss at U = 1.0, misses above 1.0", () => {
  const full: TaskSet[] = [
    [[2000, 500], [5000, 1500], [10000, 3000], [20000, 3000]],
    [[4000, 1000], [6000, 1500], [8000, 2000], [12000, 3000]],
    [[3000, 1000], [7000, 3000], [21000, 5000]], // 7/21 + 9/21 + 5/21
  ];
  for (const set of full) {
    assert.ok(Math.abs(utilisation(set) - 1) < 1e-12);
    const ws: PeriodicSpec[] = set.map(([T, C], i) => ({ kind: "periodic", name: `t${i}`, period_us: T, exec: C, policy: "deadline" }));
    // U = 1 is only admitted without RT bandwidth control (sched_rt_runtime_us = -1)
    const rs = rows(native(ws, (3 * hyperperiodUs(set)) / 1e6, { kernel: { rt_runtime_us: "off" } }));
    for (const [i, [T]] of set.entries()) {
      const r = byName(rs, `t${i}`);
      assert.equal(r.deadline_misses, 0, `U = 1: t${i} missed`);
      assert.ok(r.max_response_us <= T);
      assert.ok(r.jobs >= (3 * hyperperiodUs(set)) / T - 1);
    }
  }
  const over: TaskSet = [[2000, 500], [5000, 1500], [10000, 3000], [20000, 4000]]; // U = 1.05
  assert.ok(Math.abs(utilisation(over) - 1.05) < 1e-12);
  const ws: PeriodicSpec[] = over.map(([T, C], i) => ({ kind: "periodic", name: `t${i}`, period_us: T, exec: C, policy: "deadline" }));
  const rs = rows(native(ws, 0.5, { kernel: { rt_runtime_us: "off" } }));
  assert.ok(rs.reduce((a, r) => a + r.deadline_misses, 0) > 0, "U = 1.05 must miss deadlines");
});

test("SCHED_DEADLINE meets every deadline on one CPU when Σ runtime/period ≤ 1", () => {
  // admitted with the default bandwidth (0.95), fixed execution times
  const s95: TaskSet = [[2000, 500], [5000, 1500], [10000, 3000], [20000, 2000]];
  const ws = s95.map(([T, C], i): PeriodicSpec => ({ kind: "periodic", name: `t${i}`, period_us: T, exec: C, policy: "deadline" }));
  for (const r of rows(native(ws, 1))) assert.equal(r.deadline_misses, 0, r.task);
  // Σ runtime/period = 1 with random execution times up to the runtime, and a constrained deadline
  const rnd: PeriodicSpec[] = [
    { kind: "periodic", name: "a", period_us: 3000, exec: { dist: "uniform", min_us: 200, max_us: 1000 }, policy: "deadline" },
    { kind: "periodic", name: "b", period_us: 7000, exec: { dist: "normal", mean_us: 2000, sd_us: 800, max_us: 3000 }, dl_runtime_us: 3000, policy: "deadline" },
    { kind: "periodic", name: "c", period_us: 21000, exec: { dist: "exponential", mean_us: 2000, max_us: 5000 }, policy: "deadline", offset_us: 1234 },
  ];
  const r2 = rows(native(rnd, 3, { kernel: { rt_runtime_us: "off" } }));
  for (const r of r2) {
    assert.equal(r.deadline_misses, 0, r.task);
    assert.ok(r.jobs > 100);
  }
  // admission control refuses Σ > 0.95 per CPU while RT bandwidth control is on
  const s100 = [[2000, 500], [5000, 1500], [10000, 3000], [20000, 3000]].map(([T, C], i): PeriodicSpec => ({ kind: "periodic", name: `t${i}`, period_us: T, exec: C, policy: "deadline" }));
  assert.throws(() => simulate(native(s100, 1)), /admission control[^]*EBUSY[^]*guests\[0\]\.workloads\[3\]|guests\[0\]\.workloads\[3\][^]*EBUSY/);
  // __checkparam_dl: runtime <= deadline <= period
  assert.throws(() => simulate(native([{ kind: "periodic", name: "x", period_us: 1000, exec: 500, deadline_us: 400, policy: "deadline" }], 1)), /EINVAL[^]*runtime <= deadline/);
});

test("a higher class always preempts; RT preempts only a strictly lower priority", () => {
  // a FIFO job preempts a CFS hog at once: response = C
  let rs = rows(native([{ kind: "periodic", name: "rt", period_us: 10000, exec: 3000, policy: "fifo", priority: 1, offset_us: 500 }], 0.2,
    { extra: [{ kind: "cpu-hog" }] }));
  assert.equal(byName(rs, "rt").max_response_us, 3000);
  // a DL job preempts a FIFO-99 hog at once
  rs = rows(native([
    { kind: "periodic", name: "hog99", period_us: 1e6, exec: 1e6, policy: "fifo", priority: 99 },
    { kind: "periodic", name: "dl", period_us: 10000, exec: 2000, policy: "deadline", offset_us: 700 },
  ], 0.2, { kernel: { rt_runtime_us: "off" } }));
  assert.equal(byName(rs, "dl").max_response_us, 2000);
  assert.equal(byName(rs, "dl").deadline_misses, 0);
  // equal FIFO priority: a released job waits for the running one (which is not preempted)
  rs = rows(native([
    { kind: "periodic", name: "long", period_us: 100000, exec: 30000, policy: "fifo", priority: 20 },
    { kind: "periodic", name: "same", period_us: 100000, exec: 1000, policy: "fifo", priority: 20, offset_us: 5000 },
    { kind: "periodic", name: "higher", period_us: 100000, exec: 1000, policy: "fifo", priority: 21, offset_us: 10000 },
  ], 0.1));
  assert.equal(byName(rs, "same").max_response_us, 30000 - 5000 + 1000 + 1000, "waits for long and for higher");
  assert.equal(byName(rs, "higher").max_response_us, 1000, "preempts long at once");
  assert.equal(byName(rs, "long").preemptions, 1);
  assert.equal(byName(rs, "same").preemptions, 0);
});

test("SCHED_RR: equal priorities rotate every sched_rr_timeslice_ms; SCHED_FIFO does not", () => {
  const hogs = (policy: "rr" | "fifo", n: number, prio = 10): PeriodicSpec[] =>
    Array.from({ length: n }, (_, i) => ({ kind: "periodic", name: `${policy}${i}`, period_us: 1e9, exec: 1e9, policy, priority: prio }));
  let rs = rows(native(hogs("rr", 3), 3, { kernel: { rt_runtime_us: "off" } }));
  for (const r of rs) {
    assert.equal(r.sum_exec_ms, 1000, `${r.task} gets a third`);
    assert.equal(r.nivcsw, 10, "ten 100 ms slices in 3 s");
  }
  rs = rows(native(hogs("fifo", 3), 3, { kernel: { rt_runtime_us: "off" } }));
  assert.deepEqual(rs.map((r) => r.sum_exec_ms), [3000, 0, 0]);
  // a higher-priority RR task is not part of the rotation of lower ones
  rs = rows(native([...hogs("rr", 2), { ...hogs("rr", 1, 11)[0], name: "top" }], 1, { kernel: { rt_runtime_us: "off" } }));
  assert.equal(byName(rs, "top").sum_exec_ms, 1000);

  // the exact rotation, from the kernel's switch trace: 25 ticks of 4 ms, then 10 ticks of 1 ms
  for (const [hz, ms] of [[250, 100], [1000, 10], [100, 15]] as const) {
    const { kernel, sim, switches } = kernelWithTrace(1, hz, ms);
    const prog = { next(t: Task) { t.act = A_COMPUTE; t.actArg = Infinity; } };
    for (let i = 0; i < 3; i++) kernel.spawn(`rr${i}`, prog, 0, [0], 0, 0, i, { policy: SCHED_RR, priority: 10 });
    kernel.spawn("fifo", prog, 0, [0], 0, 0, 3, { policy: SCHED_FIFO, priority: 9 });
    kernel.resume(0, 0);
    sim.run(2e9);
    const slice = Math.ceil((ms * hz) / 1000) * (1e9 / hz); // msecs_to_jiffies rounds up
    const order = switches.map((s) => s.next);
    assert.deepEqual(order.slice(0, 7), ["rr0", "rr1", "rr2", "rr0", "rr1", "rr2", "rr0"], "round robin in queue order");
    for (let i = 2; i < switches.length; i++) assert.equal(switches[i].t - switches[i - 1].t, slice, `slice ${i} at HZ ${hz}`);
    assert.ok(!order.includes("fifo"), "the lower-priority FIFO task never runs");
  }
});

test("RT throttling leaves ≥ 50 ms/s to CFS under an RT hog (up to one tick of overrun); none when off", () => {
  const H = 5;
  const spec = (rt?: number | "off") => native([{ kind: "periodic", name: "rthog", period_us: 1e9, exec: 1e9, policy: "fifo", priority: 50 }], H,
    { kernel: rt === undefined ? {} : { rt_runtime_us: rt }, extra: [{ kind: "cpu-hog" }] });
  const cfsMs = (rs: Row[]) => rs.find((r) => r.task !== "rthog")!.sum_exec_ms;
  const tick = 4; // ms at HZ=250: throttling is noticed at the tick (update_curr_rt)
  let rs = rows(spec());
  assert.ok(cfsMs(rs) >= 50 * H - tick, `CFS got ${cfsMs(rs)} ms in ${H} s`);
  assert.ok(cfsMs(rs) <= 50 * H + tick);
  assert.ok(byName(rs, "rthog").sum_exec_ms <= 950 * H + tick);
  rs = rows(spec("off"));
  assert.equal(cfsMs(rs), 0, "no throttling: the RT hog starves CFS");
  rs = rows(spec(500000));
  assert.ok(Math.abs(cfsMs(rs) - 500 * H) <= tick, `rt_runtime 0.5 s: CFS got ${cfsMs(rs)} ms`);
  // the sysctl handler rejects rt_runtime > rt_period
  assert.throws(() => simulate(native([], 1, { kernel: { rt_runtime_us: 2_000_000 } })), /rt_runtime_us[^]*EINVAL/);
});

test("clock_nanosleep(TIMER_ABSTIME): a past target returns at once; expiry is a timer interrupt on the task's CPU", () => {
  // overload (C > T): every release is already past when the job ends, so jobs run back to back
  const sp = native([{ kind: "periodic", name: "late", period_us: 1000, exec: 1500, policy: "fifo", priority: 10 }], 0.01, { jobsMax: 100 });
  const jobs = simulate(sp, { seed: 1 }).rows("jobs") as Row[];
  for (let k = 1; k < jobs.length; k++) {
    assert.equal(jobs[k].start_us, jobs[k - 1].finish_us, "no sleep when the release has passed");
    assert.equal(jobs[k].release_us, 1000 * k);
  }
  // a timer interrupt of 5 µs (all else free): each job starts 5 µs after its release
  const costly: SimSpec = { ...native([{ kind: "periodic", name: "t", period_us: 1000, exec: 100, policy: "fifo", priority: 10 }], 0.01, { jobsMax: 100 }),
    board: { preset: "ideal", costs_ns: { timer_irq: 5000 } } };
  const j2 = simulate(costly, { seed: 1 }).rows("jobs") as Row[];
  for (const j of j2.slice(1)) {
    assert.equal(j.start_us - j.release_us, 5);
    assert.equal(j.response_us, 105);
  }
});

/** A bare kernel on an ideal native host, recording every context switch. */
function kernelWithTrace(ncpus: number, hz: number, rrMs: number) {
  const sim = new Simulator(1);
  const board = resolveBoard("ideal");
  const kernel = new LinuxKernel(sim, {
    name: "k", ncpus, hz, paravirtTimeAccounting: false, preemptFull: false, tunables: {},
    rtRuntime: -1, rrTimesliceMs: rrMs, cost: board.cost, jitterCv: 0,
  });
  const host: CpuHost = {
    halt() {}, kick() {}, steal: () => 0,
    sendIpi(_f, to, now) { kernel.raiseIrqAt(to, now); },
  };
  kernel.host = host;
  const switches: { t: number; next: string }[] = [];
  kernel.observe({ onSwitch(_p, next, _r, now) { if (next) switches.push({ t: now, next: next.name }); } });
  return { kernel, sim, switches };
}
