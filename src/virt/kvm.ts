/**
 * KVM on a Linux host (Linux 5.0-era KVM, x86 VMX), over the host kernel
 * model of ../kernel/linux.ts.
 *
 * Threads. Every guest vCPU is a QEMU vCPU thread `<guest>/vcpu<i>` of the
 * host kernel, looping on the KVM_RUN ioctl (kvm_arch_vcpu_ioctl_run ->
 * vcpu_run). It is scheduled by the host like any other task, with the
 * guest's `vcpu_thread` policy (SCHED_OTHER with a nice value, or
 * SCHED_FIFO/RR with a priority) and allowed CPUs. Its program:
 *  - vcpu_enter_guest: an A_GUEST segment while the guest CPU wants to run.
 *    The task's carrier (the KvmVcpu) is told when the host CPU starts and
 *    stops executing it: `enter` arms the VM entry (the guest CPU resumes
 *    vm_entry_exit ns later, plus irq_injection when an interrupt is
 *    pending: inject_pending_event on entry); `exit` suspends the guest CPU
 *    at once. Every host interrupt, preemption or block of the thread is a
 *    VM exit (external-interrupt exiting); the exit's own cost is counted in
 *    the following entry (the board gives one exit + entry round trip).
 *  - Guest HLT (kvm_emulate_halt -> vcpu_block -> kvm_vcpu_block): the
 *    thread leaves guest mode (endSegment) and busy-polls for the vCPU's
 *    current halt-poll window (a host A_COMPUTE; a wake-up during it goes
 *    straight back to the guest). The poll stops as soon as another task is
 *    runnable on that host CPU (single_task_running(), checked every
 *    POLL_CHECK_NS of polling instead of every loop iteration), then the
 *    thread sleeps (A_WAIT: prepare_to_swait + schedule()) until
 *    kvm_vcpu_kick wakes it. The window adapts per vCPU as in 5.0's
 *    kvm_vcpu_block: it starts at 0; a block shorter than halt_poll_ns that
 *    polling missed grows it (grow_halt_poll_ns: 0 -> 10 µs, then x2,
 *    capped at halt_poll_ns); a block longer than halt_poll_ns shrinks it
 *    (shrink_halt_poll_ns with halt_poll_ns_shrink = 0: reset to 0); a
 *    wake-up within the window keeps it. halt_poll_ns = 0 turns polling off.
 *
 * Guest LAPIC timer (TSC-deadline mode, arch/x86/kvm/lapic.c). While the
 * thread is in its guest segment KVM uses the VMX preemption timer
 * (kvm_lapic_switch_to_hv_timer): the deadline expires as a VM exit
 * (handle_preemption_timer -> apic_timer_expired): the guest gets IRQ_TIMER
 * and resumes after the exit + entry + injection costs. Otherwise (halted,
 * polling, preempted: vmx_pre_block -> kvm_lapic_switch_to_sw_timer) a host
 * hrtimer (apic_timer_fn) expires on the host CPU where the thread last ran,
 * as the hard-context interrupt line "kvm_timer" (data/kernels); its handler
 * makes the timer interrupt pending for the guest CPU (kvm_set_pending_timer)
 * and the guest kernel's usual path kicks the vCPU (kvm_vcpu_kick: stop
 * polling, or wake the sleeping thread); the interrupt is injected when the
 * thread re-enters guest mode. lapic_timer_advance_ns is 0 in 5.0 (no early
 * programming). The guest's clockevent min delta is the board's
 * lapic_min_delta.
 *
 * Other exits. Guest IPIs (x2APIC ICR write -> kvm_apic_send_ipi) land after
 * hv_ipi_latency: a target in guest mode takes a VM exit and the injection
 * (no posted interrupts: client CPUs without APICv), a target outside guest
 * mode gets the interrupt pending (kicked if halted) and injected at entry.
 * The sender's own ICR-write exit is not charged (the guest kernel pays
 * ipi_send). An emulated-device access (MMIO/PIO through ioeventfd / a
 * virtio notify handled in the kernel) costs one exit + entry round trip.
 * Clock reads (kvmclock over rdtsc) cost a native rdtsc when the board
 * passes the TSC through, a trapped one otherwise.
 *
 * Steal time (record_steal_time): KVM publishes the thread's
 * sched_info.run_delay, the time it was runnable on a host runqueue but not
 * running: from a wake-up (enqueue) or a preemption (switched out while
 * TASK_RUNNING) to its next switch-in, tracked with a host switch observer.
 * Time the thread spends running on the host outside guest mode (exit
 * handling, host interrupts, polling) is not steal, as in Linux.
 *
 * issue 14, hosts of version 2.6.29/2.6.31 (KVM of 2009, arch/x86/kvm/timer.c)
 * and boards without a VMX-preemption timer: the host hrtimer (kvm_timer_fn)
 * also serves the guest in guest mode (its interrupt is an external-interrupt
 * exit); on a 2.6.x PREEMPT_RT host the callback runs in the sirq-hrtimer/N
 * thread at kernel.hrtimer_thread_priority instead of hard-interrupt context.
 * Boards with an `llc` charge cache-interference time on VM entries.
 *
 * Shadow paging (issue 10): on a CPU without EPT (board `hap` false: the
 * Core 2 E8500 and T5500) KVM shadows the guest's page tables and keeps
 * CR3-load exiting, so every guest CR3 write is an exit (handle_cr ->
 * kvm_set_cr3 -> kvm_mmu_new_cr3; cr3WriteCost = vm_entry_exit +
 * shadow_cr3_kvm): the guest's switch_mm into another address space and,
 * in a 5.0 guest with page-table isolation, every return to user mode and
 * system-call entry. Not modelled: the rest of the MMU: guest page faults
 * and page-table writes under shadow paging (exits through the shadow
 * page-fault path; cyclictest's steady state makes none), nested paging's
 * TLB-miss walks, KVM's paravirtual MMU operations (the reproduced setup
 * disabled them) and huge pages.
 *
 * Carrier callbacks and the guest's CpuHost calls arrive from inside a
 * kernel's dispatch: they only record state, touch the guest kernel
 * (suspend / raiseIrq) and arm simulator timers; every call into the host
 * kernel (endSegment, wakeTask, raiseDeviceIrq) happens from a timer.
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import { boardCost, C, type Board } from "../hw/board.js";
import { IRQ_RESCHED, IRQ_TIMER, type CpuHost, type LinuxKernel, type SchedAttr } from "../kernel/linux.js";
import {
  A_COMPUTE, A_GUEST, A_WAIT, type GuestCarrier, type Program, SCHED_NORMAL, type Task,
  TASK_SLEEPING,
} from "../kernel/task.js";
import type { TableSet, TableSource } from "../results/tables.js";
import { DEFAULT_RT_PRIORITY, rtAttr, threadAttr } from "../spec/defaults.js";
import type { GuestSpec, KvmSpec } from "../spec/types.js";
import { isLegacy26 } from "../kernel/versions.js"; // issue 14
import { PREEMPT_RT } from "../kernel/latency.js"; // issue 14
import { PvSched, type PvVcpu } from "./pvsched.js"; // issue 14 pvsched
// --- issue 14 qemu (H2): begin
import { QemuProcess, qemuTables, qemuVcpuSched } from "./qemu-kvm.js";
// --- issue 14 qemu (H2): end

/** kvm.halt_poll_ns default on x86 (KVM_HALT_POLL_NS_DEFAULT). */
export const KVM_HALT_POLL_NS_DEFAULT = 200_000;
/** grow_halt_poll_ns: the first window after 0 (5.0: a fixed 10 µs base). */
const HALT_POLL_GROW_START = 10_000;
/** halt_poll_ns_grow default. */
const HALT_POLL_GROW = 2;
/** How often a polling thread re-checks single_task_running(), ns (a model granularity, not a kernel constant). */
export const POLL_CHECK_NS = 5_000;

