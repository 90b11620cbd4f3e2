/**
 * Xen's generic scheduling core (xen/common/sched/core.c, RELEASE-4.20.0),
 * with a pluggable scheduler per cpupool.
 *
 * Modelled: vCPU run states and runstate time accounting (running, runnable,
 * blocked, offline), the block flow (vcpu_block: set _VPF_blocked, raise
 * SCHEDULE_SOFTIRQ locally), the wake flow (vcpu_wake: blocked -> runnable,
 * then the scheduler's wake hook, which tickles pCPUs), SCHEDULE_SOFTIRQ
 * processing (schedule(): the scheduler's do_schedule returns next and a
 * time slice; the per-pCPU s_timer is armed with it; sched_switch_units sets
 * state_entry_time and runstates; context_saved hook afterwards), and the
 * cost of a vCPU context switch (the incoming vCPU starts executing guest
 * code hv_vcpu_switch ns after the decision). A tickle of a remote pCPU lands
 * after hv_ipi_latency. Guest IPIs (event channels / SGIs) land after
 * hv_ipi_latency and wake a blocked target vCPU.
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import { C, type Board } from "../hw/board.js";
import type { CpuHost, LinuxKernel } from "../kernel/linux.js";
import { IRQ_RESCHED, IRQ_TIMER } from "../kernel/linux.js";
import { guestType, KERNEL_DEFAULTS, XEN_DEFAULTS } from "../spec/defaults.js";
import type { GuestSpec } from "../spec/types.js";
import { XenTimers } from "./xentime.js";
import type { XenDeviceModels } from "./qemu.js";
import type { TableSet, TableSource } from "../results/tables.js";

export const RS_RUNNING = 0;
export const RS_RUNNABLE = 1;
export const RS_BLOCKED = 2;
export const RS_OFFLINE = 3;

/** A virtual CPU (Xen sched_unit with sched-gran=cpu). */
export class VCpu {
  /** Per-scheduler private data (csched2_unit, ...). */
  sdata: any = null;
  /** Current processor (sched_unit_master). */
  pcpu: number;
  blocked = false;
  /** Paused by the scheduler (cap exhausted: _VPF_parked). */
  parked = false;
  isRunning = false;
  stateEntryTime = 0;
  runstate = RS_OFFLINE;
  rsEntry = 0;
  readonly rsTime = new Float64Array(4);
  startTimer = -1;
  wakeTimer = -1;
  ipiTimer = -1;
  // statistics
  switchesIn = 0;
  constructor(
    readonly id: number,
    readonly dom: Domain,
    readonly idx: number,
    readonly hard: number[],
  ) {
    this.pcpu = hard[0];
  }
  get name(): string {
    return `${this.dom.name}.v${this.idx}`;
  }
  /** vcpu_runnable(): neither blocked nor paused. */
  get runnable(): boolean {
    return !this.blocked && !this.parked;
  }
}

/** A domain: a guest kernel and its vCPUs. */
export class Domain {
  readonly vcpus: VCpu[] = [];
  /** Cap in percent of one pCPU (0 = none). */
  readonly cap: number;
  constructor(
    readonly id: number,
    readonly name: string,
    readonly pool: Pool,
    readonly weight: number,
    readonly kernel: LinuxKernel,
    /** The guest's spec (scheduler-specific parameters such as `rtds`). */
    readonly spec: GuestSpec,
  ) {
    this.cap = spec.cap ?? 0;
  }
}

/** What the core asks of a scheduler. */
export interface XenScheduler {
  readonly name: string;
  /** Adds a vCPU to the scheduler (domain creation). */
  insert(v: VCpu, now: number): void;
  /** The scheduler's wake hook. */
  wake(v: VCpu, now: number): void;
  /** do_schedule: decide next for pCPU `cpu`; write `dec.next` and `dec.time` (ns, -1 = none). */
  doSchedule(cpu: number, prev: VCpu | null, now: number, dec: SchedDecision): void;
  /** context_saved hook, after prev was switched out. */
  contextSaved(v: VCpu, now: number): void;
}

