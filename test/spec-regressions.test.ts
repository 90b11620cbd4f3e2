// Issue 9, part 6: the inputs that crashed or slipped through, each now a
// clean SpecError naming the field, the value and the allowed range.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  board, context1, credit2, cyclictest, guest, kvm, linux, periodic, rtds, stress, system, thread, xen,
} from "../src/spec/builders.js";
import { formatValue, SpecError, validateSpec } from "../src/spec/validate.js";
import { simulate } from "../src/simulate.js";
import { rtApp, RtAppError } from "../src/workloads/rtapp.js";
import type { SimSpec } from "../src/spec/types.js";

/** The SpecError `f` throws (fails on anything else, or on no error). */
function specError(f: () => unknown): SpecError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return e;
  }
  assert.fail("no error thrown");
}

/** Both validateSpec and simulate reject `s` with the same issues (build() accepts iff simulate() does). */
function rejected(s: unknown): SpecError {
  const a = specError(() => validateSpec(s));
  const b = specError(() => simulate(s as SimSpec, { seed: 1 }));
  assert.deepEqual(a.issues, b.issues);
  return a;
}

/** A valid KVM system on the 8-CPU i7-6700: an RT guest running cyclictest next to a host stress load. */
function kvmSpec(): any {
  return structuredClone(system().board(board("i7-6700"))
    .hypervisor(kvm().hostKernel(linux().preempt("rt")).hostWorkload(stress()))
    .guest(guest("vm").vcpus(2).vcpuThread(thread().fifo(90)).kernel(linux().preempt("rt")).workload(cyclictest().interval(200)))
    .horizon(0.01).build());
}

function xenSpec(): any {
  return structuredClone(system().board(board("rcar-s4"))
    .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3], credit2()))
    .guest(guest("domU").vcpus(2).workload(context1()))
    .horizon(0.01).build());
}

test("the valid base specs simulate", () => {
  assert.ok(simulate(kvmSpec(), { seed: 1 }).tableNames.includes("cyclictest"));
  assert.ok(simulate(xenSpec(), { seed: 1 }).tableNames.includes("context1"));
});

test("KVM host workloads pinned to a host CPU that does not exist", () => {
  const a = kvmSpec();
  a.hypervisor.host_workloads = [{ kind: "stress", cpus: [8] }];
  assert.match(rejected(a).message, /hypervisor\.host_workloads\[0\]\.cpus\[0\]: host CPU 8 does not exist; host \(board i7-6700\) has CPUs 0\.\.7/);
  const b = kvmSpec();
  b.hypervisor.host_workloads = [{ kind: "cyclictest", cpu: 8 }];
  assert.match(rejected(b).message, /hypervisor\.host_workloads\[0\]\.cpu: host CPU 8 does not exist/);
  // the builder says the same at build()
  specError(() => system().board(board("i7-6700")).hypervisor(kvm().hostWorkload(cyclictest().cpu(8)))
    .guest(guest("vm")).horizon(0.01).build());
});

test("scheduler names that are built-in object properties are unknown schedulers", () => {
  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const s = xenSpec();
    s.hypervisor.pools[0].scheduler = { name };
    const e = rejected(s);
    assert.match(e.message, /hypervisor\.pools\[0\]\.scheduler\.name: unknown scheduler ".*"; allowed: "credit2", "credit", "rtds", "arinc653", "null"/);
  }
  for (const kind of ["constructor", "toString"]) {
    const s = xenSpec();
    s.guests[0].workloads[0] = { kind };
    assert.match(rejected(s).message, /guests\[0\]\.workloads\[0\]\.kind: unknown workload kind/);
    const h = xenSpec();
    h.hypervisor = { kind };
    assert.match(rejected(h).message, /hypervisor\.kind: unknown hypervisor kind/);
  }
});

test("the rt-app reader looks up policies as own properties only", () => {
  for (const policy of ["constructor", "toString", "__proto__"]) {
    const doc = { global: { duration: 1 }, tasks: { t: { policy, run: 1000, timer: { ref: "t", period: 10000 } } } };
    assert.throws(() => rtApp(doc), (e: unknown) => e instanceof RtAppError && /tasks\.t\.policy: .* is not one of SCHED_OTHER/.test(e.message));
  }
});

