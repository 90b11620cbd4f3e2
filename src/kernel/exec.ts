/**
 * Linux kernel model: per-CPU execution. What a CPU executes right now, in
 * segments of known cost, and in which order (run(): prefix, pending
 * interrupts, softirq work, schedule(), the current task's segment, idle),
 * how a segment is frozen when the host suspends the CPU or an interrupt
 * arrives, and how a kernel activity is cut into interrupts-off,
 * non-preemptible and preemptible chunks (the preemption points of
 * cond_resched / preempt_enable). See linux.ts for the execution model.
 */
import { SimError } from "../engine/sim.js";
import { C } from "../hw/board.js";
import { EX_NONE, EX_PREFIX, EX_SOFTIRQ, EX_TASK, IRQ_DEV0, IRQ_HIGH0, IRQ_RESCHED, IRQ_TIMER, type KCpu, PK_IRQ, PK_NONE, PK_SCHED } from "./state.js";
import { HrtimerKernel } from "./hrtimer.js";
import { PREEMPT_RT } from "./latency.js";
import { A_GUEST, NP_IRQS_OFF, NP_NONE, PH_BODY, type Task, TASK_SLEEPING } from "./task.js";

/**
 * Iterations of one run() call before it reports a zero-time loop: far above
 * any real burst (a call makes a few).
 */
export const MAX_STEPS_PER_INSTANT = 1_000_000;

/** The kernel with its per-CPU execution engine. */
export abstract class ExecKernel extends HrtimerKernel {
  /** The CPU starts executing (the vCPU got a pCPU, or the native CPU woke). */
  resume(cpu: number, now: number): void {
    const c = this.cpus[cpu];
    if (c.running) return;
    if (c.probes.length !== 0) this.probeMark(c, now);
    if (c.pendingSince >= 0) {
      c.irqWhileSuspendedNs += now - c.pendingSince;
      c.pendingSince = -1;
    }
    c.running = true;
    c.halted = false;
    this.run(c, now);
  }

  /** The CPU stops executing (the vCPU lost its pCPU). */
  suspend(cpu: number, now: number): void {
    const c = this.cpus[cpu];
    if (!c.running) return;
    this.freeze(c, now);
    c.running = false;
    if (c.pendingIrq !== 0) c.pendingSince = now;
  }

  /**
   * Ends task t's current segment now (KVM: the guest left guest mode because
   * it halted or needs user space). If t is executing, its program is asked
   * for the next action at once; otherwise when it next runs.
   */
  endSegment(t: Task, now: number): void {
    const c = this.cpus[t.cpu];
    if (c.curr === t && c.running && c.execKind === EX_TASK) {
      this.freeze(c, now);
      t.segRemaining = 0;
      this.run(c, now);
    } else t.segRemaining = 0;
  }

  /** Stops the clock on whatever the CPU is executing. */
  protected freeze(c: KCpu, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    const ran = now - c.execStart;
    const ek = c.execKind;
    if (ek === EX_PREFIX) {
      c.prefixRemaining -= ran;
      c.prefixClock = c.prefixClock > ran ? c.prefixClock - ran : 0;
    } else if (ek === EX_TASK) {
      const t = c.curr!;
      if (t.inGuest) { t.inGuest = false; t.carrier!.exit(t, now); }
      this.taskRan(c, t, ran);
    } else if (ek === EX_SOFTIRQ) c.softirq -= ran;
    if (ek !== EX_NONE) this.sim.cancel(c.segTimer);
    c.execKind = EX_NONE;
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
  }

  protected segmentDone(c: KCpu, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
    const ek = c.execKind;
    c.execKind = EX_NONE;
    if (ek === EX_PREFIX) {
      c.prefixRemaining = 0;
      this.prefixDone(c, now);
    } else if (ek === EX_TASK) {
      // the segment, or the part of it that an interrupt or a preemption waited for, is done
      const t = c.curr!;
      if (t.inGuest) { t.inGuest = false; t.carrier!.exit(t, now); }
      this.taskRan(c, t, now - c.execStart);
    } else if (ek === EX_SOFTIRQ) {
      c.softirq = 0;
      this.pvIrqExit(c, now); // issue 14 pvsched: irq_exit after invoke_softirq
    }
    this.run(c, now);
  }

  // --- issue 14 pvsched: begin
  /**
   * The paravirtual-scheduling hook of irq_exit (the 2009 pvsched patch): leaving
   * interrupt context, after the softirq work it runs (invoke_softirq; the
   * CPU runs it right after the handler, so the hook waits for it), call
   * cpu_interrupt_done() unless a reschedule is pending (schedule() will
   * report the next task's parameters, which deboosts the CPU anyway).
   */
  protected pvIrqExit(c: KCpu, now: number): void {
    const h = this.host;
    if (h.pvIrqDone === undefined || c.needResched || c.softirq > 0) return;
    h.pvIrqDone(c.idx, now);
  }
  // --- end

