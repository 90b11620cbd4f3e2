/**
 * Xen RTDS: global preemptive EDF with deferrable servers
 * (xen/common/sched/rt.c, RELEASE-4.20.0).
 *
 * Modelled, per cpupool:
 * - per-vCPU reservation (period, budget, extratime flag) from the guest's
 *   `rtds` spec (one object for every vCPU or one per vCPU); defaults
 *   RTDS_DEFAULT_PERIOD 10 ms / RTDS_DEFAULT_BUDGET 4 ms, extratime on
 *   (rt_alloc_udata);
 * - RunQ ordered by compare_unit_priority (priority_level, then deadline;
 *   equal keys keep FIFO order, deadline_queue_insert), DepletedQ
 *   (unordered), ReplQ ordered by the same comparator with one replenishment
 *   timer armed at its head (replq_insert / replq_remove / replq_reinsert);
 * - rt_update_deadline: deadline advanced by whole periods past `now` (the
 *   period grid starting at the unit's first deadline is preserved), full
 *   budget, priority_level 0;
 * - burn_budget: cur_budget -= elapsed; at <= 0 an extratime unit gets
 *   priority_level + 1 and a full budget, other units are flagged depleted;
 * - rt_schedule: runq_pick (first RunQ unit whose hard affinity holds this
 *   pCPU; non-runnable ones met on the way are dropped from RunQ and ReplQ),
 *   keep the current unit if runnable, with budget and strictly higher
 *   priority; next_time = cur_budget of the chosen unit (-1 for idle); the
 *   previous unit is re-queued in rt_context_saved (delayed runq add) or, if
 *   not runnable, dropped from the ReplQ;
 * - rt_unit_wake: replenish only if the deadline passed while asleep
 *   (deferrable server), then ReplQ + RunQ/DepletedQ insert and runq_tickle;
 * - runq_tickle: among untickled pCPUs of the unit's hard affinity, from
 *   its current pCPU upwards (cpumask_test_or_cycle / cpumask_cycle), the
 *   first idle one, else the one running the lowest-priority unit if that is
 *   strictly lower than the new unit;
 * - repl_timer_handler: replenishes every unit whose deadline passed (the
 *   ReplQ scan stops at the first future deadline), re-sorts them in RunQ,
 *   then, in reverse order (tmp_replq is built with list_add), tickles for
 *   the RunQ head if a replenished unit is running and now has lower
 *   priority than it, or for a replenished unit that was depleted.
 *
 * Not modelled: tasklets, the sleep hook (pause), dom_cntl changes at run
 * time, migration of the replenishment timer between pCPUs, Xen timer slop
 * (the replenishment timer fires exactly at the deadline). vCPUs are created
 * with their spec parameters at time 0 (in Xen, `xl` sets them right after
 * rt_unit_insert has computed the first deadline with the defaults); as in
 * Xen, the unit is offline at insert and is queued by its boot wake-up.
 *
 * Note (from the source): a replenished unit that ran out of budget with
 * extratime (so it sits in RunQ at priority_level >= 1, not depleted) does
 * not trigger a tickle, so a running unit with a later deadline keeps the
 * pCPU until its own budget ends: with extratime on, EDF deadlines can be
 * missed even at utilisation <= 1 on one pCPU.
 */
import type { TimerTarget } from "../../engine/sim.js";
import type { RtdsParams } from "../../spec/types.js";
import type { Pool, SchedDecision, VCpu, Xen, XenScheduler } from "../../virt/xen.js";
import { hardMask, insertAt, removeAt } from "./util.js";

export const RTDS_DEFAULT_PERIOD = 10_000_000;
export const RTDS_DEFAULT_BUDGET = 4_000_000;
/** rt_update_deadline: above (period << UPDATE_LIMIT_SHIFT) behind, multiply instead of looping. */
const UPDATE_LIMIT_SHIFT = 10;