// program modes of a vCPU thread
const M_INIT = 0;
const M_RUN = 1; // KVM_RUN: A_GUEST
const M_POLL = 2; // kvm_vcpu_block: halt polling
const M_SLEEP = 3; // kvm_vcpu_block: schedule()
const M_USER = 4; // issue 14 qemu (H2): a KVM_EXIT_IO handled by QEMU in user space (qemu-kvm.ts)

// timer kinds (arg: vCPU index in Kvm.vcpus)
const T_RESUME = 0; // VM entry complete: the guest CPU runs
const T_HV = 1; // VMX preemption timer (guest TSC deadline, in guest mode)
const T_SW = 2; // host hrtimer (guest TSC deadline, outside guest mode)
const T_HALT = 3; // the guest halted: leave guest mode
const T_KICK = 4; // kvm_vcpu_kick: stop polling / wake the thread
const T_IPI = 5; // a guest IPI lands

/** One guest vCPU and its QEMU vCPU thread. */
export class KvmVcpu implements GuestCarrier, Program {
  thread!: Task;
  // guest side
  /** The guest CPU halted and no interrupt has kicked it since (!kvm_vcpu_check_block). */
  halted = false;
  /** The thread is in its A_GUEST segment on a host CPU (between enter and exit). */
  inSeg = false;
  /** The guest CPU is executing (VM entry completed, no exit since). */
  guestOn = false;
  guestSince = 0;
  enterAt = 0;
  /** Guest TSC deadline (absolute ns), -1 when disarmed. */
  deadline = -1;
  // thread program
  mode = M_INIT;
  /** vcpu->halt_poll_ns: the current polling window. */
  window = 0;
  /** kvm_vcpu_block's start, and the end of the current poll. */
  blockStart = 0;
  pollStop = 0;
  // run delay (steal)
  waitSince = -1;
  runDelay = 0;
  // timers
  resumeT = -1;
  hvT = -1;
  swT = -1;
  haltT = -1;
  kickT = -1;
  ipiT = -1;
  // statistics
  inGuestNs = 0;
  halts = 0;
  pollsSucceeded = 0;
  sleeps = 0;
  vmExits = 0;
  // --- issue 14 pvsched: begin
  /** Paravirtual-scheduling state (null: pvsched off for this guest). */
  pv: PvVcpu | null = null;
  /** The guest may not re-enter before this time (a hypercall's handler runs until then), ns. */
  hcUntil = 0;
  // --- end
  // --- issue 14 qemu (H2): begin
  /** The guest's QEMU process when the guest has `qemu` (its device exits go to user space), else null. */
  qemu: QemuProcess | null = null;
  // --- issue 14 qemu (H2): end

