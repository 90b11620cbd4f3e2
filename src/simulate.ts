/**
 * simulate(spec, {seed}): builds the modelled system from a validated spec,
 * runs it and collects the result tables. A pure function of (spec, seed).
 */
import { MS, SEC, Simulator, type TimerTarget } from "./engine/sim.js";
import { boardCost, C, resolveBoard, type Board } from "./hw/board.js";
import { IRQ_TIMER, LinuxKernel, type CpuHost } from "./kernel/linux.js";
import { createScheduler } from "./sched/xen/index.js";
import { KERNEL_DEFAULTS, XEN_DEFAULTS } from "./spec/defaults.js";
import { validateSimulateOptions, validateSpec } from "./spec/validate.js";
import type { GuestSpec, SimSpec } from "./spec/types.js";
import { Kvm } from "./virt/kvm.js";
import { XenDeviceModels } from "./virt/qemu.js";
import { Housekeeping } from "./workloads/housekeeping.js";
import { RS_BLOCKED, RS_OFFLINE, RS_RUNNABLE, RS_RUNNING, Xen, type VCpu } from "./virt/xen.js";
import { Context1 } from "./workloads/context1.js";
import { CpuHog } from "./workloads/hog.js";
import { JobLog, PeriodicTasks } from "./workloads/periodic.js";
import type { PeriodicSpec } from "./spec/types.js";
import { SimResult, type Columns } from "./results/result.js";
import { Cyclictest, LATENCY_COMPONENT_COLUMNS } from "./workloads/cyclictest.js";
import { DeviceIo } from "./workloads/deviceio.js";
import { Stress } from "./workloads/stress.js";
import { LAT_COMPONENTS } from "./kernel/linux.js";

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Seed of every random stream (default 1). Same spec + same seed = identical tables. */
  seed?: number | string;
  /** Called with the fraction of simulated time done, about every 5 %. */
  onProgress?: (fraction: number) => void;
}

function kernelFor(sim: Simulator, board: Board, g: GuestSpec): LinuxKernel {
  const k = g.kernel ?? {};
  return new LinuxKernel(sim, {
    name: g.name,
    ncpus: g.vcpus,
    hz: k.hz ?? KERNEL_DEFAULTS.hz,
    paravirtTimeAccounting: k.paravirt_time_accounting ?? false,
    preemptFull: k.preempt === "full",
    preempt: k.preempt ?? "none",
    kernelWorkScale: board.kernelWorkScale ?? 1,
    tunables: {
      latency: k.sched_latency_ns,
      minGranularity: k.sched_min_granularity_ns,
      wakeupGranularity: k.sched_wakeup_granularity_ns,
      gentleFairSleepers: k.gentle_fair_sleepers,
    },
    rtRuntime: k.rt_runtime_us === "off" ? -1 : (k.rt_runtime_us ?? KERNEL_DEFAULTS.rt_runtime_us) * 1000,
    rtPeriod: (k.rt_period_us ?? KERNEL_DEFAULTS.rt_period_us) * 1000,
    rrTimesliceMs: k.rr_timeslice_ms ?? KERNEL_DEFAULTS.rr_timeslice_ms,
    cost: board.cost,
    jitterCv: board.jitterCv,
  });
}

/**
 * Bare metal: CPUs never lose the processor; halting is WFI. Each CPU's
 * clockevent device is its local APIC timer (TSC-deadline or one-shot
 * count), modelled as a simulator timer that fires exactly when programmed,
 * with the board's minimum delta; a clock read is a native rdtsc; a device
 * register access costs the board's device_access.
 */
class NativeHost implements CpuHost, TimerTarget {
  kernel!: LinuxKernel;
  private readonly dev: number[] = [];
  constructor(private readonly sim: Simulator, private readonly board: Board, ncpus: number) {
    for (let i = 0; i < ncpus; i++) this.dev.push(sim.timer(this, 0, i));
  }
  halt(): void {}
  kick(): void {}
  sendIpi(_from: number, to: number, now: number): void {
    this.kernel.raiseIrqAt(to, now + boardCost(this.board, C.hv_ipi_latency));
  }
  steal(): number {
    return 0;
  }
  setTimer(cpu: number, t: number): void {
    if (t < 0) this.sim.cancel(this.dev[cpu]);
    else this.sim.arm(this.dev[cpu], t);
  }
  minTimerDelta(): number {
    return this.board.lapicMinDeltaNs ?? 0;
  }
  clockReadCost(): number {
    return this.board.rdtscNativeNs ?? 0;
  }
  deviceAccess(): number {
    return boardCost(this.board, C.device_access);
  }
  onTimer(_kind: number, cpu: number, now: number): void {
    this.kernel.raiseIrq(cpu, IRQ_TIMER, now);
  }
}

