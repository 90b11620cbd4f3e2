// KVM on a Linux host: vCPU threads, VM entry/exit, the guest LAPIC timer path, halt polling, steal time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimResult } from "../src/results/result.js";
import type { GuestSpec, KvmSpec, SimSpec, ThreadSchedSpec, WorkloadSpec } from "../src/spec/types.js";

type Row = Record<string, any>;

function kvmSpec(opts: {
  horizonS: number; workloads: WorkloadSpec[]; vcpus?: number; thread?: ThreadSchedSpec; host?: Partial<KvmSpec>;
  guestKernel?: GuestSpec["kernel"]; board?: string;
}): SimSpec {
  return {
    board: { preset: opts.board ?? "i7-6700" }, horizon_s: opts.horizonS,
    hypervisor: { kind: "kvm", ...(opts.host ?? {}) },
    guests: [{ name: "vm", vcpus: opts.vcpus ?? 1, kernel: opts.guestKernel, vcpu_thread: opts.thread, workloads: opts.workloads }],
  };
}

const cyclictest = (intervalUs: number): WorkloadSpec => ({ kind: "cyclictest", interval_us: intervalUs, priority: 99, histogram_us: 1000 });
const rows = (spec: SimSpec, name: string, seed = 1): Row[] => tbl(simulate(spec, { seed }), name);
/** A result table as loosely typed rows. */
const tbl = (r: SimResult, name: string): Row[] => r.rows(name) as Row[];

test("cyclictest in an RT KVM guest on an idle RT host: tens of µs at most, above native", () => {
  const kvm = kvmSpec({
    horizonS: 1, workloads: [cyclictest(1000)], guestKernel: { preempt: "rt" },
    thread: { policy: "fifo", priority: 99 }, host: { host_kernel: { preempt: "rt" } },
  });
  const native: SimSpec = {
    board: { preset: "i7-6700" }, horizon_s: 1, hypervisor: { kind: "native" },
    guests: [{ name: "linux", vcpus: 1, kernel: { preempt: "rt" }, workloads: [cyclictest(1000)] }],
  };
  const r = simulate(kvm, { seed: 1 });
  const k = tbl(r, "cyclictest")[0], n = rows(native, "cyclictest")[0];
  assert.ok(k.cycles >= 990, `every period measured: ${k.cycles}`);
  assert.ok(k.max_latency_us < 100, `max ${k.max_latency_us}`);
  assert.ok(k.avg_latency_us < 20, `avg ${k.avg_latency_us}`);
  assert.ok(k.avg_latency_us > n.avg_latency_us, `KVM avg ${k.avg_latency_us} > native ${n.avg_latency_us}`);
  assert.ok(k.max_latency_us >= n.max_latency_us, `KVM max ${k.max_latency_us} >= native ${n.max_latency_us}`);
  // the guest idles between cycles: one halt, and sleep, per period (blocks of ~1 ms keep the poll window at 0)
  const v = tbl(r, "vcpu_threads")[0];
  assert.equal(v.policy, "fifo");
  assert.equal(v.priority, 99);
  assert.ok(Math.abs(v.halts - k.cycles) <= 3, `halts ${v.halts}`);
  assert.equal(v.polls_succeeded, 0);
  assert.ok(v.vm_exits >= v.halts);
  // the added latency is the host's: the timer path through the host and the vCPU's wake-up and entry
  const bd = new Map(tbl(r, "latency_breakdown").map((x) => [x.component, x.mean_us]));
  assert.ok(bd.get("hypervisor") + bd.get("vcpu_not_running") > 1, `host part ${bd.get("hypervisor")} + ${bd.get("vcpu_not_running")}`);
});

