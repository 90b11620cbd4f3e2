/**
 * SCHED_FIFO / SCHED_RR as in Linux v5.10 kernel/sched/rt.c: one CPU's
 * rt_rq (no RT group scheduling: every task is a direct child of the root
 * rt_rq) and rt_sched_class, which owns the cross-CPU parts (push/pull) and
 * the RT bandwidth period timer of def_rt_bandwidth.
 *
 * Modelled rules (function names of rt.c):
 * - the priority array: one FIFO list per internal priority (prio = 99 -
 *   sched_priority) and a bitmap; pick_next_rt_entity takes the head of the
 *   highest non-empty list. The running task stays in its list, so a
 *   preempted SCHED_FIFO task resumes before equal-priority tasks that
 *   queued after it (POSIX); a woken task goes to the tail (enqueue_task_rt).
 * - requeue_task_rt (tail) when an SCHED_RR slice runs out in task_tick_rt:
 *   the slice is sched_rr_timeslice jiffies (msecs_to_jiffies of
 *   sched_rr_timeslice_ms, rounded up), decremented at each tick, refilled
 *   when it reaches 0 and not reset by sleeping.
 * - RT throttling (update_curr_rt, sched_rt_runtime_exceeded,
 *   do_sched_rt_period_timer): run time of RT (and, as 5.10 does, DL) tasks
 *   accumulates in rt_time; past rt_runtime the rt_rq is throttled (its tasks
 *   stay queued but pick_next_task_rt sees nothing) until the period timer
 *   subtracts one rt_runtime per elapsed period. RT_RUNTIME_SHARE is off in
 *   5.10, so each CPU is limited on its own (no borrowing). With
 *   `runtimeShare` (kernels before 5.10: unconditional in 2.6.25-3.1, the
 *   RT_RUNTIME_SHARE feature, default on, from 3.2 until 5.10 turned it
 *   off), an rt_rq past its runtime first borrows unused runtime from the
 *   other CPUs' rt_rqs (do_balance_runtime: a share of 1/weight of each
 *   one's rt_runtime - rt_time, up to a whole period), so an RT task can
 *   take a whole CPU while the other CPUs leave their RT bandwidth unused.
 *   Borrowed runtime is kept (2.6.31 returns it only on CPU hot-unplug or a
 *   sysctl change: __disable_runtime, not modelled).
 * - highest_prio.curr / .next and the overload state used by push/pull.
 * - SMP placement as 5.10 does it: select_task_rq_rt at wake-up
 *   (find_lowest_rq over cpupri), push after a wake-up that does not preempt
 *   (task_woken_rt) and after schedule() (the balance callback of
 *   set_next_task_rt), pull when a CPU lowers its priority (balance_rt).
 * Not modelled: RT_PUSH_IPI's IPI chain (pulls are direct), the
 * equal-priority SMP tie rule (check_preempt_equal_prio), the period timer's
 * migration (it stays on the CPU that enqueued the first RT task).
 */
import {
  type HrtimerCallback, type SchedAttr, type SchedClass, type SchedCore, type SchedCpu, ENQUEUE_HEAD,
} from "./class.js";
import { CLS_RT, MAX_RT_PRIO, SCHED_FIFO, SCHED_RR, SW_OTHER, SW_PREEMPT_TICK, SW_PREEMPT_WAKEUP, type Task } from "../../kernel/task.js";

/** msecs_to_jiffies(ms) at CONFIG_HZ=hz (rounds up), as sched_rr_handler stores it. */
export function rrTimesliceTicks(ms: number, hz: number): number {
  return Math.max(1, Math.ceil((ms * hz) / 1000));
}

/** Internal priority of a SCHED_FIFO/RR task of sched_priority `rtPriority` (1..99). */
export function rtPrio(rtPriority: number): number {
  return MAX_RT_PRIO - 1 - rtPriority;
}

/** cpupri of a CPU whose highest queued RT priority is `highest` (convert_prio: NORMAL = 1 also for idle CPUs in 5.10). */
export function cpupri(highest: number): number {
  return highest >= MAX_RT_PRIO ? 1 : MAX_RT_PRIO - highest + 1;
}

