// Issue 14 (H1): the Core2 T5500 board with SMIs on CPU 0, kernel versions 2.6.29/2.6.31 (CFS defaults,
// data preset, the sirq-hrtimer thread of 2.6.31-rt), the cache-interference model and the calibrator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";
import { boardPresets, resolveBoard } from "../src/hw/board.js";
import { cfsTunables } from "../src/sched/linux/cfs.js";
import { cfsBaseFor } from "../src/kernel/versions.js";
import { kernelData } from "../src/kernel/latency.js";
import { calibratorRanges } from "../src/workloads/calibrator.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";

type Row = Record<string, any>;
const cyc = (cpu = 0): WorkloadSpec => ({ kind: "cyclictest", interval_us: 1000, priority: 99, histogram_us: 100000, cpu });
const rows = (spec: SimSpec, name: string): Row[] => simulate(spec, { seed: 1 }).rows(name as any) as Row[];

test("core2-t5500 preset: the paper's CPU with provenance, no VMX-preemption timer, SMI and LLC data", () => {
  const p = boardPresets().get("core2-t5500")!;
  assert.deepEqual([p.cpus, p.clock_mhz, p.threads_per_core], [2, 1660, 1]);
  assert.match(p.provenance, /1\.6 GHz/);
  assert.match(p.provenance, /1\.66 GHz/);
  const b = resolveBoard("core2-t5500");
  assert.equal(b.vmxPreemptionTimer, false);
  assert.deepEqual(b.smi!.cpus, [0]);
  assert.equal(b.llc!.sizeBytes, 2 * 1024 * 1024);
  // a 2.6.31 kernel has no PTI: syscalls cost less than on the E8500 preset under 5.0, in cycles too
  const e = resolveBoard("core2duo-e8500");
  assert.ok(b.cost[0] * 1.66 < e.cost[0] * 3.16, "syscall cycles below the E8500's PTI syscall");
  // VMX round trip of Merom: well above the Penryn preset's
  assert.ok(b.vmEntryExitNs! * 1.66 > 1500 && b.vmEntryExitNs! * 1.66 < 2500, `${b.vmEntryExitNs}`);
  // board.smi: false removes the SMIs; other boards have none
  assert.equal(resolveBoard("core2-t5500", undefined, undefined, false).smi, null);
  assert.equal(resolveBoard("i7-6700").smi, null);
  assert.equal(resolveBoard("i7-6700").llc, null);
});

test("SMIs stop CPU 0 only: native cyclictest max on CPU 0 reaches hundreds of µs, CPU 1 stays low; board.smi false removes them", () => {
  const spec = (smi: boolean): SimSpec => ({
    board: { preset: "core2-t5500", smi }, horizon_s: 10, hypervisor: { kind: "native" },
    guests: [{ name: "linux", vcpus: 2, kernel: { version: "2.6.31", preempt: "rt" }, workloads: [cyc(0), cyc(1)] }],
  });
  const r = simulate(spec(true), { seed: 1 });
  const c = r.rows("cyclictest") as Row[];
  const c0 = c.find((x) => x.cpu === 0)!, c1 = c.find((x) => x.cpu === 1)!;
  assert.ok(c0.max_latency_us >= 100, `CPU 0 max ${c0.max_latency_us}`);
  assert.ok(c1.max_latency_us < 50, `CPU 1 max ${c1.max_latency_us}`);
  const s = r.rows("smi" as any) as Row[];
  assert.deepEqual(s.map((x) => x.cpu), [0]);
  assert.ok(s[0].smis >= 1 && s[0].smm_ms > 0.1);
  const off = rows(spec(false), "cyclictest");
  assert.ok(off.every((x) => x.max_latency_us < 50), `no SMI: ${off.map((x) => x.max_latency_us)}`);
  assert.ok(!simulate(spec(false), { seed: 1 }).tableNames.includes("smi" as any));
});

