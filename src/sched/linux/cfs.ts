/**
 * CFS as in Linux v5.10 kernel/sched/fair.c, for one CPU's cfs_rq (no group
 * scheduling: every task is a direct child of the root cfs_rq, which is what
 * a single session / autogroup sees).
 *
 * Modelled rules (function names of fair.c):
 * - update_curr: vruntime += delta_exec * NICE_0_LOAD / weight, with delta
 *   taken on rq_clock_task (which excludes steal only with
 *   CONFIG_PARAVIRT_TIME_ACCOUNTING; the caller supplies the clock).
 * - update_min_vruntime: monotonic max(min_vruntime, min(curr, leftmost)).
 * - __sched_period / sched_slice, check_preempt_tick (tick preemption).
 * - place_entity: waking entities get min_vruntime - sched_latency (halved by
 *   GENTLE_FAIR_SLEEPERS), never moving backwards.
 * - wakeup_gran / wakeup_preempt_entity / check_preempt_wakeup, and
 *   pick_next_entity with NEXT/LAST buddies (NEXT_BUDDY feature off, LAST_BUDDY
 *   on, SKIP buddy unused here).
 * - enqueue_entity/dequeue_entity with the min_vruntime renormalisation of
 *   migrations.
 * The tunables are the base values scaled by 1 + ilog2(min(ncpus, 8))
 * (SCHED_TUNABLESCALING_LOG), as update_sysctl() does at boot.
 */
import { Task } from "../../kernel/task.js";

/** Scaled CFS tunables (ns). */
export interface CfsTunables {
  latency: number;
  minGranularity: number;
  wakeupGranularity: number;
  /** sched_nr_latency = base latency / base min_granularity (8 by default). */
  nrLatency: number;
  gentleFairSleepers: boolean;
}

/** 1 + ilog2(min(ncpus, 8)). */
export function sysctlFactor(ncpus: number): number {
  const c = Math.min(ncpus, 8);
  return 1 + Math.floor(Math.log2(c));
}

export function cfsTunables(ncpus: number, base?: { latency?: number; minGranularity?: number; wakeupGranularity?: number; gentleFairSleepers?: boolean }): CfsTunables {
  const f = sysctlFactor(ncpus);
  const lat = base?.latency ?? 6_000_000;
  const ming = base?.minGranularity ?? 750_000;
  const wg = base?.wakeupGranularity ?? 1_000_000;
  return {
    latency: lat * f,
    minGranularity: ming * f,
    wakeupGranularity: wg * f,
    nrLatency: Math.floor(lat / ming),
    gentleFairSleepers: base?.gentleFairSleepers ?? true,
  };
}

const NICE_0_LOAD = 1024;

/** calc_delta_fair: delta * NICE_0_LOAD / weight (exact arithmetic; the kernel's fixed-point error is < 1 ns per call). */
export function calcDeltaFair(delta: number, weight: number): number {
  return weight === NICE_0_LOAD ? delta : (delta * NICE_0_LOAD) / weight;
}

/** One CPU's CFS runqueue. The running entity (curr) is kept out of the ordered queue. */
export class CfsRq {
  /** Runnable entities except curr, ordered by vruntime (ties: insertion order). */
  readonly queue: Task[] = [];
  curr: Task | null = null;
  minVruntime = 0;
  /** nr_running: queued entities including curr if on_rq. */
  nrRunning = 0;
  /** Sum of weights of on_rq entities. */
  load = 0;
  next: Task | null = null;
  last: Task | null = null;

  constructor(readonly tun: CfsTunables) {}

  leftmost(): Task | null {
    return this.queue.length ? this.queue[0] : null;
  }

  /** __enqueue_entity: insert keeping vruntime order (after equal keys, as the rbtree does). */
  private insert(t: Task): void {
    const q = this.queue;
    let i = q.length;
    while (i > 0 && q[i - 1].vruntime > t.vruntime) i--;
    q.splice(i, 0, t);
  }

  private remove(t: Task): void {
    const q = this.queue;
    const i = q.indexOf(t);
    if (i >= 0) q.splice(i, 1);
  }

  /** update_min_vruntime. */
  updateMinVruntime(): void {
    let curr = this.curr;
    let v = this.minVruntime;
    if (curr) {
      if (curr.onRq) v = curr.vruntime;
      else curr = null;
    }
    const left = this.leftmost();
    if (left) v = curr ? Math.min(v, left.vruntime) : left.vruntime;
    if (v > this.minVruntime) this.minVruntime = v;
  }

  /** update_curr with the rq's clock_task value `clockTask`. Returns delta_exec charged. */
  updateCurr(clockTask: number): number {
    const c = this.curr;
    if (!c) return 0;
    const d = clockTask - c.execStart;
    if (d <= 0) return 0;
    c.execStart = clockTask;
    c.sumExec += d;
    c.vruntime += calcDeltaFair(d, c.weight);
    this.updateMinVruntime();
    return d;
  }

  /** __sched_period. */
  period(nr: number): number {
    return nr > this.tun.nrLatency ? nr * this.tun.minGranularity : this.tun.latency;
  }

  /** sched_slice for entity t. */
  slice(t: Task): number {
    const nr = this.nrRunning + (t.onRq ? 0 : 1);
    const load = this.load + (t.onRq ? 0 : t.weight);
    return (this.period(nr) * t.weight) / load;
  }

