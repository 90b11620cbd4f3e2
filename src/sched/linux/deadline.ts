/**
 * SCHED_DEADLINE as in Linux v5.10 kernel/sched/deadline.c: per-CPU EDF
 * queues of constant bandwidth servers (CBS) and dl_sched_class, which owns
 * the replenishment timers (dl_task_timer) and the cross-CPU parts: SMP
 * placement as 5.10 does it (select_task_rq_dl with find_later_rq over free
 * CPUs and the latest deadline), push after a wake-up that does not preempt
 * (task_woken_dl) and after schedule() (set_next_task_dl's balance
 * callback), pull when a CPU's earliest deadline gets later (balance_dl).
 * Pulls are direct; the equal-deadline SMP tie rule
 * (check_preempt_equal_dl) is not modelled.
 *
 * Modelled rules (function names of deadline.c):
 * - parameters (__setparam_dl, __checkparam_dl): runtime <= deadline <=
 *   period, runtime >= 1024 ns, period within sched_deadline_period_min/max
 *   (100 µs .. 2^22 µs); dl_bw = to_ratio(period, runtime) and dl_density =
 *   to_ratio(deadline, runtime) in BW_SHIFT = 20 fixed point.
 * - admission control (sched_dl_overflow / __dl_overflow): the sum of dl_bw
 *   on a root domain must not exceed to_ratio(rt_period, rt_runtime) x CPUs;
 *   none when RT bandwidth is off (sched_rt_runtime_us = -1). With bandwidth
 *   on, a DL task's affinity must span the root domain (EPERM otherwise).
 * - setup_new_dl_entity (deadline = now + D, full runtime), the wake-up rule
 *   update_dl_entity with dl_entity_overflow (scaled by DL_SCALE = 10 bits as
 *   the kernel does) and the revised rule for constrained deadlines
 *   (update_dl_revised_wakeup), dl_check_constrained_dl,
 *   replenish_dl_entity, dl_next_period and the throttling condition of
 *   update_curr_dl (runtime <= 0).
 * - EDF order: the queue is keyed by absolute deadline (dl_time_before);
 *   equal deadlines keep insertion order as the rbtree does. The running task
 *   stays queued.
 * Not modelled: GRUB reclaiming (SCHED_FLAG_RECLAIM), the inactive timer
 * (only needed for reclaiming and for releasing bandwidth at the 0-lag
 * time), PI boosting, dl_yielded (sched_yield), frequency/capacity scaling.
 * HRTICK is off by default in 5.10, so budget overruns are caught at the
 * next tick or the next update_curr_dl, as in the kernel.
 */
import {
  type HrtimerCallback, type SchedAttr, type SchedClass, type SchedCore,
  ENQUEUE_REPLENISH, ENQUEUE_WAKEUP,
} from "./class.js";
import type { RtCpu, RtSchedClass } from "./rt.js";
import { CLS_DL, SCHED_DEADLINE, SW_OTHER, SW_PREEMPT_WAKEUP, type Task } from "../../kernel/task.js";

export const DL_SCALE = 10;
export const BW_SHIFT = 20;
export const BW_UNIT = 1 << BW_SHIFT;
/** sysctl_sched_dl_period_min / _max, µs. */
export const DL_PERIOD_MIN_US = 100;
export const DL_PERIOD_MAX_US = 1 << 22;

/** to_ratio(period, runtime) = (runtime << 20) / period, integer. */
export function toRatio(period: number, runtime: number): number {
  if (period === 0) return 0;
  return Math.floor((runtime * BW_UNIT) / period);
}

/** x >> DL_SCALE for the non-negative values it is used on. */
function scale(x: number): number {
  return Math.floor(x / 1024);
}

/**
 * __checkparam_dl for (runtime, deadline, period) in ns; returns the reason
 * sched_setattr would fail with EINVAL, or null.
 */
export function checkParamDl(runtime: number, deadline: number, period: number): string | null {
  if (deadline === 0) return "the deadline must not be 0";
  if (runtime < 1 << DL_SCALE) return `the runtime must be at least 1024 ns; got ${runtime} ns`;
  const p = period || deadline;
  if (p < deadline) return `needs deadline <= period; got deadline ${deadline / 1000} µs > period ${p / 1000} µs`;
  if (deadline < runtime) return `needs runtime <= deadline; got runtime ${runtime / 1000} µs > deadline ${deadline / 1000} µs`;
  if (p < DL_PERIOD_MIN_US * 1000 || p > DL_PERIOD_MAX_US * 1000)
    return `the period must be within sched_deadline_period_min_us..max_us (${DL_PERIOD_MIN_US}..${DL_PERIOD_MAX_US} µs); got ${p / 1000} µs`;
  return null;
}