  constructor(
    readonly kvm: Kvm,
    readonly id: number,
    readonly guest: string,
    readonly gk: LinuxKernel,
    readonly idx: number,
    readonly policy: string,
    readonly priority: number,
  ) {}

  // ---- GuestCarrier (called from inside the host kernel's dispatch)

  enter(_t: Task, now: number): void {
    const k = this.kvm;
    this.inSeg = true;
    this.enterAt = now;
    const inj = this.gk.cpus[this.idx].pendingIrq !== 0 ? k.irqInjection : 0;
    const from = this.hcUntil > now ? this.hcUntil : now; // issue 14 pvsched: not before a hypercall's handler ends
    k.sim.arm(this.resumeT, from + k.vmEntryExit + inj + k.llcExtra(this.thread.cpu, inj !== 0)); // issue 14: cache interference
    if (this.deadline >= 0 && k.hvTimer) { // issue 14: only with a usable VMX-preemption timer
      // kvm_lapic_switch_to_hv_timer
      k.sim.cancel(this.swT);
      k.sim.arm(this.hvT, this.deadline);
    }
  }

  exit(_t: Task, now: number): void {
    const k = this.kvm;
    this.inSeg = false;
    this.vmExits++;
    k.sim.cancel(this.resumeT);
    if (this.guestOn) {
      this.guestOn = false;
      this.inGuestNs += now - this.guestSince;
      this.gk.suspend(this.idx, now);
    }
    if (this.deadline >= 0 && k.hvTimer) { // issue 14: without the hv timer the host hrtimer stays armed
      // kvm_lapic_switch_to_sw_timer
      k.sim.cancel(this.hvT);
      k.sim.arm(this.swT, this.deadline);
    }
  }

  // ---- Program of the vCPU thread