const Q_NONE = 0;
const Q_RUNQ = 1;
const Q_DEPLETED = 2;

/** struct rt_unit. */
export class RtUnit {
  curBudget = 0;
  curDeadline = 0;
  lastStart = 0;
  priorityLevel = 0;
  /** RTDS_scheduled. */
  scheduled = false;
  /** RTDS_delayed_runq_add. */
  delayedRunqAdd = false;
  /** RTDS_depleted. */
  depleted = false;
  /** Which of RunQ / DepletedQ the unit is on (q_elem). */
  q = Q_NONE;
  /** On the ReplQ (replq_elem). */
  onReplq = false;
  constructor(
    readonly v: VCpu,
    readonly period: number,
    readonly budget: number,
    /** RTDS_extratime. */
    readonly extratime: boolean,
    /** Hard affinity & cpupool. */
    readonly hard: Uint8Array,
  ) {}
}

/**
 * compare_unit_priority: > 0 if v1 has higher priority than v2 (lower
 * priority_level, then earlier deadline), < 0 if lower, 0 if equal.
 */
export function compareUnitPriority(v1: RtUnit, v2: RtUnit): number {
  const prio = v2.priorityLevel - v1.priorityLevel;
  if (prio === 0) return v2.curDeadline - v1.curDeadline;
  return prio;
}

/** rt_update_deadline: called when now >= cur_deadline. */
export function rtUpdateDeadline(now: number, u: RtUnit): void {
  if (u.curDeadline + u.period * (1 << UPDATE_LIMIT_SHIFT) > now) {
    do u.curDeadline += u.period;
    while (u.curDeadline <= now);
  } else {
    const count = Math.floor((now - u.curDeadline) / u.period) + 1;
    u.curDeadline += count * u.period;
  }
  u.lastStart = now;
  u.curBudget = u.budget;
  u.priorityLevel = 0;
}

/** One RTDS scheduler instance (struct rt_private) for a cpupool. */
export class Rtds implements XenScheduler, TimerTarget {
  readonly name = "rtds";
  /** Ordered list of runnable units with budget (or extratime). */
  readonly runq: RtUnit[] = [];
  /** Units without budget (unordered). */
  readonly depletedq: RtUnit[] = [];
  /** Awake units, ordered by compare_unit_priority at insertion time. */
  readonly replq: RtUnit[] = [];
  /** prv->tickled. */
  private readonly tickled: Uint8Array;
  private readonly ncpu: number;
  readonly replTimer: number;
  /** Scratch for repl_timer_handler's tmp_replq (no allocation per event). */
  private readonly tmp: RtUnit[] = [];
  /** Statistics. */
  tickles = 0;
  replenishments = 0;

  constructor(private readonly xen: Xen, private readonly pool: Pool) {
    this.ncpu = xen.board.cpus;
    this.tickled = new Uint8Array(this.ncpu);
    this.replTimer = xen.sim.timer(this, 0, 0);
  }

  private unit(v: VCpu): RtUnit {
    return v.sdata as RtUnit;
  }

  // ------------------------------------------------------------ queues

  /** deadline_queue_insert: returns true if `u` ended at the front. */
  private deadlineInsert(q: RtUnit[], u: RtUnit): boolean {
    let i = 0;
    while (i < q.length && !(compareUnitPriority(u, q[i]) > 0)) i++;
    insertAt(q, i, u);
    return i === 0;
  }

  /** deadline_queue_remove: returns true if `u` was at the front. */
  private deadlineRemove(q: RtUnit[], u: RtUnit): boolean {
    const i = q.indexOf(u);
    removeAt(q, i);
    return i === 0;
  }

  private qRemove(u: RtUnit): void {
    if (u.q === Q_RUNQ) removeAt(this.runq, this.runq.indexOf(u));
    else if (u.q === Q_DEPLETED) removeAt(this.depletedq, this.depletedq.indexOf(u));
    u.q = Q_NONE;
  }

