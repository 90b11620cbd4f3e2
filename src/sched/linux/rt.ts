/**
 * SCHED_FIFO / SCHED_RR as in Linux v5.10 kernel/sched/rt.c, for one CPU's
 * rt_rq (no RT group scheduling: every task is a direct child of the root
 * rt_rq). The kernel model (../../kernel/linux.ts) calls these helpers and
 * owns the cross-CPU parts (push/pull, the RT bandwidth period timer).
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
 *   5.10, so each CPU is limited on its own (no borrowing).
 * - highest_prio.curr / .next and the overload state used by push/pull.
 */
import { MAX_RT_PRIO, type Task } from "../../kernel/task.js";

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