  next(t: Task, now: number): void {
    switch (this.mode) {
      case M_INIT:
        this.runGuest(t);
        return;
      // --- issue 14 qemu (H2): begin
      case M_USER:
        if (this.qemu!.exitStep(this, t, now)) return;
        this.mode = M_RUN;
        this.next(t, now);
        return;
      // --- issue 14 qemu (H2): end
      case M_RUN:
        // --- issue 14 qemu (H2): an exit to QEMU user space (KVM_EXIT_IO) first
        if (this.qemu !== null && this.qemu.exitPending(this)) { this.mode = M_USER; this.next(t, now); return; }
        // the guest segment ended: the guest halted (or a kick raced with the halt exit)
        if (!this.halted) { this.runGuest(t); return; }
        this.halts++;
        this.blockStart = now;
        if (this.window > 0 && this.singleTaskRunning(t)) {
          this.mode = M_POLL;
          this.pollStop = now + this.window;
          this.pollChunk(t, now);
        } else this.sleep(t);
        return;
      case M_POLL:
        if (!this.halted) {
          // woken while polling: halt_successful_poll; the window is kept
          this.pollsSucceeded++;
          this.adapt(now - this.blockStart);
          this.runGuest(t);
        } else if (now < this.pollStop && this.singleTaskRunning(t)) this.pollChunk(t, now);
        else this.sleep(t);
        return;
      case M_SLEEP:
        if (this.halted) { this.sleep(t); return; } // kvm_vcpu_check_block: nothing pending, schedule() again
        this.adapt(now - this.blockStart);
        this.runGuest(t);
        return;
    }
  }

  private runGuest(t: Task): void {
    this.mode = M_RUN;
    t.act = A_GUEST;
    t.actArg = 0;
  }

  private pollChunk(t: Task, now: number): void {
    const left = this.pollStop - now;
    t.act = A_COMPUTE;
    t.actArg = left < POLL_CHECK_NS ? left : POLL_CHECK_NS;
  }

  private sleep(t: Task): void {
    this.mode = M_SLEEP;
    this.sleeps++;
    t.act = A_WAIT;
    t.actArg = 0;
  }

  /** single_task_running() on the thread's host CPU. */
  private singleTaskRunning(t: Task): boolean {
    const c = this.kvm.host.cpus[t.cpu];
    return c.rq.nrRunning + (c.rt.queued ? c.rt.nr : 0) + c.dl.n <= 1;
  }

  /** The window update at the end of kvm_vcpu_block (5.0, halt_poll_ns_shrink = 0). */
  private adapt(blockNs: number): void {
    const max = this.kvm.haltPollNs;
    if (max <= 0) { this.window = 0; return; }
    if (blockNs <= this.window) return;
    if (this.window > 0 && blockNs > max) this.window = 0;
    else if (this.window < max && blockNs < max) {
      const w = this.window === 0 ? HALT_POLL_GROW_START : this.window * HALT_POLL_GROW;
      this.window = w > max ? max : w;
    }
  }

  /** Steal clock: the thread's run delay up to now. */
  steal(now: number): number {
    return this.runDelay + (this.waitSince >= 0 ? now - this.waitSince : 0);
  }

  /**
   * An interrupt for the guest CPU from KVM (timer expiry, IPI). In guest
   * mode it is a VM exit: the guest stops, gets the interrupt, and resumes
   * after exit + entry + injection; during a VM entry it is injected with
   * it; outside guest mode it stays pending (the guest kernel kicks a halted
   * vCPU) and is injected at the next entry.
   */
  deliver(irq: number, now: number): void {
    const k = this.kvm;
    if (this.pv !== null) this.pv.kick(irq === IRQ_TIMER, now); // issue 14 pvsched: kvm_vcpu_kick boosts
    if (!this.inSeg) { this.gk.raiseIrq(this.idx, irq, now); return; }
    let at: number;
    if (this.guestOn) {
      this.vmExits++;
      this.guestOn = false;
      this.inGuestNs += now - this.guestSince;
      this.gk.suspend(this.idx, now);
      at = now + k.vmEntryExit + k.irqInjection + k.llcExtra(this.thread.cpu, true); // issue 14: cache interference
    } else at = this.enterAt + k.vmEntryExit + k.irqInjection;
    this.gk.raiseIrq(this.idx, irq, now);
    const cur = k.sim.expiry(this.resumeT);
    if (cur < at) k.sim.arm(this.resumeT, at < now ? now : at);
  }
}

