/**
 * Paravirtual scheduling (pvsched) of KVM vCPU threads, host side: the
 * interface proposed for qemu-kvm and KVM in 2009 (over Linux 2.6.29-2.6.31
 * hosts; "Towards Linux as a Real-Time Hypervisor", §5). The patches were
 * never merged upstream; this file follows the paper's description of them
 * (§5.1 execution model, §5.2 interface, §5.3 host side) over the KVM model
 * of kvm.ts and the host kernel's run-time sched_setscheduler
 * (../kernel/setsched.ts). The guest side (the pv_sched_ops calls from
 * schedule(), __sched_setscheduler and irq_exit) is the guest kernel's
 * `CpuHost.pvSched` / `pvIrqDone`, which this file provides for the guest.
 *
 * Execution model (§5.1), per vCPU:
 * - base parameters: the last policy and priority the guest reported. A
 *   guest priority p_guest (0..99) maps to the host priority
 *   p = floor(p_guest * p_max / 99), p_max the vCPU's limit (KVM_SET_MAX_PRIO;
 *   QEMU's -rt pvsched=on sets it to maxprio - 1). Before the first report
 *   the thread keeps the parameters QEMU gave it.
 * - interrupt boost: when KVM marks an interrupt for injection into the vCPU
 *   (kvm_vcpu_kick, and the user-space injection ioctls) the vCPU is raised
 *   to p_max: SCHED_OTHER becomes SCHED_FIFO, another policy is kept. The
 *   boost lasts until the guest reports the interrupt done. One level of
 *   nesting is kept for a virtual NMI marked while an interrupt boost is on
 *   (`kick(..., nmi = true)`; the model raises no NMIs, see below).
 * - timer-pending boost (§5.3): a guest timer event starts the boost as soon
 *   as the host timer fires, before KVM knows whether it will inject an IRQ
 *   or an NMI; the state lasts until the next VM entry, where KVM decides
 *   what to inject (inject_pending_event): an interrupt pending for the
 *   guest turns it into the interrupt boost, otherwise it ends. Guest calls
 *   do not clear it.
 * - the effective parameters are p_max (boosted) or the base; every change
 *   of them is a sched_setscheduler() of the vCPU thread on the host.
 *
 * Hypercalls (§5.2), each a VM exit of the calling vCPU: the guest CPU stops
 * for vm_entry_exit + kvm_hypercall ns (the handler's work, board cost
 * `kvm_hypercall`); the handler's effect applies kvm_hypercall ns after the
 * exit, in the vCPU thread's context on its host CPU:
 * - Set Scheduling Parameters (target vCPU, policy, p_guest): maps the
 *   parameters as the new base of the target (the caller itself or a remote
 *   vCPU of the same guest); for the caller itself, an interrupt boost is
 *   cleared too (no Interrupt Done needed).
 * - Interrupt Done: ends one level of interrupt boost.
 *
 * Host timer path (§5.3). KVM's guest timer is a host hrtimer whose
 * callback (apic_timer_fn in kvm.ts) sets the vCPU's timer-pending flag. On
 * a non-PREEMPT_RT host that callback runs in hard-interrupt context, where
 * sched_setscheduler() may not be called: it queues the vCPU on a per-CPU
 * kernel thread at the highest host priority (SCHED_FIFO 99, "kvm-pvsched/N")
 * and wakes it; the thread applies the boost (kvm_hypercall ns of work per
 * batch of vCPUs, charged as the thread's run time). Where the host runs
 * the callback in a thread (the hrtimer softirq thread of a 2.6.31-rt
 * host: the kernel says so for KVM's timer line, `irqThreaded`) the
 * callback applies the boost itself. A later RT kernel runs KVM's hrtimer
 * in hard-interrupt context again (HRTIMER_MODE_ABS_HARD): boost threads.
 * The VMX preemption timer of the 5.0-era KVM model (an exit handled in
 * the vCPU thread) applies it directly.
 *
 * Model notes. Calls into the host kernel from inside its dispatch (the
 * timer interrupt's handler, a VM entry) are made from simulator events at
 * the same instant (no re-entrant dispatch). The hypercall handler
 * completes on time even if the host preempts the vCPU thread meanwhile;
 * the guest then re-enters when the thread runs again (not earlier than the
 * handler's end). The table counts the whole run (warm-up included).
 *
 * Assumptions where the paper is silent: a mapped SCHED_FIFO/RR priority
 * of 0 (p_guest * p_max < 99) is raised to 1, the lowest valid one;
 * Interrupt Done ends the boost even if another interrupt is already
 * pending for the guest (its injection does not re-boost: it was marked
 * while boosted); the reported priority of a guest task is its
 * rt_priority (a PI-boosted task reports its own parameters).
 *
 * Not modelled: virtual NMIs (the model injects none; the nesting level
 * exists, `kick(..., nmi = true)`, but nothing reaches it, and the guest's
 * nmi_exit hook is absent), the CPUID feature flag and the guest's runtime patching of
 * pv_sched_ops (a guest on a pvsched host always calls, one without never
 * does), the lookup by physical APIC ID (vCPU indices are used), the cost of
 * sched_setscheduler on the vCPU-kick paths (it is charged on the hypercall
 * and boost-thread paths only).
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { CpuHost, LinuxKernel, SetSchedAttr } from "../kernel/linux.js";
import { A_COMPUTE, A_WAIT, MM_KERNEL, type Program, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, type Task } from "../kernel/task.js";
import type { TableSet } from "../results/tables.js";

/** The priority of the per-CPU boost threads: the highest SCHED_FIFO priority of the host (MAX_RT_PRIO - 1). */
export const BOOST_THREAD_PRIORITY = 99;