  /**
   * Task t (on CPU c) executed `ran` ns of its segment: count down its
   * parts, drawing the next chunks of a kernel activity as they start
   * (a finished segment draws nothing more unless `account` asks for the
   * split). Returns the ns of interrupts-off and non-preemptible parts in it.
   */
  protected taskRan(c: KCpu, t: Task, ran: number, account = false): number {
    if (ran <= 0) return 0;
    t.segClock = t.segClock > ran ? t.segClock - ran : 0;
    const done = ran >= t.segRemaining;
    t.segRemaining = done ? 0 : t.segRemaining - ran;
    if (t.kAct < 0) return 0;
    if (done && !account) {
      t.cI = t.cN = t.cP = 0;
      t.kWork = 0;
      return 0;
    }
    let r = ran, np = 0;
    for (;;) {
      let x = r < t.cI ? r : t.cI; t.cI -= x; r -= x; np += x;
      x = r < t.cN ? r : t.cN; t.cN -= x; r -= x; np += x;
      x = r < t.cP ? r : t.cP; t.cP -= x; r -= x;
      // stop inside a chunk, or exactly at its end: that is a preemption point, and
      // run() draws the next chunk when the task goes on
      if (t.cI + t.cN + t.cP > 0 || r <= 0 || t.kWork <= 0) break;
      this.drawChunk(c, t);
    }
    return np;
  }

  /**
   * The next chunk of task t's kernel activity: [interrupts off][non-preemptible][preemptible]
   * drawn from the preemption model's distributions (absent parts empty) and cut to the work left.
   * The end of a chunk is a preemption point (cond_resched / might_sleep / preempt_enable).
   */
  protected drawChunk(c: KCpu, t: Task): void {
    const a = this.lat.activities[t.kAct];
    const r = t.rng ?? c.krng;
    let w = t.kWork;
    let ci = 0, cn = 0, cp = 0;
    if (a.irqoff === null && a.np === null && a.p === null) cn = w; // no section data: one non-preemptible stretch
    else {
      if (a.irqoff !== null) { ci = a.irqoff.sample(r); if (ci > w) ci = w; w -= ci; }
      if (a.np !== null) { cn = a.np.sample(r); if (cn > w) cn = w; w -= cn; }
      if (a.p !== null) { cp = a.p.sample(r); if (cp > w) cp = w; w -= cp; }
      if (ci + cn + cp === 0) { cn = w; w = 0; } // degenerate draws: do not loop forever
    }
    t.kWork = w;
    t.cI = ci;
    t.cN = cn;
    t.cP = cp;
  }

  /** The prefix of CPU c is complete: do what it stood for. */
  protected prefixDone(c: KCpu, now: number): void {
    const k = c.prefixKind;
    c.prefixKind = PK_NONE;
    c.prefixClock = 0;
    if (k === PK_IRQ) {
      this.irqAction(c, c.prefixArg, now);
      this.pvIrqExit(c, now); // issue 14 pvsched: irq_exit
    }
    else if (k === PK_SCHED) this.schedule(c, now);
  }

  protected startExec(c: KCpu, kind: number, dur: number, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    c.execKind = kind;
    c.execStart = now;
    c.busySince = now;
    if (dur < 1e17) this.sim.arm(c.segTimer, now + dur);
    if (kind === EX_TASK) {
      const t = c.curr!;
      if (t.carrier !== null && t.act === A_GUEST && t.phase === PH_BODY) { t.inGuest = true; t.carrier.enter(t, now); }
    }
  }