/** KVM: the vCPU threads of every guest on the host kernel `host`. */
export class Kvm implements TimerTarget, TableSource {
  readonly vcpus: KvmVcpu[] = [];
  // --- issue 14 qemu (H2): begin
  /** QEMU processes of the guests that have `qemu`. */
  readonly qemus: QemuProcess[] = [];
  // --- issue 14 qemu (H2): end
  readonly vmEntryExit: number;
  readonly irqInjection: number;
  readonly ipiLatency: number;
  readonly haltPollNs: number;
  /** The host interrupt line of KVM's LAPIC-timer hrtimers. */
  private readonly timerLine: number;
  /** vCPUs whose host hrtimer fired on each host CPU, waiting for the line's handler. */
  private readonly swFired: KvmVcpu[][] = [];
  /** An empty list per host CPU to swap with swFired in the handler (no allocation per interrupt). */
  private readonly swSpare: KvmVcpu[][] = [];
  /** vCPU threads created on each host CPU (initial placement). */
  private readonly placed: number[] = [];
  // --- issue 14 kernel versions: begin
  /**
   * The guest's LAPIC timer uses the VMX-preemption timer in guest mode: the board has one and the host
   * kernel's KVM uses it (Linux 4.10+; not 2.6.x). Otherwise the host hrtimer stays armed in guest mode too.
   */
  readonly hvTimer: boolean;
  // --- issue 14 kernel versions: end
  /** issue 14 pvsched: paravirtual scheduling of the guests that enable it (null: none does). */
  pv: PvSched | null = null;

  constructor(readonly sim: Simulator, readonly board: Board, readonly host: LinuxKernel, readonly spec: KvmSpec) {
    this.vmEntryExit = board.vmEntryExitNs ?? boardCost(board, C.vm_entry_exit);
    this.irqInjection = board.irqInjectionNs ?? boardCost(board, C.irq_injection);
    this.ipiLatency = boardCost(board, C.hv_ipi_latency);
    this.haltPollNs = spec.halt_poll_ns ?? KVM_HALT_POLL_NS_DEFAULT;
    for (let c = 0; c < host.cpus.length; c++) { this.swFired.push([]); this.swSpare.push([]); this.placed.push(0); }
    // --- issue 14 kernel versions: begin
    const hk = spec.host_kernel ?? {};
    const legacy = isLegacy26(hk.version);
    this.hvTimer = !legacy && board.vmxPreemptionTimer !== false;
    if (legacy && host.preempt === PREEMPT_RT) {
      // 2.6.31-rt: kvm_timer_fn (arch/x86/kvm/timer.c of 2.6.31: atomic_inc(&pending),
      // set_bit(KVM_REQ_PENDING_TIMER), wake_up_interruptible(&vcpu->wq)) takes the wait queue's spinlock_t,
      // a sleeping lock on PREEMPT_RT, so it is not an irqsafe hrtimer: hrtimer_interrupt leaves it to
      // HRTIMER_SOFTIRQ, run by the per-CPU softirq thread sirq-hrtimer/N at its priority
      const prio = hk.hrtimer_thread_priority ?? host.lat.data.hrtimer_thread_priority?.value ?? DEFAULT_RT_PRIORITY;
      this.timerLine = host.registerIrq("hrtimer_softirq", (cpu, now) => this.timerIrq(cpu, now), false, prio, "sirq-hrtimer");
    } else
    // --- issue 14 kernel versions: end
    // apic_timer_fn: a hard hrtimer, in hard-interrupt context on every preemption model
    this.timerLine = host.registerIrq("kvm_timer", (cpu, now) => this.timerIrq(cpu, now), true);
    host.observe({
      onSwitch: (prev, next, _reason, now) => {
        // sched_info: run_delay from enqueue (wake-up, preemption) to switch-in
        if (prev !== null && prev.carrier instanceof KvmVcpu && prev.state !== TASK_SLEEPING) prev.carrier.waitSince = now;
        if (next !== null && next.carrier instanceof KvmVcpu) {
          const v = next.carrier;
          if (v.waitSince >= 0) { v.runDelay += now - v.waitSince; v.waitSince = -1; }
        }
      },
    });
  }