/** Policy names of the table (as vcpu_threads names them). */
const POLICY_NAMES: Record<number, string> = { [SCHED_NORMAL]: "other", [SCHED_FIFO]: "fifo", [SCHED_RR]: "rr" };

/** The paper's priority mapping: p = floor(p_guest * p_max / 99). */
export function pvHostPriority(pGuest: number, pMax: number): number {
  return Math.floor((pGuest * pMax) / 99);
}

/** What pvsched needs of a KVM vCPU (kvm.ts KvmVcpu): its thread, guest kernel and guest-mode state. */
export interface PvCarrier {
  readonly thread: Task;
  readonly guest: string;
  readonly idx: number;
  readonly gk: LinuxKernel;
  /** The thread is in its guest segment on a host CPU. */
  readonly inSeg: boolean;
  /** The guest CPU executes (entry done, no exit since). */
  guestOn: boolean;
  guestSince: number;
  inGuestNs: number;
  vmExits: number;
  /** The simulator timer of the VM entry's completion. */
  readonly resumeT: number;
  /** The guest may not re-enter before this time (a hypercall's handler runs until then), ns. */
  hcUntil: number;
}

// hypercalls
const HC_NONE = 0;
const HC_SET_SCHED = 1;
const HC_IRQ_DONE = 2;

// simulator timers (arg: vCPU index in PvSched.vcpus, or host CPU)
const T_HC = 0; // a hypercall's handler completes
const T_APPLY = 1; // apply the effective parameters (outside the host kernel's dispatch)
const T_BOOST_WAKE = 2; // wake the boost thread of host CPU arg

/** pvsched state of one vCPU. */
export class PvVcpu {
  /** Base policy and host priority (the guest's last report, mapped). */
  basePolicy: number;
  basePrio: number;
  /** Interrupt boost level: 0, 1 (an interrupt), 2 (an NMI on top). */
  depth = 0;
  /** The timer-pending boost. */
  timerPending = false;
  /** The parameters last set on the thread. */
  appliedPolicy: number;
  appliedPrio: number;
  /** The hypercall whose handler is running, and its arguments. */
  hcKind = HC_NONE;
  hcTarget: PvVcpu | null = null;
  hcPolicy = 0;
  hcPrio = 0;
  /** The attributes handed to sched_setscheduler (reused: no allocation per change). */
  private readonly attr: SetSchedAttr = { policy: SCHED_NORMAL, priority: 0 };
  /** Queued on its host CPU's boost thread. */
  queued = false;
  hcT = -1;
  applyT = -1;
  // statistics
  setSchedCalls = 0;
  irqDoneCalls = 0;
  boosts = 0;
  timerBoosts = 0;
  setschedulerCalls = 0;
  boostedNs = 0;
  boostedSince = -1;
  hypercallNs = 0;