test("KVM host periodic tasks get the checks guest tasks get", () => {
  const withHost = (workloads: unknown[], kernel?: object) => {
    const s = kvmSpec();
    s.hypervisor.host_workloads = workloads;
    if (kernel) s.hypervisor.host_kernel = kernel;
    return rejected(s).message;
  };
  const t = (name: string, extra: object = {}) => ({ kind: "periodic", name, period_us: 10_000, exec: 1000, ...extra });
  assert.match(withHost([t("a"), t("a")]), /hypervisor\.host_workloads\[1\]\.name: duplicate periodic task name "a" in host/);
  assert.match(withHost([t("dl", { policy: "deadline", dl_runtime_us: 20_000 })]), /hypervisor\.host_workloads\[0\]\.dl_runtime_us: sched_setattr\(SCHED_DEADLINE\) would fail with EINVAL: needs runtime <= deadline/);
  assert.match(withHost(Array.from({ length: 9 }, (_, i) => t(`dl${i}`, { policy: "deadline", exec: 9000 }))), /hypervisor\.host_workloads\[8\]: SCHED_DEADLINE admission control refuses it \(EBUSY\)/);
  assert.match(withHost([t("u", { policy: "deadline", exec: { dist: "exponential", mean_us: 100 } })]), /hypervisor\.host_workloads\[0\]\.dl_runtime_us: is needed: exec has no upper bound/);
  assert.match(withHost([t("p", { policy: "deadline", cpus: [0] })]), /hypervisor\.host_workloads\[0\]\.cpus: a SCHED_DEADLINE task's affinity must span the root domain \(CPUs 0\.\.7\)/);
  // with throttling off, a pinned DL task is legal
  const ok = kvmSpec();
  ok.hypervisor.host_kernel = { rt_runtime_us: "off" };
  ok.hypervisor.host_workloads = [t("p", { policy: "deadline", cpus: [0] })];
  assert.doesNotThrow(() => validateSpec(ok));
});

test("host rt_runtime_us above rt_period_us", () => {
  const s = kvmSpec();
  s.hypervisor.host_kernel = { rt_runtime_us: 2_000_000, rt_period_us: 1_000_000 };
  assert.match(rejected(s).message, /hypervisor\.host_kernel\.rt_runtime_us: must not exceed rt_period_us \(1000000\); got 2000000/);
});

test("uniform and normal execution times with min_us > max_us", () => {
  for (const exec of [{ dist: "uniform", min_us: 500, max_us: 100 }, { dist: "normal", mean_us: 300, sd_us: 50, min_us: 500, max_us: 100 }]) {
    const s = xenSpec();
    s.guests[0].workloads.push({ kind: "periodic", name: "t", period_us: 10_000, exec });
    assert.match(rejected(s).message, /guests\[0\]\.workloads\[1\]\.exec\.min_us: must be <= max_us \(100\); got 500/);
  }
});

test("RTDS parameters name the field and the range, not 'Invalid input'", () => {
  const base = () => {
    const s = xenSpec();
    s.hypervisor.pools[0].scheduler = { name: "rtds" };
    return s;
  };
  const a = base();
  a.guests[0].rtds = { period_us: 5, budget_us: 4 };
  const ea = rejected(a);
  assert.match(ea.message, /guests\[0\]\.rtds\.period_us: must be an integer in 10\.\.4294967295 \(RTDS period, µs \(min 10\)\); got 5/);
  assert.doesNotMatch(ea.message, /Invalid input/);
  const b = base();
  b.guests[0].rtds = [{ period_us: 10_000 }, { budget_us: -1 }];
  assert.match(rejected(b).message, /guests\[0\]\.rtds\[1\]\.budget_us: must be an integer in 10\.\.4294967295/);
  const c = base();
  c.guests[0].rtds = "fast";
  assert.match(rejected(c).message, /guests\[0\]\.rtds: must be an RTDS reservation \{period_us, budget_us, extratime\} or a list of them/);
  // the builder path
  specError(() => system().hypervisor(xen().pool("p", [0], rtds())).guest(guest("g").rtds({ period_us: 1 })).build());
});

test("NaN and ±Infinity are reported as such, never as 'got null'", () => {
  for (const [v, shown] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]] as const) {
    const s = xenSpec();
    s.horizon_s = v;
    const e = rejected(s);
    assert.match(e.message, new RegExp(`horizon_s: must be a number in 0\\.000001\\.\\.1000000 \\(simulated seconds\\); got ${shown}`));
    assert.doesNotMatch(e.message, /got null/);
  }
});

