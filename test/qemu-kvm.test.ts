// Issue 14 part 3: QEMU as a process of threads for KVM guests (src/virt/qemu-kvm.ts): the -rt priorities,
// the global lock taken on every exit to user space, the emulated IDE disk behind it, SpecErrors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";
import type { GuestSpec, QemuSpec, SimSpec, WorkloadSpec } from "../src/spec/types.js";

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

function specError(s: SimSpec): SpecError {
  try {
    validateSpec(s);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
    return e;
  }
  assert.fail("no SpecError");
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