/** One CPU's rt_rq. */
export class RtRq {
  private readonly heads: (Task | null)[] = new Array(MAX_RT_PRIO).fill(null);
  private readonly tails: (Task | null)[] = new Array(MAX_RT_PRIO).fill(null);
  private readonly bitmap = new Uint32Array(4);
  /** rt_nr_running: queued RT tasks including the running one. */
  nr = 0;
  /** Tasks that may run on another CPU (rt_nr_migratory). */
  nrMigratory = 0;
  /** rt_time: RT (and DL) run time accounted in the current bandwidth period, ns. */
  rtTime = 0;
  /** rt_throttled. */
  throttled = false;
  /**
   * rt_rq->rt_runtime: this CPU's RT runtime per period, ns; NaN until the
   * class first reads it (then the sysctl's value), changed only by runtime
   * sharing.
   */
  rtRuntime = NaN;

  /** rt_rq->rt_queued: tasks visible to pick_next_task_rt. */
  get queued(): boolean {
    return this.nr > 0 && !this.throttled;
  }

  /** highest_prio.curr: the best queued priority (MAX_RT_PRIO when empty). */
  highest(): number {
    const b = this.bitmap;
    for (let w = 0; w < 4; w++) {
      const x = b[w];
      if (x !== 0) return w * 32 + (31 - Math.clz32(x & -x));
    }
    return MAX_RT_PRIO;
  }

  /** pick_next_rt_entity: head of the highest non-empty list. */
  first(): Task | null {
    const h = this.highest();
    return h < MAX_RT_PRIO ? this.heads[h] : null;
  }

  /** The task after `t` in priority order (same list, then lower lists), for scans. */
  after(t: Task): Task | null {
    if (t.rtNext !== null) return t.rtNext;
    for (let p = t.prio + 1; p < MAX_RT_PRIO; p++) if (this.heads[p] !== null) return this.heads[p];
    return null;
  }

  /** __enqueue_rt_entity: list_add_tail (or list_add with ENQUEUE_HEAD). */
  enqueue(t: Task, head: boolean): void {
    const p = t.prio;
    const h = this.heads[p];
    if (h === null) {
      t.rtPrev = t.rtNext = null;
      this.heads[p] = this.tails[p] = t;
      this.bitmap[p >> 5] |= 1 << (p & 31);
    } else if (head) {
      t.rtPrev = null;
      t.rtNext = h;
      h.rtPrev = t;
      this.heads[p] = t;
    } else {
      const tl = this.tails[p]!;
      t.rtNext = null;
      t.rtPrev = tl;
      tl.rtNext = t;
      this.tails[p] = t;
    }
    this.nr++;
    if (t.allowed.length > 1) this.nrMigratory++;
  }

  private unlink(t: Task): void {
    const p = t.prio;
    const pr = t.rtPrev, nx = t.rtNext;
    if (pr !== null) pr.rtNext = nx; else this.heads[p] = nx;
    if (nx !== null) nx.rtPrev = pr; else this.tails[p] = pr;
    t.rtPrev = t.rtNext = null;
    if (this.heads[p] === null) this.bitmap[p >> 5] &= ~(1 << (p & 31));
  }

  /** __dequeue_rt_entity. */
  dequeue(t: Task): void {
    this.unlink(t);
    this.nr--;
    if (t.allowed.length > 1) this.nrMigratory--;
  }

  /** requeue_rt_entity: move to the head or the tail of its list without dequeueing. */
  requeue(t: Task, head: boolean): void {
    const p = t.prio;
    if (head ? this.heads[p] === t : this.tails[p] === t) return;
    this.unlink(t);
    this.nr--;
    if (t.allowed.length > 1) this.nrMigratory--;
    this.enqueue(t, head);
  }

  /** rt_se->run_list.prev != rt_se->run_list.next: another task shares t's list. */
  notAlone(t: Task): boolean {
    return t.rtPrev !== null || t.rtNext !== null;
  }

  /** rt_rq->overloaded (update_rt_migration). */
  overloaded(): boolean {
    return this.nrMigratory > 0 && this.nr > 1;
  }