test("BigInt, circular and huge values are printed short and never throw while formatting", () => {
  const big = xenSpec();
  big.guests[0].vcpus = 2n;
  assert.match(rejected(big).message, /guests\[0\]\.vcpus: must be an integer in 1\.\.64 \(number of vCPUs\); got 2n/);
  const circ = xenSpec();
  const loop: any = { a: 1 };
  loop.self = loop;
  circ.guests[0].kernel = loop;
  assert.match(rejected(circ).message, /guests\[0\]\.kernel: unknown field\(s\) "a", "self"/);
  const circ2 = xenSpec();
  circ2.guests[0].workloads[0].cpus = loop;
  assert.match(rejected(circ2).message, /got \{"a":1,"self":\[circular\]\}/);
  const huge = xenSpec();
  huge.guests[0].name = "x".repeat(560_000);
  huge.guests[0].vcpus = Array.from({ length: 100_000 }, (_, i) => i);
  const e = rejected(huge);
  assert.ok(e.message.length < 1000, `message of ${e.message.length} characters`);
  assert.equal(formatValue(2n ** 70n), "1180591620717411303424n");
  assert.equal(formatValue(-0), "-0");
  assert.match(formatValue("y".repeat(1000)), /^"y{40}…" \(1000 characters\)$/);
});

test("a builder passed without .build() is told to call .build()", () => {
  const sb = system().guest(guest("g"));
  assert.match(specError(() => simulate(sb as any)).message, /\(spec\): got a SystemBuilder: call \.build\(\)/);
  assert.match(specError(() => validateSpec(sb)).message, /call \.build\(\)/);
  assert.match(specError(() => simulate(system as any)).message, /\(spec\): got a function \(system\)/);
  // a builder inside a plain spec
  const s = xenSpec();
  s.guests[0] = guest("g");
  assert.match(rejected(s).message, /guests\[0\]: got a GuestBuilder: pass it to a builder method/);
  for (const v of [null, undefined, 42, "spec", [], true]) assert.match(specError(() => simulate(v as any)).message, /\(spec\): must be a spec object/);
});

test("builder mistakes throw a SpecError naming the builder method, never a TypeError", () => {
  assert.match(specError(() => xen().pool("p", [0], credit2 as any)).message, /xen\(\)\.pool\("p"\)\.scheduler: got a function \(credit2\): call it, credit2\(\)/);
  assert.match(specError(() => xen().pool("p", [0], null as any)).message, /xen\(\)\.pool\("p"\)\.scheduler: must be a scheduler/);
  assert.match(specError(() => guest("g").workload(undefined as any)).message, /guest\("g"\)\.workload: must be a workload/);
  assert.match(specError(() => guest("g").workload(cyclictest as any)).message, /call it, cyclictest\(\)/);
  assert.match(specError(() => guest("g").kernel(linux as any)).message, /guest\("g"\)\.kernel: got a function \(linux\)/);
  assert.match(specError(() => kvm().hostWorkload(42 as any)).message, /kvm\(\)\.hostWorkload: must be a workload .*; got 42/);
  assert.match(specError(() => system().hypervisor(xen as any)).message, /system\(\)\.hypervisor: got a function \(xen\)/);
  assert.match(specError(() => system().guest("vm" as any)).message, /system\(\)\.guest: must be a guest/);
  assert.match(specError(() => system().board("rcar-s4" as any)).message, /system\(\)\.board: must be a board/);
  assert.match(specError(() => guest("g").rtds({ period_us: (() => 1) as any })).message, /guest\("g"\)\.rtds: must be plain data/);
  // non-array CPUs reach validation instead of throwing inside the builder
  assert.match(specError(() => system().hypervisor(xen().pool("p", 3 as any, credit2())).guest(guest("g")).build()).message, /hypervisor\.pools\[0\]\.cpus: must be a list of CPU ids/);
  // a periodic task without period or exec: "is missing"
  assert.match(specError(() => system().guest(guest("g").workload(periodic("t"))).build()).message, /workloads\[0\]\.period_us: is missing: must be a number in 1\.\.1000000000000/);
});

test("build() accepts iff simulate() does: the periodic and KVM checks run in build()", () => {
  // a DL task with runtime > deadline used to pass build() and fail only in simulate()
  assert.match(specError(() => system().board(board("ideal"))
    .guest(guest("g").workload(periodic("t").period(1000).exec(100).deadline(500).edf(900))).horizon(0.01).build()).message,
  /guests\[0\]\.workloads\[0\]\.dl_runtime_us: sched_setattr\(SCHED_DEADLINE\) would fail with EINVAL/);
  // a KVM guest named "host"
  const s = kvmSpec();
  s.guests[0].name = "host";
  assert.match(rejected(s).message, /guests\[0\]\.name: under KVM the name "host" is the host kernel's/);
});

test("simulate() options are checked too", () => {
  const s = xenSpec();
  assert.match(specError(() => simulate(s, null as any)).message, /options: must be an object \{seed\?, onProgress\?\}; got null/);
  assert.match(specError(() => simulate(s, { seed: NaN })).message, /options\.seed: must be a finite number or a string; got NaN/);
  assert.match(specError(() => simulate(s, { onProgress: 5 as any })).message, /options\.onProgress: must be a function/);
  assert.equal(simulate(s, { seed: "x" }).seed, "x");
});