  constructor(readonly pv: PvSched, readonly index: number, readonly v: PvCarrier, readonly pMax: number, readonly peers: PvVcpu[]) {
    const t = v.thread;
    this.basePolicy = this.appliedPolicy = t.policy;
    this.basePrio = this.appliedPrio = t.rtPriority;
  }

  /** The effective policy while boosted: SCHED_OTHER becomes SCHED_FIFO, FIFO and RR are kept. */
  private boostPolicy(): number {
    return this.basePolicy === SCHED_NORMAL ? SCHED_FIFO : this.basePolicy;
  }

  get boosted(): boolean {
    return this.depth > 0 || this.timerPending;
  }

  /** Boost accounting after a change of `depth` / `timerPending`. */
  noteBoost(now: number): void {
    if (this.boosted) { if (this.boostedSince < 0) this.boostedSince = now; }
    else if (this.boostedSince >= 0) { this.boostedNs += now - this.boostedSince; this.boostedSince = -1; }
  }

  /**
   * sched_setscheduler() of the vCPU thread to the effective parameters, if
   * they changed. `from`: the host CPU whose dispatch makes the call, or -1
   * (a simulator event).
   */
  apply(now: number, from: number): void {
    const b = this.boosted;
    const policy = b ? this.boostPolicy() : this.basePolicy;
    let prio = b ? this.pMax : this.basePrio;
    if (policy === SCHED_NORMAL) prio = 0;
    else if (prio < 1) prio = 1; // SCHED_FIFO/RR need 1..99 (p_max or a mapped priority may be 0)
    if (policy === this.appliedPolicy && prio === this.appliedPrio) return;
    this.appliedPolicy = policy;
    this.appliedPrio = prio;
    this.setschedulerCalls++;
    const attr = this.attr;
    attr.policy = policy;
    attr.priority = prio;
    this.pv.host.setScheduler(this.v.thread, attr, now, from);
  }

  /** Applies the effective parameters from a simulator event at `now`. */
  applySoon(now: number): void {
    const sim = this.pv.sim;
    if (!sim.isArmed(this.applyT)) sim.arm(this.applyT, now);
  }

  // ---- hooks called by kvm.ts

  /**
   * kvm_vcpu_kick / the user-space injection ioctls: an interrupt is marked
   * for injection (a timer interrupt whose timer-pending boost is on is
   * settled at the entry instead). `nmi`: a virtual NMI (nests one level).
   */
  kick(timer: boolean, now: number, nmi = false): void {
    if (timer && this.timerPending) return;
    if (this.depth === 0) { this.depth = 1; this.boosts++; }
    else if (nmi && this.depth === 1) this.depth = 2;
    else return;
    this.noteBoost(now);
    this.applySoon(now);
  }

  /**
   * The host timer of the guest's LAPIC fired (apic_timer_fn, or the VMX
   * preemption-timer exit with `threadContext`): the timer-pending boost,
   * applied directly from thread context (PREEMPT_RT host, preemption-timer
   * exit) or through the host CPU's boost thread (hard-interrupt context).
   */
  timerFired(threadContext: boolean, now: number): void {
    if (!this.timerPending) {
      this.timerPending = true;
      this.timerBoosts++;
      this.noteBoost(now);
    }
    if (threadContext || this.pv.hrtimerInThread) this.applySoon(now);
    else this.pv.queueBoost(this, this.v.thread.cpu, now);
  }

  /** VM entry (inject_pending_event): KVM decides what the pending timer injects; the timer-pending state ends. */
  entry(now: number): void {
    if (!this.timerPending) return;
    this.timerPending = false;
    if (this.v.gk.cpus[this.v.idx].pendingIrq !== 0) {
      if (this.depth === 0) { this.depth = 1; this.boosts++; }
    }
    this.noteBoost(now);
    if (!this.boosted) this.applySoon(now);
  }