  /**
   * Adds a guest whose kernel `k` runs on vCPU threads of the host (sets
   * k.host). The threads are created at once (runnable from `now`), so that
   * they are queued when the host CPUs are resumed.
   */
  addGuest(g: GuestSpec, k: LinuxKernel, now: number): void {
    const vt = g.vcpu_thread ?? {};
    // --- issue 14 qemu (H2): QEMU's -rt sets the vCPU threads' policy (maxprio - 1), qemu.cpus their CPUs
    const qs = qemuVcpuSched(g.qemu);
    const policy = qs !== null ? qs.name : (vt.policy ?? "other");
    const all = Array.from({ length: this.host.cpus.length }, (_, i) => i);
    const qcpus = g.qemu?.cpus;
    const allowed = vt.cpus && vt.cpus.length > 0 ? vt.cpus.slice() : qcpus && qcpus.length > 0 ? qcpus.slice() : all;
    const rt = policy === "fifo" || policy === "rr";
    const prio = qs !== null ? qs.prio : rt ? (vt.priority ?? DEFAULT_RT_PRIORITY) : 0;
    // SCHED_DEADLINE vCPU threads (vcpu_thread.policy "deadline": runtime/deadline/period)
    const attr: SchedAttr | undefined = qs !== null ? (rt ? qs.attr : undefined) : rt ? rtAttr(policy, prio) : threadAttr(vt);
    const nice = rt || policy === "deadline" ? 0 : (vt.nice ?? 0);
    for (let i = 0; i < k.cpus.length; i++) {
      const v = new KvmVcpu(this, this.vcpus.length, g.name, k, i, policy, prio);
      v.resumeT = this.sim.timer(this, T_RESUME, v.id);
      v.hvT = this.sim.timer(this, T_HV, v.id);
      v.swT = this.sim.timer(this, T_SW, v.id);
      v.haltT = this.sim.timer(this, T_HALT, v.id);
      v.kickT = this.sim.timer(this, T_KICK, v.id);
      v.ipiT = this.sim.timer(this, T_IPI, v.id);
      v.waitSince = now;
      // wake_up_new_task's fork balancing, simplified: the allowed CPU carrying the fewest vCPU threads
      let cpu = allowed[0];
      for (const c of allowed) if (this.placed[c] < this.placed[cpu]) cpu = c;
      this.placed[cpu]++;
      v.thread = this.host.spawn(`${g.name}/vcpu${i}`, v, cpu, allowed, nice, now, i, attr ?? { policy: SCHED_NORMAL }, i > 0 ? this.vcpus[this.vcpus.length - 1].thread.mm : undefined);
      v.thread.carrier = v;
      this.vcpus.push(v);
    }
    k.host = new KvmGuestHost(this, this.vcpus.slice(this.vcpus.length - k.cpus.length));
    // --- issue 14 pvsched: QEMU's -rt pvsched=on: KVM_SET_MAX_PRIO(maxprio - 1) on every vCPU, the hypercalls offered
    const rtq = g.qemu?.rt;
    if (rtq !== undefined && rtq.pvsched === true) {
      if (this.pv === null) this.pv = new PvSched(this.sim, this.host, this.vmEntryExit, this.irqInjection, boardCost(this.board, C.kvm_hypercall), this.host.irqThreaded(this.timerLine));
      const vs = this.vcpus.slice(this.vcpus.length - k.cpus.length);
      const pvs = this.pv.attachGuest(vs, k.host, rtq.maxprio - 1, now);
      for (let i = 0; i < vs.length; i++) vs[i].pv = pvs[i];
    }
    // --- end
    // --- issue 14 qemu (H2): begin
    if (g.qemu !== undefined) {
      this.qemus.push(new QemuProcess(this.sim, this.board, this.host, g, k, this.vcpus.slice(this.vcpus.length - k.cpus.length), this.spec, now));
    }
    // --- issue 14 qemu (H2): end
  }

  /** Starts the vCPU threads (they were queued by addGuest; nothing left to do). */
  start(_now: number): void {}

