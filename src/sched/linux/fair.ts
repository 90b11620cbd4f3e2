/**
 * fair_sched_class of Linux v5.10 kernel/sched/fair.c: the class hooks of
 * SCHED_NORMAL (SCHED_BATCH and SCHED_IDLE are not modelled) over the
 * per-CPU CFS runqueue of cfs.ts.
 *
 * Modelled hooks: task_fork_fair (START_DEBIT placement, vruntime made
 * relative), enqueue/dequeue_task_fair, check_preempt_wakeup,
 * pick_next_task_fair on its simple path (put_prev_entity +
 * pick_next_entity + set_next_entity), put_prev_task_fair, task_tick_fair
 * (update_curr + check_preempt_tick), select_task_rq_fair for wake-ups
 * (wake_affine_idle + select_idle_sibling, simplified, see selectTaskRq) and
 * migrate_task_rq_fair (vruntime relative to the old min_vruntime).
 * Not modelled: group scheduling, load balancing (balance_fair /
 * newidle_balance, periodic and NOHZ balancing: a CFS task moves only at a
 * wake-up), PELT load tracking, and check_preempt_wakeup for a new task
 * (wake_up_new_task): a new CFS task waits for the tick or a later wake-up.
 */
import type { CfsRq } from "./cfs.js";
import { type SchedAttr, type SchedClass, type SchedCore, type SchedCpu, ENQUEUE_MIGRATED, ENQUEUE_WAKEUP, DEQUEUE_SLEEP, WF_FORK, WF_SYNC } from "./class.js";
import { CLS_FAIR, SCHED_NORMAL, SW_PREEMPT_TICK, SW_PREEMPT_WAKEUP, type Task } from "../../kernel/task.js";

/** A CPU as the fair class sees it: its cfs_rq. */
export interface FairCpu extends SchedCpu {
  readonly rq: CfsRq;
}

export class FairSchedClass<C extends FairCpu> implements SchedClass<C> {
  readonly id = CLS_FAIR;
  constructor(private readonly core: SchedCore<C>) {}

  hasPolicy(policy: number): boolean {
    return policy === SCHED_NORMAL;
  }

  setParams(_p: Task, _attr: SchedAttr, _now: number): void {}

  /** task_fork_fair: place_entity(initial) and a vruntime relative to min_vruntime (enqueue without WAKEUP renormalises). */
  taskFork(c: C, p: Task, _now: number): void {
    c.rq.placeEntity(p, true);
    p.vruntime -= c.rq.minVruntime;
  }

  /** enqueue_task_fair: enqueue_entity with ENQUEUE_WAKEUP (sleeper credit) and ENQUEUE_MIGRATED (renormalise). */
  enqueueTask(c: C, p: Task, flags: number, now: number): void {
    c.rq.enqueue(p, this.core.clockTask(c, now), (flags & ENQUEUE_WAKEUP) !== 0, (flags & ENQUEUE_MIGRATED) !== 0);
  }

  /** dequeue_task_fair: dequeue_entity (DEQUEUE_SLEEP keeps vruntime absolute). */
  dequeueTask(c: C, p: Task, flags: number, now: number): void {
    c.rq.dequeue(p, this.core.clockTask(c, now), (flags & DEQUEUE_SLEEP) !== 0);
  }

  /** check_preempt_wakeup: wakeup_preempt_entity with the NEXT/LAST buddies. */
  checkPreemptCurr(c: C, p: Task, wakeFlags: number, now: number): void {
    if (wakeFlags & WF_FORK) return; // not modelled for a new task, see the header
    if (c.rq.checkPreemptWakeup(p, this.core.clockTask(c, now))) this.core.resched(c, SW_PREEMPT_WAKEUP);
  }

  /** pick_next_task_fair, simple path: put_prev_entity + pick_next_entity + set_next_entity. */
  pickNextTask(c: C, now: number): Task | null {
    return c.rq.pickNext(this.core.clockTask(c, now));
  }

  /** put_prev_task_fair. */
  putPrevTask(c: C, _prev: Task, now: number): void {
    c.rq.putPrev(this.core.clockTask(c, now));
  }