/** Output of do_schedule. */
export interface SchedDecision {
  next: VCpu | null;
  time: number;
}

/** A cpupool. */
export class Pool {
  sched!: XenScheduler;
  constructor(readonly name: string, readonly cpus: number[]) {}
}

/** A physical CPU as Xen sees it (sched_resource). */
export class PCpu {
  curr: VCpu | null = null;
  sTimer = -1;
  softirqTimer = -1;
  busySince = -1;
  busyNs = 0;
  switches = 0;
  constructor(readonly idx: number, readonly pool: Pool) {}
}

const T_SOFTIRQ = 0;
const T_STIMER = 1;
const T_START = 2;
const T_WAKE = 3;
const T_IPI = 4;

/** One row of the bounded hypervisor schedule trace. */
export interface TraceSink {
  onSwitch(pcpu: number, prev: VCpu | null, next: VCpu | null, now: number): void;
  /** vcpu_wake of a blocked vCPU that becomes runnable (optional). */
  onWake?(v: VCpu, now: number): void;
}

/** The Xen hypervisor model. */
export class Xen implements TimerTarget, TableSource {
  readonly pcpus: PCpu[] = [];
  readonly vcpus: VCpu[] = [];
  readonly domains: Domain[] = [];
  readonly pools: Pool[] = [];
  trace: TraceSink | null = null;
  private readonly dec: SchedDecision = { next: null, time: -1 };
  private readonly switchCost: number;
  private readonly ipiLatency: number;
  private readonly wakeCost: number;

  /** The ioreq server side (QEMU device models in Dom0), if the system has HVM guests and a Dom0. */
  ioreqServer: XenDeviceModels | null = null;

  /** Xen's timer_slop (ns), boot option `timer_slop=`. */
  timerSlopNs: number = XEN_DEFAULTS.timer_slop_ns;
  private xenTimers: XenTimers | null = null;

  /** The guest-timer subsystem (created on first use, once every vCPU exists). */
  timers(): XenTimers {
    if (this.xenTimers === null) {
      const self = this;
      this.xenTimers = new XenTimers(this.sim, this.board.cpus, this.vcpus.length, {
        timerCpu: (v) => self.vcpus[v].pcpu,
        // send_timer_event: VIRQ_TIMER; the guest sees it when the vCPU runs (a blocked one is woken)
        sendTimerEvent: (v, now) => { const vc = self.vcpus[v]; vc.dom.kernel.raiseIrq(vc.idx, IRQ_TIMER, now); },
      }, this.timerSlopNs, this.board.irqInjectionNs ?? 0);
    }
    return this.xenTimers;
  }

  constructor(readonly sim: Simulator, readonly board: Board) {
    this.switchCost = board.cost[C.hv_vcpu_switch];
    this.ipiLatency = board.cost[C.hv_ipi_latency];
    this.wakeCost = board.cost[C.hv_wake];
  }

  addPool(name: string, cpus: number[], sched: (pool: Pool) => XenScheduler): Pool {
    const p = new Pool(name, cpus);
    p.sched = sched(p);
    this.pools.push(p);
    for (const c of cpus) {
      const pc = new PCpu(c, p);
      pc.sTimer = this.sim.timer(this, T_STIMER, c);
      pc.softirqTimer = this.sim.timer(this, T_SOFTIRQ, c);
      this.pcpus[c] = pc;
    }
    return p;
  }

  /**
   * Creates a domain whose vCPU i runs the kernel's CPU i. `pin[i]` is the
   * hard affinity of vCPU i (default: every pCPU of the pool).
   */
  addDomain(spec: GuestSpec, pool: Pool, kernel: LinuxKernel): Domain {
    const name = spec.name, pin = spec.pin;
    const d = new Domain(this.domains.length, name, pool, spec.weight ?? 256, kernel, spec);
    this.domains.push(d);
    const n = kernel.cpus.length;
    for (let i = 0; i < n; i++) {
      const hard = pin ? (pin.length === 1 ? pin[0] : pin[i]).slice() : pool.cpus.slice();
      const v = new VCpu(this.vcpus.length, d, i, hard);
      if (!pin) v.pcpu = pool.cpus[v.id % pool.cpus.length];
      v.startTimer = this.sim.timer(this, T_START, v.id);
      v.wakeTimer = this.sim.timer(this, T_WAKE, v.id);
      v.ipiTimer = this.sim.timer(this, T_IPI, v.id);
      this.vcpus.push(v);
      d.vcpus.push(v);
    }
    kernel.host = new XenGuestHost(this, d);
    return d;
  }

