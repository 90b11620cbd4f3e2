// Issue 14 part 3: QEMU as a process of threads for KVM guests (src/virt/qemu-kvm.ts): the -rt priorities,
// the global lock taken on every exit to user space, the emulated IDE disk behind it, SpecErrors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";
import { board, guest, kvm, system } from "../src/spec/builders.js";
import { Simulator } from "../src/engine/sim.js";
import { resolveBoard } from "../src/hw/board.js";
import { type CpuHost, IRQ_TIMER, LinuxKernel } from "../src/kernel/linux.js";
import { A_WAIT, type Task } from "../src/kernel/task.js";
import { blockOf, FileIo, IO_WRITE, O_DSYNC } from "../src/kernel/block.js";
import { Kvm } from "../src/virt/kvm.js";
import type { GuestSpec, QemuSpec, SimSpec, WorkloadSpec } from "../src/spec/types.js";
import { specError } from "./helpers.js";

type Row = Record<string, any>;

function spec(opts: { qemu?: QemuSpec; vcpus?: number; workloads?: WorkloadSpec[]; vcpuThread?: GuestSpec["vcpu_thread"]; horizonS?: number; hostWorkloads?: WorkloadSpec[] }): SimSpec {
  return {
    board: { preset: "core2duo-e8500" }, horizon_s: opts.horizonS ?? 0.2,
    hypervisor: { kind: "kvm", host_kernel: { preempt: "full" }, host_workloads: opts.hostWorkloads },
    guests: [{
      name: "vm", vcpus: opts.vcpus ?? 1, qemu: opts.qemu, vcpu_thread: opts.vcpuThread,
      kernel: { preempt: "rt" }, workloads: opts.workloads ?? [],
    }],
  };
}


const rows = (s: SimSpec, name: string): Row[] => simulate(s, { seed: 1 }).rows(name) as Row[];

