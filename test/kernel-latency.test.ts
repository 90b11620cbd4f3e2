// The kernel latency model: one clockevent per CPU multiplexing every hrtimer, hrtimer slack,
// interrupts-off and non-preemptible sections, threaded interrupts under PREEMPT_RT, the Xen
// pass-through timer, and the board presets with their provenance.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boardPresets, COST_NAMES, resolveBoard } from "../src/hw/board.js";
import { kernelData } from "../src/kernel/latency.js";
import { simulate } from "../src/simulate.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";

type Row = Record<string, any>;

function native(workloads: WorkloadSpec[], horizonS: number, opts: { board?: string; costs?: Record<string, number>; kernel?: object; jobsMax?: number } = {}): SimSpec {
  return {
    board: { preset: opts.board ?? "ideal", ...(opts.costs ? { costs_ns: opts.costs as any } : {}) },
    hypervisor: { kind: "native" }, horizon_s: horizonS,
    guests: [{ name: "linux", vcpus: 1, kernel: opts.kernel, workloads }],
    ...(opts.jobsMax ? { record: { jobs_max: opts.jobsMax } } : {}),
  };
}

test("one clockevent per CPU: every hrtimer due at the same instant is served by one interrupt", () => {
  const ws: WorkloadSpec[] = [
    { kind: "periodic", name: "a", period_us: 1000, exec: 10, policy: "fifo", priority: 20 },
    { kind: "periodic", name: "b", period_us: 2000, exec: 10, policy: "fifo", priority: 10 },
    { kind: "periodic", name: "c", period_us: 2000, exec: 10, policy: "deadline" },
  ];
  const r = simulate(native(ws, 0.1, { kernel: { rt_runtime_us: "off" } }), { seed: 1 });
  const cpu = r.rows("guest_cpus")[0] as Row;
  // releases at 1, 2, ..., 100 ms (b and c coincide with a every 2 ms); the tick is armed while a job
  // runs and fires only if it falls inside one (10-30 µs of every ms): at most a few
  assert.ok(cpu.interrupts >= 100 && cpu.interrupts <= 110, `${cpu.interrupts} timer interrupts`);
});

test("hrtimer slack: a SCHED_OTHER sleep may be deferred by up to timer_slack_ns to coalesce; RT and DL sleeps have none", () => {
  const slackUs = kernelData().timer_slack_ns.value / 1000;
  assert.equal(slackUs, 50);
  const cfs: WorkloadSpec = { kind: "periodic", name: "cfs", period_us: 10_000, exec: 100, policy: "other", offset_us: 1000 };
  const startDelay = (ws: WorkloadSpec[], name: string) => {
    const jobs = (simulate(native(ws, 0.1, { jobsMax: 1000, kernel: { rt_runtime_us: "off" } }), { seed: 1 }).rows("jobs") as Row[]).filter((j) => j.task === name);
    return new Set(jobs.map((j) => Math.round((j.start_us - j.release_us) * 1000) / 1000));
  };
  // alone: the device is programmed for the end of the range
  assert.deepEqual([...startDelay([cfs], "cfs")], [slackUs]);
  // a FIFO timer 20 µs after the release, inside the range: both expire in its interrupt
  const fifo: WorkloadSpec = { kind: "periodic", name: "fifo", period_us: 10_000, exec: 0, policy: "fifo", priority: 10, offset_us: 1020 };
  assert.deepEqual([...startDelay([cfs, fifo], "cfs")], [20]);
  assert.deepEqual([...startDelay([cfs, fifo], "fifo")], [0], "no slack for RT tasks");
  const dl: WorkloadSpec = { kind: "periodic", name: "dl", period_us: 10_000, exec: 100, policy: "deadline", offset_us: 1000 };
  assert.deepEqual([...startDelay([dl], "dl")], [0], "no slack for DL tasks");
});