  /**
   * The highest-priority pushable task (queued, not `running`, allowed on
   * more than one CPU, and, if `cpu` >= 0, allowed on `cpu`), or null:
   * pick_next_pushable_task / pick_highest_pushable_task.
   */
  highestPushable(running: Task | null, cpu: number): Task | null {
    for (let t = this.first(); t !== null; t = this.after(t)) {
      if (t === running || t.allowed.length < 2) continue;
      if (cpu >= 0 && !t.allowed.includes(cpu)) continue;
      return t;
    }
    return null;
  }
}

/** A CPU as the RT class sees it: its rt_rq. */
export interface RtCpu extends SchedCpu {
  readonly rt: RtRq;
}

/** RT bandwidth and RR settings of a kernel instance (sysctls), ns. */
export interface RtSettings {
  /** sched_rt_runtime_us in ns, or -1 (RT throttling off). */
  runtime: number;
  /** sched_rt_period_us in ns. */
  period: number;
  /** sched_rr_timeslice in ticks. */
  rrTicks: number;
  /** RT runtime sharing between CPUs (do_balance_runtime; see the header). Default false (5.10). */
  runtimeShare?: boolean;
}

/** rt_sched_class, with def_rt_bandwidth and its period timer. */
export class RtSchedClass<C extends RtCpu> implements SchedClass<C>, HrtimerCallback<C> {
  readonly id = CLS_RT;
  /** rt_bandwidth_enabled(): sched_rt_runtime_us >= 0. */
  readonly bwEnabled: boolean;
  readonly runtime: number;
  readonly period: number;
  readonly rrTicks: number;
  /** RtSettings.runtimeShare. */
  readonly runtimeShare: boolean;
  /** def_rt_bandwidth.rt_period_active, the period timer's expiry and id. */
  private periodActive = false;
  private expires = 0;
  private timer = -1;

  constructor(private readonly core: SchedCore<C>, s: RtSettings) {
    this.bwEnabled = s.runtime >= 0;
    this.runtime = s.runtime;
    this.runtimeShare = s.runtimeShare ?? false;
    this.period = s.period;
    this.rrTicks = s.rrTicks;
  }

  hasPolicy(policy: number): boolean {
    return policy === SCHED_FIFO || policy === SCHED_RR;
  }

  /** __setscheduler_params: prio from sched_priority (default 50), a full RR slice. */
  setParams(p: Task, attr: SchedAttr, _now: number): void {
    p.rtPriority = attr.priority ?? 50;
    p.prio = rtPrio(p.rtPriority);
    p.timeSlice = this.rrTicks;
  }

  taskFork(_c: C, _p: Task, _now: number): void {}

  /** enqueue_task_rt (at the tail, or the head) and start_rt_bandwidth. */
  enqueueTask(c: C, p: Task, flags: number, now: number): void {
    c.rt.enqueue(p, (flags & ENQUEUE_HEAD) !== 0);
    p.onRq = true;
    this.startRtBandwidth(c, now);
  }