/** __setparam_dl. */
export function setParamDl(t: Task, runtime: number, deadline: number, period: number): void {
  t.dlRuntime = runtime;
  t.dlDeadline = deadline;
  t.dlPeriod = period || deadline;
  t.dlDensity = toRatio(deadline, runtime);
  t.deadline = 0;
  t.runtime = 0;
  t.dlThrottled = false;
}

/** setup_new_dl_entity: a new instance starts now. */
export function setupNewDlEntity(t: Task, now: number): void {
  if (t.dlThrottled) return;
  t.deadline = now + t.dlDeadline;
  t.runtime = t.dlRuntime;
}

/** dl_entity_overflow: runtime / (deadline - t) > dl_runtime / dl_deadline (in 1024-ns units, as the kernel computes it). */
export function dlEntityOverflow(t: Task, now: number): boolean {
  // a negative s64 runtime becomes a huge u64 in the kernel's product
  if (t.runtime < 0) return true;
  const left = scale(t.dlDeadline) * scale(t.runtime);
  const right = scale(t.deadline - now) * scale(t.dlRuntime);
  return right < left;
}

/** update_dl_entity: the CBS wake-up rule (ENQUEUE_WAKEUP). */
export function updateDlEntity(t: Task, now: number): void {
  const past = t.deadline < now;
  if (past || dlEntityOverflow(t, now)) {
    if (t.dlDeadline !== t.dlPeriod && !past) {
      // update_dl_revised_wakeup: keep the deadline, cut the runtime to the density
      t.runtime = Math.floor((t.dlDensity * (t.deadline - now)) / BW_UNIT);
      return;
    }
    t.deadline = now + t.dlDeadline;
    t.runtime = t.dlRuntime;
  }
}

/** replenish_dl_entity (ENQUEUE_REPLENISH, and the timer on a sleeping task). */
export function replenishDlEntity(t: Task, now: number): void {
  while (t.runtime <= 0) {
    t.deadline += t.dlPeriod;
    t.runtime += t.dlRuntime;
  }
  if (t.deadline < now) {
    // "sched: DL replenish lagged too much"
    t.deadline = now + t.dlDeadline;
    t.runtime = t.dlRuntime;
  }
  t.dlThrottled = false;
}

/** dl_next_period: start of the next period of the current instance. */
export function dlNextPeriod(t: Task): number {
  return t.deadline - t.dlDeadline + t.dlPeriod;
}

/** dl_entity_preempt / dl_time_before(a->deadline, b->deadline). */
export function dlPreempts(a: Task, b: Task): boolean {
  return a.deadline < b.deadline;
}

/**
 * One CPU's dl_rq: the EDF queue as a binary min-heap on (deadline,
 * enqueue sequence), with each task's index kept in the task so removal is
 * O(log n). No allocation per operation.
 */
export class DlRq {
  private heap: Task[] = [];
  /** dl_nr_running: tasks in the queue (the running one included). */
  n = 0;
  /** Queued tasks allowed on more than one CPU (dl_nr_migratory). */
  nrMigratory = 0;
  private seq = 0;