test("CPU conservation: a guest hog's vCPU thread and a host hog share host CPU 0 evenly", () => {
  const horizonMs = 1000;
  for (const pvta of [false, true]) {
    const spec = kvmSpec({
      horizonS: horizonMs / 1000, workloads: [{ kind: "cpu-hog" }], thread: { cpus: [0] },
      guestKernel: { paravirt_time_accounting: pvta },
      host: { host_workloads: [{ kind: "cpu-hog", cpus: [0] }] },
    });
    const r = simulate(spec, { seed: 1 });
    const tasks = tbl(r, "tasks");
    const thread = tasks.find((t) => t.domain === "host" && t.task === "vm/vcpu0")!;
    const hostHog = tasks.find((t) => t.domain === "host" && t.task.startsWith("host/hog"))!;
    const guestHog = tasks.find((t) => t.domain === "vm")!;
    const v = tbl(r, "vcpu_threads")[0];
    const gcpu = tbl(r, "guest_cpus").find((c) => c.domain === "vm")!;
    assert.ok(Math.abs(thread.sum_exec_ms / horizonMs - 0.5) <= 0.05, `vCPU thread ${thread.sum_exec_ms} ms`);
    assert.ok(Math.abs(hostHog.sum_exec_ms / horizonMs - 0.5) <= 0.05, `host hog ${hostHog.sum_exec_ms} ms`);
    assert.ok(Math.abs(thread.sum_exec_ms + hostHog.sum_exec_ms - horizonMs) < 1, "host CPU 0 is fully used, nothing more");
    assert.equal(v.host_cpu, 0);
    assert.ok(v.in_guest_ms <= thread.sum_exec_ms, "the guest runs only while its thread does");
    assert.ok(Math.abs(gcpu.busy_ms - v.in_guest_ms) < 0.01 * horizonMs, `guest busy ${gcpu.busy_ms} vs in guest ${v.in_guest_ms}`);
    // steal = the thread's run delay = the time the host hog held the CPU
    assert.ok(Math.abs(v.runnable_wait_ms - hostHog.sum_exec_ms) < 0.01 * horizonMs, `steal ${v.runnable_wait_ms}`);
    // CONFIG_PARAVIRT_TIME_ACCOUNTING takes the steal out of the guest task's runtime
    if (pvta) assert.ok(Math.abs(guestHog.sum_exec_ms - v.in_guest_ms) < 0.02 * horizonMs, `pvta: guest hog ${guestHog.sum_exec_ms}`);
    else assert.ok(guestHog.sum_exec_ms > 0.95 * horizonMs, `no pvta: the steal is charged to the guest hog (${guestHog.sum_exec_ms})`);
  }
});

test("same spec and seed give identical tables; another seed differs", () => {
  const spec = kvmSpec({
    horizonS: 0.2, vcpus: 2, workloads: [cyclictest(200), { kind: "context1" }, { kind: "stress", intensity: 0.5 }],
    host: { host_workloads: [{ kind: "stress" }] }, thread: { policy: "rr", priority: 20 },
  });
  const a = simulate(spec, { seed: 7 });
  const b = simulate(structuredClone(spec), { seed: 7 });
  assert.deepEqual(a.tableNames, b.tableNames);
  for (const n of a.tableNames) assert.deepEqual(a.rows(n), b.rows(n), `table ${n}`);
  const c = simulate(spec, { seed: 8 });
  assert.notDeepEqual(tbl(a, "vcpu_threads"), tbl(c, "vcpu_threads"));
});

test("halt polling lowers the wake-up latency of an idle host's guest and replaces sleeps by polls", () => {
  // 200 µs blocks: below halt_poll_ns, so the window grows (10, 20, ... 320 -> capped at 200 µs) and catches them
  const run = (haltPollNs: number) => simulate(kvmSpec({ horizonS: 0.5, workloads: [cyclictest(200)], host: { halt_poll_ns: haltPollNs } }), { seed: 1 });
  const on = run(200_000), off = run(0);
  const con = tbl(on, "cyclictest")[0], coff = tbl(off, "cyclictest")[0];
  const von = tbl(on, "vcpu_threads")[0], voff = tbl(off, "vcpu_threads")[0];
  assert.ok(con.avg_latency_us < coff.avg_latency_us, `polling avg ${con.avg_latency_us} < no polling ${coff.avg_latency_us}`);
  assert.equal(voff.polls_succeeded, 0);
  assert.ok(voff.sleeps >= voff.halts);
  assert.ok(von.polls_succeeded > 0.95 * von.halts, `polls ${von.polls_succeeded} of ${von.halts} halts`);
  assert.ok(von.sleeps < 0.05 * von.halts, `sleeps ${von.sleeps}`);
  // the polling thread keeps its host CPU busy: its run time is far above the guest's
  const thread = (r: typeof on) => tbl(r, "tasks").find((t) => t.task === "vm/vcpu0")!.sum_exec_ms;
  assert.ok(thread(on) > 0.9 * 500 && thread(off) < 0.2 * 500, `thread runtime ${thread(on)} vs ${thread(off)} ms`);
});