/**
 * Runs one simulation. Validates the spec first (throwing a SpecError that
 * names every bad field) and returns a {@link SimResult}.
 */
export function simulate(specIn: SimSpec, opts: SimulateOptions = {}): SimResult {
  // the one validation (the same as build()'s): fields, ranges and every cross-field rule
  const spec = validateSpec(specIn);
  validateSimulateOptions(opts);
  const board = resolveBoard(spec.board.preset, spec.board.costs_ns, spec.board.jitter_cv);
  const seed = String(opts.seed ?? 1);
  const sim = new Simulator(seed);
  const horizon = Math.round(spec.horizon_s * SEC);
  const from = Math.round((spec.warmup_s ?? 0) * SEC);
  const wall0 = performance.now();

  const kernels: LinuxKernel[] = [];
  const c1: { guest: string; w: Context1 }[] = [];
  const hogs: { guest: string; w: CpuHog }[] = [];
  const periodic: { guest: string; w: PeriodicTasks }[] = [];
  const cyclic: { guest: string; w: Cyclictest }[] = [];
  const stresses: { guest: string; w: Stress }[] = [];
  const devio: { guest: string; w: DeviceIo }[] = [];
  const jobLog = new JobLog(spec.record?.jobs_max ?? 0);
  let xen: Xen | null = null;
  const trace = { t: [] as number[], pcpu: [] as number[], prev: [] as string[], next: [] as string[] };
  const traceMax = spec.record?.trace_max ?? 0;

  // the OS instances: every guest, plus the host kernel under KVM (named "host")
  const hv = spec.hypervisor;
  const units: GuestSpec[] = spec.guests.slice();
  if (hv.kind === "kvm") units.push({ name: "host", vcpus: board.cpus, kernel: hv.host_kernel, workloads: hv.host_workloads ?? [] });
  for (const g of units) kernels.push(kernelFor(sim, board, g));
  let kvm: Kvm | null = null;
  let dms: XenDeviceModels | null = null;

  if (hv.kind === "xen") {
    const x = new Xen(sim, board);
    x.timerSlopNs = hv.timer_slop_ns ?? XEN_DEFAULTS.timer_slop_ns;
    xen = x;
    const pools = new Map<string, ReturnType<Xen["addPool"]>>();
    for (const ps of hv.pools) {
      const pool = x.addPool(ps.name, ps.cpus, (p) => createScheduler(x, p, ps.scheduler, board, spec));
      pools.set(ps.name, pool);
    }
    spec.guests.forEach((g, i) => {
      const pool = pools.get(g.pool ?? hv.pools[0].name)!;
      x.addDomain(g, pool, kernels[i]);
    });
    // one QEMU device model in Dom0 per HVM guest
    const d0 = x.domains.find((d) => d.spec.dom0);
    if (d0) dms = new XenDeviceModels(x, d0, 0, from);
    if (traceMax > 0) {
      x.trace = {
        onSwitch(pcpu, prev, next, now) {
          if (trace.t.length >= traceMax) return;
          trace.t.push(now); trace.pcpu.push(pcpu);
          trace.prev.push(prev ? prev.name : "idle"); trace.next.push(next ? next.name : "idle");
        },
      };
    }
  } else if (hv.kind === "kvm") {
    const hk = kernels[units.length - 1];
    const host = new NativeHost(sim, board, hk.cpus.length);
    host.kernel = hk;
    hk.host = host;
    const k = new Kvm(sim, board, hk, hv);
    spec.guests.forEach((g, i) => k.addGuest(g, kernels[i], 0));
    kvm = k;
  } else {
    const host = new NativeHost(sim, board, kernels[0].cpus.length);
    host.kernel = kernels[0];
    kernels[0].host = host;
  }

  // workloads
  const hk: { guest: string; w: Housekeeping }[] = [];
  units.forEach((g, i) => {
    const k = kernels[i];
    const all = Array.from({ length: g.vcpus }, (_, j) => j);
    const rtSpecs = g.workloads.filter((w): w is PeriodicSpec => w.kind === "periodic");
    g.workloads.forEach((w, wi) => {
      if (w.kind === "periodic") {
        // every periodic task of the guest is created where the first one is listed
        if (w !== rtSpecs[0]) return;
        const pw = new PeriodicTasks(sim, k, g.name, jobLog, from);
        pw.addAll(rtSpecs, all, 0);
        periodic.push({ guest: g.name, w: pw });
        return;
      }
      if (w.kind === "context1") {
        c1.push({ guest: g.name, w: new Context1(sim, k, `${g.name}/context1#${wi}`, {
          cpus: w.cpus ?? all, userNs: w.user_ns ?? 100, sampleNs: (w.sample_us ?? 1000) * 1000, from,
        }, 0) });
      } else if (w.kind === "cpu-hog") {
        hogs.push({ guest: g.name, w: new CpuHog(k, `${g.name}/hog#${wi}`, w.count ?? 1, w.cpus ?? all, w.nice ?? 0, 0, w.work_ms ?? Infinity) });
      } else if (w.kind === "cyclictest") {
        cyclic.push({ guest: g.name, w: new Cyclictest(k, `${g.name}/cyclictest#${wi}`, cyclic.length, w, from, 0) });
      } else if (w.kind === "stress") {
        stresses.push({ guest: g.name, w: new Stress(sim, k, `${g.name}/stress#${wi}`, w, all, 0) });
      } else if (w.kind === "device-io") {
        devio.push({ guest: g.name, w: new DeviceIo(k, `${g.name}/device-io#${wi}`, w, all, from, 0) });
      } else if (w.kind === "housekeeping") {
        hk.push({ guest: g.name, w: new Housekeeping(sim, k, `${g.name}/housekeeping#${wi}`, w, all, 0) });
      }
    });
  });

  if (xen) xen.start(0);
  else {
    const native = kernels[kernels.length - 1]; // the bare-metal OS, or the KVM host
    for (let c = 0; c < native.cpus.length; c++) native.resume(c, 0);
    if (kvm) kvm.start(0);
  }

  const step = Math.max(Math.floor(horizon / 20), MS);
  sim.run(horizon, opts.onProgress ? (now) => opts.onProgress!(now / horizon) : undefined, opts.onProgress ? step : 0);
  const end = sim.now;
  for (const k of kernels) k.settle(end);

  // ---- tables
  const tables: Record<string, Columns> = {};
  const durS = (end - from) / SEC;
  if (xen) {
    const x = xen;
    const vc = x.vcpus;
    const rs = (v: VCpu, st: number) => x.runstateTime(v, st, end) / MS;
    tables.vcpus = {
      domain: vc.map((v) => v.dom.name), vcpu: vc.map((v) => v.idx), pool: vc.map((v) => v.dom.pool.name),
      running_ms: vc.map((v) => rs(v, RS_RUNNING)), runnable_ms: vc.map((v) => rs(v, RS_RUNNABLE)),
      blocked_ms: vc.map((v) => rs(v, RS_BLOCKED)), offline_ms: vc.map((v) => rs(v, RS_OFFLINE)),
      switches_in: vc.map((v) => v.switchesIn),
    };
    const pc = x.pcpus.filter((p) => p !== undefined);
    tables.pcpus = {
      pcpu: pc.map((p) => p.idx), pool: pc.map((p) => p.pool.name),
      busy_ms: pc.map((p) => x.busyNs(p.idx, end) / MS), idle_ms: pc.map((p) => (end - x.busyNs(p.idx, end)) / MS),
      switches: pc.map((p) => p.switches),
    };
    if (traceMax > 0) tables.trace = { t_ms: trace.t.map((t) => t / MS), pcpu: trace.pcpu, prev: trace.prev, next: trace.next };
  }
  const tk = kernels.flatMap((k, i) => k.tasks.map((t) => ({ g: units[i].name, t })));
  tables.tasks = {
    domain: tk.map((x) => x.g), task: tk.map((x) => x.t.name), cpu: tk.map((x) => x.t.cpu),
    sum_exec_ms: tk.map((x) => x.t.sumExec / MS), vruntime_ms: tk.map((x) => x.t.vruntime / MS),
    nvcsw: tk.map((x) => x.t.nvcsw), nivcsw: tk.map((x) => x.t.nivcsw), wakeups: tk.map((x) => x.t.wakeups),
    // periodic real-time tasks (0, or null for response times, for other tasks); migrations for every task
    jobs: tk.map((x) => (x.t.prog instanceof PeriodicTasks ? x.t.prog.jobs[x.t.tag] : 0)),
    preemptions: tk.map((x) => (x.t.prog instanceof PeriodicTasks ? x.t.prog.preemptionsAt(x.t.tag, x.t) : 0)),
    migrations: tk.map((x) => x.t.nrMigrations),
    deadline_misses: tk.map((x) => (x.t.prog instanceof PeriodicTasks ? x.t.prog.missesAt(x.t.tag, end) : 0)),
    max_response_us: tk.map((x) => (x.t.prog instanceof PeriodicTasks && x.t.prog.jobs[x.t.tag] > 0 ? x.t.prog.maxResp[x.t.tag] / 1000 : null)),
    mean_response_us: tk.map((x) => (x.t.prog instanceof PeriodicTasks && x.t.prog.jobs[x.t.tag] > 0 ? x.t.prog.sumResp[x.t.tag] / x.t.prog.jobs[x.t.tag] / 1000 : null)),
  };
  if (jobLog.max > 0) {
    const L = jobLog, n = L.n;
    const col = (f: (i: number) => unknown) => Array.from({ length: n }, (_, i) => f(i));
    tables.jobs = {
      task: col((i) => L.names[L.task[i]]), job: col((i) => L.job[i]),
      release_us: col((i) => L.release[i] / 1000), start_us: col((i) => L.start[i] / 1000), finish_us: col((i) => L.finish[i] / 1000),
      response_us: col((i) => (L.finish[i] - L.release[i]) / 1000),
      deadline_miss: col((i) => L.finish[i] - L.release[i] > L.deadline[L.task[i]]),
    };
  }
  const kc = kernels.flatMap((k, i) => k.cpus.map((c) => ({ g: units[i].name, k, c })));
  tables.guest_cpus = {
    domain: kc.map((x) => x.g), cpu: kc.map((x) => x.c.idx),
    busy_ms: kc.map((x) => x.k.busyNs(x.c.idx, end) / MS), context_switches: kc.map((x) => x.c.switches),
    interrupts: kc.map((x) => x.c.irqs), ipis_sent: kc.map((x) => x.c.ipisSent),
    // time an interrupt waited for the (v)CPU to be run by its host
    irq_wait_suspended_ms: kc.map((x) => (x.c.irqWhileSuspendedNs + (x.c.pendingSince >= 0 ? end - x.c.pendingSince : 0)) / MS),
  };
  const finite = hogs.filter((h) => Number.isFinite(h.w.workMs));
  if (finite.length) {
    const rows = finite.flatMap((h) => h.w.tasks.map((t, i) => ({ g: h.guest, t, work: h.w.workMs, fin: h.w.finishNs[i] })));
    tables.programs = {
      domain: rows.map((x) => x.g), task: rows.map((x) => x.t.name), work_ms: rows.map((x) => x.work),
      finish_ms: rows.map((x) => (x.fin >= 0 ? x.fin / MS : null)),
    };
  }
  if (c1.length) {
    tables.context1 = {
      domain: c1.map((x) => x.guest), loops: c1.map((x) => x.w.loops), duration_s: c1.map(() => durS),
      loops_per_s: c1.map((x) => x.w.loops / durS),
      fast_handoffs: c1.map((x) => x.w.fast), slow_handoffs: c1.map((x) => x.w.slow), other_handoffs: c1.map((x) => x.w.other),
      // share of loops whose hand-off was a wake-up preemption on write (fast pattern)
      fast_share: c1.map((x) => (x.w.loops ? Math.min(1, x.w.fast / x.w.loops) : 0)),
    };
    const w = c1[0];
    if (w.w.sT.n > 0) {
      const t = w.w.sT.toArray(), gap = w.w.sGap.toArray(), ex = w.w.sExec.toArray();
      tables.context1_gap = {
        domain: Array.from(t, () => w.guest),
        t_ms: Array.from(t, (x) => x / MS), gap_ms: Array.from(gap, (x) => x / MS), pair_exec_ms: Array.from(ex, (x) => x / MS),
        fast_handoffs: w.w.sFast.toArray(), slow_handoffs: w.w.sSlow.toArray(),
      };
    }
  }
  if (cyclic.length) Object.assign(tables, cyclictestTables(cyclic));
  if (kvm) tables.vcpu_threads = kvm.table(end);
  if (dms) tables.device_models = dms.table();
  if (devio.length) {
    tables.device_io = {
      domain: devio.map((x) => x.guest), task: devio.map((x) => x.w.task.name), accesses: devio.map((x) => x.w.accesses),
      mean_access_us: devio.map((x) => (x.w.accesses ? x.w.sumNs / x.w.accesses / 1000 : null)),
      max_access_us: devio.map((x) => (x.w.accesses ? x.w.maxNs / 1000 : null)),
    };
  }
  if (stresses.length) {
    tables.stress = {
      domain: stresses.map((x) => x.guest), processes: stresses.map((x) => x.w.tasks.length),
      kernel_activities: stresses.map((x) => x.w.activities), io_waits: stresses.map((x) => x.w.ioWaits), interrupts: stresses.map((x) => x.w.interrupts),
    };
  }
  return new SimResult(spec, seed, tables, { events: sim.events, wall_ms: performance.now() - wall0, simulated_s: end / SEC });
}