test("an interrupts-off section holds the timer interrupt until it ends", () => {
  // a driver access of 300 µs with interrupts off (PREEMPT_NONE: spin_lock_irqsave around it), at a
  // rate slightly off the cyclictest grid so that expiries fall inside accesses
  const access = 300_000;
  const irq = 5_000;
  const r = simulate(native([
    { kind: "cyclictest", interval_us: 1000, samples_max: 10_000 },
    { kind: "device-io", rate_hz: 997 },
  ], 2, { costs: { device_access: access, timer_irq: irq } }), { seed: 1 });
  const s = r.rows("latency_samples") as Row[];
  const held = s.filter((x) => x.kernel_nonpreemptible_us > 0);
  assert.ok(held.length > 100, `${held.length} expiries fell inside an access`);
  const workMax = kernelData().activities.device_io.work_us as { max_us: number };
  for (const x of held) {
    // the wait, then the handler; nothing else on the zero-cost board
    assert.ok(x.kernel_nonpreemptible_us <= access / 1000 + workMax.max_us + 1e-9);
    assert.equal(x.irq_us, irq / 1000);
    assert.equal(x.latency_us, Math.trunc(x.kernel_nonpreemptible_us + irq / 1000 + 1e-9));
  }
  const c = r.rows("cyclictest")[0] as Row;
  assert.ok(c.max_latency_us >= 290 && c.max_latency_us <= 300 + workMax.max_us + irq / 1000);
  const d = r.rows("device_io")[0] as Row;
  assert.ok(d.accesses > 1900 && d.mean_access_us >= 300);
});

test("PREEMPT_RT threads device interrupts (SCHED_FIFO 50); other models run their softirqs on interrupt exit", () => {
  const ws: WorkloadSpec[] = [{ kind: "stress" }];
  const rt = simulate(native(ws, 0.5, { kernel: { preempt: "rt" } }), { seed: 1 });
  const threads = (rt.rows("tasks") as Row[]).filter((t) => t.task.startsWith("irq/"));
  assert.deepEqual(threads.map((t) => t.task).sort(), ["irq/2-net_rx/0", "irq/3-block_completion/0"]);
  for (const t of threads) assert.ok(t.wakeups > 100 && t.sum_exec_ms > 0);
  assert.equal(kernelData().irq_thread_priority.value, 50);
  for (const preempt of ["none", "voluntary", "full"]) {
    const r = simulate(native(ws, 0.5, { kernel: { preempt } }), { seed: 1 });
    assert.ok(!(r.rows("tasks") as Row[]).some((t) => t.task.startsWith("irq/")), preempt);
    assert.ok((r.rows("stress")[0] as Row).interrupts > 1000);
  }
});

test("preemption models order the latency under stress: none >= voluntary >= full >= rt (mean over four seeds); the non-RT worst cases are > 10x RT's", () => {
  // The non-RT models share the irqs-off and spinlock sections, so their worst cases in one short run
  // are draws from similar tails; the ordering shows in the mean, pooled over seeds.
  const models = ["none", "voluntary", "full", "rt"];
  const avg = [0, 0, 0, 0], max = [0, 0, 0, 0];
  for (const seed of [5, 6, 7, 8]) models.forEach((preempt, i) => {
    const c = simulate(native([{ kind: "cyclictest", interval_us: 500 }, { kind: "stress" }], 2, { kernel: { preempt } }), { seed }).rows("cyclictest")[0] as Row;
    avg[i] += c.avg_latency_us / 4;
    max[i] = Math.max(max[i], c.max_latency_us);
  });
  assert.ok(avg[0] >= avg[1] && avg[1] >= avg[2] && avg[2] >= avg[3], `mean latencies ${avg.map((x) => x.toFixed(2)).join(", ")} µs`);
  for (let i = 0; i < 3; i++) assert.ok(max[i] > 10 * max[3], `max latencies ${max.join(", ")} µs`);
});

test("Xen guest timer with both slops at 0: the clockevent fires at the programmed time (+ Xen's softirq entry); a blocked vCPU adds its wake-up path", () => {
  const spec: SimSpec = {
    board: { preset: "i7-6700", jitter_cv: 0 },
    hypervisor: { kind: "xen", timer_slop_ns: 0, pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "null" } }] },
    horizon_s: 0.2,
    guests: [{ name: "domU", vcpus: 1, pin: [[1]], type: "pvh", kernel: { xen_timer_slop_ns: 0 }, workloads: [{ kind: "cyclictest", interval_us: 1000, samples_max: 1000 }] }],
  };
  const r = simulate(spec, { seed: 1 });
  const b = resolveBoard("i7-6700");
  const s = (r.rows("latency_samples") as Row[]).slice(1);
  for (const x of s) {
    assert.equal(x.timer_slop_us, 0);
    // the VIRQ is sent from Xen's timer softirq, entered irq_injection ns after the hardware interrupt
    assert.ok(Math.abs(x.hypervisor_us * 1000 - Math.max(1, b.irqInjectionNs ?? 0)) < 1e-6, `${x.hypervisor_us}`);
    // the vCPU blocked: Xen wakes it (hv_wake), tickles its pCPU (hv_ipi_latency) and switches it in (hv_vcpu_switch)
    assert.ok(Math.abs(x.vcpu_not_running_us * 1000 - (b.cost[13] + b.cost[12] + b.cost[11])) < 1e-6, `${x.vcpu_not_running_us}`);
    assert.ok(x.clock_read_us > 0, "native rdtsc reads");
  }
});