test("qemu SpecErrors: maxprio outside 1..99, aioprio above maxprio, rt with a vcpu_thread policy, not KVM", () => {
  for (const m of [0, 100, 1.5]) {
    const e = specError(spec({ qemu: { rt: { maxprio: m } } }));
    assert.match(e.message, /guests\[0\]\.qemu\.rt\.maxprio/);
    assert.match(e.message, /1\.\.99/);
  }
  let e = specError(spec({ qemu: { rt: { maxprio: 50, aioprio: 60 } } }));
  assert.match(e.message, /guests\[0\]\.qemu\.rt\.aioprio: must be in 0\.\.50 \(at most maxprio\); got 60/);
  e = specError(spec({ qemu: { rt: { maxprio: 50, aioprio: 0 } } }));
  assert.match(e.message, /qemu\.rt\.aioprio: 0 needs aiopolicy "ts"/);
  e = specError(spec({ qemu: { rt: { maxprio: 50, aioprio: 10, aiopolicy: "ts" } } }));
  assert.match(e.message, /qemu\.rt\.aioprio: must be 0 with AIO policy "ts"/);
  e = specError(spec({ qemu: { rt: { maxprio: 98 } }, vcpuThread: { policy: "fifo", priority: 10 } }));
  assert.match(e.message, /guests\[0\]\.vcpu_thread\.policy: qemu\.rt sets the vCPU threads' policy/);
  e = specError(spec({ qemu: { rt: { maxprio: 98, policy: "xx" as "ff" } } }));
  assert.match(e.message, /qemu\.rt\.policy/);
  e = specError(spec({ qemu: { cpus: [7] } }));
  assert.match(e.message, /guests\[0\]\.qemu\.cpus\[0\]: host CPU 7 does not exist/);
  e = specError({ board: { preset: "core2duo-e8500" }, horizon_s: 1, hypervisor: { kind: "native" }, guests: [{ name: "l", vcpus: 1, qemu: {}, workloads: [] }] });
  assert.match(e.message, /guests\[0\]\.qemu: applies to KVM guests only/);
  // the paper's settings are accepted
  assert.doesNotThrow(() => validateSpec(spec({ qemu: { cpus: [1], rt: { maxprio: 98, policy: "ff", aioprio: 0, aiopolicy: "ts" }, pi_mutexes: true, disk: { format: "raw" } } })));
});

test("-rt maxprio=98: main thread FIFO 98, vCPU threads FIFO 97 on the host; no -rt: SCHED_OTHER", () => {
  const r = simulate(spec({ qemu: { cpus: [1], rt: { maxprio: 98 } }, vcpus: 2, workloads: [{ kind: "cpu-hog" }] }), { seed: 1 });
  const th = r.rows("qemu_threads") as Row[];
  const main = th.find((x) => x.thread === "main")!;
  assert.equal(main.policy, "fifo");
  assert.equal(main.priority, 98);
  assert.equal(main.host_cpu, 1);
  for (const v of th.filter((x) => x.kind === "vcpu")) {
    assert.equal(v.policy, "fifo");
    assert.equal(v.priority, 97);
    assert.equal(v.host_cpu, 1);
  }
  // the kernel really runs them so: the vCPU threads, pinned to CPU 1 by qemu.cpus, share it round-robin only as FIFO allows
  const vt = r.rows("vcpu_threads") as Row[];
  assert.deepEqual(vt.map((x) => [x.policy, x.priority, x.host_cpu]), [["fifo", 97, 1], ["fifo", 97, 1]]);
  // a FIFO hog vCPU never yields to its FIFO sibling of equal priority: one of them gets (nearly) all the time
  const inGuest = vt.map((x) => x.in_guest_ms).sort((a, b) => a - b);
  assert.ok(inGuest[0] < 1 && inGuest[1] > 150, `in guest ${inGuest}`);
  // policy "rr" and "ts"
  const rr = rows(spec({ qemu: { rt: { maxprio: 40, policy: "rr" } } }), "qemu_threads");
  assert.deepEqual(rr.map((x) => [x.thread, x.policy, x.priority]), [["vcpu0", "rr", 39], ["main", "rr", 40]]);
  const ts = rows(spec({ qemu: { rt: { maxprio: 40, policy: "ts" } } }), "qemu_threads");
  assert.deepEqual(ts.map((x) => [x.thread, x.policy, x.priority]), [["vcpu0", "other", 0], ["main", "other", 0]]);
  const none = rows(spec({ qemu: {}, vcpuThread: { policy: "fifo", priority: 7 } }), "qemu_threads");
  assert.deepEqual(none.map((x) => [x.thread, x.policy, x.priority]), [["vcpu0", "fifo", 7], ["main", "other", 0]]);
});

test("with qemu.disk every device register access is an exit to QEMU under the global lock: two vCPUs serialise", () => {
  const dio = (cpu: number): WorkloadSpec => ({ kind: "device-io", rate_hz: 2000, cpus: [cpu] });
  const s = (q: QemuSpec | undefined) => spec({ qemu: q, vcpus: 2, workloads: [dio(0), dio(1)] });
  const withDisk = simulate(s({ disk: { format: "raw" } }), { seed: 1 });
  const plain = simulate(s({}), { seed: 1 });
  const th = withDisk.rows("qemu_threads") as Row[];
  const v = th.filter((x) => x.kind === "vcpu");
  const accesses = (withDisk.rows("device_io") as Row[]).reduce((a, x) => a + x.accesses, 0);
  // one lock acquisition per access, by the vCPU thread that exited
  assert.ok(Math.abs(v[0].lock_acquisitions + v[1].lock_acquisitions - accesses) <= 2, `${v.map((x) => x.lock_acquisitions)} vs ${accesses}`);
  // the two guest CPUs access at the same instants: one vCPU thread finds the lock taken and waits for it
  assert.ok(v[0].lock_waits + v[1].lock_waits > 0.1 * accesses, `lock waits ${v.map((x) => x.lock_waits)}`);
  assert.ok(Math.max(v[0].lock_wait_max_us, v[1].lock_wait_max_us) > 0.5, `wait max ${v.map((x) => x.lock_wait_max_us)}`);
  // without an emulated disk the accesses stay in the kernel (ioeventfd): no user-space exits, no lock
  const pth = plain.rows("qemu_threads") as Row[];
  assert.ok(pth.every((x) => x.lock_acquisitions === 0));
  // and the user-space exit is much dearer for the guest
  const mean = (r: typeof plain) => (r.rows("device_io") as Row[])[0].mean_access_us as number;
  assert.ok(mean(withDisk) > mean(plain) + 2, `access ${mean(withDisk)} µs in QEMU vs ${mean(plain)} µs in the kernel`);
});

test("a serial console through a full pty holds the global lock in a blocked write: the other vCPU waits milliseconds", () => {
  const s = (serial: QemuSpec["serial"]) => spec({
    qemu: { serial }, vcpus: 2, horizonS: 1,
    workloads: [{ kind: "device-io", rate_hz: 5000, cpus: [0] }, { kind: "device-io", rate_hz: 500, cpus: [1] }],
  });
  const vc = (r: Row[]) => r.filter((x) => x.kind === "vcpu");
  const nul = vc(rows(s({ backend: "null" }), "qemu_threads"));
  const pty = vc(rows(s({ backend: "pty", drain_chars_per_s: 960 }), "qemu_threads"));
  // /dev/null: the lock is held for a few µs per character
  assert.ok(Math.max(...nul.map((x) => x.lock_hold_max_us)) < 20, `hold ${nul.map((x) => x.lock_hold_max_us)}`);
  assert.ok(Math.max(...nul.map((x) => x.lock_wait_max_us)) < 20, `wait ${nul.map((x) => x.lock_wait_max_us)}`);
  // a pty read at 960 chars/s fills after 4096 characters: each write then blocks ~1 ms holding the lock
  assert.ok(pty[0].lock_hold_max_us > 500, `hold ${pty[0].lock_hold_max_us}`);
  assert.ok(pty[1].lock_wait_max_us > 500, `vcpu1 waits ${pty[1].lock_wait_max_us} µs behind vcpu0's write`);
  // no serial: the accesses never reach QEMU
  assert.ok(vc(rows(s(undefined), "qemu_threads")).every((x) => x.lock_acquisitions === 0));
});

// ---- the emulated IDE disk: bonnie in the guest, its requests through QEMU's exits, AIO pool and main loop

const bonnie: WorkloadSpec = { kind: "bonnie", size_mb: 8, sync: true };
const hostTask = (r: ReturnType<typeof simulate>, name: string): Row => (r.rows("tasks") as Row[]).find((x) => x.domain === "host" && x.task.startsWith(name))!;
const qthread = (r: ReturnType<typeof simulate>, name: string): Row => (r.rows("qemu_threads") as Row[]).find((x) => x.thread === name)!;

test("a guest disk request travels through QEMU: exits, AIO pool thread, host I/O, main loop, IRQ (qemu_io stages)", () => {
  const r = simulate(spec({ qemu: { disk: { format: "raw" } }, workloads: [bonnie], horizonS: 1 }), { seed: 1 });
  const io = new Map((r.rows("qemu_io") as Row[]).map((x) => [x.stage, x]));
  const n = io.get("total")!.requests;
  assert.ok(n > 50, `requests ${n}`);
  for (const s of ["submit_exits", "aio_queue", "host_io", "completion"]) assert.equal(io.get(s)!.requests, n, s);
  // the host I/O is the disk's: milliseconds; QEMU's own stages are microseconds
  assert.ok(io.get("host_io")!.mean_us > 500, `host_io ${io.get("host_io")!.mean_us}`);
  assert.ok(io.get("submit_exits")!.mean_us > 14 * 2 && io.get("submit_exits")!.mean_us < 500, `submit ${io.get("submit_exits")!.mean_us}`);
  assert.ok(io.get("completion")!.mean_us < 100, `completion ${io.get("completion")!.mean_us}`);
  const sum = ["submit_exits", "aio_queue", "host_io", "completion"].reduce((a, s) => a + io.get(s)!.mean_us, 0);
  assert.ok(Math.abs(sum - io.get("total")!.mean_us) < 1e-6 * sum + 1e-6);
  // one AIO thread suffices for the one outstanding IDE request; it does the host I/O, the main thread the completions
  const th = r.rows("qemu_threads") as Row[];
  assert.deepEqual(th.filter((x) => x.kind === "aio").map((x) => x.thread), ["aio0"]);
  assert.equal(qthread(r, "main").lock_acquisitions, n);
  // 14 register exits to start a request and 5 to acknowledge it, each under the lock
  assert.ok(qthread(r, "vcpu0").lock_acquisitions >= 19 * n, `vcpu lock ${qthread(r, "vcpu0").lock_acquisitions}`);
  // bonnie in the guest completes its writing phases
  assert.ok((r.rows("bonnie") as Row[]).some((b) => b.phase === "block_write" && b.phases >= 1));
});

test("-rt: QEMU's FIFO threads starve a SCHED_OTHER host task on their CPU while the guest computes and does I/O", () => {
  const s = (rt: QemuSpec["rt"]) => spec({
    qemu: { cpus: [1], rt, disk: { format: "raw" } }, workloads: [bonnie, { kind: "cpu-hog" }], horizonS: 1,
    hostWorkloads: [{ kind: "cpu-hog", cpus: [1] }],
  });
  const other = simulate(s(undefined), { seed: 1 });
  const fifo = simulate(s({ maxprio: 98 }), { seed: 1 });
  // SCHED_OTHER: CFS shares CPU 1 between the vCPU thread and the host hog, and the vCPU waits behind the hog
  assert.ok(hostTask(other, "host/hog").sum_exec_ms > 350, `hog ${hostTask(other, "host/hog").sum_exec_ms} ms`);
  assert.ok(qthread(other, "vcpu0").max_wait_us > 1000, `vcpu wait ${qthread(other, "vcpu0").max_wait_us}`);
  // FIFO 97/98: the hog gets only what RT throttling leaves (50 ms per second), the vCPU never waits for it
  assert.ok(hostTask(fifo, "host/hog").sum_exec_ms < 100, `hog ${hostTask(fifo, "host/hog").sum_exec_ms} ms`);
  assert.ok(qthread(fifo, "vcpu0").max_wait_us < 200, `vcpu wait ${qthread(fifo, "vcpu0").max_wait_us}`);
});

test("aioprio=0,aiopolicy=ts puts the AIO threads in CFS: they wait behind a FIFO 50 host task that FIFO 98 preempts", () => {
  const s = (rt: QemuSpec["rt"]) => spec({
    qemu: { cpus: [1], rt, disk: { format: "raw" } }, vcpuThread: { cpus: [0] }, workloads: [bonnie], horizonS: 1,
    hostWorkloads: [{ kind: "periodic", name: "mid", period_us: 2000, exec: 1800, policy: "fifo", priority: 50, cpus: [1] }],
  });
  const ff = simulate(s({ maxprio: 98 }), { seed: 1 });
  const ts = simulate(s({ maxprio: 98, aioprio: 0, aiopolicy: "ts" }), { seed: 1 });
  const aio = (r: typeof ff) => (r.rows("qemu_threads") as Row[]).filter((x) => x.kind === "aio");
  assert.ok(aio(ff).length >= 1 && aio(ts).length >= 1);
  for (const a of aio(ff)) assert.deepEqual([a.policy, a.priority], ["fifo", 98]);
  for (const a of aio(ts)) assert.deepEqual([a.policy, a.priority], ["other", 0]);
  for (const r of [ff, ts]) assert.deepEqual([qthread(r, "main").policy, qthread(r, "main").priority], ["fifo", 98]);
  // at FIFO 98 an AIO thread runs at once; in CFS it waits for the FIFO task's 1.8 ms bursts
  assert.ok(Math.max(...aio(ff).map((a) => a.max_wait_us)) < 20, `ff ${aio(ff).map((a) => a.max_wait_us)}`);
  assert.ok(Math.max(...aio(ts).map((a) => a.max_wait_us)) > 500, `ts ${aio(ts).map((a) => a.max_wait_us)}`);
  const q = (r: typeof ff) => (r.rows("qemu_io") as Row[]).find((x) => x.stage === "aio_queue")!.max_us;
  assert.ok(q(ts) > q(ff) + 500, `aio_queue max ${q(ff)} -> ${q(ts)}`);
  // the FIFO 50 task is preempted by the FIFO 98 AIO threads, never by the CFS ones
  assert.ok(hostTask(ff, "mid").nivcsw > 50 && hostTask(ts, "mid").nivcsw === 0, `${hostTask(ff, "mid").nivcsw} / ${hostTask(ts, "mid").nivcsw}`);
});

test("qcow2: metadata writes under the global lock serialise the vCPU's exits behind the main loop for milliseconds", () => {
  const s = (format: "raw" | "qcow2") => spec({
    qemu: { cpus: [1], disk: { format } }, vcpuThread: { cpus: [0] }, horizonS: 1,
    workloads: [bonnie, { kind: "device-io", rate_hz: 1000 }],
  });
  const raw = simulate(s("raw"), { seed: 1 });
  const qc = simulate(s("qcow2"), { seed: 1 });
  // raw: the main loop holds the lock for microseconds; the single vCPU rarely finds it taken, and not for long
  assert.ok(qthread(raw, "main").lock_hold_max_us < 50, `raw hold ${qthread(raw, "main").lock_hold_max_us}`);
  assert.ok(qthread(raw, "vcpu0").lock_wait_max_us < 50, `raw vcpu wait ${qthread(raw, "vcpu0").lock_wait_max_us}`);
  // qcow2: the L2-table write of each allocated cluster is a synchronous host write inside the lock
  assert.ok(qthread(qc, "main").lock_hold_max_us > 1000, `qcow2 hold ${qthread(qc, "main").lock_hold_max_us}`);
  assert.ok(qthread(qc, "vcpu0").lock_waits > 0, "the vCPU's exits find the lock held");
  assert.ok(qthread(qc, "vcpu0").lock_wait_max_us > 1000, `qcow2 vcpu wait ${qthread(qc, "vcpu0").lock_wait_max_us}`);
  // and the guest's device accesses (a console) take that long
  const dio = (r: typeof raw) => (r.rows("device_io") as Row[])[0].max_access_us;
  assert.ok(dio(qc) > 1000 && dio(raw) < 200, `device access max raw ${dio(raw)} qcow2 ${dio(qc)}`);
});

test("PI mutexes: the lock holder preempted by a middle-priority host task inherits its FIFO waiter's priority", () => {
  const s = (pi: boolean) => spec({
    qemu: { cpus: [1], pi_mutexes: pi, disk: { format: "qcow2" } }, vcpuThread: { cpus: [0], policy: "fifo", priority: 90 },
    horizonS: 2, workloads: [bonnie, { kind: "device-io", rate_hz: 1000 }],
    hostWorkloads: [{ kind: "periodic", name: "mid", period_us: 2000, exec: 1800, policy: "fifo", priority: 50, cpus: [1] }],
  });
  const no = simulate(s(false), { seed: 1 });
  const pi = simulate(s(true), { seed: 1 });
  const v0 = qthread(no, "vcpu0"), v1 = qthread(pi, "vcpu0");
  assert.ok(v0.lock_waits > 10 && v1.lock_waits > 10, `waits ${v0.lock_waits} ${v1.lock_waits}`);
  // without PI the SCHED_OTHER main thread, done with its metadata write, waits for the FIFO 50 task while the
  // FIFO 90 vCPU waits for it; with PI it runs at 90 and releases the lock at once
  assert.ok(v1.lock_wait_mean_us < v0.lock_wait_mean_us - 300, `mean wait ${v0.lock_wait_mean_us} -> ${v1.lock_wait_mean_us}`);
  assert.ok(qthread(pi, "main").lock_hold_max_us < qthread(no, "main").lock_hold_max_us, "main holds shorter");
});

test("guest(...).qemu(...) builds the qemu field; build() applies its SpecErrors", () => {
  const q: QemuSpec = { cpus: [1], rt: { maxprio: 98, aioprio: 0, aiopolicy: "ts" }, pi_mutexes: true, disk: { format: "qcow2" } };
  const s = system().board(board("core2duo-e8500")).hypervisor(kvm()).guest(guest("vm").qemu(q)).horizon(0.01).build();
  assert.deepEqual(s.guests[0].qemu, q);
  assert.throws(() => system().board(board("core2duo-e8500")).hypervisor(kvm()).guest(guest("vm").qemu({ rt: { maxprio: 10, aioprio: 20 } })).horizon(0.01).build(),
    /guests\[0\]\.qemu\.rt\.aioprio: must be in 0\.\.10/);
});

test("the AIO pool: a thread is spawned for the first request and exits after 10 s without work", () => {
  // a hand-built KVM host (the spec's workloads never stop doing I/O): a guest task writes 20 blocks, then waits
  const sim = new Simulator("1");
  const b = resolveBoard("core2duo-e8500");
  const mk = (name: string, n: number) => new LinuxKernel(sim, {
    name, ncpus: n, hz: 250, paravirtTimeAccounting: false, preemptFull: true, preempt: "full", tunables: {},
    rtRuntime: -1, rrTimesliceMs: 100, cost: b.cost, jitterCv: 0,
  });
  const gk = mk("vm", 1), hk = mk("host", 2);
  const dev = [0, 1].map((c) => sim.timer({ onTimer: (_k, cpu, now) => hk.raiseIrq(cpu, IRQ_TIMER, now) }, 0, c));
  const host: CpuHost = {
    halt() {}, kick() {}, steal: () => 0, sendIpi(_f, to, now) { hk.raiseIrqAt(to, now + 2000); },
    setTimer(cpu, t) { if (t < 0) sim.cancel(dev[cpu]); else sim.arm(dev[cpu], t); },
    minTimerDelta: () => 0, clockReadCost: () => 0, deviceAccess: () => 1000,
  };
  hk.host = host;
  const k = new Kvm(sim, b, hk, { kind: "kvm" });
  k.addGuest({ name: "vm", vcpus: 1, qemu: { disk: { format: "raw" } }, workloads: [] }, gk, 0);
  const gb = blockOf(gk)!;
  const f = gb.open("data", 8 << 20, O_DSYNC);
  const io = new FileIo(gb);
  let n = 0, busy = false;
  gk.spawn("vm/writer", { next(t: Task, now: number) {
    if (busy && io.step(t, now)) return;
    if (busy) { busy = false; n++; }
    if (n >= 20) { t.act = A_WAIT; t.actArg = 0; return; }
    io.begin(f, IO_WRITE, n * 65536, 65536);
    busy = true;
    if (!io.step(t, now)) throw new Error("a synchronous write returned at once");
  } }, 0, [0], 0, 0);
  for (let c = 0; c < 2; c++) hk.resume(c, 0);
  const exited = (end: number) => (((k.tables(end) as Record<string, Record<string, ArrayLike<unknown>>>).qemu_threads.exited) as ArrayLike<boolean>)[2];
  sim.run(5e9);
  assert.equal(exited(5e9), false, "idle for less than 10 s: still there");
  const horizon = 12e9;
  sim.run(horizon);
  hk.settle(horizon);
  const tb = k.tables(horizon) as Record<string, Record<string, ArrayLike<unknown>>>;
  const th = tb.qemu_threads;
  const names = Array.from(th.thread as ArrayLike<string>);
  assert.equal(n, 20);
  assert.deepEqual(names, ["vcpu0", "main", "aio0"]);
  // one thread served every request, then waited 10 s for work and exited (posix-aio-compat.c aio_thread)
  assert.equal((th.exited as ArrayLike<boolean>)[2], true);
  assert.equal((tb.qemu_io.requests as ArrayLike<number>)[4], 20);
});