  /**
   * select_task_rq_fair for a wake-up, simplified: wake_affine_idle (the
   * waker's CPU if idle, or, for a sync wake-up, if it runs only the waker),
   * then select_idle_sibling (target if idle, else the previous CPU if idle,
   * else any idle allowed CPU, else target).
   */
  selectTaskRq(p: Task, waker: C, wakeFlags: number): number {
    const al = p.allowed;
    if (al.length === 1) return al[0];
    const cpus = this.core.cpus;
    const prev = p.cpu;
    let target = prev;
    const w = waker.idx;
    if (al.includes(w)) {
      if (this.idleCpu(waker)) target = this.idleCpu(cpus[prev]) ? prev : w;
      else if ((wakeFlags & WF_SYNC) !== 0 && this.core.nrRunning(waker) === 1) target = w;
    }
    if (this.idleCpu(cpus[target])) return target;
    if (prev !== target && al.includes(prev) && this.idleCpu(cpus[prev])) return prev;
    for (let i = 0; i < al.length; i++) if (this.idleCpu(cpus[al[i]])) return al[i];
    return target;
  }

  /** available_idle_cpu: the idle task runs and nothing is queued. */
  private idleCpu(c: C): boolean {
    return c.curr === null && this.core.nrRunning(c) === 0;
  }

  /** migrate_task_rq_fair: vruntime relative to the old CPU's min_vruntime. */
  migrateTaskRq(p: Task, _newCpu: number): void {
    p.vruntime -= this.core.cpus[p.cpu].rq.minVruntime;
  }

  taskWoken(_c: C, _p: Task, _waker: C, _now: number): void {}

  /** balance_fair: newidle balancing is not modelled. */
  balance(_c: C, _prev: Task, _now: number): boolean {
    return false;
  }

  balanceCallback(_c: C, _next: Task, _now: number): void {}

  /** task_tick_fair: update_curr, then check_preempt_tick when others are queued. */
  taskTick(c: C, _p: Task, now: number): void {
    const rq = c.rq;
    rq.updateCurr(this.core.clockTask(c, now));
    if (rq.nrRunning > 1 && !c.needResched && rq.checkPreemptTick()) this.core.resched(c, SW_PREEMPT_TICK);
  }

  accountCurr(c: C, _p: Task, now: number): void {
    c.rq.updateCurr(this.core.clockTask(c, now));
  }

  // --- issue 14 pvsched: class-change hooks of __sched_setscheduler / rt_mutex_setprio: begin
  /** set_next_task_fair: set_next_entity. */
  setNextTask(c: C, p: Task, now: number): void {
    c.rq.setNextEntity(p, this.core.clockTask(c, now));
  }

  /**
   * vruntime_normalized: a queued task's vruntime was made relative by the
   * dequeue of __sched_setscheduler (DEQUEUE_SAVE without DEQUEUE_SLEEP); a
   * task that never ran has a relative one from task_fork_fair.
   */
  private vruntimeNormalized(p: Task): boolean {
    return p.onRq || p.sumExec === 0;
  }

  /** switched_from_fair: detach_task_cfs_rq (a sleeping task gets a sleeper's placement, made relative). */
  switchedFrom(c: C, p: Task, _now: number): void {
    if (this.vruntimeNormalized(p)) return;
    c.rq.placeEntity(p, false);
    p.vruntime -= c.rq.minVruntime;
  }

  /** switched_to_fair: attach_task_cfs_rq, then resched_curr if p runs, else check_preempt_curr(rq, p, 0). */
  switchedTo(c: C, p: Task, now: number): void {
    if (!this.vruntimeNormalized(p)) p.vruntime += c.rq.minVruntime;
    if (!p.onRq) return;
    if (c.curr === p) this.core.resched(c, SW_PREEMPT_WAKEUP);
    else this.checkPreemptCurrAny(c, p, now);
  }

  /** prio_changed_fair (a new nice value): reschedule a running task that got weaker, else check_preempt_curr. */
  prioChanged(c: C, p: Task, oldPrio: number, now: number): void {
    if (!p.onRq || c.rq.nrRunning === 1) return;
    if (c.curr === p) { if (p.prio > oldPrio) this.core.resched(c, SW_PREEMPT_WAKEUP); }
    else this.checkPreemptCurrAny(c, p, now);
  }

  /** core.c check_preempt_curr(rq, p, 0) for a CFS task p: the idle task always yields, a higher class never. */
  private checkPreemptCurrAny(c: C, p: Task, now: number): void {
    const curr = c.curr;
    if (curr === null) this.core.resched(c, SW_PREEMPT_WAKEUP);
    else if (curr.cls === CLS_FAIR && !c.needResched) this.checkPreemptCurr(c, p, 0, now);
  }
  // --- end
}
