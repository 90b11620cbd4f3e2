// Fluent builders for the newer spec features (issue 4): workloads (cyclictest, stress, housekeeping,
// device-io, cpu-hog work), guest options (type, dom0, device model, vCPU threads, cap, RTDS), KVM,
// the Xen schedulers besides Credit2, and every kernel field. Each builder must produce exactly the
// hand-written spec; built systems must validate and run.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as hvsim from "../src/index.js";
import {
  arinc653, board, cpuHog, credit, credit2, cyclictest, deviceIo, guest, housekeeping, kvm, linux,
  nullScheduler, periodic, rtds, stress, system, thread, xen,
} from "../src/spec/builders.js";
import { simulate } from "../src/simulate.js";
import { SpecError } from "../src/spec/validate.js";
import { setup } from "../src/experiments/abeni-faggioli.js";
import type { GuestSpec, KernelSpec, KvmSpec, SimSpec, XenSpec } from "../src/spec/types.js";

type Row = Record<string, any>;

// ------------------------------------------------------------------ workloads

test("cyclictest() builds a CyclictestSpec with every field", () => {
  assert.deepEqual(cyclictest().spec, { kind: "cyclictest" });
  assert.deepEqual(
    cyclictest().interval(50).priority(99).loops(1000).histogram(10000).cpu(1).samples(500).spec,
    { kind: "cyclictest", interval_us: 50, priority: 99, loops: 1000, histogram_us: 10000, cpu: 1, samples_max: 500 },
  );
});

test("stress(), housekeeping(), deviceIo() and cpuHog().work() build their specs", () => {
  assert.deepEqual(stress().spec, { kind: "stress" });
  assert.deepEqual(stress().intensity(0.5).count(4).cpus([0, 1]).spec, { kind: "stress", intensity: 0.5, count: 4, cpus: [0, 1] });
  assert.deepEqual(housekeeping().spec, { kind: "housekeeping" });
  assert.deepEqual(housekeeping().intensity(2).spec, { kind: "housekeeping", intensity: 2 });
  assert.deepEqual(deviceIo().spec, { kind: "device-io" });
  assert.deepEqual(deviceIo().rate(250).cpus([0]).spec, { kind: "device-io", rate_hz: 250, cpus: [0] });
  assert.deepEqual(cpuHog().count(2).cpus([1]).nice(5).work(300).spec, { kind: "cpu-hog", count: 2, cpus: [1], nice: 5, work_ms: 300 });
});

test("guest().workload() accepts every workload builder and copies its spec", () => {
  const ct = cyclictest().interval(100);
  const g = guest("g").vcpus(2)
    .workload(ct).workload(stress().count(2)).workload(housekeeping()).workload(deviceIo().rate(10))
    .workload(cpuHog()).workload(periodic("p").period(1000).exec(100).fifo(50)).workload({ kind: "context1" });
  ct.interval(200); // later changes to the builder do not leak into the guest
  assert.deepEqual(g.spec.workloads, [
    { kind: "cyclictest", interval_us: 100 },
    { kind: "stress", count: 2 },
    { kind: "housekeeping" },
    { kind: "device-io", rate_hz: 10 },
    { kind: "cpu-hog" },
    { kind: "periodic", name: "p", period_us: 1000, exec: 100, policy: "fifo", priority: 50 },
    { kind: "context1" },
  ]);
});

// ------------------------------------------------------------- thread / guest

test("thread() builds a ThreadSchedSpec", () => {
  assert.deepEqual(thread().spec, {});
  assert.deepEqual(thread().fifo(99).spec, { policy: "fifo", priority: 99 });
  assert.deepEqual(thread().rr(10).cpus([0, 1]).spec, { policy: "rr", priority: 10, cpus: [0, 1] });
  assert.deepEqual(thread().other(-5).spec, { policy: "other", nice: -5 });
  assert.deepEqual(thread().other().spec, { policy: "other" });
  assert.deepEqual(thread().policy("fifo").priority(42).nice(0).cpus([3]).spec, { policy: "fifo", priority: 42, nice: 0, cpus: [3] });
});