  /** runq_insert: RunQ if the unit has budget or extratime, else DepletedQ. */
  private runqInsert(u: RtUnit): void {
    if (u.curBudget > 0 || u.extratime) {
      this.deadlineInsert(this.runq, u);
      u.q = Q_RUNQ;
    } else {
      this.depletedq.push(u);
      u.q = Q_DEPLETED;
    }
  }

  private replqInsert(u: RtUnit): void {
    u.onReplq = true;
    if (this.deadlineInsert(this.replq, u)) this.xen.sim.arm(this.replTimer, u.curDeadline);
  }

  private replqRemove(u: RtUnit): void {
    if (!u.onReplq) return;
    u.onReplq = false;
    if (this.deadlineRemove(this.replq, u)) {
      if (this.replq.length > 0) this.xen.sim.arm(this.replTimer, this.replq[0].curDeadline);
      else this.xen.sim.cancel(this.replTimer);
    }
  }

  private replqReinsert(u: RtUnit): void {
    let rearmAt = u.curDeadline;
    let rearm: boolean;
    if (this.deadlineRemove(this.replq, u)) {
      this.deadlineInsert(this.replq, u);
      rearmAt = this.replq[0].curDeadline;
      rearm = true;
    } else rearm = this.deadlineInsert(this.replq, u);
    if (rearm) this.xen.sim.arm(this.replTimer, rearmAt);
  }

  // ------------------------------------------------------------ budget

  /** burn_budget. */
  private burnBudget(u: RtUnit, now: number): void {
    const delta = now - u.lastStart;
    if (delta < 0) { u.lastStart = now; return; }
    u.curBudget -= delta;
    u.lastStart = now;
    if (u.curBudget <= 0) {
      if (u.extratime) {
        u.priorityLevel++;
        u.curBudget = u.budget;
      } else {
        u.curBudget = 0;
        u.depleted = true;
      }
    }
  }

  // ------------------------------------------------------------ tickling

  /** runq_tickle. */
  private runqTickle(nu: RtUnit, now: number): void {
    const n = this.ncpu;
    const start = nu.v.pcpu;
    const pcpus = this.xen.pcpus;
    let latest: RtUnit | null = null;
    // cpumask_test_or_cycle from the unit's processor, then cpumask_cycle
    for (let k = 0; k < n; k++) {
      const cpu = start + k < n ? start + k : start + k - n;
      if (!nu.hard[cpu] || this.tickled[cpu]) continue;
      const cur = pcpus[cpu].curr;
      if (cur === null) { this.tickleCpu(cpu, now); return; }
      const s = this.unit(cur);
      if (latest === null || compareUnitPriority(s, latest) < 0) latest = s;
    }
    if (latest !== null && compareUnitPriority(latest, nu) < 0) this.tickleCpu(latest.v.pcpu, now);
  }

  private tickleCpu(cpu: number, now: number): void {
    this.tickled[cpu] = 1;
    this.tickles++;
    this.xen.tickle(cpu, now);
  }

  // ------------------------------------------------------------ hooks

  /** rt_alloc_udata + rt_unit_insert (the vCPU is still offline: not queued). */
  insert(v: VCpu, now: number): void {
    const r = v.dom.spec.rtds;
    const p: RtdsParams = (Array.isArray(r) ? r[v.idx] : r) ?? {};
    const u = new RtUnit(v,
      p.period_us !== undefined ? p.period_us * 1000 : RTDS_DEFAULT_PERIOD,
      p.budget_us !== undefined ? p.budget_us * 1000 : RTDS_DEFAULT_BUDGET,
      p.extratime ?? true,
      hardMask(v, this.pool.cpus, this.ncpu));
    v.sdata = u;
    // rt_res_pick_locked: keep the processor if allowed, else cycle from it
    if (!u.hard[v.pcpu]) {
      for (let k = 1; k <= this.ncpu; k++) {
        const c = (v.pcpu + k) % this.ncpu;
        if (u.hard[c]) { v.pcpu = c; break; }
      }
    }
    if (now >= u.curDeadline) rtUpdateDeadline(now, u);
  }

