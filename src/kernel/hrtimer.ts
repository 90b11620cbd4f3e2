/**
 * Linux kernel model: clockevents and hrtimers (kernel/time/hrtimer.c,
 * clockevents.c and tick-sched.c of v5.10). Every CPU has one clockevent
 * device, programmed through the host (`host.setTimer`, or a kernel-internal
 * simulator timer when the host has none), and a queue of the hrtimers armed
 * on it: the scheduler tick (tick_sched_timer), task sleeps
 * (hrtimer_nanosleep), and the scheduling classes' timers (dl_task_timer,
 * sched_rt_period_timer). Programming follows clockevents_program_event (see
 * reprogram); hrtimer_interrupt runs the expired timers in hard-expiry order.
 * Not modelled: soft hrtimers expiring in softirq context (they expire in
 * hard interrupt context, also on PREEMPT_RT), timer migration, NOHZ_FULL.
 */
import type { HrtimerCallback } from "../sched/linux/class.js";
import type { Simulator } from "../engine/sim.js";
import type { KCpu, KernelConfig } from "./state.js";
import { ProbeKernel } from "./probe.js";
import { MAX_RT_PRIO, type Task } from "./task.js";

// hrtimer kinds
export const HR_SLEEP = 0; // arg: task id (hrtimer_sleeper of clock_nanosleep)
export const HR_CLASS = 1; // a scheduling class's timer (dl_task_timer, sched_rt_period_timer): its callback object
export const HR_TICK = 3; // arg: CPU (tick_sched_timer)

/** The kernel with its clockevent devices and hrtimer queues. */
export abstract class HrtimerKernel extends ProbeKernel {
  // hrtimers: parallel arrays indexed by hrtimer id
  protected readonly hrKind: number[] = [];
  protected readonly hrArg: number[] = [];
  protected readonly hrCb: (HrtimerCallback<KCpu> | null)[] = [];
  protected readonly hrCpu: number[] = [];
  /** Soft and hard expiry (ns); hard = soft + slack. */
  protected readonly hrSoft: number[] = [];
  protected readonly hrHard: number[] = [];
  protected readonly hrSeq: number[] = [];
  /** Position in its CPU's heap, -1 when not queued. */
  protected readonly hrPos: number[] = [];
  protected hrSeqNext = 0;

  constructor(sim: Simulator, cfg: KernelConfig) {
    super(sim, cfg);
    for (const c of this.cpus) c.tickHr = this.initHrtimer(HR_TICK, c.idx, null);
  }

  protected armTick(c: KCpu, now: number): void {
    const p = this.tickPeriod;
    const k = Math.floor((now - this.tickPhase) / p) + 1;
    this.hrtimerStart(c.tickHr, c.idx, this.tickPhase + k * p, 0, now);
    c.tickOn = true;
  }

  /** @internal hrtimer_init for a scheduling class's timer (SchedCore). */
  newHrtimer(cb: HrtimerCallback<KCpu>, arg: number): number {
    return this.initHrtimer(HR_CLASS, arg, cb);
  }

  /** Registers a kernel hrtimer (setup, or the first use by a task). */
  protected initHrtimer(kind: number, arg: number, cb: HrtimerCallback<KCpu> | null): number {
    const id = this.hrKind.length;
    this.hrKind.push(kind);
    this.hrArg.push(arg);
    this.hrCb.push(cb);
    this.hrCpu.push(0);
    this.hrSoft.push(0);
    this.hrHard.push(0);
    this.hrSeq.push(0);
    this.hrPos.push(-1);
    return id;
  }

  /** @internal hrtimer_is_queued. */
  hrtimerQueued(id: number): boolean {
    return this.hrPos[id] >= 0;
  }

  /** (hard, seq) order of two queued timers. */
  protected hrLess(a: number, b: number): boolean {
    const ha = this.hrHard[a], hb = this.hrHard[b];
    return ha < hb || (ha === hb && this.hrSeq[a] < this.hrSeq[b]);
  }