  onTimer(kind: number, arg: number, now: number): void {
    const v = this.vcpus[arg];
    switch (kind) {
      case T_RESUME:
        if (!v.inSeg || v.guestOn) return;
        if (v.pv !== null) v.pv.entry(now); // issue 14 pvsched: inject_pending_event settles a timer-pending boost
        v.guestOn = true;
        v.guestSince = now;
        v.gk.resume(v.idx, now);
        return;
      case T_HV:
        // handle_preemption_timer -> apic_timer_expired (one-shot: the deadline is consumed)
        v.deadline = -1;
        if (v.pv !== null) v.pv.timerFired(true, now); // issue 14 pvsched: timer pending (vCPU thread context)
        v.deliver(IRQ_TIMER, now);
        return;
      case T_SW: {
        // apic_timer_fn on the host CPU where the thread last ran
        v.deadline = -1;
        const cpu = v.thread.cpu;
        this.swFired[cpu].push(v);
        this.host.raiseDeviceIrq(cpu, this.timerLine, now);
        return;
      }
      case T_HALT:
        // HLT exit: leave guest mode unless an interrupt arrived meanwhile
        if (!v.halted) return;
        if (!v.gk.cpus[v.idx].halted) { v.halted = false; return; }
        if (v.mode === M_RUN) this.host.endSegment(v.thread, now);
        return;
      case T_KICK: {
        if (v.halted) return;
        const t = v.thread;
        if (v.mode === M_POLL) this.host.endSegment(t, now);
        else if (v.mode === M_SLEEP) {
          // also when the thread chose A_WAIT but is not asleep yet: wakeTask leaves it a
          // token, so the kick is not lost (kvm_vcpu_check_block sees the pending interrupt)
          if (t.state === TASK_SLEEPING && !t.onRq && v.waitSince < 0) v.waitSince = now;
          this.host.wakeTask(t, now);
        }
        return;
      }
      case T_IPI:
        v.deliver(IRQ_RESCHED, now);
        return;
    }
  }

  /** The kvm_timer line's handler on host CPU `cpu`: apic_timer_expired for every vCPU whose hrtimer fired there. */
  private timerIrq(cpu: number, now: number): void {
    const l = this.swFired[cpu];
    if (l.length === 0) return;
    // later firings go to the other list while these are delivered
    this.swFired[cpu] = this.swSpare[cpu];
    for (let i = 0; i < l.length; i++) {
      const pv = l[i].pv;
      if (pv !== null) pv.timerFired(false, now); // issue 14 pvsched: timer pending (hrtimer callback context)
      l[i].deliver(IRQ_TIMER, now);
    }
    l.length = 0;
    this.swSpare[cpu] = l;
  }

  // --- issue 14 cache: begin
  /** Extra ns of a VM exit + entry (and of the injection, `inj`) on host CPU `cpu` from the cache-interference model (0 without). */
  llcExtra(cpu: number, inj: boolean): number {
    const a = this.host.llc;
    if (a === null || a.model.q === 0) return 0;
    return a.model.extra(a, cpu, C.vm_entry_exit) + (inj ? a.model.extra(a, cpu, C.irq_injection) : 0);
  }
  // --- issue 14 cache: end

  /** Table `vcpu_threads` (TableSource). */
  tables(end: number): TableSet {
    const vs = this.vcpus;
    const inGuest = (v: KvmVcpu) => v.inGuestNs + (v.guestOn ? end - v.guestSince : 0);
    // --- issue 14 qemu (H2): tables qemu_threads and qemu_io when a guest has qemu; pvsched its table
    const q = this.qemus.length > 0 ? qemuTables(this.qemus, end) : {};
    return { ...q, ...(this.pv !== null ? this.pv.tables(end) : {}), vcpu_threads: {
      guest: vs.map((v) => v.guest), vcpu: vs.map((v) => v.idx), host_cpu: vs.map((v) => v.thread.cpu),
      policy: vs.map((v) => v.policy), priority: vs.map((v) => v.priority),
      in_guest_ms: vs.map((v) => inGuest(v) / 1e6), runnable_wait_ms: vs.map((v) => v.steal(end) / 1e6),
      halts: vs.map((v) => v.halts), polls_succeeded: vs.map((v) => v.pollsSucceeded), sleeps: vs.map((v) => v.sleeps),
      vm_exits: vs.map((v) => v.vmExits),
    } };
  }
}

