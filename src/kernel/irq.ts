/**
 * Linux kernel model: interrupts and softirqs (kernel/irq/, kernel/softirq.c
 * of v5.10). An interrupt raised for a CPU becomes pending; the CPU takes it
 * at the next point its execution allows (not inside an interrupts-off
 * section) as a prefix costing the handler's time, and runs its action when
 * that has elapsed: hrtimer_interrupt for the timer, nothing more for the
 * reschedule IPI (scheduler_ipi: need_resched was set by the waker), a
 * device line's handler plus its softirq work on non-RT kernels, or a wake-up
 * of the line's irq thread (SCHED_FIFO 50) on PREEMPT_RT.
 * Not modelled: MAX_SOFTIRQ_TIME deferral to ksoftirqd, interrupt affinity
 * changes, shared lines.
 */
import { IrqThread, IRQ_DEV0, IRQ_RESCHED, IRQ_TIMER, EX_NONE, EX_SOFTIRQ, EX_TASK, type KCpu, IRQ_HIGH0 } from "./state.js";
import { ExecKernel } from "./exec.js";
import { PREEMPT_RT } from "./latency.js";
import { MM_KERNEL, NP_IRQS_OFF, NP_NONE, SCHED_FIFO } from "./task.js";

/** The kernel with its interrupt paths. */
export abstract class IrqKernel extends ExecKernel {
  /**
   * Registers a device interrupt line whose handler does kernel activity
   * `activity` (an "irq" activity of data/kernels); returns its IRQ number.
   * `handler`, if given, is the line's action (e.g. an event-channel driver
   * waking its reader): it runs at the end of the hard interrupt on non-RT
   * kernels and when the irq thread finishes the line's work on PREEMPT_RT.
   * `noThread` (IRQF_NO_THREAD, or a hard hrtimer such as KVM's LAPIC
   * timer) runs the handler in hard-interrupt context on PREEMPT_RT too.
   * Setup-time.
   */
  registerIrq(activity: string, handler?: (cpu: number, now: number) => void, noThread = false, threadPriority?: number, threadName?: string): number {
    const a = this.lat.activity(activity);
    if (!a.irqContext) throw new Error(`activity ${activity} is not an interrupt`);
    const irq = IRQ_DEV0 + this.irqLines.length;
    this.irqLines.push(a);
    this.irqHandlers.push(handler ?? null);
    this.irqNoThread.push(noThread);
    // --- issue 14: a line served by a thread of its own priority and name (e.g. sirq-hrtimer/N of 2.6.31-rt)
    while (this.irqThreadPrio.length < this.irqLines.length - 1) { this.irqThreadPrio.push(-1); this.irqThreadName.push(null); }
    this.irqThreadPrio.push(threadPriority ?? -1);
    this.irqThreadName.push(threadName ?? null);
    return irq;
  }

  // --- issue 14: per line, the PREEMPT_RT thread's priority (-1: the kernel's irq_thread_priority) and name (null: irq/N-name)
  private readonly irqThreadPrio: number[] = [];
  private readonly irqThreadName: (string | null)[] = [];

  /**
   * An interrupt for CPU `cpu` (timer, reschedule IPI, or a device line).
   * A timer interrupt does not cut short a segment of the CPU that ends at
   * the same instant: when the CPU's segment timer is due now, the interrupt
   * is delivered by a LATE-priority event after it (and after every other
   * event of the instant), and a second timer interrupt raised meanwhile
   * joins it (timers of several devices expiring together share one
   * interrupt). So is a timer interrupt raised for an instant after the
   * simulator's clock (Xen's timer softirq sends VIRQ_TIMER at its NOW(),
   * the interrupt time plus the entry cost): it must not act before the
   * events in between. Otherwise it is raised at once, so the host sees it
   * pending (a VM entry at the same instant injects it).
   */
  raiseIrq(cpu: number, irq: number, now: number): void {
    if (irq === IRQ_TIMER) {
      const c = this.cpus[cpu];
      const sim = this.sim;
      if (now > sim.now || (c.running && (sim.expiry(c.segTimer) === now || sim.isArmed(c.hrIrqTimer)))) {
        if (!sim.isArmed(c.hrIrqTimer)) sim.arm(c.hrIrqTimer, now);
        return;
      }
    }
    this.raiseIrqNow(cpu, irq, now);
  }