test("2.6.31-rt host: the guest timer goes through sirq-hrtimer; below a FIFO 98 hog it is delayed, at 99 it is not", () => {
  const spec = (prio: number): SimSpec => ({
    board: { preset: "core2-t5500", smi: false }, horizon_s: 2,
    hypervisor: {
      kind: "kvm", host_kernel: { version: "2.6.31", preempt: "rt", hrtimer_thread_priority: prio },
      host_workloads: [{ kind: "periodic", name: "hog", period_us: 10000, exec: 3000, policy: "fifo", priority: 98, cpus: [1] }],
    },
    guests: [{
      name: "guest", vcpus: 1, kernel: { version: "2.6.29", preempt: "rt" },
      vcpu_thread: { policy: "fifo", priority: 99, cpus: [1] }, workloads: [cyc(0)],
    }],
  });
  const lo = simulate(spec(50), { seed: 1 }), hi = simulate(spec(99), { seed: 1 });
  const l = (lo.rows("cyclictest") as Row[])[0], h = (hi.rows("cyclictest") as Row[])[0];
  assert.ok(l.max_latency_us > 1000, `hrtimer thread at 50 under the FIFO 98 hog: max ${l.max_latency_us}`);
  assert.ok(h.max_latency_us < 200, `hrtimer thread at 99: max ${h.max_latency_us}`);
  assert.ok(l.avg_latency_us > h.avg_latency_us + 50, `avg ${l.avg_latency_us} vs ${h.avg_latency_us}`);
  // the thread exists, on the vCPU thread's CPU, with the priority given
  const t = (hi.rows("tasks") as Row[]).find((x) => x.domain === "host" && x.task === "sirq-hrtimer/1");
  assert.ok(t && t.wakeups > 1000, "sirq-hrtimer/1 ran the guest timer callbacks");
  // on a PREEMPT 2.6.31 host the callback runs in hard interrupt context: no such thread, no delay by the hog
  const full = simulate({ ...spec(99), hypervisor: { ...(spec(99).hypervisor as any), host_kernel: { version: "2.6.31", preempt: "full" } } }, { seed: 1 });
  assert.ok(!(full.rows("tasks") as Row[]).some((x) => x.task.startsWith("sirq-hrtimer")));
  assert.ok((full.rows("cyclictest") as Row[])[0].max_latency_us < 1000);
});

test("cache interference: a calibrator on the shared L2 raises a KVM guest's cyclictest mean; a plain hog does not charge anything", () => {
  const spec = (load: WorkloadSpec): SimSpec => ({
    board: { preset: "core2-t5500", smi: false }, horizon_s: 15,
    hypervisor: { kind: "kvm", host_kernel: { version: "2.6.31", preempt: "rt", hrtimer_thread_priority: 99 }, host_workloads: [load] },
    guests: [{
      name: "guest", vcpus: 1, kernel: { version: "2.6.29", preempt: "rt" },
      vcpu_thread: { policy: "fifo", priority: 97, cpus: [1] }, workloads: [cyc(0)],
    }],
  });
  const cal = simulate(spec({ kind: "calibrator", mhz: 1660, size_bytes: 4194304, cpus: [1] }), { seed: 1 });
  const hog = simulate(spec({ kind: "cpu-hog", cpus: [1] }), { seed: 1 });
  const a = (cal.rows("cyclictest") as Row[])[0], b = (hog.rows("cyclictest") as Row[])[0];
  assert.ok(a.avg_latency_us > b.avg_latency_us + 1, `calibrator avg ${a.avg_latency_us} vs hog ${b.avg_latency_us}`);
  const l = cal.rows("llc" as any) as Row[];
  const vm = l.find((x) => x.domain === "host" && x.path === "vm_entry_exit");
  assert.ok(vm && vm.extra_us > 0 && vm.evicted_lines > 0, "VM exits/entries were charged");
  assert.ok(l.some((x) => x.domain === "guest" && x.path === "context_switch" && x.extra_us > 0), "guest paths too (vCPU on the shared L2)");
  // no memory-bound task: no charge at all
  assert.ok(!hog.tableNames.includes("llc" as any));
  // a board without llc data: the calibrator is only a CPU-bound process
  const e = simulate({ ...spec({ kind: "calibrator", cpus: [1] }), board: { preset: "core2duo-e8500" } }, { seed: 1 });
  assert.ok(!e.tableNames.includes("llc" as any));
});

test("calibrator ranges follow runCache: 1 KB x 2^k x {0.75, 1, 1.25} up to the buffer size", () => {
  const r = calibratorRanges(4194304);
  assert.deepEqual(r.slice(0, 4), [768, 1024, 1280, 1536]);
  assert.equal(r[r.length - 1], 4194304);
  assert.ok(r.every((x, i) => i === 0 || x > r[i - 1]));
});