  private less(a: Task, b: Task): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.dlSeq < b.dlSeq);
  }

  private up(k: number): void {
    const h = this.heap;
    const t = h[k];
    while (k > 0) {
      const p = (k - 1) >> 1;
      const pt = h[p];
      if (!this.less(t, pt)) break;
      h[k] = pt; pt.dlHeapIdx = k;
      k = p;
    }
    h[k] = t; t.dlHeapIdx = k;
  }

  private down(k: number): void {
    const h = this.heap, n = this.n;
    const t = h[k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && this.less(h[r], h[c])) c = r;
      if (!this.less(h[c], t)) break;
      h[k] = h[c]; h[k].dlHeapIdx = k;
      k = c;
    }
    h[k] = t; t.dlHeapIdx = k;
  }

  /** __enqueue_dl_entity. */
  insert(t: Task): void {
    t.dlSeq = this.seq++;
    const k = this.n++;
    if (k === this.heap.length) this.heap.push(t); else this.heap[k] = t;
    t.dlQueued = true;
    if (t.allowed.length > 1) this.nrMigratory++;
    this.up(k);
  }

  /** __dequeue_dl_entity (no-op when not queued). */
  remove(t: Task): void {
    if (!t.dlQueued) return;
    const k = t.dlHeapIdx;
    const last = --this.n;
    const h = this.heap;
    const m = h[last];
    t.dlQueued = false;
    t.dlHeapIdx = -1;
    if (t.allowed.length > 1) this.nrMigratory--;
    if (k !== last) {
      h[k] = m; m.dlHeapIdx = k;
      if (k > 0 && this.less(m, h[(k - 1) >> 1])) this.up(k); else this.down(k);
    }
  }

  /** The earliest-deadline task (pick_next_dl_entity), or null. */
  leftmost(): Task | null {
    return this.n > 0 ? this.heap[0] : null;
  }

  /** earliest_dl.curr: the earliest queued deadline (Infinity when empty). */
  earliest(): number {
    return this.n > 0 ? this.heap[0].deadline : Infinity;
  }

  /** dl_rq->overloaded (update_dl_migration). */
  overloaded(): boolean {
    return this.nrMigratory > 0 && this.n > 1;
  }

  /**
   * The earliest-deadline pushable task (queued, not `running`, allowed on
   * more than one CPU and, if `cpu` >= 0, on `cpu`), or null:
   * pick_next_pushable_dl_task / pick_earliest_pushable_dl_task.
   */
  earliestPushable(running: Task | null, cpu: number): Task | null {
    let best: Task | null = null;
    const h = this.heap;
    for (let i = 0; i < this.n; i++) {
      const t = h[i];
      if (t === running || t.allowed.length < 2) continue;
      if (cpu >= 0 && !t.allowed.includes(cpu)) continue;
      if (best === null || this.less(t, best)) best = t;
    }
    return best;
  }
}

/** A CPU as the DL class sees it: its dl_rq, and its rt_rq for the RT bandwidth DL time is charged to. */
export interface DlCpu extends RtCpu {
  readonly dl: DlRq;
}

/** dl_sched_class. */
export class DlSchedClass<C extends DlCpu> implements SchedClass<C>, HrtimerCallback<C> {
  readonly id = CLS_DL;
  constructor(private readonly core: SchedCore<C>, private readonly rt: RtSchedClass<C>) {}

  hasPolicy(policy: number): boolean {
    return policy === SCHED_DEADLINE;
  }

  /** __setscheduler_params: prio -1, __setparam_dl, the dl_timer, and setup_new_dl_entity (a new instance starts now). */
  setParams(p: Task, attr: SchedAttr, now: number): void {
    p.prio = -1;
    setParamDl(p, attr.runtime!, attr.deadline!, attr.period ?? attr.deadline!);
    p.dlTimer = this.core.newHrtimer(this, p.id);
    setupNewDlEntity(p, now);
  }

  taskFork(_c: C, _p: Task, _now: number): void {}

  /** enqueue_task_dl. */
  enqueueTask(c: C, p: Task, flags: number, now: number): void {
    p.onRq = true;
    // dl_check_constrained_dl: woken after the deadline but before the next period
    if (!p.dlThrottled && p.dlDeadline !== p.dlPeriod && p.deadline < now && now < dlNextPeriod(p)) {
      if (this.startDlTimer(c, p, now)) {
        p.dlThrottled = true;
        if (p.runtime > 0) p.runtime = 0;
      }
    }
    if (p.dlThrottled && !(flags & ENQUEUE_REPLENISH)) return; // the replenishment timer will enqueue it
    if (flags & ENQUEUE_WAKEUP) updateDlEntity(p, now);
    else if (flags & ENQUEUE_REPLENISH) replenishDlEntity(p, now);
    c.dl.insert(p);
  }