  /** The statistics' boosted time up to `end`, ns. */
  boostedUpTo(end: number): number {
    return this.boostedNs + (this.boostedSince >= 0 ? end - this.boostedSince : 0);
  }
}

/** The per-CPU boost thread's program: apply the queued boosts, then wait. */
class BoostThread implements Program {
  readonly queue: PvVcpu[] = [];
  private readonly batch: PvVcpu[] = [];
  private working = false;
  task: Task | null = null;
  constructor(private readonly pv: PvSched) {}
  next(t: Task, now: number): void {
    if (this.working) {
      this.working = false;
      const b = this.batch;
      for (let i = 0; i < b.length; i++) { b[i].queued = false; b[i].apply(now, t.cpu); }
      b.length = 0;
    }
    if (this.queue.length > 0) {
      for (let i = 0; i < this.queue.length; i++) this.batch.push(this.queue[i]);
      this.queue.length = 0;
      this.working = true;
      t.act = A_COMPUTE;
      t.actArg = this.pv.hypercallNs * this.batch.length;
    } else {
      t.act = A_WAIT;
      t.actArg = 0;
    }
  }
}

/** Paravirtual scheduling of the KVM host `host`: the vCPUs of every guest with pvsched on. */
export class PvSched implements TimerTarget {
  readonly vcpus: PvVcpu[] = [];

  private readonly boost: (BoostThread | null)[] = [];
  private readonly boostWakeT: number[] = [];

  /**
   * `vmEntryExit`, `irqInjection`: the KVM model's exit + entry round trip
   * and injection costs; `hypercallNs`: the board's kvm_hypercall (the
   * handler's work on top of the round trip), ns. `hrtimerInThread`: KVM's
   * guest-timer hrtimer callback runs in a thread on this host (2.6.31-rt's
   * sirq-hrtimer), so it applies boosts itself; otherwise (hard-interrupt
   * context: non-RT hosts, and hard hrtimers of later RT kernels) the
   * per-CPU boost threads do.
   */
  constructor(
    readonly sim: Simulator, readonly host: LinuxKernel, readonly vmEntryExit: number, readonly irqInjection: number,
    readonly hypercallNs: number, readonly hrtimerInThread: boolean,
  ) {
    for (let c = 0; c < host.cpus.length; c++) { this.boost.push(null); this.boostWakeT.push(-1); }
  }

  /**
   * A guest with pvsched on: its vCPUs `vs` (in vCPU order) get p_max =
   * `pMax` (KVM_SET_MAX_PRIO), and its kernel's host `gh` the two
   * hypercalls (the guest's pv_sched_ops). On a non-RT host the per-CPU
   * boost threads are created (once) on the vCPU threads' allowed CPUs.
   * Setup-time.
   */
  attachGuest(vs: PvCarrier[], gh: CpuHost, pMax: number, now: number): PvVcpu[] {
    const peers: PvVcpu[] = [];
    for (const v of vs) {
      const p = new PvVcpu(this, this.vcpus.length, v, pMax, peers);
      p.hcT = this.sim.timer(this, T_HC, p.index);
      p.applyT = this.sim.timer(this, T_APPLY, p.index);
      this.vcpus.push(p);
      peers.push(p);
      if (!this.hrtimerInThread) for (const c of v.thread.allowed) this.boostThread(c, now);
    }
    gh.pvSched = (cpu, target, policy, priority, t) => this.hypercall(peers[cpu], HC_SET_SCHED, peers[target], policy, priority, t);
    gh.pvIrqDone = (cpu, t) => this.hypercall(peers[cpu], HC_IRQ_DONE, null, 0, 0, t);
    return peers;
  }

  /** The boost thread of host CPU `cpu`, created on first use: SCHED_FIFO 99, pinned. */
  private boostThread(cpu: number, now: number): BoostThread {
    let b = this.boost[cpu];
    if (b === null) {
      b = new BoostThread(this);
      this.boost[cpu] = b;
      this.boostWakeT[cpu] = this.sim.timer(this, T_BOOST_WAKE, cpu);
      b.task = this.host.spawn(`kvm-pvsched/${cpu}`, b, cpu, [cpu], 0, now, 0, { policy: SCHED_FIFO, priority: BOOST_THREAD_PRIORITY }, MM_KERNEL);
    }
    return b;
  }