/** The CpuHost a KVM guest kernel sees: its vCPUs are KVM vCPUs run by host threads. */
class KvmGuestHost implements CpuHost {
  private readonly clockCost: number;
  private readonly minDelta: number;
  private readonly timerOp: number;
  private readonly cr3Cost: number;
  constructor(private readonly kvm: Kvm, private readonly vs: KvmVcpu[]) {
    const b = kvm.board;
    this.timerOp = boardCost(b, C.timer_program);
    // without EPT KVM shadows the guest page tables (enable_ept = 0) and keeps CR3-load exiting:
    // every guest CR3 write is an exit (handle_cr -> kvm_set_cr3 -> kvm_mmu_new_cr3)
    this.cr3Cost = b.hap === false ? kvm.vmEntryExit + boardCost(b, C.shadow_cr3_kvm) : 0;
    // kvmclock is read with rdtsc; it traps only when the TSC cannot be passed through
    this.clockCost = b.tscPassthrough !== false ? (b.rdtscNativeNs ?? 0) : (b.rdtscTrapNs ?? 0);
    this.minDelta = b.lapicMinDeltaNs ?? boardCost(b, C.lapic_min_delta);
  }
  /** HLT: the thread leaves guest mode (kvm_vcpu_block), from a timer. */
  halt(cpu: number, now: number): void {
    const v = this.vs[cpu];
    v.halted = true;
    const sim = this.kvm.sim;
    if (!sim.isArmed(v.haltT)) sim.arm(v.haltT, now);
  }
  /** kvm_vcpu_kick: an interrupt is pending for the halted vCPU. */
  kick(cpu: number, now: number): void {
    const v = this.vs[cpu];
    v.halted = false;
    const sim = this.kvm.sim;
    if (v.mode !== M_RUN && !sim.isArmed(v.kickT)) sim.arm(v.kickT, now);
  }
  /** x2APIC ICR write: the IPI lands on the target vCPU after hv_ipi_latency. */
  sendIpi(_from: number, to: number, now: number): void {
    const v = this.vs[to];
    const sim = this.kvm.sim;
    if (!sim.isArmed(v.ipiT)) sim.arm(v.ipiT, now + this.kvm.ipiLatency);
  }
  steal(cpu: number, now: number): number {
    return this.vs[cpu].steal(now);
  }
  /** The guest's TSC-deadline MSR write (t < 0: disarm). */
  setTimer(cpu: number, t: number, _now: number): void {
    const v = this.vs[cpu];
    const sim = this.kvm.sim;
    if (t < 0) {
      v.deadline = -1;
      sim.cancel(v.hvT);
      sim.cancel(v.swT);
      return;
    }
    v.deadline = t;
    if (v.inSeg && this.kvm.hvTimer) { sim.cancel(v.swT); sim.arm(v.hvT, t); } else { sim.cancel(v.hvT); sim.arm(v.swT, t); } // issue 14: hvTimer
  }
  minTimerDelta(): number {
    return this.minDelta;
  }
  /** issue 14 (cache model): the host CPU vCPU `cpu`'s thread is on. */
  vcpuHostCpu(cpu: number): number {
    return this.vs[cpu].thread.cpu;
  }
  clockReadCost(): number {
    return this.clockCost;
  }
  /**
   * The guest programs its LAPIC timer: a WRMSR of IA32_TSC_DEADLINE (5.x
   * guests) or a write of the xAPIC's initial-count register (2.6.x guests),
   * both a VM exit that KVM handles in the kernel (kvm_set_lapic_tscdeadline_msr
   * / apic_reg_write -> start_apic_timer: the host hrtimer or the
   * VMX-preemption timer is re-armed).
   */
  timerProgramCost(cpu: number): number {
    this.vs[cpu].vmExits++;
    return this.kvm.vmEntryExit + this.timerOp;
  }
  /** A guest CR3 write: a VM exit under shadow paging (no EPT), free with EPT. */
  cr3WriteCost(cpu: number): number {
    if (this.cr3Cost === 0) return 0;
    this.vs[cpu].vmExits++;
    return this.cr3Cost;
  }
  /** An MMIO/PIO exit handled in the kernel (ioeventfd, virtio notify): one exit + entry round trip. */
  deviceAccess(cpu: number, now: number): number {
    const v = this.vs[cpu];
    v.vmExits++;
    // --- issue 14 qemu (H2): the guest's emulated IDE disk or UART is in QEMU: a KVM_EXIT_IO to user space
    if (v.qemu !== null && v.gk === v.qemu.gk && (v.qemu.g.qemu?.disk !== undefined || v.qemu.g.qemu?.serial !== undefined)) return v.qemu.pio(cpu, now);
    return this.kvm.vmEntryExit;
  }
}