test("guest() sets type, dom0, device model, vCPU thread, cap and RTDS", () => {
  assert.deepEqual(
    guest("domU").type("hvm").vcpus(1).pin([[7]]).deviceModel(thread().fifo(99).cpus([0])).spec,
    { name: "domU", type: "hvm", vcpus: 1, pin: [[7]], device_model: { policy: "fifo", priority: 99, cpus: [0] }, workloads: [] },
  );
  assert.deepEqual(guest("d").deviceModel({ policy: "fifo", priority: 99 }).spec.device_model, { policy: "fifo", priority: 99 });
  assert.deepEqual(guest("dom0").dom0().type("pv").spec, { name: "dom0", dom0: true, type: "pv", vcpus: 1, workloads: [] });
  assert.equal(guest("x").dom0(false).spec.dom0, false);
  assert.deepEqual(guest("vm").vcpuThread(thread().fifo(99)).spec.vcpu_thread, { policy: "fifo", priority: 99 });
  assert.deepEqual(guest("vm").vcpuThread({ policy: "other", nice: 3 }).spec.vcpu_thread, { policy: "other", nice: 3 });
  assert.deepEqual(guest("c").vcpus(2).weight(512).cap(150).pool("P").spec, { name: "c", vcpus: 2, weight: 512, cap: 150, pool: "P", workloads: [] });
  assert.deepEqual(guest("r").rtds({ period_us: 10000, budget_us: 2000, extratime: false }).spec.rtds, { period_us: 10000, budget_us: 2000, extratime: false });
  assert.deepEqual(guest("r").vcpus(2).rtds([{ budget_us: 100 }, { budget_us: 200 }]).spec.rtds, [{ budget_us: 100 }, { budget_us: 200 }]);
});

// ------------------------------------------------------------------ kernel

test("linux() has a setter for every KernelSpec field", () => {
  assert.deepEqual(linux().spec, { version: "5.10" });
  assert.deepEqual(linux("5.10").spec, { version: "5.10" });
  const k: KernelSpec = {
    version: "5.10", hz: 1000, paravirt_time_accounting: true, preempt: "rt", xen_timer_slop_ns: 1000,
    sched_latency_ns: 6_000_000, sched_min_granularity_ns: 750_000, sched_wakeup_granularity_ns: 1_000_000,
    gentle_fair_sleepers: false, rt_runtime_us: 900_000, rt_period_us: 1_000_000, rr_timeslice_ms: 25,
  };
  const built = linux().version("5.10").hz(1000).paravirtTimeAccounting().preempt("rt").xenTimerSlop(1000)
    .schedLatency(6_000_000).minGranularity(750_000).wakeupGranularity(1_000_000).gentleFairSleepers(false)
    .rtRuntime(900_000).rtPeriod(1_000_000).rrTimeslice(25).spec;
  assert.deepEqual(built, k);
  // every KernelSpec field is reachable through a setter
  assert.deepEqual(Object.keys(built).sort(), Object.keys(k).sort());
  assert.deepEqual(linux().rtThrottling("off").spec, { version: "5.10", rt_runtime_us: "off" });
  assert.deepEqual(linux().rtThrottling(500_000, 800_000).spec, linux().rtRuntime(500_000).rtPeriod(800_000).spec);
  assert.equal(linux().paravirtTimeAccounting(false).spec.paravirt_time_accounting, false);
});

// -------------------------------------------------------------- schedulers

test("Xen scheduler builders: credit, credit2, rtds, arinc653, null", () => {
  assert.deepEqual(credit().spec, { name: "credit" });
  assert.deepEqual(credit().tslice(10).ratelimit(500).migrationDelay(100).spec, { name: "credit", tslice_ms: 10, ratelimit_us: 500, migration_delay_us: 100 });
  assert.deepEqual(credit().ratelimit("off").spec, { name: "credit", ratelimit_us: "off" });
  assert.deepEqual(credit2().ratelimit(1000).runqueue("cpu").spec, { name: "credit2", ratelimit_us: 1000, runqueue: "cpu" });
  assert.deepEqual(rtds().spec, { name: "rtds" });
  assert.deepEqual(nullScheduler().spec, { name: "null" });
  assert.deepEqual(
    arinc653(20).frame("rt", 5).frame("hog", 10, 0).spec,
    { name: "arinc653", major_frame_ms: 20, frames: [{ guest: "rt", runtime_ms: 5 }, { guest: "hog", vcpu: 0, runtime_ms: 10 }] },
  );
  assert.equal(arinc653(20).majorFrame(30).spec.major_frame_ms, 30);
});

test("xen().pool() takes every scheduler builder or spec; timerSlop sets timer_slop_ns", () => {
  const built = xen()
    .pool("A", [0], credit().tslice(5))
    .pool("B", [1], credit2())
    .pool("C", [2], rtds())
    .pool("D", [3], arinc653(10).frame("x", 4))
    .pool("E", [4], nullScheduler())
    .pool("F", [5], { name: "null" })
    .timerSlop(1000).spec;
  const expected: XenSpec = {
    kind: "xen", version: "4.20", timer_slop_ns: 1000, pools: [
      { name: "A", cpus: [0], scheduler: { name: "credit", tslice_ms: 5 } },
      { name: "B", cpus: [1], scheduler: { name: "credit2" } },
      { name: "C", cpus: [2], scheduler: { name: "rtds" } },
      { name: "D", cpus: [3], scheduler: { name: "arinc653", major_frame_ms: 10, frames: [{ guest: "x", runtime_ms: 4 }] } },
      { name: "E", cpus: [4], scheduler: { name: "null" } },
      { name: "F", cpus: [5], scheduler: { name: "null" } },
    ],
  };
  assert.deepEqual(built, expected);
});