  protected raiseIrqNow(cpu: number, irq: number, now: number): void {
    const c = this.cpus[cpu];
    if (c.probes.length !== 0) {
      this.probeMark(c, now);
      if (irq === IRQ_TIMER && (c.pendingIrq & 1) === 0 && !c.timerHandler) {
        for (let i = 0; i < c.probes.length; i++) {
          const p = c.probes[i];
          if (p.armed && !p.fired && p.raiseAt < 0 && p.expiry <= now) { p.devAtRaise = c.devFire; p.raiseAt = now; }
        }
      }
    }
    if (!c.running && c.pendingSince < 0) c.pendingSince = now; // pending while suspended from now on
    if (irq < IRQ_HIGH0) c.pendingIrq |= 1 << irq;
    else {
      const j = irq - IRQ_HIGH0, w = j >> 5;
      const ph = c.pendingHigh;
      while (ph.length <= w) ph.push(0);
      ph[w] |= 1 << (j & 31);
      c.pendingIrq |= 1 << IRQ_HIGH0;
    }
    if (c.running) {
      const ek = c.execKind;
      if (ek === EX_TASK) {
        const t = c.curr!;
        if (t.kAct < 0 && t.np === NP_IRQS_OFF) return; // a whole interrupts-off segment: taken when it ends
        this.freeze(c, now);
        // in an interrupts-off part: the interrupt is taken when it ends
        if (t.cI > 0) this.startExec(c, EX_TASK, t.cI, now);
        else this.run(c, now);
      } else if (ek === EX_SOFTIRQ) {
        this.freeze(c, now);
        this.run(c, now);
      } else if (ek === EX_NONE) {
        // halted but still holding the pCPU (the hypervisor has not descheduled it yet)
        if (c.halted) { c.halted = false; this.host.kick(cpu, now); }
        this.run(c, now);
      }
      // EX_PREFIX: interrupts off; picked up when the prefix ends
    } else if (c.halted) {
      this.host.kick(cpu, now);
    }
  }

  /** A reschedule IPI for `cpu` lands at time `t` (native hosts). */
  raiseIrqAt(cpu: number, t: number): void {
    const c = this.cpus[cpu];
    const at = this.sim.expiry(c.ipiTimer);
    if (at >= 0 && at <= t) return;
    this.sim.arm(c.ipiTimer, t);
  }

  /** A device interrupt on line `irq` (from registerIrq) for CPU `cpu`. */
  raiseDeviceIrq(cpu: number, irq: number, now: number): void {
    this.raiseIrq(cpu, irq, now);
  }

  // --- issue 14 pvsched: begin
  /** Whether line `irq` (from registerIrq) runs its handler in a thread (PREEMPT_RT and not IRQF_NO_THREAD) rather than in hard-interrupt context. */
  irqThreaded(irq: number): boolean {
    return this.preempt === PREEMPT_RT && !this.irqNoThread[irq - IRQ_DEV0];
  }
  // --- end

  /** A CPU with a new need_resched set from outside any CPU context: make it notice. */
  protected kickIdle(c: KCpu, now: number): void {
    if (!c.running) { if (c.halted) this.host.kick(c.idx, now); return; }
    if (c.execKind === EX_TASK || c.execKind === EX_SOFTIRQ) {
      if (c.execKind === EX_TASK) {
        const t = c.curr!;
        if (t.np !== NP_NONE) return; // a non-preemptible segment: the point is at its end
        this.freeze(c, now);
        // a non-preemptible part: stop at its end to take the preemption point
        if (t.cI + t.cN > 0) { this.startExec(c, EX_TASK, t.cI + t.cN, now); return; }
        this.run(c, now);
        return;
      }
      this.freeze(c, now);
      this.run(c, now);
    } else if (c.execKind === EX_NONE) {
      if (c.halted) { c.halted = false; this.host.kick(c.idx, now); }
      this.run(c, now);
    }
  }

  /** The body of interrupt `irq` on CPU c, run when its handler's cost has elapsed. */
  protected irqAction(c: KCpu, irq: number, now: number): void {
    if (irq === IRQ_TIMER) {
      this.hrtimerInterrupt(c, now);
      c.timerHandler = false;
      return;
    }
    if (irq === IRQ_RESCHED) return; // scheduler_ipi; need_resched was set by the waker
    const a = this.irqLines[irq - IRQ_DEV0];
    if (this.preempt !== PREEMPT_RT || this.irqNoThread[irq - IRQ_DEV0]) {
      const h = this.irqHandlers[irq - IRQ_DEV0];
      if (h !== null) h(c.idx, now);
      // the softirq raised by the handler runs on interrupt exit
      c.softirq += a.work.sample(c.krng);
      return;
    }
    // PREEMPT_RT: the primary handler wakes the line's irq thread on this CPU
    const line = irq - IRQ_DEV0;
    let th = c.irqThreads[line] ?? null;
    if (th === null) {
      th = new IrqThread(a, this.irqHandlers[line]);
      c.irqThreads[line] = th;
      // issue 14: a line may name its thread and priority (registerIrq)
      const tp = this.irqThreadPrio[line] ?? -1, tn = this.irqThreadName[line] ?? null;
      th.task = this.spawn(tn !== null ? `${tn}/${c.idx}` : `irq/${irq}-${a.name}/${c.idx}`, th, c.idx, [c.idx], 0, now, 0, { policy: SCHED_FIFO, priority: tp >= 0 ? tp : this.lat.irqThreadPriority }, MM_KERNEL);
      th.task.rng = c.krng;
    } else {
      th.pending++;
      this.wake(th.task!, c, now, false);
    }
  }
}
