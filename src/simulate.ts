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
import { Xen } from "./virt/xen.js";
import { SimResult } from "./results/result.js";
import type { TableSet, TableSource } from "./results/tables.js";
import type { Task } from "./kernel/task.js";
import { WorkloadSets, type TaskStats } from "./workloads/registry.js";
import { guestCostTable } from "./virt/pvops/latency.js";
import { recordKernel, recordXen, TraceEvents } from "./trace/record.js";
// --- issue 14 board/kernel/cache: begin
import { cfsBaseFor, isLegacy26, kernelDataId } from "./kernel/versions.js";
import { SmiNoise } from "./hw/smi.js";
import { LlcModel } from "./hw/cache.js";
// --- issue 14 board/kernel/cache: end

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
    cpuMeltdown: board.meltdown ?? false,
    // issue 14: the version's CFS defaults (5.10: the spec's values as they are)
    tunables: cfsBaseFor(k, g.vcpus),
    kernelData: kernelDataId(k.version),
    rtRuntime: k.rt_runtime_us === "off" ? -1 : (k.rt_runtime_us ?? KERNEL_DEFAULTS.rt_runtime_us) * 1000,
    rtPeriod: (k.rt_period_us ?? KERNEL_DEFAULTS.rt_period_us) * 1000,
    rrTimesliceMs: k.rr_timeslice_ms ?? KERNEL_DEFAULTS.rr_timeslice_ms,
    // RT runtime sharing between CPUs: unconditional in 2.6.25-3.1 (RT_RUNTIME_SHARE, default on, until 5.10)
    rtRuntimeShare: isLegacy26(k.version),
    // issue 11: a PV guest's costs carry its privileged operations (hypercalls, traps, bounces)
    cost: guestCostTable(board, g),
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
  const board = resolveBoard(spec.board.preset, spec.board.costs_ns, spec.board.jitter_cv, spec.board.smi ?? true);
  const seed = String(opts.seed ?? 1);
  const sim = new Simulator(seed);
  const horizon = Math.round(spec.horizon_s * SEC);
  const from = Math.round((spec.warmup_s ?? 0) * SEC);
  const wall0 = performance.now();

  // the OS instances: every guest, plus the host kernel under KVM (named "host")
  const hv = spec.hypervisor;
  const units: GuestSpec[] = spec.guests.slice();
  if (hv.kind === "kvm") units.push({ name: "host", vcpus: board.cpus, kernel: hv.host_kernel, workloads: hv.host_workloads ?? [] });
  const kernels = units.map((g) => kernelFor(sim, board, g));
  const host = hv.kind === "xen" ? xenHost(sim, board, spec, kernels, from)
    : hv.kind === "kvm" ? kvmHost(sim, board, spec, kernels) : nativeHost(sim, board, kernels[0]);
  // --- issue 14 board/cache: begin
  // SMIs stop the physical CPUs of the native or KVM host kernel (not modelled under Xen)
  const physical = hv.kind === "kvm" ? kernels[kernels.length - 1] : hv.kind === "native" ? kernels[0] : null;
  const smi = board.smi && physical ? new SmiNoise(sim, board.smi, physical, physical.cpus.length) : null;
  // the cache-interference model: every kernel's cost samples see the LLC pressure of memory-bound tasks
  const llc = board.llc && hv.kind !== "xen" ? new LlcModel(sim, board.llc, board.cpus) : null;
  if (llc) {
    units.forEach((g, i) => {
      const k = kernels[i];
      const guestOfKvm = hv.kind === "kvm" && i !== kernels.length - 1;
      k.llc = llc.attach(g.name, guestOfKvm ? (c) => kvmVcpuCpu(k, c) : (c) => c);
    });
  }
  // --- issue 14 board/cache: end

  // scheduling-event recording for trace export (record.trace_events_max; off by default)
  const evMax = spec.record?.trace_events_max ?? 0;
  const events = evMax > 0 ? new TraceEvents(evMax) : null;
  if (events) {
    if (hv.kind === "xen") recordXen(events, (host as XenHostHandle).xen);
    const order = hv.kind === "kvm" ? [kernels.length - 1, ...kernels.map((_, i) => i).slice(0, -1)] : kernels.map((_, i) => i);
    for (const i of order) {
      const guest = hv.kind === "xen" || (hv.kind === "kvm" && i !== kernels.length - 1);
      recordKernel(events, kernels[i], units[i].name, guest ? "vCPU" : "CPU");
    }
  }

  // workloads, from the registry, in spec order
  const workloads = new WorkloadSets({ spec, sim, from });
  units.forEach((g, i) => {
    const allCpus = Array.from({ length: g.vcpus }, (_, j) => j);
    g.workloads.forEach((w, index) => workloads.add(w, { sim, kernel: kernels[i], guest: g, index, allCpus, from, now: 0 }));
  });

  host.start(0);
  smi?.start(0); // issue 14
  const step = Math.max(Math.floor(horizon / 20), MS);
  sim.run(horizon, opts.onProgress ? (now) => opts.onProgress!(now / horizon) : undefined, opts.onProgress ? step : 0);
  const end = sim.now;
  for (const k of kernels) k.settle(end);
  if (events) events.endNs = end;

  // tables: the host's, the kernels', every workload kind's (SimResult orders them as the catalogue does)
  const tables: TableSet = {
    ...host.tables(end),
    ...kernelTables(units, kernels, workloads.taskStats(end), end),
    ...workloads.tables(end),
    // --- issue 14 board/cache
    ...(smi ? smi.tables() : {}),
    ...(llc && llc.attached.some((a) => a.samples.some((x) => x > 0)) ? llc.tables() : {}),
  };
  return new SimResult(spec, seed, tables, { events: sim.events, wall_ms: performance.now() - wall0, simulated_s: end / SEC }, events);
}