  /** Boots every domain: all vCPUs become runnable at `now`. */
  start(now: number): void {
    for (const v of this.vcpus) v.dom.pool.sched.insert(v, now);
    for (const v of this.vcpus) {
      v.runstate = RS_BLOCKED;
      v.rsEntry = now;
      v.blocked = true;
      this.vcpuWake(v, now);
    }
  }

  onTimer(kind: number, arg: number, now: number): void {
    switch (kind) {
      case T_SOFTIRQ:
      case T_STIMER:
        this.schedule(arg, now);
        return;
      case T_START: {
        const v = this.vcpus[arg];
        if (v.isRunning) v.dom.kernel.resume(v.idx, now);
        return;
      }
      case T_WAKE:
        this.vcpuWake(this.vcpus[arg], now);
        return;
      case T_IPI: {
        const v = this.vcpus[arg];
        v.dom.kernel.raiseIrq(v.idx, IRQ_RESCHED, now);
        return;
      }
    }
  }

  private runstateChange(v: VCpu, st: number, now: number): void {
    v.rsTime[v.runstate] += now - v.rsEntry;
    v.runstate = st;
    v.rsEntry = now;
  }

  /** Xen steal clock of a vCPU: runnable + offline time. */
  steal(v: VCpu, now: number): number {
    let s = v.rsTime[RS_RUNNABLE] + v.rsTime[RS_OFFLINE];
    if (v.runstate === RS_RUNNABLE || v.runstate === RS_OFFLINE) s += now - v.rsEntry;
    return s;
  }

  /** Runstate time of a vCPU up to `now`. */
  runstateTime(v: VCpu, st: number, now: number): number {
    return v.rsTime[st] + (v.runstate === st ? now - v.rsEntry : 0);
  }

  /** Raises SCHEDULE_SOFTIRQ on pCPU `cpu`, landing after `delay` ns. */
  raiseSoftirq(cpu: number, now: number, delay: number): void {
    const pc = this.pcpus[cpu];
    const t = now + delay;
    const at = this.sim.expiry(pc.softirqTimer);
    if (at >= 0 && at <= t) return;
    this.sim.arm(pc.softirqTimer, t);
  }

  /** Tickle from a scheduler: remote pCPUs are reached by an IPI. */
  tickle(cpu: number, now: number): void {
    this.raiseSoftirq(cpu, now, this.ipiLatency);
  }

  /** vcpu_block(): the guest halted vCPU v. */
  vcpuBlock(v: VCpu, now: number): void {
    v.blocked = true;
    this.raiseSoftirq(v.pcpu, now, 0);
  }

  /**
   * The vCPU waits in Xen for its ioreq (wait_on_xen_event_channel): blocked
   * like a halt, but only {@link ioreqComplete} wakes it (the guest is in the
   * middle of an instruction, so its interrupts stay pending).
   */
  ioreqBlock(v: VCpu, now: number): void {
    this.vcpuBlock(v, now);
  }

  /** The device model answered v's ioreq: Xen wakes v (hv_wake later). */
  ioreqComplete(v: VCpu, now: number): void {
    this.vcpuKick(v, now);
  }

  /** An event for blocked vCPU v arrives: vcpu_unblock after the wake path cost. */
  vcpuKick(v: VCpu, now: number): void {
    if (!v.blocked) return;
    // still current on its pCPU (schedule() has not run yet): vcpu_block's
    // re-check of pending events un-blocks it at once
    if (v.isRunning) { this.vcpuWake(v, now); return; }
    if (this.wakeCost > 0) {
      if (!this.sim.isArmed(v.wakeTimer)) this.sim.arm(v.wakeTimer, now + this.wakeCost);
    } else this.vcpuWake(v, now);
  }