test("board presets: topology of the paper's CPUs, every value with its provenance, the new virtualization fields", () => {
  const p = boardPresets();
  const expect: Record<string, [number, number, number, boolean]> = {
    "core2duo-e8500": [2, 1, 3160, false], "i7-6700": [8, 2, 3400, true], "xeon-w3530": [8, 2, 2800, true], "tr-2950x": [32, 2, 2400, true],
  };
  for (const [id, [cpus, tpc, mhz, tsc]] of Object.entries(expect)) {
    const b = p.get(id)!;
    assert.ok(b, id);
    assert.deepEqual([b.cpus, b.threads_per_core, b.clock_mhz, b.tsc_passthrough?.value], [cpus, tpc, mhz, tsc], id);
    for (const n of COST_NAMES) {
      const v = n in b.costs_ns ? b.costs_ns[n] : (b as any)[`${n}_ns`];
      assert.ok(v && typeof v.value === "number" && v.value >= 0 && v.provenance.length > 20, `${id} ${n}`);
    }
    for (const f of ["tsc_passthrough", "kernel_work_scale", "jitter_cv"]) assert.ok((b as any)[f].provenance.length > 20, `${id} ${f}`);
    const r = resolveBoard(id);
    assert.equal(r.tscPassthrough, tsc);
    assert.ok(r.rdtscTrapNs! > 10 * r.rdtscNativeNs!, "a trapped rdtsc costs a VM exit");
    assert.ok(r.vmEntryExitNs! > 0 && r.irqInjectionNs! > 0 && r.lapicMinDeltaNs! > 0);
  }
  // older presets keep working: the new costs default to 0
  const ideal = resolveBoard("ideal");
  assert.deepEqual([ideal.rdtscNativeNs, ideal.lapicMinDeltaNs, ideal.tscPassthrough, ideal.kernelWorkScale], [0, 0, true, 1]);
  // and every one can be overridden in a spec
  assert.equal(resolveBoard("i7-6700", { rdtsc_trap: 1234 }).rdtscTrapNs, 1234);
});

test("data/kernels: every distribution and constant has its provenance", () => {
  const d = kernelData();
  const walk = (o: any, path: string): void => {
    if (o === null || typeof o !== "object") return;
    if ("dist" in o || "value" in o) { assert.ok(typeof o.provenance === "string" && o.provenance.length > 10, path); return; }
    for (const [k, v] of Object.entries(o)) walk(v, `${path}.${k}`);
  };
  walk(d, "linux-5.0");
  for (const [name, a] of Object.entries(d.activities)) {
    if (a.context === "irq") assert.ok(a.hardirq_us && a.rt_primary_us && a.sections?.rt, name);
    else if (!a.access_section) for (const m of ["none", "voluntary", "full", "rt"] as const) assert.ok(a.sections?.[m], `${name}/${m}`);
  }
});

test("cyclictest runs natively on every preset, NRT and RT, with and without stress", () => {
  for (const board of ["core2duo-e8500", "i7-6700", "xeon-w3530", "tr-2950x"]) {
    for (const preempt of ["none", "rt"]) {
      for (const stress of [false, true]) {
        const ws: WorkloadSpec[] = [{ kind: "cyclictest", interval_us: 1000 }, ...(stress ? [{ kind: "stress" } as WorkloadSpec] : [])];
        const c = simulate(native(ws, 0.3, { board, kernel: { preempt } }), { seed: 1 }).rows("cyclictest")[0] as Row;
        assert.ok(c.cycles >= 290 && c.min_latency_us >= 1 && c.max_latency_us >= c.min_latency_us, `${board} ${preempt} ${stress}`);
        if (!stress) assert.ok(c.max_latency_us < 20, `${board} ${preempt}: idle max ${c.max_latency_us} µs`);
      }
    }
  }
});