  protected hqUp(c: KCpu, k: number): void {
    const h = c.hq, pos = this.hrPos;
    const id = h[k];
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.hrLess(id, h[p])) break;
      h[k] = h[p]; pos[h[k]] = k;
      k = p;
    }
    h[k] = id; pos[id] = k;
  }

  protected hqDown(c: KCpu, k: number): void {
    const h = c.hq, pos = this.hrPos, n = c.hqN;
    const id = h[k];
    for (;;) {
      let m = 2 * k + 1;
      if (m >= n) break;
      if (m + 1 < n && this.hrLess(h[m + 1], h[m])) m++;
      if (!this.hrLess(h[m], id)) break;
      h[k] = h[m]; pos[h[k]] = k;
      k = m;
    }
    h[k] = id; pos[id] = k;
  }

  protected hqRemove(c: KCpu, id: number): void {
    const k = this.hrPos[id];
    this.hrPos[id] = -1;
    const last = --c.hqN;
    if (k === last) return;
    const moved = c.hq[last];
    c.hq[k] = moved;
    this.hrPos[moved] = k;
    if (k > 0 && this.hrLess(moved, c.hq[(k - 1) >> 1])) this.hqUp(c, k);
    else this.hqDown(c, k);
  }

  /**
   * hrtimer_start_range_ns on CPU `cpu`: soft expiry `soft`, hard expiry
   * soft + slack. Reprograms the device when the timer becomes the first to
   * expire (unless hrtimer_interrupt is running there). Returns true if it
   * programmed the device. @internal
   */
  hrtimerStart(id: number, cpu: number, soft: number, slack: number, now: number): boolean {
    let force = false;
    if (this.hrPos[id] >= 0) {
      // remove_hrtimer(restart): the device of its CPU is reprogrammed if it was the next to expire
      const oc = this.cpus[this.hrCpu[id]];
      const wasFirst = oc.hq[0] === id;
      this.hqRemove(oc, id);
      if (wasFirst) { if (oc.idx !== cpu) { if (!oc.inHrtirq) this.reprogram(oc, now); } else force = true; }
    }
    const c = this.cpus[cpu];
    this.hrCpu[id] = cpu;
    this.hrSoft[id] = soft;
    const hard = soft + slack;
    this.hrHard[id] = hard;
    this.hrSeq[id] = this.hrSeqNext++;
    const k = c.hqN++;
    if (k === c.hq.length) c.hq.push(id); else c.hq[k] = id;
    this.hqUp(c, k);
    if ((force || hard < c.expiresNext) && !c.inHrtirq) {
      this.reprogram(c, now);
      return true;
    }
    return false;
  }

  /** hrtimer_cancel: dequeue; reprogram when it was the first to expire. */
  protected hrtimerCancel(id: number, now: number): void {
    if (this.hrPos[id] < 0) return;
    const c = this.cpus[this.hrCpu[id]];
    const wasFirst = c.hq[0] === id;
    this.hqRemove(c, id);
    if (wasFirst && !c.inHrtirq) this.reprogram(c, now);
  }

  /**
   * Programs CPU c's clockevent device for its earliest hard expiry
   * (clockevents_program_event): fire = now + max(min delta, expiry - now).
   */
  protected reprogram(c: KCpu, now: number): void {
    const next = c.hqN > 0 ? this.hrHard[c.hq[0]] : Infinity;
    c.expiresNext = next;
    const h = this.host;
    if (next === Infinity) {
      if (c.devFire < 0) return;
      c.devFire = -1;
      if (h.setTimer !== undefined) h.setTimer(c.idx, -1, now); else this.sim.cancel(c.devTimer);
      return;
    }
    const min = h.minTimerDelta !== undefined ? h.minTimerDelta(c.idx) : 0;
    const delta = next - now;
    const fire = now + (delta > min ? delta : min);
    c.devFire = fire;
    if (h.setTimer !== undefined) h.setTimer(c.idx, fire, now); else this.sim.arm(c.devTimer, fire);
  }

  /**
   * hrtimer_interrupt on CPU c: run every timer whose soft expiry has passed
   * (in hard-expiry order, stopping at the first that is not due), again
   * while the next one is already due, then reprogram the device.
   */
  protected hrtimerInterrupt(c: KCpu, now: number): void {
    c.inHrtirq = true;
    c.expiresNext = Infinity;
    for (;;) {
      while (c.hqN > 0) {
        const id = c.hq[0];
        if (this.hrSoft[id] > now) break;
        this.hqRemove(c, id);
        this.runHrtimer(c, id, now);
      }
      if (c.hqN === 0 || this.hrHard[c.hq[0]] > now) break;
    }
    c.inHrtirq = false;
    this.reprogram(c, now);
  }

  /** __run_hrtimer: the callback of an expired timer. */
  protected runHrtimer(c: KCpu, id: number, now: number): void {
    const k = this.hrKind[id];
    if (k === HR_TICK) this.tickSchedTimer(c, now);
    else if (k === HR_SLEEP) {
      const t = this.tasks[this.hrArg[id]];
      const p = t.probe;
      if (p !== null && p.armed && !p.fired) {
        if (c.probes.length !== 0) this.probeMark(c, now);
        p.fired = true;
      }
      this.wake(t, c, now, false);
    } else this.hrCb[id]!.hrtimerExpired(c, this.hrArg[id], now);
  }

  /** tick_sched_timer -> scheduler_tick -> curr->sched_class->task_tick. */
  protected tickSchedTimer(c: KCpu, now: number): void {
    const t = c.curr;
    if (t === null) { c.tickOn = false; return; } // the tick stops (NO_HZ idle); schedule() restarts it for the next task
    this.armTick(c, now);
    this.classOf[t.cls].taskTick(c, t, now);
  }

  /** Sleep hrtimers of CPU c whose soft expiry has passed (the wake-ups the timer interrupt will do). */
  protected expiredSleepers(c: KCpu, now: number): number {
    let n = 0;
    for (let i = 0; i < c.hqN; i++) {
      const id = c.hq[i];
      if (this.hrKind[id] === HR_SLEEP && this.hrSoft[id] <= now) n++;
    }
    return n;
  }

  /**
   * hrtimer_start_range_ns for the sleep of task t on CPU c (do_nanosleep):
   * the range [expires, expires + timer_slack_ns], no slack for RT and DL
   * tasks (hrtimer_nanosleep). Returns true if it programmed the device.
   */
  protected armSleepTimer(c: KCpu, t: Task, expires: number, now: number): boolean {
    if (t.sleepTimer < 0) t.sleepTimer = this.initHrtimer(HR_SLEEP, t.id, null);
    // rt_task(current) || dl_task(current): no slack
    return this.hrtimerStart(t.sleepTimer, c.idx, expires, t.prio < MAX_RT_PRIO ? 0 : t.timerSlackNs, now);
  }
}