  /**
   * Parks v (a cap ran out): it stops being runnable until unparked. If it is
   * running, its pCPU reschedules; the scheduler must not pick it meanwhile.
   */
  park(v: VCpu, now: number): void {
    if (v.parked) return;
    v.parked = true;
    if (v.isRunning) this.raiseSoftirq(v.pcpu, now, 0);
    else if (v.runstate === RS_RUNNABLE) this.runstateChange(v, RS_OFFLINE, now);
  }

  /** Unparks v (budget replenished): it becomes runnable again and the scheduler's wake hook runs. */
  unpark(v: VCpu, now: number): void {
    if (!v.parked) return;
    v.parked = false;
    if (v.blocked || v.isRunning) return;
    if (v.runstate >= RS_BLOCKED) this.runstateChange(v, RS_RUNNABLE, now);
    v.dom.pool.sched.wake(v, now);
  }

  /** vcpu_wake(). */
  vcpuWake(v: VCpu, now: number): void {
    if (!v.blocked) return;
    v.blocked = false;
    if (v.parked) {
      // not runnable: vcpu_wake moves a blocked vCPU to offline (it waits for budget)
      if (v.runstate === RS_BLOCKED) this.runstateChange(v, RS_OFFLINE, now);
      return;
    }
    if (v.runstate >= RS_BLOCKED) this.runstateChange(v, RS_RUNNABLE, now);
    if (this.trace !== null && this.trace.onWake !== undefined) this.trace.onWake(v, now);
    v.dom.pool.sched.wake(v, now);
  }

  /** schedule() on pCPU `cpu` (SCHEDULE_SOFTIRQ or s_timer). */
  schedule(cpu: number, now: number): void {
    const pc = this.pcpus[cpu];
    this.sim.cancel(pc.sTimer);
    this.sim.cancel(pc.softirqTimer);
    const prev = pc.curr;
    const dec = this.dec;
    pc.pool.sched.doSchedule(cpu, prev, now, dec);
    const next = dec.next;
    if (dec.time >= 0) this.sim.arm(pc.sTimer, now + dec.time);
    if (next === prev) return;
    pc.switches++;
    if (prev !== null) {
      prev.isRunning = false;
      this.runstateChange(prev, prev.blocked ? RS_BLOCKED : prev.parked ? RS_OFFLINE : RS_RUNNABLE, now);
      this.sim.cancel(prev.startTimer);
      prev.dom.kernel.suspend(prev.idx, now);
      pc.busyNs += now - pc.busySince;
      pc.busySince = -1;
    }
    pc.curr = next;
    if (next !== null) {
      next.isRunning = true;
      next.stateEntryTime = now;
      next.pcpu = cpu;
      next.switchesIn++;
      this.runstateChange(next, RS_RUNNING, now);
      pc.busySince = now;
      if (this.switchCost > 0) this.sim.arm(next.startTimer, now + this.switchCost);
      else next.dom.kernel.resume(next.idx, now);
    }
    if (this.trace) this.trace.onSwitch(cpu, prev, next, now);
    if (prev !== null) pc.pool.sched.contextSaved(prev, now);
  }

  /** Busy (non-idle) time of a pCPU up to now. */
  busyNs(cpu: number, now: number): number {
    const pc = this.pcpus[cpu];
    return pc.busyNs + (pc.busySince >= 0 ? now - pc.busySince : 0);
  }

  private traceRec: TraceRecorder | null = null;

  /** Records the first `max` context switches for table `trace` (the bounded schedule trace). */
  recordTrace(max: number): void {
    if (max <= 0) return;
    this.traceRec = new TraceRecorder(max);
    this.trace = this.traceRec;
  }