  /** place_entity(cfs_rq, se, initial). */
  placeEntity(t: Task, initial: boolean): void {
    let v = this.minVruntime;
    if (initial) {
      v += calcDeltaFair(this.slice(t), t.weight); // START_DEBIT: sched_vslice
    } else {
      let thresh = this.tun.latency;
      if (this.tun.gentleFairSleepers) thresh = thresh / 2;
      v -= thresh;
    }
    t.vruntime = Math.max(t.vruntime, v);
  }

  /**
   * enqueue_entity. `wakeup`: ENQUEUE_WAKEUP (place_entity with sleeper
   * credit); `migrated`: the entity's vruntime is relative (renormalise).
   */
  enqueue(t: Task, clockTask: number, wakeup: boolean, migrated: boolean): void {
    const renorm = !wakeup || migrated;
    const isCurr = this.curr === t;
    if (renorm && isCurr) t.vruntime += this.minVruntime;
    this.updateCurr(clockTask);
    if (renorm && !isCurr) t.vruntime += this.minVruntime;
    this.nrRunning++;
    this.load += t.weight;
    if (wakeup) this.placeEntity(t, false);
    if (!isCurr) this.insert(t);
    t.onRq = true;
  }

  /** dequeue_entity. `sleep`: DEQUEUE_SLEEP (vruntime stays absolute). */
  dequeue(t: Task, clockTask: number, sleep: boolean): void {
    this.updateCurr(clockTask);
    this.clearBuddies(t);
    if (t !== this.curr) this.remove(t);
    t.onRq = false;
    this.nrRunning--;
    this.load -= t.weight;
    if (!sleep) t.vruntime -= this.minVruntime;
    this.updateMinVruntime();
  }

  clearBuddies(t: Task): void {
    if (this.last === t) this.last = null;
    if (this.next === t) this.next = null;
  }

  /** wakeup_gran(se) = calc_delta_fair(sysctl_sched_wakeup_granularity, se). */
  wakeupGran(se: Task): number {
    return calcDeltaFair(this.tun.wakeupGranularity, se.weight);
  }

  /** wakeup_preempt_entity(curr, se): -1, 0 or 1. */
  wakeupPreemptEntity(curr: Task, se: Task): number {
    const vdiff = curr.vruntime - se.vruntime;
    if (vdiff <= 0) return -1;
    if (vdiff > this.wakeupGran(se)) return 1;
    return 0;
  }

  /**
   * check_preempt_wakeup for a waking task p against curr. Returns true if
   * curr must be rescheduled. The caller has already checked need_resched.
   */
  checkPreemptWakeup(p: Task, clockTask: number): boolean {
    const curr = this.curr;
    if (!curr || curr === p) return false;
    const scale = this.nrRunning >= this.tun.nrLatency;
    this.updateCurr(clockTask);
    if (this.wakeupPreemptEntity(curr, p) === 1) {
      this.next = p; // set_next_buddy (not already marked: NEXT_BUDDY is off)
      if (scale && curr.onRq) this.last = curr; // LAST_BUDDY
      return true;
    }
    return false;
  }

  /** check_preempt_tick. Returns true if curr must be rescheduled. */
  checkPreemptTick(): boolean {
    const curr = this.curr;
    if (!curr) return false;
    const ideal = this.slice(curr);
    const deltaExec = curr.sumExec - curr.prevSumExec;
    if (deltaExec > ideal) {
      this.clearBuddies(curr);
      return true;
    }
    if (deltaExec < this.tun.minGranularity) return false;
    const se = this.leftmost();
    if (!se) return false;
    const delta = curr.vruntime - se.vruntime;
    if (delta < 0) return false;
    return delta > ideal;
  }

  /**
   * put_prev_task_fair: update_curr, then the running entity (if still
   * on_rq) goes back into the ordered queue. Used on its own when a task of
   * a higher class takes the CPU.
   */
  putPrev(clockTask: number): void {
    const prev = this.curr;
    if (prev) {
      this.updateCurr(clockTask);
      if (prev.onRq) this.insert(prev);
      this.curr = null;
    }
  }

  // --- issue 14 pvsched: set_next_entity on its own (sched_setscheduler of the running task): begin
  /** set_next_entity for t, queued here: it leaves the ordered queue and becomes curr. */
  setNextEntity(t: Task, clockTask: number): void {
    this.remove(t);
    this.curr = t;
    t.execStart = clockTask;
    t.prevSumExec = t.sumExec;
    this.updateMinVruntime();
  }
  // --- end

  /**
   * put_prev_entity + pick_next_entity + set_next_entity, as
   * pick_next_task_fair does on the simple path. `prev` is the task leaving
   * the CPU (still on_rq if it was preempted). Returns the task to run or null.
   */
  pickNext(clockTask: number): Task | null {
    this.putPrev(clockTask);
    const left = this.leftmost();
    if (!left) return null;
    let se = left;
    if (this.last && this.wakeupPreemptEntity(this.last, left) < 1) se = this.last;
    if (this.next && this.wakeupPreemptEntity(this.next, left) < 1) se = this.next;
    this.clearBuddies(se);
    // set_next_entity
    this.remove(se);
    this.curr = se;
    se.execStart = clockTask;
    se.prevSumExec = se.sumExec;
    this.updateMinVruntime();
    return se;
  }
}