  /** dequeue_task_rt: update_curr_rt, then off the priority list. */
  dequeueTask(c: C, p: Task, _flags: number, now: number): void {
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_RT) this.updateCurrRt(c, curr, this.core.clockTask(c, now));
    c.rt.dequeue(p);
    p.onRq = false;
  }

  /** check_preempt_curr_rt: strictly higher priority. */
  checkPreemptCurr(c: C, p: Task, _wakeFlags: number, _now: number): void {
    if (p.prio < c.curr!.prio) this.core.resched(c, SW_PREEMPT_WAKEUP);
  }

  /** pick_next_task_rt + set_next_task_rt (a throttled rt_rq shows nothing). */
  pickNextTask(c: C, now: number): Task | null {
    if (!c.rt.queued) return null;
    const p = c.rt.first();
    if (p !== null) p.execStart = this.core.clockTask(c, now);
    return p;
  }

  /** put_prev_task_rt: update_curr_rt. */
  putPrevTask(c: C, prev: Task, now: number): void {
    this.updateCurrRt(c, prev, this.core.clockTask(c, now));
  }

  /** update_curr_rt for the running RT task t of CPU c. */
  private updateCurrRt(c: C, t: Task, clock: number): void {
    const d = clock - t.execStart;
    if (d <= 0) return;
    t.sumExec += d;
    t.execStart = clock;
    if (!this.bwEnabled) return;
    c.rt.rtTime += d;
    if (this.rtRuntimeExceeded(c)) this.core.resched(c, SW_OTHER);
  }

  /** rt_rq->rt_runtime of `rt` (the sysctl's value until runtime sharing changes it). */
  private rqRuntime(rt: RtRq): number {
    if (rt.rtRuntime !== rt.rtRuntime) rt.rtRuntime = this.runtime; // NaN: first use
    return rt.rtRuntime;
  }

  /** sched_rt_runtime_exceeded (balance_runtime first when runtimeShare). */
  private rtRuntimeExceeded(c: C): boolean {
    const rt = c.rt;
    if (rt.throttled) return true;
    let runtime = this.rqRuntime(rt);
    if (runtime >= this.period) return false;
    if (this.runtimeShare && rt.rtTime > runtime) {
      this.doBalanceRuntime(c);
      runtime = rt.rtRuntime;
    }
    if (rt.rtTime > runtime) {
      if (runtime > 0) rt.throttled = true; // "sched: RT throttling activated"
      else rt.rtTime = 0;
      if (rt.throttled) return true; // dequeue_top_rt_rq: the rt_rq is no longer visible
    }
    return false;
  }

  /**
   * do_balance_runtime (kernel/sched_rt.c of 2.6.31): borrow from every other
   * CPU's rt_rq a 1/weight share of its unused runtime (rt_runtime -
   * rt_time), stopping once this CPU's runtime reaches the period. `weight`
   * is the root domain's CPU count (every CPU of the kernel here).
   */
  private doBalanceRuntime(c: C): void {
    const rt = c.rt;
    const weight = this.core.cpus.length;
    const period = this.period;
    for (const q of this.core.cpus) {
      if (q === c) continue;
      const it = q.rt;
      let diff = this.rqRuntime(it) - it.rtTime;
      if (diff <= 0) continue;
      diff = Math.floor(diff / weight);
      if (rt.rtRuntime + diff > period) diff = period - rt.rtRuntime;
      it.rtRuntime -= diff;
      rt.rtRuntime += diff;
      if (rt.rtRuntime === period) break;
    }
  }

  /** The DL side of sched_rt_bandwidth_account: 5.10 charges DL run time to the RT bandwidth too. */
  bandwidthAccount(c: C, delta: number): void {
    if (this.bwEnabled && (this.periodActive || c.rt.rtTime < this.runtime)) c.rt.rtTime += delta;
  }

  /** task_tick_rt: update_curr_rt, then the SCHED_RR slice. */
  taskTick(c: C, t: Task, now: number): void {
    this.updateCurrRt(c, t, this.core.clockTask(c, now));
    if (t.policy !== SCHED_RR) return;
    if (--t.timeSlice > 0) return;
    t.timeSlice = this.rrTicks;
    if (c.rt.notAlone(t)) {
      c.rt.requeue(t, false);
      this.core.resched(c, SW_PREEMPT_TICK);
    }
  }

  accountCurr(c: C, t: Task, now: number): void {
    const clock = this.core.clockTask(c, now);
    if (clock > t.execStart) {
      t.sumExec += clock - t.execStart;
      t.execStart = clock;
    }
  }

  // ------------------------------------------------------------ bandwidth

  /** start_rt_bandwidth: (re)starts the period timer, kicking it right away if its expiry has passed. */
  private startRtBandwidth(c: C, now: number): void {
    if (!this.bwEnabled || this.periodActive) return;
    this.periodActive = true;
    if (this.timer < 0) this.timer = this.core.newHrtimer(this, 0);
    // hrtimer_forward_now(timer, 0): an expiry in the past moves to now + hrtimer_resolution (1 ns)
    if (this.expires <= now) this.expires = now + 1;
    this.core.hrtimerStart(this.timer, c.idx, this.expires, 0, now);
  }

  /** hrtimer_forward_now(rt_period_timer, rt_period): returns the overrun count. */
  private forwardTimer(now: number): number {
    const interval = this.period;
    let e = this.expires;
    const delta = now - e;
    if (delta < 0) return 0;
    let orun = 1;
    if (delta >= interval) {
      orun = Math.floor(delta / interval);
      e += interval * orun;
      if (e > now) { this.expires = e; return orun; }
      orun++;
    }
    this.expires = e + interval;
    return orun;
  }

  /** sched_rt_period_timer, running on CPU c. */
  hrtimerExpired(c: C, _arg: number, now: number): void {
    let idle = false;
    for (;;) {
      const overrun = this.forwardTimer(now);
      if (overrun === 0) break;
      idle = this.doRtPeriod(c, overrun, now);
    }
    if (idle) this.periodActive = false;
    else this.core.hrtimerStart(this.timer, c.idx, this.expires, 0, now);
  }

  /** do_sched_rt_period_timer: returns true when the timer may stop. */
  private doRtPeriod(from: C, overrun: number, now: number): boolean {
    let idle = true;
    let throttled = false;
    for (const q of this.core.cpus) {
      const rt = q.rt;
      if (rt.rtTime === 0 && rt.nr === 0) continue;
      let enqueue = false;
      if (rt.rtTime !== 0) {
        if (this.runtimeShare && rt.throttled) this.doBalanceRuntime(q);
        const runtime = this.rqRuntime(rt);
        rt.rtTime -= Math.min(rt.rtTime, overrun * runtime);
        if (rt.throttled && rt.rtTime < runtime) {
          rt.throttled = false;
          enqueue = true;
        }
        if (rt.rtTime !== 0 || rt.nr !== 0) idle = false;
      } else if (rt.nr !== 0) {
        idle = false;
        if (!rt.throttled) enqueue = true;
      }
      if (rt.throttled) throttled = true;
      // sched_rt_rq_enqueue
      if (enqueue && rt.nr !== 0) this.core.reschedFrom(from, q, SW_OTHER, now);
    }
    if (!throttled && !this.bwEnabled) return true;
    return idle;
  }

  // ------------------------------------------------------------------ SMP

  /** select_task_rq_rt at wake-up. */
  selectTaskRq(p: Task, waker: C, _wakeFlags: number): number {
    let cpu = p.cpu;
    const cpus = this.core.cpus;
    const curr = cpus[cpu].curr;
    // rt_task(curr) is true for DL tasks too (prio -1)
    if (curr !== null && curr.prio < MAX_RT_PRIO && (curr.allowed.length < 2 || curr.prio <= p.prio)) {
      const target = this.findLowestRq(p, waker.idx);
      if (target !== -1 && p.prio < cpus[target].rt.highest()) cpu = target;
    }
    return cpu;
  }

  migrateTaskRq(_p: Task, _newCpu: number): void {}

  /** find_lowest_rq: an allowed CPU of the lowest cpupri below p's, preferring p's CPU, then this CPU. */
  private findLowestRq(p: Task, thisCpu: number): number {
    const al = p.allowed;
    if (al.length === 1) return -1;
    const cpus = this.core.cpus;
    let best = Infinity;
    for (let i = 0; i < al.length; i++) {
      const v = cpupri(cpus[al[i]].rt.highest());
      if (v < best) best = v;
    }
    if (best >= cpupri(p.prio)) return -1;
    if (al.includes(p.cpu) && cpupri(cpus[p.cpu].rt.highest()) === best) return p.cpu;
    if (al.includes(thisCpu) && cpupri(cpus[thisCpu].rt.highest()) === best) return thisCpu;
    for (let i = 0; i < al.length; i++) if (cpupri(cpus[al[i]].rt.highest()) === best) return al[i];
    return -1;
  }

  /** deactivate_task + set_task_cpu + activate_task of a queued RT task. */
  private moveRt(src: C, dst: C, p: Task, from: C, now: number): void {
    const had = src.needResched;
    if (src.curr !== null && src.curr.cls === CLS_RT) this.updateCurrRt(src, src.curr, this.core.clockTask(src, now));
    this.core.ipiIfNewResched(from, src, had, now);
    src.rt.dequeue(p);
    p.cpu = dst.idx;
    p.nrMigrations++;
    this.enqueueTask(dst, p, 0, now);
  }

  /** push_rt_tasks(c), run by CPU `from`. */
  private pushRt(c: C, from: C, now: number): void {
    for (;;) {
      if (!c.rt.overloaded()) return;
      const p = c.rt.highestPushable(c.curr, -1);
      if (p === null) return;
      if (c.curr !== null && p.prio < c.curr.prio) { this.core.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now); return; }
      const target = this.findLowestRq(p, from.idx);
      if (target === -1 || target === c.idx) return;
      const tc = this.core.cpus[target];
      if (tc.rt.highest() <= p.prio) return;
      this.moveRt(c, tc, p, from, now);
      this.core.reschedFrom(from, tc, SW_PREEMPT_WAKEUP, now);
    }
  }

  /** pull_rt_task(c): take queued RT tasks that would run here from overloaded CPUs. */
  private pullRt(c: C, now: number): void {
    const cpus = this.core.cpus;
    let count = 0;
    for (const s of cpus) if (s.rt.overloaded()) count++;
    if (count === 0 || (count === 1 && c.rt.overloaded())) return;
    let pulled = false;
    for (const s of cpus) {
      if (s === c || !s.rt.overloaded()) continue;
      const nextOfSrc = s.rt.highestPushable(s.curr, -1);
      if (nextOfSrc === null || nextOfSrc.prio >= c.rt.highest()) continue;
      const p = s.rt.highestPushable(s.curr, c.idx);
      if (p !== null && p.prio < c.rt.highest()) {
        if (s.curr !== null && p.prio < s.curr.prio) continue; // it is about to preempt its own CPU
        this.moveRt(s, c, p, c, now);
        pulled = true;
      }
    }
    if (pulled) this.core.resched(c, SW_OTHER);
  }

  /** task_woken_rt: push a woken task that will not run here soon. */
  taskWoken(c: C, p: Task, waker: C, now: number): void {
    const curr = c.curr;
    if (curr === p || c.needResched || p.allowed.length < 2 || curr === null) return;
    if (curr.prio < MAX_RT_PRIO && (curr.allowed.length < 2 || curr.prio <= p.prio)) this.pushRt(c, waker, now);
  }

  /** balance_rt: pull when prev (not queued here as RT) leaves a CPU whose best RT task is lower than prev. */
  balance(c: C, prev: Task, now: number): boolean {
    const onRtRq = prev.cls === CLS_RT && prev.onRq;
    if (!onRtRq && c.rt.highest() > prev.prio) this.pullRt(c, now);
    return c.rt.queued;
  }

  /** The balance callback of set_next_task_rt: push_rt_tasks. */
  balanceCallback(c: C, _next: Task, now: number): void {
    this.pushRt(c, c, now);
  }

  // --- issue 14 pvsched: class-change hooks of __sched_setscheduler / rt_mutex_setprio: begin
  /** set_next_task_rt: exec_start (the running task stays in its priority list). */
  setNextTask(c: C, p: Task, now: number): void {
    p.execStart = this.core.clockTask(c, now);
  }

  /** switched_from_rt: pull RT tasks from other CPUs if none is left here (rt_queue_pull_task, SMP). */
  switchedFrom(c: C, p: Task, now: number): void {
    if (!p.onRq || c.rt.nr > 0) return;
    if (this.core.smp) this.pullRt(c, now);
  }

  /** switched_to_rt: push if overloaded (SMP), and preempt a lower-priority curr. */
  switchedTo(c: C, p: Task, now: number): void {
    if (!p.onRq || c.curr === p) return;
    if (this.core.smp && p.allowed.length > 1 && c.rt.overloaded()) this.pushRt(c, c, now);
    // the idle task has prio MAX_PRIO: anything RT preempts it
    if (c.curr === null || p.prio < c.curr.prio) this.core.resched(c, SW_PREEMPT_WAKEUP);
  }

  /**
   * prio_changed_rt (the CONFIG_SMP variant): a running task that lowered
   * its priority pulls (SMP) and yields when a queued task is now higher; a
   * queued task preempts a lower-priority curr.
   */
  prioChanged(c: C, p: Task, oldPrio: number, now: number): void {
    if (!p.onRq) return;
    if (c.curr === p) {
      if (oldPrio < p.prio && this.core.smp) this.pullRt(c, now);
      if (p.prio > c.rt.highest()) this.core.resched(c, SW_PREEMPT_WAKEUP);
    } else if (c.curr === null || p.prio < c.curr.prio) this.core.resched(c, SW_PREEMPT_WAKEUP);
  }
  // --- end
}