  /** Tables `vcpus`, `pcpus` and (with {@link recordTrace}) `trace` at time `end` (TableSource). */
  tables(end: number): TableSet {
    const vc = this.vcpus;
    const rs = (v: VCpu, st: number) => this.runstateTime(v, st, end) / 1e6;
    const pc = this.pcpus.filter((p) => p !== undefined);
    const out: TableSet = {
      vcpus: {
        domain: vc.map((v) => v.dom.name), vcpu: vc.map((v) => v.idx), pool: vc.map((v) => v.dom.pool.name),
        running_ms: vc.map((v) => rs(v, RS_RUNNING)), runnable_ms: vc.map((v) => rs(v, RS_RUNNABLE)),
        blocked_ms: vc.map((v) => rs(v, RS_BLOCKED)), offline_ms: vc.map((v) => rs(v, RS_OFFLINE)),
        switches_in: vc.map((v) => v.switchesIn),
      },
      pcpus: {
        pcpu: pc.map((p) => p.idx), pool: pc.map((p) => p.pool.name),
        busy_ms: pc.map((p) => this.busyNs(p.idx, end) / 1e6), idle_ms: pc.map((p) => (end - this.busyNs(p.idx, end)) / 1e6),
        switches: pc.map((p) => p.switches),
      },
    };
    const tr = this.traceRec;
    if (tr) out.trace = { t_ms: tr.t.map((t) => t / 1e6), pcpu: tr.pcpu, prev: tr.prev, next: tr.next };
    return out;
  }
}

/** The bounded schedule trace: the first `max` context switches. */
class TraceRecorder implements TraceSink {
  readonly t: number[] = [];
  readonly pcpu: number[] = [];
  readonly prev: string[] = [];
  readonly next: string[] = [];
  constructor(private readonly max: number) {}
  onSwitch(pcpu: number, prev: VCpu | null, next: VCpu | null, now: number): void {
    if (this.t.length >= this.max) return;
    this.t.push(now); this.pcpu.push(pcpu);
    this.prev.push(prev ? prev.name : "idle"); this.next.push(next ? next.name : "idle");
  }
}

/**
 * The CpuHost a Xen guest kernel sees. Timers are a pass-through for now:
 * each vCPU's clockevent fires exactly at the programmed time through a
 * per-vCPU simulator timer (min delta 0), raising IRQ_TIMER on the guest
 * CPU (which wakes a blocked vCPU through the usual kick path); a clock read
 * costs a native rdtsc when the board passes the TSC through (and in Dom0),
 * otherwise a trapped one (a VM exit for HVM/PVH, #GP emulation for PV).
 * Xen's real timer path (TIMER_SLOP, timer_slop, VIRQ_TIMER)
 * replaces this. On a CPU without HAP an HVM or PVH guest runs on shadow
 * page tables and each of its CR3 writes exits to sh_update_cr3
 * (cr3WriteCost). Not modelled: the vDSO. Without
 * XEN_PVCLOCK_TSC_STABLE_BIT (Xen 4.11.1 sets it only with
 * clocksource=tsc) a Linux guest's clock_gettime falls back to the system
 * call; the model reads the clock at the read's cost alone, so the system
 * call (and, with PTI under shadow paging, its CR3 exit before the sample)
 * is missing from every Xen guest's samples.
 */
