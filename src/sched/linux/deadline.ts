/**
 * SCHED_DEADLINE as in Linux v5.10 kernel/sched/deadline.c: per-CPU EDF
 * queues of constant bandwidth servers (CBS). The kernel model
 * (../../kernel/linux.ts) calls these helpers at the points deadline.c runs
 * them and owns the timers and the cross-CPU parts (push/pull).
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
import type { Task } from "../../kernel/task.js";

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