  /** rt_unit_wake. */
  wake(v: VCpu, now: number): void {
    const u = this.unit(v);
    if (this.xen.pcpus[v.pcpu].curr === v) return;
    if (u.q !== Q_NONE) return;
    const missed = now >= u.curDeadline;
    if (missed) rtUpdateDeadline(now, u);
    if (u.scheduled) {
      u.delayedRunqAdd = true;
      if (missed) this.replqReinsert(u);
      return;
    }
    this.replqInsert(u);
    this.runqInsert(u);
    this.runqTickle(u, now);
  }

  /** rt_context_saved. */
  contextSaved(v: VCpu, now: number): void {
    const u = this.unit(v);
    u.scheduled = false;
    const delayed = u.delayedRunqAdd;
    u.delayedRunqAdd = false;
    if (delayed && v.runnable) {
      this.runqInsert(u);
      this.runqTickle(u, now);
    } else this.replqRemove(u);
  }

  /** runq_pick: the first RunQ unit whose hard affinity holds `cpu`. */
  private runqPick(cpu: number): RtUnit | null {
    const q = this.runq;
    for (let i = 0; i < q.length; i++) if (q[i].hard[cpu]) return q[i];
    return null;
  }

  /** rt_schedule. */
  doSchedule(cpu: number, prev: VCpu | null, now: number, dec: SchedDecision): void {
    this.tickled[cpu] = 0;
    const scurr = prev === null ? null : this.unit(prev);
    if (scurr !== null) this.burnBudget(scurr, now);
    let snext: RtUnit | null;
    for (;;) {
      snext = this.runqPick(cpu);
      if (snext === null || snext.v.runnable) break;
      this.qRemove(snext);
      this.replqRemove(snext);
    }
    if (scurr !== null && scurr.v.runnable && scurr.curBudget > 0 && (snext === null || compareUnitPriority(scurr, snext) > 0))
      snext = scurr;
    if (snext !== scurr && scurr !== null && scurr.v.runnable) scurr.delayedRunqAdd = true;
    if (snext !== null) {
      snext.lastStart = now;
      if (snext !== scurr) {
        this.qRemove(snext);
        snext.scheduled = true;
      }
      dec.next = snext.v;
      dec.time = snext.curBudget;
    } else {
      dec.next = null;
      dec.time = -1;
    }
  }

  /** repl_timer_handler. */
  onTimer(_kind: number, _arg: number, now: number): void {
    const replq = this.replq, runq = this.runq, tmp = this.tmp;
    tmp.length = 0;
    while (replq.length > 0) {
      const u = replq[0];
      if (now < u.curDeadline) break;
      removeAt(replq, 0);
      rtUpdateDeadline(now, u);
      this.replenishments++;
      tmp.push(u); // list_add onto tmp_replq: processed below last-first
      if (u.q !== Q_NONE) {
        this.qRemove(u);
        this.runqInsert(u);
      }
    }
    const pcpus = this.xen.pcpus;
    for (let i = tmp.length - 1; i >= 0; i--) {
      const u = tmp[i];
      if (pcpus[u.v.pcpu].curr === u.v && runq.length > 0) {
        const next = runq[0];
        if (compareUnitPriority(u, next) < 0) this.runqTickle(next, now);
      } else if (u.depleted) {
        // __test_and_clear_bit(__RTDS_depleted) && unit_on_q
        u.depleted = false;
        if (u.q !== Q_NONE) this.runqTickle(u, now);
      }
      this.deadlineInsert(replq, u);
    }
    tmp.length = 0;
    if (replq.length > 0) this.xen.sim.arm(this.replTimer, replq[0].curDeadline);
  }
}