class XenGuestHost implements CpuHost {
  private readonly clockCost: number;
  private readonly minDelta: number;
  private readonly hvm: boolean;
  private readonly trapCost: number;
  private readonly accessCost: number;
  private readonly timerOpCost: number;
  private readonly cr3Cost: number;
  constructor(private readonly xen: Xen, private readonly dom: Domain) {
    const b = xen.board;
    // Linux's Xen PV clockevent (PV, PVH and PVHVM guests alike): min_delta = TIMER_SLOP
    this.minDelta = dom.spec.kernel?.xen_timer_slop_ns ?? KERNEL_DEFAULTS.xen_timer_slop_ns;
    // Every clock read of a Linux guest on Xen is a pvclock read, which executes rdtsc. Xen 4.11
    // (xen/arch/x86/time.c tsc_set_info) emulates the TSC of every domU unless the host's TSC is
    // reliable (invariant), PV and HVM alike; the hardware domain always reads it natively. An
    // HVM or PVH guest's rdtsc is then a VM exit (RDTSC exiting -> hvm_rdtsc_intercept); a PV
    // guest's raises #GP under CR4.TSD (mm.c pv_guest_cr4_to_real_cr4), which Xen decodes and
    // emulates (pv_emulate_privileged_op -> pv_soft_rdtsc): board cost rdtsc_trap_pv.
    const type = guestType(dom.spec);
    const trap = !(b.tscPassthrough ?? true) && dom.spec.dom0 !== true;
    this.clockCost = !trap ? (b.rdtscNativeNs ?? 0) : type === "pv" ? b.cost[C.rdtsc_trap_pv] ?? 0 : (b.rdtscTrapNs ?? 0);
    this.hvm = type === "hvm";
    this.trapCost = b.vmEntryExitNs ?? 0;
    this.accessCost = b.cost[C.device_access] ?? 0;
    // the clockevent (xen_vcpuop_set_next_event) is the VCPUOP_set_singleshot_timer hypercall:
    // a VMCALL exit for HVM and PVH, a syscall into Xen for a PV kernel; Xen's do_vcpu_op -> set_timer
    this.timerOpCost = (type === "pv" ? (b.cost[C.syscall] ?? 0) : this.trapCost) + (b.cost[C.timer_program] ?? 0);
    // without HAP an HVM or PVH domain runs on shadow page tables (hap_enabled() false; vmcs.c keeps
    // CPU_BASED_CR3_LOAD_EXITING): a guest CR3 write exits to vmx_cr_access -> hvm_set_cr3 ->
    // paging_update_cr3 -> sh_update_cr3. A PV guest's page tables are its own (validated by Xen) and
    // Linux turns PTI off in a PV guest; its switch_mm hypercall is in its PV costs.
    this.cr3Cost = type !== "pv" && b.hap === false ? this.trapCost + (b.cost[C.shadow_cr3_xen] ?? 0) : 0;
  }
  /** A guest CR3 write: under shadow paging (HVM or PVH on a CPU without HAP) a VM exit. */
  cr3WriteCost(): number {
    return this.cr3Cost;
  }
  /**
   * An emulated-device access: on an HVM guest an ioreq to its QEMU in Dom0
   * (the vCPU blocks in Xen until QEMU answers; the trap and the instruction's
   * completion cost a VM exit/entry when it resumes); PV and PVH guests use
   * PV drivers and Dom0 real hardware: a plain access.
   */
  deviceAccess(cpu: number, now: number): number {
    const srv = this.xen.ioreqServer;
    if (this.hvm && srv !== null && srv.has(this.dom)) {
      srv.issue(this.dom.vcpus[cpu], now);
      return Math.max(1, this.trapCost);
    }
    return this.accessCost;
  }
  /** VCPUOP_set_singleshot_timer. */
  setTimer(cpu: number, t: number, now: number): void {
    this.xen.timers().setSingleshot(this.dom.vcpus[cpu].id, t, now);
  }
  minTimerDelta(): number {
    return this.minDelta;
  }
  clockReadCost(): number {
    return this.clockCost;
  }
  timerProgramCost(): number {
    return this.timerOpCost;
  }
  halt(cpu: number, now: number): void {
    this.xen.vcpuBlock(this.dom.vcpus[cpu], now);
  }
  kick(cpu: number, now: number): void {
    this.xen.vcpuKick(this.dom.vcpus[cpu], now);
  }
  sendIpi(_from: number, to: number, now: number): void {
    const v = this.dom.vcpus[to];
    const sim = this.xen.sim;
    const lat = this.xen.board.cost[C.hv_ipi_latency];
    if (!sim.isArmed(v.ipiTimer)) sim.arm(v.ipiTimer, now + lat);
  }
  steal(cpu: number, now: number): number {
    return this.xen.steal(this.dom.vcpus[cpu], now);
  }
}