test("kernel versions: 2.6.31's CFS defaults are kernel/sched_fair.c's, and 5.10 is unchanged", () => {
  const t31 = cfsTunables(2, cfsBaseFor({ version: "2.6.31" }, 2));
  assert.deepEqual([t31.latency, t31.minGranularity, t31.wakeupGranularity, t31.nrLatency, t31.gentleFairSleepers], [40e6, 8e6, 10e6, 5, false]);
  const t29 = cfsTunables(1, cfsBaseFor({ version: "2.6.29" }, 1));
  assert.deepEqual([t29.latency, t29.minGranularity, t29.wakeupGranularity], [20e6, 4e6, 5e6]);
  const t510 = cfsTunables(2, cfsBaseFor({ version: "5.10" }, 2));
  assert.deepEqual([t510.latency, t510.minGranularity, t510.wakeupGranularity, t510.nrLatency, t510.gentleFairSleepers], [12e6, 1.5e6, 2e6, 8, true]);
  // 2.6.31 scales by 1 + ilog2(ncpus) without 5.10's cap at 8 CPUs
  assert.equal(cfsTunables(16, cfsBaseFor({ version: "2.6.31" }, 16)).latency, 100e6);
  assert.equal(cfsTunables(16, cfsBaseFor({ version: "5.10" }, 16)).latency, 24e6);
  // and limits latency and min_granularity to 200 ms (sched_init_granularity of 2.6.31)
  assert.equal(cfsTunables(4096, cfsBaseFor({ version: "2.6.31" }, 4096)).latency, 200e6);
  // overrides still apply
  assert.equal(cfsTunables(1, cfsBaseFor({ version: "2.6.31", sched_latency_ns: 6e6 }, 1)).latency, 6e6);
  // the data preset of the era exists, with the sirq-hrtimer default
  const d = kernelData("linux-2.6.31");
  assert.equal(d.hrtimer_thread_priority!.value, 50);
  assert.ok(d.activities.hrtimer_softirq.sections!.rt);
});

test("kernel versions behave differently: two CFS hogs on one CPU switch less often on 2.6.31 (20 ms latency) than on 5.10 (6 ms)", () => {
  const spec = (version: "5.10" | "2.6.31"): SimSpec => ({
    board: { preset: "core2-t5500", smi: false }, horizon_s: 1, hypervisor: { kind: "native" },
    guests: [{ name: "linux", vcpus: 1, kernel: { version, hz: 1000 }, workloads: [{ kind: "cpu-hog", count: 2 }] }],
  });
  const sw = (v: "5.10" | "2.6.31") => (rows(spec(v), "guest_cpus")[0]).context_switches as number;
  const a = sw("5.10"), b = sw("2.6.31");
  assert.ok(a > 2.5 * b, `5.10 ${a} switches vs 2.6.31 ${b}`);
});

test("bad input: hrtimer_thread_priority needs a 2.6.x PREEMPT_RT kernel and 1..99; versions and calibrator sizes are checked", () => {
  const base = (hk: Record<string, unknown>, w: WorkloadSpec[] = []): any => ({
    board: { preset: "core2-t5500" }, horizon_s: 1,
    hypervisor: { kind: "kvm", host_kernel: hk, host_workloads: w },
    guests: [{ name: "g", vcpus: 1, workloads: [] }],
  });
  const err = (s: any): SpecError => {
    try { validateSpec(s); } catch (e) { assert.ok(e instanceof SpecError, String(e)); return e; }
    assert.fail("no SpecError");
  };
  let e = err(base({ version: "2.6.31", preempt: "full", hrtimer_thread_priority: 99 }));
  assert.equal(e.issues[0].path, "hypervisor.host_kernel.hrtimer_thread_priority");
  assert.match(e.issues[0].message, /PREEMPT_RT/);
  e = err(base({ preempt: "rt", hrtimer_thread_priority: 99 }));
  assert.equal(e.issues[0].path, "hypervisor.host_kernel.hrtimer_thread_priority");
  assert.match(e.issues[0].message, /2\.6\.29.*2\.6\.31/);
  e = err(base({ version: "2.6.31", preempt: "rt", hrtimer_thread_priority: 100 }));
  assert.equal(e.issues[0].path, "hypervisor.host_kernel.hrtimer_thread_priority");
  assert.match(e.issues[0].message, /1\.\.99/);
  e = err(base({ version: "2.6.30" }));
  assert.equal(e.issues[0].path, "hypervisor.host_kernel.version");
  e = err(base({}, [{ kind: "calibrator", size_bytes: 100 } as WorkloadSpec]));
  assert.equal(e.issues[0].path, "hypervisor.host_workloads[0].size_bytes");
  e = err({ ...base({}), board: { preset: "core2-t5500", smi: "yes" } });
  assert.equal(e.issues[0].path, "board.smi");
  // valid
  validateSpec(base({ version: "2.6.31", preempt: "rt", hrtimer_thread_priority: 99 }, [{ kind: "calibrator", mhz: 1660, size_bytes: 4194304, cpus: [1] }]));
});