/** The cyclictest tables: per thread, histogram, overflow cycles, samples, breakdown. */
function cyclictestTables(cyclic: { guest: string; w: Cyclictest }[]): Record<string, Columns> {
  const out: Record<string, Columns> = {};
  const ws = cyclic.map((x) => x.w);
  const nn = (w: Cyclictest, v: number) => (w.cycles > 0 ? v : null);
  out.cyclictest = {
    domain: cyclic.map((x) => x.guest), thread: ws.map((w) => w.thread), cpu: ws.map((w) => w.cpu),
    priority: ws.map((w) => w.priority), interval_us: ws.map((w) => w.interval / 1000), cycles: ws.map((w) => w.cycles),
    min_latency_us: ws.map((w) => nn(w, w.min)), avg_latency_us: ws.map((w) => nn(w, w.sum / w.cycles)),
    max_latency_us: ws.map((w) => nn(w, w.max)), overflows: ws.map((w) => w.overflows),
    p50_latency_us: ws.map((w) => w.percentile(50)), p99_latency_us: ws.map((w) => w.percentile(99)),
    p999_latency_us: ws.map((w) => w.percentile(99.9)), histogram_us: ws.map((w) => w.histogramUs),
  };
  const hd: string[] = [], ht: number[] = [], hu: number[] = [], hc: number[] = [];
  const od: string[] = [], ot: number[] = [], oc: number[] = [];
  cyclic.forEach(({ guest, w }) => {
    const h = w.histogramRows();
    for (let i = 0; i < h.us.length; i++) { hd.push(guest); ht.push(w.thread); hu.push(h.us[i]); hc.push(h.count[i]); }
    const o = w.outliers.toArray();
    for (let i = 0; i < o.length; i++) { od.push(guest); ot.push(w.thread); oc.push(o[i]); }
  });
  out.latency_hist = { domain: hd, thread: ht, latency_us: hu, count: hc };
  out.latency_overflows = { domain: od, thread: ot, cycle: oc };
  const bd: string[] = [], bt: number[] = [], bc: string[] = [], bm: (number | null)[] = [], bx: (number | null)[] = [], bs: number[] = [];
  cyclic.forEach(({ guest, w }) => {
    const totalUs = w.sum;
    LAT_COMPONENTS.forEach((c, i) => {
      bd.push(guest); bt.push(w.thread); bc.push(c);
      bm.push(w.cycles > 0 ? w.compSum[i] / w.cycles / 1000 : null);
      bx.push(w.cycles > 0 ? w.compMax[i] / 1000 : null);
      bs.push(totalUs > 0 ? (w.compSum[i] / 1000 / totalUs) * 100 : 0);
    });
  });
  out.latency_breakdown = { domain: bd, thread: bt, component: bc, mean_us: bm, max_us: bx, share_pct: bs };
  if (ws.some((w) => w.sCycle.n > 0)) {
    const cols: Record<string, number[] | string[]> = { domain: [], thread: [], cycle: [], expiry_us: [], latency_us: [] };
    for (const c of LATENCY_COMPONENT_COLUMNS) cols[c] = [];
    cyclic.forEach(({ guest, w }) => {
      const n = w.sCycle.n;
      for (let k = 0; k < n; k++) {
        (cols.domain as string[]).push(guest);
        (cols.thread as number[]).push(w.thread);
        (cols.cycle as number[]).push(w.sCycle.data[k]);
        (cols.expiry_us as number[]).push(w.sExpiry.data[k] / 1000);
        (cols.latency_us as number[]).push(w.sLatency.data[k]);
        LATENCY_COMPONENT_COLUMNS.forEach((c, i) => (cols[c] as number[]).push(w.sComp[i].data[k] / 1000));
      }
    });
    out.latency_samples = cols;
  }
  return out;
}