// --- issue 14 cache: begin
/** The host CPU of vCPU `cpu` of a KVM guest kernel (the CPU its vCPU thread is on; -1 before KVM set the kernel's host up). */
function kvmVcpuCpu(k: LinuxKernel, cpu: number): number {
  const h = k.host as unknown as { vcpuHostCpu?: (cpu: number) => number };
  return h.vcpuHostCpu ? h.vcpuHostCpu(cpu) : -1;
}
// --- issue 14 cache: end

/** A host as simulate() drives it: started once, then asked for its tables. */
interface Host extends TableSource {
  start(now: number): void;
}

/** The Xen host, with its hypervisor model (for trace recording). */
interface XenHostHandle extends Host {
  xen: Xen;
}

/** Xen: pools with their schedulers, the domains, and one QEMU device model in Dom0 per HVM guest. */
function xenHost(sim: Simulator, board: Board, spec: SimSpec, kernels: LinuxKernel[], from: number): XenHostHandle {
  const hv = spec.hypervisor;
  if (hv.kind !== "xen") throw new Error("not a Xen spec");
  const x = new Xen(sim, board);
  x.timerSlopNs = hv.timer_slop_ns ?? XEN_DEFAULTS.timer_slop_ns;
  const pools = new Map<string, ReturnType<Xen["addPool"]>>();
  for (const ps of hv.pools) {
    const pool = x.addPool(ps.name, ps.cpus, (p) => createScheduler(x, p, ps.scheduler, board, spec));
    pools.set(ps.name, pool);
  }
  spec.guests.forEach((g, i) => {
    const pool = pools.get(g.pool ?? hv.pools[0].name)!;
    x.addDomain(g, pool, kernels[i]);
  });
  const d0 = x.domains.find((d) => d.spec.dom0);
  const dms = d0 ? new XenDeviceModels(x, d0, 0, from) : null;
  x.recordTrace(spec.record?.trace_max ?? 0);
  return {
    xen: x,
    start: (now) => x.start(now),
    tables: (end) => ({ ...x.tables(end), ...(dms ? dms.tables(end) : {}) }),
  };
}

/** KVM: the host kernel (the last unit) on a native host, running one thread per guest vCPU. */
function kvmHost(sim: Simulator, board: Board, spec: SimSpec, kernels: LinuxKernel[]): Host {
  const hv = spec.hypervisor;
  if (hv.kind !== "kvm") throw new Error("not a KVM spec");
  const hk = kernels[kernels.length - 1];
  const native = nativeHost(sim, board, hk);
  const k = new Kvm(sim, board, hk, hv);
  spec.guests.forEach((g, i) => k.addGuest(g, kernels[i], 0));
  return {
    start: (now) => { native.start(now); k.start(now); },
    tables: (end) => k.tables(end),
  };
}

/** Bare metal: one kernel on the board's CPUs. No table of its own. */
function nativeHost(sim: Simulator, board: Board, kernel: LinuxKernel): Host {
  const host = new NativeHost(sim, board, kernel.cpus.length);
  host.kernel = kernel;
  kernel.host = host;
  return {
    start: (now) => { for (let c = 0; c < kernel.cpus.length; c++) kernel.resume(c, now); },
    tables: () => ({}),
  };
}

/** Tables `tasks` and `guest_cpus`: every task and (v)CPU of every kernel. */
function kernelTables(units: GuestSpec[], kernels: LinuxKernel[], stats: Map<Task, TaskStats>, end: number): TableSet {
  const tk = kernels.flatMap((k, i) => k.tasks.map((t) => ({ g: units[i].name, t, s: stats.get(t) })));
  const kc = kernels.flatMap((k, i) => k.cpus.map((c) => ({ g: units[i].name, k, c })));
  return {
    tasks: {
      domain: tk.map((x) => x.g), task: tk.map((x) => x.t.name), cpu: tk.map((x) => x.t.cpu),
      sum_exec_ms: tk.map((x) => x.t.sumExec / MS), vruntime_ms: tk.map((x) => x.t.vruntime / MS),
      nvcsw: tk.map((x) => x.t.nvcsw), nivcsw: tk.map((x) => x.t.nivcsw), wakeups: tk.map((x) => x.t.wakeups),
      // periodic real-time tasks (0, or null for response times, for other tasks); migrations for every task
      jobs: tk.map((x) => x.s?.jobs ?? 0),
      preemptions: tk.map((x) => x.s?.preemptions ?? 0),
      migrations: tk.map((x) => x.t.nrMigrations),
      deadline_misses: tk.map((x) => x.s?.deadline_misses ?? 0),
      max_response_us: tk.map((x) => x.s?.max_response_us ?? null),
      mean_response_us: tk.map((x) => x.s?.mean_response_us ?? null),
    },
    guest_cpus: {
      domain: kc.map((x) => x.g), cpu: kc.map((x) => x.c.idx),
      busy_ms: kc.map((x) => x.k.busyNs(x.c.idx, end) / MS), context_switches: kc.map((x) => x.c.switches),
      interrupts: kc.map((x) => x.c.irqs), ipis_sent: kc.map((x) => x.c.ipisSent),
      // time an interrupt waited for the (v)CPU to be run by its host
      irq_wait_suspended_ms: kc.map((x) => (x.c.irqWhileSuspendedNs + (x.c.pendingSince >= 0 ? end - x.c.pendingSince : 0)) / MS),
    },
  };
}