test("a Null pool and an ARINC653 pool built by the builders validate and run", () => {
  const spec = system().board(board("rcar-s4"))
    .hypervisor(xen().pool("P0", [0], arinc653(10).frame("a", 4).frame("b", 4)).pool("P1", [1, 2], nullScheduler()))
    .guest(guest("a").pool("P0").pin([[0]]).workload(cpuHog()))
    .guest(guest("b").pool("P0").pin([[0]]).workload(cpuHog()))
    .guest(guest("c").pool("P1").vcpus(2).pin([[1], [2]]).workload(cpuHog().count(2)))
    .horizon(0.2).build();
  const v = simulate(spec, { seed: 1 }).rows("vcpus") as Row[];
  const ms = (d: string, i = 0) => v.find((x) => x.domain === d && x.vcpu === i)!.running_ms;
  // ARINC653: 4 ms of every 10 ms major frame each; Null: a whole pCPU per vCPU
  assert.ok(Math.abs(ms("a") - 80) < 1 && Math.abs(ms("b") - 80) < 1, `a ${ms("a")} ms, b ${ms("b")} ms`);
  assert.ok(ms("c", 0) > 199 && ms("c", 1) > 199, `c ${ms("c", 0)}, ${ms("c", 1)} ms`);
});

// --------------------------------------------------------------------- KVM

test("kvm() builds a KvmSpec with host kernel, host workloads and halt polling", () => {
  assert.deepEqual(kvm().spec, { kind: "kvm" });
  const expected: KvmSpec = {
    kind: "kvm",
    host_kernel: { version: "5.10", preempt: "rt", rt_runtime_us: "off" },
    host_workloads: [{ kind: "housekeeping" }, { kind: "stress", intensity: 0.8 }],
    halt_poll_ns: 0,
  };
  const built = kvm().hostKernel(linux().preempt("rt").rtThrottling("off"))
    .hostWorkload(housekeeping()).hostWorkload(stress().intensity(0.8)).haltPoll(0).spec;
  assert.deepEqual(built, expected);
  assert.deepEqual(kvm().hostKernel({ hz: 1000 }).hostWorkload({ kind: "stress" }).spec, { kind: "kvm", host_kernel: { hz: 1000 }, host_workloads: [{ kind: "stress" }] });
});

/** The abeni-faggioli KVM setup (RT/RT, stressed host), built fluently. */
function kvmBuilt(horizonS: number, warmupS: number): SimSpec {
  return system()
    .board(board("i7-6700"))
    .hypervisor(kvm().hostKernel(linux().preempt("rt").rtThrottling("off")).hostWorkload(housekeeping()).hostWorkload(stress()))
    .guest(guest("guest").vcpus(1).vcpuThread(thread().fifo(99)).kernel(linux().preempt("rt"))
      .workload(housekeeping()).workload(cyclictest().interval(50).priority(99).histogram(10000)))
    .horizon(horizonS).warmup(warmupS)
    .build();
}

test("system().hypervisor(kvm()): the built KVM spec is the hand-written one, and it runs with a cyclictest table", () => {
  const built = kvmBuilt(0.2, 0.05);
  const expected: SimSpec = {
    board: { preset: "i7-6700" }, horizon_s: 0.2, warmup_s: 0.05,
    hypervisor: {
      kind: "kvm", host_kernel: { version: "5.10", preempt: "rt", rt_runtime_us: "off" },
      host_workloads: [{ kind: "housekeeping" }, { kind: "stress" }],
    },
    guests: [{
      name: "guest", vcpus: 1, vcpu_thread: { policy: "fifo", priority: 99 }, kernel: { version: "5.10", preempt: "rt" },
      workloads: [{ kind: "housekeeping" }, { kind: "cyclictest", interval_us: 50, priority: 99, histogram_us: 10000 }],
    }],
  };
  assert.deepEqual(built, expected);
  // the same as the experiment's own setup() but for the explicit kernel version
  const ref = setup({ cpu: "i7-6700", host: "RT", guest: "RT", hv: "kvm", stress: true }, { horizonS: 0.2, warmupS: 0.05 });
  const hv = ref.hypervisor as KvmSpec;
  hv.host_kernel = { version: "5.10", ...hv.host_kernel };
  ref.guests[0].kernel = { version: "5.10", ...ref.guests[0].kernel };
  assert.deepEqual(built, ref);

  const r = simulate(built, { seed: 1 });
  const ct = r.rows("cyclictest") as Row[];
  assert.equal(ct.length, 1);
  assert.equal(ct[0].domain, "guest");
  assert.equal(ct[0].interval_us, 50);
  assert.ok(ct[0].cycles > 1000, `cycles ${ct[0].cycles}`);
  assert.ok(ct[0].max_latency_us > 0 && ct[0].max_latency_us < 1000, `max ${ct[0].max_latency_us}`);
  assert.deepEqual(r.rows("cyclictest"), simulate(ref, { seed: 1 }).rows("cyclictest"), "same results as the hand-written spec");
});