test("the poll window adapts: blocks longer than halt_poll_ns never poll, a larger halt_poll_ns catches them", () => {
  const run = (haltPollNs: number) => simulate(kvmSpec({ horizonS: 0.3, workloads: [cyclictest(1000)], host: { halt_poll_ns: haltPollNs } }), { seed: 1 });
  const dflt = tbl(run(200_000), "vcpu_threads")[0];
  assert.equal(dflt.polls_succeeded, 0);
  const big = tbl(run(2_000_000), "vcpu_threads")[0];
  // 10 µs doubling up to >= 1 ms takes 7 missed polls, then every block is caught
  assert.ok(big.polls_succeeded >= big.halts - 10, `polls ${big.polls_succeeded} of ${big.halts}`);
});

test("polling stops when another task is runnable on the host CPU (single_task_running)", () => {
  const r = simulate(kvmSpec({
    horizonS: 0.5, workloads: [cyclictest(200)], thread: { policy: "fifo", priority: 99, cpus: [0] },
    host: { host_workloads: [{ kind: "cpu-hog", cpus: [0] }] },
  }), { seed: 1 });
  const v = tbl(r, "vcpu_threads")[0];
  const hog = tbl(r, "tasks").find((t) => t.task.startsWith("host/hog"))!;
  assert.equal(v.polls_succeeded, 0);
  assert.ok(hog.sum_exec_ms > 0.8 * 500, `the host hog runs while the vCPU idles: ${hog.sum_exec_ms} ms`);
  assert.ok(tbl(r, "cyclictest")[0].max_latency_us < 100);
});

test("guest IPIs and kicks: a pipe ping-pong across two vCPUs, one IPI and one halt per hand-off; polling speeds it up", () => {
  const run = (haltPollNs: number) => simulate(kvmSpec({ horizonS: 0.2, vcpus: 2, workloads: [{ kind: "context1", cpus: [0, 1] }], host: { halt_poll_ns: haltPollNs } }), { seed: 1 });
  const off = run(0), on = run(200_000);
  const loops = (r: SimResult) => tbl(r, "context1")[0].loops as number;
  const vs = tbl(off, "vcpu_threads");
  const gc = tbl(off, "guest_cpus").filter((x) => x.domain === "vm");
  assert.deepEqual(vs.map((v) => v.host_cpu), [0, 1], "the two threads start on separate host CPUs");
  assert.ok(loops(off) > 10_000, `loops ${loops(off)}`);
  for (const v of vs) {
    assert.ok(Math.abs(v.halts - loops(off)) < 20, `halts ${v.halts} vs loops ${loops(off)}`);
    assert.ok(v.sleeps >= v.halts && v.polls_succeeded === 0 && v.runnable_wait_ms === 0);
  }
  for (const c of gc) assert.ok(Math.abs(c.ipis_sent - loops(off)) < 20, `ipis ${c.ipis_sent}`);
  // polling catches every wake-up: no sleep, no host wake-up and context switch on the hand-off path
  for (const v of tbl(on, "vcpu_threads")) assert.ok(v.polls_succeeded >= v.halts - 2, `polls ${v.polls_succeeded} of ${v.halts}`);
  assert.ok(loops(on) > 1.1 * loops(off), `loops with polling ${loops(on)} vs ${loops(off)}`);
});

test("kvmclock reads cost a trapped rdtsc only on a board that cannot pass the TSC through", () => {
  const clockRead = (board: string, rdtscTrap: number) => {
    const s = kvmSpec({ board, horizonS: 0.2, workloads: [cyclictest(1000)], guestKernel: { preempt: "rt" }, host: { host_kernel: { preempt: "rt" } } });
    s.board.costs_ns = { rdtsc_trap: rdtscTrap } as any;
    return tbl(simulate(s, { seed: 1 }), "latency_breakdown").find((x) => x.component === "clock_read")!.mean_us as number;
  };
  // Core 2 (no usable TSC offsetting: tsc_passthrough false): the trap cost is what a read costs
  assert.ok(clockRead("core2duo-e8500", 5000) > clockRead("core2duo-e8500", 0) + 4, "trapped reads");
  // Skylake passes the TSC through: the trap cost does not matter
  assert.equal(clockRead("i7-6700", 5000), clockRead("i7-6700", 0));
});