  /** dequeue_task_dl: update_curr_dl, then out of the EDF queue. */
  dequeueTask(c: C, p: Task, _flags: number, now: number): void {
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_DL) this.updateCurrDl(c, curr, this.core.clockTask(c, now), now);
    c.dl.remove(p);
    p.onRq = false;
  }

  /** check_preempt_curr_dl: a strictly earlier deadline. */
  checkPreemptCurr(c: C, p: Task, _wakeFlags: number, _now: number): void {
    if (p.deadline < c.curr!.deadline) this.core.resched(c, SW_PREEMPT_WAKEUP);
  }

  /** pick_next_task_dl + set_next_task_dl. */
  pickNextTask(c: C, now: number): Task | null {
    const p = c.dl.leftmost();
    if (p !== null) p.execStart = this.core.clockTask(c, now);
    return p;
  }

  /** put_prev_task_dl: update_curr_dl. */
  putPrevTask(c: C, prev: Task, now: number): void {
    this.updateCurrDl(c, prev, this.core.clockTask(c, now), now);
  }

  /** start_dl_timer: arm the replenishment timer at the next period; false if that instant has passed. */
  private startDlTimer(c: C, p: Task, now: number): boolean {
    const act = dlNextPeriod(p);
    // ktime_us_delta(act, now) < 0, truncated towards zero
    if (Math.trunc((act - now) / 1000) < 0) return false;
    if (!this.core.hrtimerQueued(p.dlTimer)) this.core.hrtimerStart(p.dlTimer, c.idx, act, 0, now);
    return true;
  }

  /** update_curr_dl for the running DL task t of CPU c: charge runtime, throttle when it is used up. */
  private updateCurrDl(c: C, t: Task, clock: number, now: number): void {
    if (!t.dlQueued) return;
    const d = clock - t.execStart;
    if (d <= 0) return;
    t.sumExec += d;
    t.execStart = clock;
    t.runtime -= d;
    if (t.runtime <= 0) {
      t.dlThrottled = true;
      c.dl.remove(t);
      if (!this.startDlTimer(c, t, now)) this.enqueueTask(c, t, ENQUEUE_REPLENISH, now);
      if (c.dl.leftmost() !== t) this.core.resched(c, SW_OTHER);
    }
    // 5.10 charges DL run time to the RT bandwidth too (sched_rt_bandwidth_account)
    this.rt.bandwidthAccount(c, d);
  }

  /** task_tick_dl: update_curr_dl. */
  taskTick(c: C, t: Task, now: number): void {
    this.updateCurrDl(c, t, this.core.clockTask(c, now), now);
  }

  accountCurr(c: C, t: Task, now: number): void {
    const clock = this.core.clockTask(c, now);
    if (clock > t.execStart && t.dlQueued) {
      t.sumExec += clock - t.execStart;
      t.execStart = clock;
    }
  }

  /** dl_task_timer: replenish a throttled task and queue it again if it is runnable. */
  hrtimerExpired(from: C, arg: number, now: number): void {
    const p = this.core.tasks[arg];
    if (p.cls !== CLS_DL || !p.dlThrottled) return;
    if (!p.onRq) {
      replenishDlEntity(p, now);
      return;
    }
    const c = this.core.cpus[p.cpu];
    this.enqueueTask(c, p, ENQUEUE_REPLENISH, now);
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_DL) {
      if (p.deadline < curr.deadline) this.core.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
    } else this.core.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
    if (this.core.smp && c.dl.earliestPushable(c.curr, -1) !== null) this.pushDlOnce(c, from, now);
  }

  // ------------------------------------------------------------------ SMP

  /** select_task_rq_dl at wake-up. */
  selectTaskRq(p: Task, waker: C, _wakeFlags: number): number {
    let cpu = p.cpu;
    const cpus = this.core.cpus;
    const curr = cpus[cpu].curr;
    if (curr !== null && curr.cls === CLS_DL && (curr.allowed.length < 2 || !(p.deadline < curr.deadline)) && p.allowed.length > 1) {
      const target = this.findLaterRq(p, waker.idx);
      if (target !== -1 && (p.deadline < cpus[target].dl.earliest() || cpus[target].dl.n === 0)) cpu = target;
    }
    return cpu;
  }

  migrateTaskRq(_p: Task, _newCpu: number): void {}

  /** find_later_rq over cpudl: an allowed CPU without DL tasks, else the one with the latest earliest deadline. */
  private findLaterRq(p: Task, thisCpu: number): number {
    const al = p.allowed;
    if (al.length === 1) return -1;
    const cpus = this.core.cpus;
    let anyFree = false;
    for (let i = 0; i < al.length; i++) if (cpus[al[i]].dl.n === 0) { anyFree = true; break; }
    if (anyFree) {
      if (al.includes(p.cpu) && cpus[p.cpu].dl.n === 0) return p.cpu;
      if (al.includes(thisCpu) && cpus[thisCpu].dl.n === 0) return thisCpu;
      for (let i = 0; i < al.length; i++) if (cpus[al[i]].dl.n === 0) return al[i];
    }
    // cpudl_maximum over the root domain
    let best = -1;
    let latest = -Infinity;
    for (const q of cpus) {
      if (q.dl.n > 0 && q.dl.earliest() > latest) { latest = q.dl.earliest(); best = q.idx; }
    }
    if (best >= 0 && al.includes(best) && p.deadline < latest) return best;
    return -1;
  }

  /** deactivate_task + set_task_cpu + activate_task of a queued DL task. */
  private moveDl(src: C, dst: C, p: Task, from: C, now: number): void {
    const had = src.needResched;
    if (src.curr !== null && src.curr.cls === CLS_DL) this.updateCurrDl(src, src.curr, this.core.clockTask(src, now), now);
    this.core.ipiIfNewResched(from, src, had, now);
    src.dl.remove(p);
    p.cpu = dst.idx;
    p.nrMigrations++;
    this.enqueueTask(dst, p, 0, now);
  }

  /** push_dl_task(c), run by CPU `from`; returns true if a task moved. */
  private pushDlOnce(c: C, from: C, now: number): boolean {
    if (!c.dl.overloaded()) return false;
    const p = c.dl.earliestPushable(c.curr, -1);
    if (p === null) return false;
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_DL && p.deadline < curr.deadline && curr.allowed.length > 1) {
      this.core.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
      return false;
    }
    const target = this.findLaterRq(p, from.idx);
    if (target === -1 || target === c.idx) return false;
    const tc = this.core.cpus[target];
    if (tc.dl.n > 0 && !(p.deadline < tc.dl.earliest())) return false;
    this.moveDl(c, tc, p, from, now);
    this.core.reschedFrom(from, tc, SW_PREEMPT_WAKEUP, now);
    return true;
  }

  /** pull_dl_task(c). */
  private pullDl(c: C, now: number): void {
    const cpus = this.core.cpus;
    let any = false;
    for (const s of cpus) if (s.dl.overloaded()) { any = true; break; }
    if (!any) return;
    let dmin = Infinity;
    let pulled = false;
    for (const s of cpus) {
      if (s === c || !s.dl.overloaded()) continue;
      const nextOfSrc = s.dl.earliestPushable(s.curr, -1);
      if (c.dl.n > 0 && (nextOfSrc === null || c.dl.earliest() < nextOfSrc.deadline)) continue;
      if (s.dl.n <= 1) continue;
      const p = s.dl.earliestPushable(s.curr, c.idx);
      if (p !== null && p.deadline < dmin && (c.dl.n === 0 || p.deadline < c.dl.earliest())) {
        const sc = s.curr;
        if (sc !== null && sc.cls === CLS_DL && p.deadline < sc.deadline) continue;
        this.moveDl(s, c, p, c, now);
        dmin = p.deadline;
        pulled = true;
      }
    }
    if (pulled) this.core.resched(c, SW_OTHER);
  }

  /** task_woken_dl: push a woken task that will not run here soon. */
  taskWoken(c: C, p: Task, waker: C, now: number): void {
    const curr = c.curr;
    if (curr === p || c.needResched || p.allowed.length < 2 || curr === null) return;
    if (curr.cls === CLS_DL && (curr.allowed.length < 2 || !(p.deadline < curr.deadline))) {
      while (this.pushDlOnce(c, waker, now));
    }
  }

  /** balance_dl: pull when prev is no longer queued (blocked or throttled); true when a DL task is runnable. */
  balance(c: C, prev: Task, now: number): boolean {
    if (!prev.dlQueued) this.pullDl(c, now);
    return c.dl.n > 0;
  }

  /** The balance callback of set_next_task_dl: push_dl_tasks. */
  balanceCallback(c: C, _next: Task, now: number): void {
    while (this.pushDlOnce(c, c, now));
  }
}