// --------------------------------------------------------- Xen HVM + Dom0

/** A Xen HVM DomU running cyclictest next to a stressed PV Dom0 (as abeni-faggioli's setup), built fluently. */
function xenHvmBuilt(horizonS: number, warmupS: number): SimSpec {
  const k = () => linux().preempt("rt").xenTimerSlop(100_000);
  return system()
    .board(board("i7-6700"))
    .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3, 4, 5, 6, 7], credit()))
    .guest(guest("dom0").dom0().type("pv").vcpus(7).pin([[0], [1], [2], [3], [4], [5], [6]]).kernel(k())
      .workload(housekeeping()).workload(stress()))
    .guest(guest("domU").type("hvm").vcpus(1).pin([[7]]).kernel(k()).deviceModel(thread().fifo(99))
      .workload(housekeeping()).workload(cyclictest().interval(50).priority(99).histogram(10000)))
    .horizon(horizonS).warmup(warmupS)
    .build();
}

test("Xen HVM DomU + Dom0 with stress: the built spec is the hand-written one, and it runs with a cyclictest table", () => {
  const built = xenHvmBuilt(0.2, 0.05);
  const kern: KernelSpec = { version: "5.10", preempt: "rt", xen_timer_slop_ns: 100_000 };
  const domU: GuestSpec = {
    name: "domU", type: "hvm", vcpus: 1, pin: [[7]], kernel: kern, device_model: { policy: "fifo", priority: 99 },
    workloads: [{ kind: "housekeeping" }, { kind: "cyclictest", interval_us: 50, priority: 99, histogram_us: 10000 }],
  };
  const expected: SimSpec = {
    board: { preset: "i7-6700" }, horizon_s: 0.2, warmup_s: 0.05,
    hypervisor: { kind: "xen", version: "4.20", pools: [{ name: "Pool-0", cpus: [0, 1, 2, 3, 4, 5, 6, 7], scheduler: { name: "credit" } }] },
    guests: [
      {
        name: "dom0", dom0: true, type: "pv", vcpus: 7, pin: [[0], [1], [2], [3], [4], [5], [6]], kernel: kern,
        workloads: [{ kind: "housekeeping" }, { kind: "stress" }],
      },
      domU,
    ],
  };
  assert.deepEqual(built, expected);
  const ref = setup({ cpu: "i7-6700", host: "RT", guest: "RT", hv: "xen-hvm", stress: true, dm: "fifo99" }, { horizonS: 0.2, warmupS: 0.05 });
  (ref.hypervisor as XenSpec).version = "4.20";
  for (const g of ref.guests) g.kernel = { version: "5.10", ...g.kernel };
  assert.deepEqual(built, ref);

  const r = simulate(built, { seed: 1 });
  const ct = r.rows("cyclictest") as Row[];
  assert.equal(ct.length, 1);
  assert.equal(ct[0].domain, "domU");
  assert.ok(ct[0].cycles > 1000, `cycles ${ct[0].cycles}`);
  assert.ok(ct[0].max_latency_us > 0, `max ${ct[0].max_latency_us}`);
  assert.ok((r.rows("latency_hist") as Row[]).length > 0, "a latency histogram");
  assert.deepEqual(r.rows("cyclictest"), simulate(ref, { seed: 1 }).rows("cyclictest"), "same results as the hand-written spec");
});

// ------------------------------------------------------------- validation

/** Asserts that `fn` throws a SpecError with an issue at `path` whose text contains `word`. */
function rejects(fn: () => unknown, path: string, word: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpecError, `a SpecError: ${String(e)}`);
    const issue = e.issues.find((i) => i.path === path);
    assert.ok(issue, `an issue at ${path}: ${e.message}`);
    assert.ok(e.message.includes(path), "the message names the field");
    assert.ok(issue.message.includes(word), `${issue.message} mentions ${word}`);
    return true;
  });
}