  /** Queues vCPU p's boost on host CPU `cpu`'s boost thread and wakes it (from hard-interrupt context). */
  queueBoost(p: PvVcpu, cpu: number, now: number): void {
    if (p.queued) return;
    p.queued = true;
    this.boostThread(cpu, now).queue.push(p);
    const t = this.boostWakeT[cpu];
    if (!this.sim.isArmed(t)) this.sim.arm(t, now);
  }

  /**
   * A hypercall of the guest CPU of `caller`: a VM exit (the guest stops
   * now), the handler's effect after kvm_hypercall ns, the entry after the
   * rest of the round trip (plus an injection if an interrupt is pending).
   */
  private hypercall(caller: PvVcpu, kind: number, target: PvVcpu | null, policy: number, priority: number, now: number): void {
    const v = caller.v;
    if (kind === HC_SET_SCHED) caller.setSchedCalls++;
    else caller.irqDoneCalls++;
    const done = now + this.hypercallNs;
    caller.hcKind = kind;
    caller.hcTarget = target;
    caller.hcPolicy = policy;
    caller.hcPrio = priority;
    this.sim.arm(caller.hcT, done);
    if (v.guestOn) {
      v.vmExits++;
      v.guestOn = false;
      v.inGuestNs += now - v.guestSince;
      v.gk.suspend(v.idx, now);
      caller.hypercallNs += this.hypercallNs + this.vmEntryExit;
      v.hcUntil = done;
      if (v.inSeg) {
        const inj = v.gk.cpus[v.idx].pendingIrq !== 0 ? this.irqInjection : 0;
        this.sim.arm(v.resumeT, done + this.vmEntryExit + inj);
      }
    }
  }

  /** The handler of caller's hypercall, in its vCPU thread's context (a simulator event: from = -1). */
  private handle(caller: PvVcpu, now: number): void {
    const kind = caller.hcKind;
    caller.hcKind = HC_NONE;
    if (kind === HC_SET_SCHED) {
      const t = caller.hcTarget!;
      caller.hcTarget = null;
      const pol = caller.hcPolicy;
      t.basePolicy = pol === SCHED_FIFO || pol === SCHED_RR ? pol : SCHED_NORMAL;
      t.basePrio = t.basePolicy === SCHED_NORMAL ? 0 : pvHostPriority(Math.min(99, Math.max(0, caller.hcPrio)), t.pMax);
      if (t === caller && t.depth > 0) { t.depth = 0; t.noteBoost(now); }
      t.apply(now, -1);
    } else if (kind === HC_IRQ_DONE) {
      if (caller.depth > 0) { caller.depth--; caller.noteBoost(now); }
      caller.apply(now, -1);
    }
  }

  onTimer(kind: number, arg: number, now: number): void {
    if (kind === T_HC) this.handle(this.vcpus[arg], now);
    else if (kind === T_APPLY) this.vcpus[arg].apply(now, -1);
    else if (kind === T_BOOST_WAKE) this.host.wakeTask(this.boost[arg]!.task!, now);
  }

  /** Table `pvsched`: one row per vCPU with pvsched on (whole run). */
  tables(end: number): TableSet {
    const vs = this.vcpus;
    return { pvsched: {
      guest: vs.map((p) => p.v.guest), vcpu: vs.map((p) => p.v.idx), p_max: vs.map((p) => p.pMax),
      set_sched_calls: vs.map((p) => p.setSchedCalls), irq_done_calls: vs.map((p) => p.irqDoneCalls),
      boosts: vs.map((p) => p.boosts), timer_boosts: vs.map((p) => p.timerBoosts),
      setscheduler_calls: vs.map((p) => p.setschedulerCalls),
      host_policy: vs.map((p) => POLICY_NAMES[p.appliedPolicy] ?? String(p.appliedPolicy)), host_priority: vs.map((p) => p.appliedPrio),
      boosted_time_ms: vs.map((p) => p.boostedUpTo(end) / 1e6), hypercall_time_ms: vs.map((p) => p.hypercallNs / 1e6),
    } };
  }
}