  /** Decides what CPU c executes next (see the header comment). */
  protected run(c: KCpu, now: number): void {
    // no-progress detection: a zero-time loop never leaves this loop (one that goes through
    // simulator events is caught by the run loop's count of events at one instant)
    let steps = 0;
    for (;;) {
      if (++steps > MAX_STEPS_PER_INSTANT) this.noProgress(c, now);
      if (!c.running) return;
      if (c.prefixRemaining > 0) {
        this.startExec(c, EX_PREFIX, c.prefixRemaining, now);
        return;
      }
      if (c.prefixKind !== PK_NONE) {
        // zero-cost prefix: complete it immediately
        this.prefixDone(c, now);
        continue;
      }
      const t = c.curr;
      if (c.pendingIrq !== 0 && (t === null || t.segRemaining === 0 || (t.cI === 0 && t.np !== NP_IRQS_OFF))) {
        const x = c.pendingIrq;
        let irq = 31 - Math.clz32(x & -x);
        if (irq < IRQ_HIGH0) c.pendingIrq = x & ~(1 << irq);
        else irq = this.takeHighIrq(c);
        c.irqs++;
        c.prefixKind = PK_IRQ;
        c.prefixArg = irq;
        if (irq === IRQ_TIMER) {
          c.timerHandler = true;
          // the handler's clock reads (entry, reprogramming, each wake-up's rq clock) are charged
          // up front: they delay the woken task's switch-in all the same
          const rd = this.clockRead(c);
          const r = rd > 0 ? rd * (this.lat.readsHrtimerInterrupt + this.lat.readsWakeUp * this.expiredSleepers(c, now)) : 0;
          // hrtimer_interrupt ends by programming the device for the next expiry
          c.prefixRemaining = this.costOf(c, C.timer_irq) + r + this.timerProgram(c);
          c.prefixClock = r;
        } else if (irq === IRQ_RESCHED) c.prefixRemaining = this.costOf(c, C.ipi_irq);
        else {
          const a = this.irqLines[irq - IRQ_DEV0];
          if (this.preempt === PREEMPT_RT && !this.irqNoThread[irq - IRQ_DEV0]) {
            // the primary handler wakes the irq thread: one rq clock read
            const r = this.lat.readsWakeUp * this.clockRead(c);
            c.prefixRemaining = a.primary!.sample(c.krng) + r;
            c.prefixClock = r;
          } else c.prefixRemaining = a.hardirq!.sample(c.krng);
        }
        if (t === null && !c.tickOn && this.lat.readsIdleIrqEnter > 0) {
          // NO_HZ idle with the tick stopped: irq_enter -> tick_irq_enter -> tick_nohz_irq_enter reads the clock
          const r = this.lat.readsIdleIrqEnter * this.clockRead(c);
          c.prefixRemaining += r;
          c.prefixClock += r;
        }
        continue;
      }
      if (c.softirq > 0) {
        this.startExec(c, EX_SOFTIRQ, c.softirq, now);
        return;
      }
      if (c.needResched) {
        if (t === null) { this.schedule(c, now); continue; }
        if ((t.np === NP_NONE && t.cI === 0 && t.cN === 0) || (t.segRemaining === 0 && t.state === TASK_SLEEPING)) {
          c.prefixKind = PK_SCHED;
          const r = this.lat.readsSchedule * this.clockRead(c);
          c.prefixRemaining = this.costOf(c, C.schedule) + r;
          c.prefixClock = r;
          continue;
        }
      }
      if (t === null) {
        if (c.tickOn) { this.hrtimerCancel(c.tickHr, now); c.tickOn = false; }
        if (!c.halted) {
          c.halted = true;
          this.host.halt(c.idx, now);
        }
        return;
      }
      if (t.segRemaining > 0) {
        // a kernel activity between two chunks (a preemption point just passed): the next chunk
        if (t.kAct >= 0 && t.cI + t.cN + t.cP === 0) this.drawChunk(c, t);
        // stop at the end of the interrupts-off part if an interrupt waits, at the end
        // of the non-preemptible part if a reschedule does
        let dur = t.segRemaining;
        if (c.pendingIrq !== 0 && t.cI > 0) dur = t.cI;
        else if (c.needResched && t.cI + t.cN > 0) dur = t.cI + t.cN;
        this.startExec(c, EX_TASK, dur, now);
        return;
      }
      this.step(c, t, now);
    }
  }

  /** Total busy (non-idle, executing) ns of CPU `cpu` up to `now`. */
  busyNs(cpu: number, now: number): number {
    const c = this.cpus[cpu];
    return c.busyNs + (c.busySince >= 0 ? now - c.busySince : 0);
  }

  /** Takes the lowest pending line >= IRQ_HIGH0 of CPU c (bit 31 of pendingIrq is set). */
  private takeHighIrq(c: KCpu): number {
    const ph = c.pendingHigh;
    let w = 0;
    while (ph[w] === 0) w++;
    const x = ph[w];
    const b = 31 - Math.clz32(x & -x);
    ph[w] = x & ~(1 << b);
    let any = false;
    for (let i = w; i < ph.length; i++) if (ph[i] !== 0) { any = true; break; }
    if (!any) c.pendingIrq &= ~(1 << IRQ_HIGH0);
    return IRQ_HIGH0 + (w << 5) + b;
  }

  private noProgress(c: KCpu, now: number): never {
    const t = c.curr;
    throw new SimError(
      `${this.cfg.name}: no progress: ${MAX_STEPS_PER_INSTANT.toLocaleString("en")} scheduling steps at t=${now} ns without time ` +
      `advancing (CPU ${c.idx}${t !== null ? `, task ${t.name}` : ""}): a zero-time loop, in which every step of a cycle costs 0 ns ` +
      `(e.g. context1 with user_ns 0 on a board whose costs are all 0, such as the "ideal" preset); give some operation a cost`,
      now,
    );
  }
}