test("invalid values set through the builders are rejected, naming the field", () => {
  const kvmWith = (w: Parameters<ReturnType<typeof guest>["workload"]>[0]) =>
    system().board(board("i7-6700")).hypervisor(kvm()).guest(guest("vm").workload(w)).horizon(0.1);
  rejects(() => kvmWith(cyclictest().interval(0)).build(), "guests[0].workloads[0].interval_us", "interval");
  rejects(() => kvmWith(cyclictest().priority(100)).build(), "guests[0].workloads[0].priority", "priority");
  rejects(() => kvmWith(cyclictest().histogram(-1)).build(), "guests[0].workloads[0].histogram_us", "buckets");
  rejects(() => kvmWith(cyclictest().cpu(3)).build(), "guests[0].workloads[0].cpu", "does not exist");
  rejects(() => kvmWith(stress().intensity(2)).build(), "guests[0].workloads[0].intensity", "intensity");
  rejects(() => kvmWith(stress().count(0)).build(), "guests[0].workloads[0].count", "stress");
  rejects(() => kvmWith(housekeeping().intensity(11)).build(), "guests[0].workloads[0].intensity", "housekeeping");
  rejects(() => kvmWith(deviceIo().rate(-1)).build(), "guests[0].workloads[0].rate_hz", "accesses");
  rejects(() => kvmWith(cpuHog().work(0)).build(), "guests[0].workloads[0].work_ms", "ms");
  rejects(() => system().hypervisor(kvm().haltPoll(-1)).guest(guest("vm")).build(), "hypervisor.halt_poll_ns", "halt_poll_ns");
  rejects(() => system().hypervisor(kvm().hostWorkload(stress().intensity(-1))).guest(guest("vm")).build(), "hypervisor.host_workloads[0].intensity", "stress");
  rejects(() => system().hypervisor(kvm().hostKernel(linux().hz(123))).guest(guest("vm")).build(), "hypervisor.host_kernel.hz", "CONFIG_HZ");
  rejects(() => system().hypervisor(kvm()).guest(guest("vm").vcpuThread(thread().fifo(0))).build(), "guests[0].vcpu_thread.priority", "priority");
  rejects(() => system().hypervisor(kvm()).guest(guest("vm").type("hvm")).build(), "guests[0].type", "Xen");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit().tslice(0))).guest(guest("d")).build(), "hypervisor.pools[0].scheduler.tslice_ms", "tslice");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit2().runqueue("x" as "cpu"))).guest(guest("d")).build(), "hypervisor.pools[0].scheduler.runqueue", "credit2_runqueue");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit()).timerSlop(-1)).guest(guest("d")).build(), "hypervisor.timer_slop_ns", "timer_slop");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit())).guest(guest("d").type("hvm")).build(), "guests[0].type", "Dom0");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit())).guest(guest("d").deviceModel(thread().fifo(99))).build(), "guests[0].device_model", "HVM");
  rejects(() => system().hypervisor(xen().pool("P", [0, 1], credit())).guest(guest("a").dom0()).guest(guest("b").dom0()).build(), "guests[1].dom0", "Dom0");
  rejects(() => system().hypervisor(xen().pool("P", [0], credit())).guest(guest("d").rtds({ budget_us: 5 })).build(), "guests[0].rtds.budget_us", "RTDS");
  rejects(() => system().hypervisor(xen().pool("P", [0], arinc653(5).frame("d", 10))).guest(guest("d")).build(), "hypervisor.pools[0].scheduler.frames", "major frame");
  rejects(() => system().guest(guest("n").kernel(linux().rtPeriod(0))).build(), "guests[0].kernel.rt_period_us", "sched_rt_period_us");
});

// --------------------------------------------------------------- exports

test("the new builders are exported from the package entry point", () => {
  for (const name of [
    "cyclictest", "stress", "housekeeping", "deviceIo", "kvm", "credit", "rtds", "arinc653", "nullScheduler", "thread",
    "CyclictestBuilder", "StressBuilder", "HousekeepingBuilder", "DeviceIoBuilder", "KvmBuilder", "CreditBuilder",
    "RtdsBuilder", "Arinc653Builder", "NullSchedulerBuilder", "ThreadSchedBuilder",
  ] as const) assert.equal(typeof hvsim[name], "function", name);
  assert.deepEqual(hvsim.kvm().haltPoll(0).spec, { kind: "kvm", halt_poll_ns: 0 });
});
