/**
 * Xen Credit2 (xen/common/sched/credit2.c, RELEASE-4.20.0).
 *
 * Design: pCPUs are grouped into runqueues following `credit2_runqueue`
 * (cpu|core|socket|node|all, default socket) as cpu_add_to_runqueue does:
 * topology match against the runqueue's first pCPU (pCPU ids consecutive per
 * socket and per core), SMT siblings never split, at most
 * nr_cpus / ceil(nr_cpus / 16) pCPUs per runqueue
 * (sched_credit2_max_cpus_runqueue), a new pCPU going to the least populated
 * matching runqueue. A runqueue is shared by its pCPUs and
 * ordered by credit (descending). Credits are nanosecond-scaled: running for
 * t ns burns t * max_weight / weight credit (t2c_update, with the division
 * remainder carried in `residual`), floored at CSCHED2_CREDIT_MIN. When the
 * unit picked to run and the runqueue head both have credit <= 0 an epoch
 * ends (reset_credit): every unit of the runqueue, sleeping ones included,
 * gets +CREDIT_INIT (+2x if the picked one sits at CREDIT_MIN), clipped to
 * CREDIT_INIT + CARRYOVER_MAX, and balance_load runs.
 *
 * Rules carried over: runq_candidate (ratelimit keeps a runnable current unit
 * that ran less than sched_ratelimit_us since it was switched in; otherwise
 * the first runnable, allowed, not-tickled-elsewhere unit with more credit,
 * with CSCHED2_MIGRATE_RESIST against pulling from another pCPU, and, for a
 * capped unit, budget to grab); csched2_runtime (run until credit equals the
 * next waiter's, not beyond a capped unit's budget, clamped to
 * [max(MIN_TIMER, remaining ratelimit), MAX_TIMER], where a newly picked unit
 * gets the whole ratelimit); runq_tickle on wake and on context_saved
 * (exclusive pin, fully idle cores, idle pCPUs, then tickle_score against
 * busy pCPUs: credit difference minus MIGRATE_RESIST off the unit's pCPU,
 * -1 when the victim has run less than ratelimit - 50 us); delayed runqueue
 * add in context_saved; +50 us MIGRATE_COMPENSATION when pulled.
 *
 * Caps (the l.95-162 design comment): a capped domain has a budget pool of
 * cap% x CSCHED2_BDGT_REPL_PERIOD (10 ms) refilled by its own timer every
 * period (replenish_domain_budget, never above tot_budget); a unit about to
 * run grabs max(tot_budget / nr_units, MIN_TIMER) from the pool
 * (unit_grab_budget), burns it while running and returns the rest when it
 * stops (unit_return_budget, in context_saved); a unit that finds the pool
 * empty is parked (park_unit: not runnable, on the domain's parked list)
 * until budget comes back (unpark_parked_units, from context_saved or the
 * replenishment). Overruns (the MIN_TIMER / ratelimit floor of the slice)
 * are charged to the pool at the next grab. Caps are set at time 0, right
 * after the domain's vCPUs are created, as `xl` does.
 *
 * Load tracking and balancing: update_runq_load / update_svc_load (EWMA,
 * 2^20 x 1024 ns window, 18 fractional bits; load = runnable + running
 * units); csched2_res_pick places a unit on insertion (least b_avgload
 * runqueue intersecting its hard affinity, then pCPU round robin from
 * pick_bias); balance_load after each credit reset (push, pull or swap
 * between this runqueue and the one with the largest load difference,
 * thresholds credit2_balance_under 0 / over -3); migrate() moves a queued or
 * sleeping unit at once and flags a running one (runq_migrate_request +
 * _VPF_migrating), which core.c's sched_unit_migrate_finish moves after its
 * context is saved (csched2_res_pick honouring the request, then
 * csched2_unit_migrate, then vcpu_wake).
 *
 * Not modelled: soft affinity (every unit's soft affinity is "all"), yield,
 * tasklets, NUMA nodes (credit2_runqueue=node groups by socket), the
 * trylock failures of csched2_res_pick / balance_load (the model is single
 * threaded: every trylock succeeds), run-time changes of weight, cap or
 * affinity.
 */
import type { TimerTarget } from "../../engine/sim.js";
import type { SchedDecision, VCpu, XenScheduler, Xen, Pool } from "../../virt/xen.js";
import { hardMask, insertAt, removeAt, removeItem } from "./util.js";

export const CREDIT_INIT = 10_000_000;
export const CREDIT_MIN = -CREDIT_INIT;
export const IDLE_CREDIT = CREDIT_MIN - 1;
export const MIN_TIMER = 500_000;
export const MAX_TIMER = CREDIT_INIT;
export const CARRYOVER_MAX = MIN_TIMER;
export const MIGRATE_RESIST = 500_000;
export const MIGRATE_COMPENSATION = 50_000;
export const RATELIMIT_TICKLE_TOLERANCE = 50_000;
export const DEFAULT_RATELIMIT_US = 1000;
/** CSCHED2_BDGT_REPL_PERIOD (credit2_cap_period_ms = 10). */
export const BDGT_REPL_PERIOD = 10_000_000;
/** MAX_CPUS_RUNQ (sched_credit2_max_cpus_runqueue). */
export const MAX_CPUS_RUNQ = 16;
/** LOADAVG_GRANULARITY_SHIFT: load samples in 1024 ns units. */
const LOADAVG_GRANULARITY = 1024;
/** prv->load_window_shift = credit2_load_window_shift (30) - LOADAVG_GRANULARITY_SHIFT (10). */
const LOAD_WINDOW_SHIFT = 20;
const LOAD_WINDOW = 2 ** LOAD_WINDOW_SHIFT;
/** LOADAVG_PRECISION_SHIFT. */
export const LOAD_PRECISION_SHIFT = 18;
const LOAD_ONE = 2 ** LOAD_PRECISION_SHIFT;
/** opt_underload_balance_tolerance, opt_overload_balance_tolerance. */
const UNDERLOAD_TOLERANCE = 0;
const OVERLOAD_TOLERANCE = -3;

export type RunqueueArrangement = "cpu" | "core" | "socket" | "node" | "all";

/** csched2_dom (the cap part). */
export class C2Dom {
  /** tot_budget, ns per period. */
  totBudget = 0;
  /** Currently available budget in the pool. */
  budget = 0;
  nextRepl = 0;
  /** parked_units; the last element is the list head (list_add). */
  readonly parked: C2Unit[] = [];
  timer = -1;
  constructor(readonly idx: number, readonly cap: number, readonly nrUnits: number) {}
}

/** csched2_unit. */
export class C2Unit {
  credit = CREDIT_INIT;
  residual = 0;
  startTime = 0;
  scheduled = false;
  delayedRunqAdd = false;
  onRunq = false;
  tickledCpu = -1;
  /** Has a cap (svc->budget != STIME_MAX). */
  hasCap = false;
  /** Budget grabbed from the domain pool (Infinity when uncapped). */
  budget = Infinity;
  budgetQuota = 0;
  avgload = 0;
  loadLastUpdate = 0;
  /** CSFLAG_runq_migrate_request and its target. */
  migrateRequest = false;
  migrateRqd: C2Runqueue | null = null;
  /** _VPF_migrating: not runnable until sched_unit_migrate_finish. */
  migrating = false;
  readonly pinned: boolean;
  constructor(
    readonly v: VCpu,
    readonly weight: number,
    public rqd: C2Runqueue,
    /** Hard affinity & cpupool, indexed by pCPU. */
    readonly hard: Uint8Array,
    readonly sdom: C2Dom | null,
  ) {
    this.pinned = v.hard.length === 1;
  }
}

/** csched2_runqueue_data. */
export class C2Runqueue {
  readonly runq: C2Unit[] = [];
  readonly svc: C2Unit[] = [];
  /** Active pCPUs, ascending. */
  readonly cpus: number[] = [];
  /** rqd->active as a mask. */
  readonly active: Uint8Array;
  maxWeight = 1;
  resets = 0;
  refcnt = 0;
  pickBias = 0;
  /** Instantaneous load (runnable + running units). */
  load = 0;
  loadLastUpdate = 0;
  avgload = 0;
  bAvgload = 0;
  constructor(readonly id: number, ncpu: number) {
    this.active = new Uint8Array(ncpu);
  }
}

export interface Credit2Params {
  /** sched_ratelimit_us; 0 = off. */
  ratelimitUs: number;
  /** credit2_runqueue. Default "socket". */
  runqueue?: RunqueueArrangement;
}

const T_REPL = 0;

export class Credit2 implements XenScheduler, TimerTarget {
  readonly name = "credit2";
  readonly runqueues: C2Runqueue[] = [];
  private readonly rqOf: C2Runqueue[] = [];
  private readonly idle: boolean[] = [];
  private readonly tickled: boolean[] = [];
  private readonly ratelimit: number;
  private readonly ncpu: number;
  private readonly threadsPerCore: number;
  private readonly perSocket: number;
  private readonly doms: (C2Dom | null)[] = [];
  /** Scratch list for unit_return_budget / replenish -> unpark_parked_units. */
  private readonly wereParked: C2Unit[] = [];
  /** Statistics. */
  tickles = 0;
  migrations = 0;
  parks = 0;

  constructor(private readonly xen: Xen, private readonly pool: Pool, params: Credit2Params, threadsPerCore: number, sockets: number, ncpus: number) {
    this.ratelimit = params.ratelimitUs * 1000;
    this.ncpu = ncpus;
    this.threadsPerCore = Math.max(1, threadsPerCore);
    this.perSocket = Math.ceil(ncpus / Math.max(1, sockets));
    const arr = params.runqueue ?? "socket";
    for (const c of pool.cpus.slice().sort((a, b) => a - b)) this.cpuAddToRunqueue(c, arr);
    for (const c of pool.cpus) { this.idle[c] = true; this.tickled[c] = false; }
  }

  // ------------------------------------------------------------ topology

  private socketOf(c: number): number { return Math.floor(c / this.perSocket); }
  private coreOf(c: number): number { return Math.floor(c / this.threadsPerCore); }

  /** cpu_runqueue_match (node = socket: no NUMA information in the board). */
  private runqueueMatch(rq: C2Runqueue, cpu: number, arr: RunqueueArrangement): boolean {
    const peer = rq.pickBias;
    switch (arr) {
      case "all": return true;
      case "core": return this.socketOf(peer) === this.socketOf(cpu) && this.coreOf(peer) === this.coreOf(cpu);
      case "socket": case "node": return this.socketOf(peer) === this.socketOf(cpu);
      default: return false; // "cpu" never finds an existing runqueue
    }
  }

  /** cpu_add_to_runqueue + init_cpu_runqueue (setup time). */
  private cpuAddToRunqueue(cpu: number, arr: RunqueueArrangement): void {
    const online = this.ncpu;
    const minRqs = Math.floor((online - 1) / MAX_CPUS_RUNQ) + 1;
    const maxCpusRunq = Math.floor(online / minRqs);
    const core = this.coreOf(cpu);
    let valid: C2Runqueue | null = null;
    for (const rq of this.runqueues) {
      if (!this.runqueueMatch(rq, cpu, arr)) continue;
      // a sibling already there: keep the core together
      if (rq.cpus.some((c) => this.coreOf(c) === core)) { valid = rq; break; }
      // cpu_runqueue_siblings_match: room for the whole core
      const cores = new Set(rq.cpus.map((c) => this.coreOf(c)));
      const fits = cores.size * this.threadsPerCore + this.threadsPerCore <= maxCpusRunq;
      if (rq.refcnt < maxCpusRunq && (fits || arr === "all")) {
        if (valid === null || rq.refcnt < valid.refcnt) valid = rq;
      }
    }
    if (valid === null) {
      valid = new C2Runqueue(this.runqueues.length, this.ncpu);
      valid.pickBias = cpu;
      this.runqueues.push(valid);
    }
    valid.refcnt++;
    valid.cpus.push(cpu);
    valid.active[cpu] = 1;
    if (valid.cpus.length === 1) valid.pickBias = cpu;
    this.rqOf[cpu] = valid;
  }

  private unit(v: VCpu): C2Unit {
    return v.sdata as C2Unit;
  }

  /** unit_runnable(): not blocked, parked or migrating. */
  private runnable(u: C2Unit): boolean {
    return u.v.runnable && !u.migrating;
  }

  /** cpumask_cycle(n, hard & rq->active). */
  private cycleIn(n: number, u: C2Unit, rq: C2Runqueue): number {
    const N = this.ncpu;
    for (let k = 1; k <= N; k++) {
      const c = n + k < N ? n + k : n + k - N;
      if (u.hard[c] && rq.active[c]) return c;
    }
    return -1;
  }

  private intersects(u: C2Unit, rq: C2Runqueue): boolean {
    const cs = rq.cpus;
    for (let i = 0; i < cs.length; i++) if (u.hard[cs[i]]) return true;
    return false;
  }

  // ------------------------------------------------------------ insertion

  /** csched2_alloc_udata + csched2_unit_insert (+ the cap set by xl right after creation). */
  insert(v: VCpu, now: number): void {
    const d = v.dom;
    let sdom = this.doms[d.id] ?? null;
    if (this.doms[d.id] === undefined) {
      sdom = d.cap > 0 ? new C2Dom(d.id, d.cap, d.vcpus.length) : null;
      this.doms[d.id] = sdom;
      if (sdom !== null) {
        // csched2_dom_cntl, XEN_DOMCTL_SCHEDOP_putinfo with a cap
        sdom.totBudget = Math.floor((BDGT_REPL_PERIOD * sdom.cap) / 100);
        sdom.budget = sdom.totBudget;
        sdom.nextRepl = now + BDGT_REPL_PERIOD;
        sdom.timer = this.xen.sim.timer(this, T_REPL, d.id);
        this.xen.sim.arm(sdom.timer, sdom.nextRepl);
      }
    }
    const u = new C2Unit(v, d.weight, this.rqOf[v.pcpu], hardMask(v, this.pool.cpus, this.ncpu), sdom);
    u.avgload = 2 ** (LOAD_PRECISION_SHIFT - 1); // starting load of 50 %
    u.loadLastUpdate = Math.floor(now / LOADAVG_GRANULARITY);
    if (sdom !== null) {
      u.hasCap = true;
      u.budget = 0;
      u.budgetQuota = Math.max(Math.floor(sdom.totBudget / sdom.nrUnits), MIN_TIMER);
    }
    v.sdata = u;
    v.pcpu = this.resPick(u, null);
    this.runqAssign(u, this.rqOf[v.pcpu]);
  }

  /**
   * csched2_res_pick: the runqueue with the least b_avgload among those
   * intersecting the unit's hard affinity (its own discounted by its load),
   * then a pCPU round robin from pick_bias. `own` is svc->rqd (null before
   * runq_assign).
   */
  private resPick(u: C2Unit, own: C2Runqueue | null): number {
    if (u.migrateRequest) {
      u.migrateRequest = false;
      const m = u.migrateRqd!;
      if (this.intersects(u, m)) {
        const c = this.cycleIn(m.pickBias, u, m);
        m.pickBias = c;
        return c;
      }
    }
    let min = Infinity;
    let minRq: C2Runqueue | null = null;
    const rqs = this.runqueues;
    for (let i = 0; i < rqs.length; i++) {
      const rq = rqs[i];
      if (!this.intersects(u, rq)) continue;
      const avg = rq === own ? Math.max(rq.bAvgload - u.avgload, 0) : rq.bAvgload;
      if (avg < min) { min = avg; minRq = rq; }
    }
    const c = this.cycleIn(minRq!.pickBias, u, minRq!);
    minRq!.pickBias = c;
    return c;
  }

  /** update_max_weight. */
  private updateMaxWeight(rq: C2Runqueue, newWeight: number, oldWeight: number): void {
    if (newWeight > rq.maxWeight) rq.maxWeight = newWeight;
    else if (oldWeight === rq.maxWeight) {
      let m = 1;
      const svc = rq.svc;
      for (let i = 0; i < svc.length; i++) if (svc[i].weight > m) m = svc[i].weight;
      rq.maxWeight = m;
    }
  }

  /** _runq_assign. */
  private runqAssign(u: C2Unit, rq: C2Runqueue): void {
    u.rqd = rq;
    rq.svc.push(u);
    this.updateMaxWeight(rq, u.weight, 0);
    rq.bAvgload += u.avgload;
  }

  /** _runq_deassign. */
  private runqDeassign(u: C2Unit): void {
    const rq = u.rqd;
    removeItem(rq.svc, u);
    this.updateMaxWeight(rq, 0, u.weight);
    rq.bAvgload = Math.max(rq.bAvgload - u.avgload, 0);
  }

  // ------------------------------------------------------------ load

  /** update_runq_load. */
  private updateRunqLoad(rq: C2Runqueue, change: number, now: number): void {
    const t = Math.floor(now / LOADAVG_GRANULARITY);
    const load = rq.load;
    if (rq.loadLastUpdate + LOAD_WINDOW < t) {
      rq.avgload = load * LOAD_ONE;
      rq.bAvgload = load * LOAD_ONE;
    } else {
      let delta = t - rq.loadLastUpdate;
      if (delta < 0) delta = 0;
      const add = Math.floor((delta * load * LOAD_ONE) / LOAD_WINDOW);
      rq.avgload = rq.avgload + add - Math.floor((delta * rq.avgload) / LOAD_WINDOW);
      rq.bAvgload = rq.bAvgload + add - Math.floor((delta * rq.bAvgload) / LOAD_WINDOW);
    }
    rq.load += change;
    rq.loadLastUpdate = t;
  }

  /** update_svc_load. */
  private updateSvcLoad(u: C2Unit, change: number, now: number): void {
    const unitLoad = change === -1 ? 1 : change === 1 ? 0 : this.runnable(u) ? 1 : 0;
    const t = Math.floor(now / LOADAVG_GRANULARITY);
    if (u.loadLastUpdate + LOAD_WINDOW < t) {
      u.avgload = unitLoad * LOAD_ONE;
    } else {
      let delta = t - u.loadLastUpdate;
      if (delta < 0) delta = 0;
      u.avgload = u.avgload + Math.floor((delta * unitLoad * LOAD_ONE) / LOAD_WINDOW) - Math.floor((delta * u.avgload) / LOAD_WINDOW);
    }
    u.loadLastUpdate = t;
  }

  /** update_load. */
  private updateLoad(rq: C2Runqueue, u: C2Unit | null, change: number, now: number): void {
    this.updateRunqLoad(rq, change, now);
    if (u !== null) this.updateSvcLoad(u, change, now);
  }

  // ------------------------------------------------------------ credit

  /** burn_credits (t2c_update, and the budget of a capped unit). */
  private burn(u: C2Unit, now: number): void {
    const delta = now - u.startTime;
    if (delta <= 0) return;
    const rq = u.rqd;
    const val = delta * rq.maxWeight + u.residual;
    const q = Math.floor(val / u.weight);
    u.residual = val - q * u.weight;
    const c = u.credit - q;
    u.credit = c < CREDIT_MIN ? CREDIT_MIN : c;
    if (u.hasCap) u.budget -= delta;
    u.startTime = now;
  }

  private c2t(rq: C2Runqueue, credit: number, u: C2Unit): number {
    return Math.floor((credit * u.weight) / rq.maxWeight);
  }

  /** reset_credit. */
  private resetCredit(rq: C2Runqueue, now: number, snext: C2Unit): void {
    let reset = CREDIT_INIT;
    if (snext.credit === CREDIT_MIN) reset += CREDIT_INIT;
    rq.resets++;
    const pcpus = this.xen.pcpus;
    const svc = rq.svc;
    for (let i = 0; i < svc.length; i++) {
      const s = svc[i];
      if (s.v.isRunning && pcpus[s.v.pcpu].curr === s.v) {
        this.burn(s, now);
        // out of budget after this accounting: its pCPU must park it
        if (s.budget <= 0) this.tickleCpu(s.v.pcpu, now);
      }
      s.credit += reset;
      if (s.credit > CREDIT_INIT + CARRYOVER_MAX) s.credit = CREDIT_INIT + CARRYOVER_MAX;
      s.startTime = now;
    }
  }

  // ------------------------------------------------------------ caps

  /** park_unit. `running`: the unit is current on its pCPU (called from csched2_schedule). */
  private parkUnit(u: C2Unit, now: number, running: boolean): void {
    this.parks++;
    // sched_set_pause_flags(_VPF_parked): for the current unit only the flag
    // (schedule() is already deciding); a queued unit through the core's park
    if (running) u.v.parked = true;
    else this.xen.park(u.v, now);
    if (u.onRunq) {
      this.runqRemove(u);
      this.updateLoad(u.rqd, u, -1, now);
    }
    u.sdom!.parked.push(u);
  }

  /** unit_grab_budget. */
  private grabBudget(u: C2Unit, now: number, running: boolean): boolean {
    if (u.budget > 0) return true;
    const d = u.sdom!;
    d.budget += u.budget; // charge the overrun
    if (d.budget > 0) {
      const b = d.budget >= u.budgetQuota ? u.budgetQuota : d.budget;
      u.budget = b;
      d.budget -= b;
    } else {
      u.budget = 0;
      this.parkUnit(u, now, running);
    }
    return u.budget > 0;
  }

  /** unit_return_budget: fills wereParked if budget is available again. */
  private returnBudget(u: C2Unit): void {
    const d = u.sdom!;
    d.budget += u.budget;
    u.budget = 0;
    if (d.budget > 0) this.spliceParked(d);
  }

  /** list_splice_init(&sdom->parked_units, &parked). */
  private spliceParked(d: C2Dom): void {
    const w = this.wereParked;
    for (let i = 0; i < d.parked.length; i++) w.push(d.parked[i]);
    d.parked.length = 0;
  }

  /** unpark_parked_units (from the list head, i.e. the most recently parked first). */
  private unparkParkedUnits(now: number): void {
    const w = this.wereParked;
    while (w.length > 0) {
      const u = w.pop()!;
      // clears _VPF_parked; a runnable unit is re-queued through the wake hook
      // (update_load +1, runq_insert, runq_tickle)
      this.xen.unpark(u.v, now);
    }
  }

  /** replenish_domain_budget. */
  onTimer(_kind: number, domId: number, now: number): void {
    const d = this.doms[domId]!;
    d.nextRepl += BDGT_REPL_PERIOD;
    d.budget += d.totBudget;
    while (d.nextRepl <= now) {
      d.nextRepl += BDGT_REPL_PERIOD;
      d.budget += d.totBudget;
    }
    if (d.budget > 0) {
      if (d.budget > d.totBudget) d.budget = d.totBudget;
      this.spliceParked(d);
      this.unparkParkedUnits(now);
    }
    this.xen.sim.arm(d.timer, d.nextRepl);
  }

  // ------------------------------------------------------------ runqueue

  /** runq_insert: by credit, after the units with as much credit. */
  private runqInsert(u: C2Unit): void {
    const q = u.rqd.runq;
    let i = 0;
    while (i < q.length && !(u.credit > q[i].credit)) i++;
    insertAt(q, i, u);
    u.onRunq = true;
  }

  private runqRemove(u: C2Unit): void {
    removeItem(u.rqd.runq, u);
    u.onRunq = false;
  }

  // ------------------------------------------------------------ tickling

  /** tickle_cpu. */
  private tickleCpu(cpu: number, now: number): void {
    this.tickled[cpu] = true;
    this.tickles++;
    this.xen.tickle(cpu, now);
  }

  /** All SMT siblings of cpu in its runqueue idle and not tickled (the smt_idle mask). */
  private smtIdle(cpu: number): boolean {
    const tpc = this.threadsPerCore;
    const base = cpu - (cpu % tpc);
    for (let s = base; s < base + tpc; s++) {
      if (this.rqOf[s] !== this.rqOf[cpu]) continue;
      if (!this.idle[s] || this.tickled[s]) return false;
    }
    return true;
  }

  /**
   * cpumask_test_or_cycle(cpu, mask) over the pCPUs of `rq` in `u`'s hard
   * affinity that are idle and either in a fully idle core (`smt`) or not
   * tickled.
   */
  private pickIdle(cpu: number, u: C2Unit, rq: C2Runqueue, smt: boolean): number {
    const cs = rq.cpus;
    const n = cs.length;
    let start = 0;
    while (start < n && cs[start] < cpu) start++;
    for (let k = 0; k < n; k++) {
      const j = start + k < n ? start + k : start + k - n;
      const c = cs[j];
      if (!u.hard[c] || !this.idle[c]) continue;
      if (smt ? !this.smtIdle(c) : this.tickled[c]) continue;
      return c;
    }
    return -1;
  }

  private isPreemptable(v: VCpu, now: number): boolean {
    if (this.ratelimit <= RATELIMIT_TICKLE_TOLERANCE) return true;
    return now - v.stateEntryTime > this.ratelimit - RATELIMIT_TICKLE_TOLERANCE;
  }

  /** tickle_score. */
  private tickleScore(now: number, nu: C2Unit, cpu: number): number {
    const curV = this.xen.pcpus[cpu].curr;
    if (curV === null || !this.isPreemptable(curV, now)) return -1;
    const cur = this.unit(curV);
    this.burn(cur, now);
    let score = nu.credit - cur.credit;
    if (nu.v.pcpu !== cpu) score -= MIGRATE_RESIST;
    if (score > 0) score += CREDIT_INIT; // cpu is in new's (default, full) soft affinity
    return score;
  }

  /** runq_tickle. */
  private runqTickle(nu: C2Unit, now: number): void {
    const cpu = nu.v.pcpu;
    const rq = nu.rqd;
    let ipid = -1;
    if (nu.pinned && this.idle[cpu] && !this.tickled[cpu]) {
      ipid = cpu;
    } else {
      ipid = this.pickIdle(cpu, nu, rq, true);
      if (ipid < 0) ipid = this.pickIdle(cpu, nu, rq, false);
      if (ipid < 0) {
        let max = 0;
        if (nu.hard[cpu] && rq.active[cpu] && !this.idle[cpu] && !this.tickled[cpu]) {
          const s = this.tickleScore(now, nu, cpu);
          if (s > max) { max = s; ipid = cpu; }
        }
        if (ipid < 0) {
          const cs = rq.cpus;
          for (let i = 0; i < cs.length; i++) {
            const c = cs[i];
            if (c === cpu || !nu.hard[c] || this.idle[c] || this.tickled[c]) continue;
            const s = this.tickleScore(now, nu, c);
            if (s > max) { max = s; ipid = c; }
          }
        }
      }
    }
    if (ipid < 0) return;
    this.tickleCpu(ipid, now);
    nu.tickledCpu = ipid;
  }

  // ------------------------------------------------------------ balancing

  /** unit_is_migrateable. */
  private migrateable(u: C2Unit, rq: C2Runqueue): boolean {
    return !u.migrateRequest && this.intersects(u, rq);
  }

  /** migrate(): move `u` to runqueue `trqd` now, or flag it if it is running. */
  private migrate(u: C2Unit, trqd: C2Runqueue, now: number): void {
    this.migrations++;
    if (u.scheduled) {
      u.migrateRqd = trqd;
      u.migrating = true;
      u.migrateRequest = true;
      this.tickleCpu(u.v.pcpu, now);
      return;
    }
    const onRunq = u.onRunq;
    if (onRunq) {
      this.runqRemove(u);
      this.updateLoad(u.rqd, null, -1, now);
    }
    this.runqDeassign(u);
    const c = this.cycleIn(trqd.pickBias, u, trqd);
    u.v.pcpu = c;
    trqd.pickBias = c;
    this.runqAssign(u, trqd);
    if (onRunq) {
      this.updateLoad(trqd, null, 1, now);
      this.runqInsert(u);
      this.runqTickle(u, now);
    }
  }

  // balance state (balance_state_t), kept as fields: no allocation per call
  private bDelta = 0;
  private bPush: C2Unit | null = null;
  private bPull: C2Unit | null = null;

  /** consider(). */
  private consider(lrqd: C2Runqueue, orqd: C2Runqueue, push: C2Unit | null, pull: C2Unit | null): void {
    let l = lrqd.bAvgload, o = orqd.bAvgload;
    if (push !== null) { l -= push.avgload; o += push.avgload; }
    if (pull !== null) { l += pull.avgload; o -= pull.avgload; }
    let delta = l - o;
    if (delta < 0) delta = -delta;
    if (delta < this.bDelta) {
      this.bDelta = delta;
      this.bPush = push;
      this.bPull = pull;
    }
  }

  /** balance_load. */
  private balanceLoad(cpu: number, now: number): void {
    const lrqd = this.rqOf[cpu];
    this.updateRunqLoad(lrqd, 0, now);
    let maxRq: C2Runqueue | null = null;
    let last: C2Runqueue | null = null;
    this.bDelta = 0;
    this.bPush = null;
    this.bPull = null;
    const rqs = this.runqueues;
    for (let i = 0; i < rqs.length; i++) {
      const rq = rqs[i];
      last = rq;
      if (rq === lrqd) continue;
      this.updateRunqLoad(rq, 0, now);
      let delta = lrqd.bAvgload - rq.bAvgload;
      if (delta < 0) delta = -delta;
      if (delta > this.bDelta) { this.bDelta = delta; maxRq = rq; }
    }
    if (maxRq === null) return;
    // As in the source, the capacity check reads st.orqd, which still points
    // at the last runqueue of the list scanned above, not at max_delta_rqd.
    const o = last!;
    const loadMax = Math.max(lrqd.bAvgload, o.bAvgload);
    const cpusMax = Math.max(lrqd.cpus.length, o.cpus.length);
    if (loadMax < cpusMax * LOAD_ONE) {
      if (this.bDelta < 2 ** (LOAD_PRECISION_SHIFT + UNDERLOAD_TOLERANCE)) return;
    } else if (this.bDelta < 2 ** (LOAD_PRECISION_SHIFT + OVERLOAD_TOLERANCE)) return;
    const orqd = maxRq;
    let innerUpdated = false;
    const ls = lrqd.svc, os = orqd.svc;
    for (let i = 0; i < ls.length; i++) {
      const push = ls[i];
      this.updateSvcLoad(push, 0, now);
      if (!this.migrateable(push, orqd)) continue;
      for (let j = 0; j < os.length; j++) {
        const pull = os[j];
        if (!innerUpdated) this.updateSvcLoad(pull, 0, now);
        if (!this.migrateable(pull, lrqd)) continue;
        this.consider(lrqd, orqd, push, pull);
      }
      innerUpdated = true;
      this.consider(lrqd, orqd, push, null);
    }
    for (let j = 0; j < os.length; j++) {
      const pull = os[j];
      if (!this.migrateable(pull, lrqd)) continue;
      this.consider(lrqd, orqd, null, pull);
    }
    const push = this.bPush, pull = this.bPull;
    this.bPush = this.bPull = null;
    if (push !== null) this.migrate(push, orqd, now);
    if (pull !== null) this.migrate(pull, lrqd, now);
  }

  /** core.c sched_unit_migrate_finish for a flagged unit, once its context is saved. */
  private migrateFinish(u: C2Unit, now: number): void {
    const newCpu = this.resPick(u, u.rqd);
    u.migrating = false;
    // csched2_unit_migrate
    const trqd = this.rqOf[newCpu];
    if (trqd !== u.rqd) this.migrate(u, trqd, now);
    else u.v.pcpu = newCpu;
    // vcpu_wake on the new pCPU
    if (u.v.runnable) this.wake(u.v, now);
  }

  // ------------------------------------------------------------ hooks

  /** csched2_unit_wake. */
  wake(v: VCpu, now: number): void {
    const u = this.unit(v);
    if (this.xen.pcpus[v.pcpu].curr === v) return;
    if (u.onRunq) return;
    if (u.scheduled) { u.delayedRunqAdd = true; return; }
    this.updateLoad(u.rqd, u, 1, now);
    this.runqInsert(u);
    this.runqTickle(u, now);
  }

  /** csched2_context_saved (then core.c's migration finish). */
  contextSaved(v: VCpu, now: number): void {
    const u = this.unit(v);
    u.scheduled = false;
    if (u.hasCap && u.budget > 0) this.returnBudget(u);
    const delayed = u.delayedRunqAdd;
    u.delayedRunqAdd = false;
    if (delayed && this.runnable(u)) {
      this.runqInsert(u);
      this.runqTickle(u, now);
    } else {
      this.updateLoad(u.rqd, u, -1, now);
    }
    if (this.wereParked.length > 0) this.unparkParkedUnits(now);
    if (u.migrating) this.migrateFinish(u, now);
  }

  /** runq_candidate. */
  private runqCandidate(rq: C2Runqueue, scurr: C2Unit | null, cpu: number, now: number): C2Unit | null {
    let snext: C2Unit | null;
    if (scurr === null) {
      snext = null;
    } else {
      const runnable = this.runnable(scurr);
      if (this.ratelimit > 0 && runnable && now - scurr.v.stateEntryTime < this.ratelimit) return scurr;
      snext = runnable ? scurr : null;
    }
    const q = rq.runq;
    for (let i = 0; i < q.length; i++) {
      const s = q[i];
      const sc = snext === null ? IDLE_CREDIT : snext.credit;
      if (s.credit <= sc) break;
      if (!this.runnable(s)) continue;
      if (!s.hard[cpu]) continue;
      if (s.tickledCpu !== -1 && s.tickledCpu !== cpu && this.tickled[s.tickledCpu]) continue;
      if (s.v.pcpu !== cpu && sc + MIGRATE_RESIST > s.credit) continue;
      // A capped unit that cannot grab budget is parked and the scan goes on: "if ( has_cap(svc) &&
      // !unit_grab_budget(svc) ) continue;" since commit 0f742839ae ("credit2: avoid picking a
      // spurious idle unit when caps are used", Xen 4.16, so in 4.20.0). Before it (4.14/4.15) the
      // scan broke here and the pCPU could go idle with runnable units queued behind the capped one;
      // test/xen-credit2-caps.test.ts ("an uncapped competitor gets the rest") fails with that rule.
      if (s.hasCap && !this.grabBudget(s, now, false)) {
        if (!s.onRunq) i--; // parked: taken off the runqueue (list_for_each_safe)
        continue;
      }
      snext = s;
      break;
    }
    return snext;
  }

  /** csched2_runtime. */
  private runtime(cpu: number, snext: C2Unit | null, now: number): number {
    if (snext === null) return -1;
    const rq = this.rqOf[cpu];
    let minTime = MIN_TIMER;
    if (this.ratelimit > 0) {
      let rl = this.ratelimit;
      if (snext.v.isRunning) rl = snext.v.stateEntryTime + this.ratelimit - now;
      if (rl > minTime) minTime = rl;
    }
    let rtCredit = snext.credit;
    if (rq.runq.length > 0) {
      const w = rq.runq[0];
      if (w.credit > 0) rtCredit = snext.credit - w.credit;
    }
    let time = rtCredit > 0 ? this.c2t(rq, rtCredit, snext) : 0;
    if (snext.hasCap && snext.budget < time) time = snext.budget;
    if (time < minTime) time = minTime;
    else if (time > MAX_TIMER) time = MAX_TIMER;
    return time;
  }

  /** csched2_schedule. */
  doSchedule(cpu: number, prev: VCpu | null, now: number, dec: SchedDecision): void {
    const rq = this.rqOf[cpu];
    this.tickled[cpu] = false;
    const scurr = prev === null ? null : this.unit(prev);
    if (scurr !== null) {
      this.burn(scurr, now);
      // capped and out of budget: get more, or be parked
      if (scurr.budget <= 0) this.grabBudget(scurr, now, true);
    }
    const snext = this.runqCandidate(rq, scurr, cpu, now);
    if (snext !== scurr && scurr !== null && this.runnable(scurr)) scurr.delayedRunqAdd = true;
    if (snext !== null) {
      if (snext !== scurr) {
        this.runqRemove(snext);
        snext.scheduled = true;
      } else {
        this.updateLoad(rq, snext, 0, now);
      }
      this.idle[cpu] = false;
      const top = rq.runq.length === 0 ? snext.credit : Math.max(snext.credit, rq.runq[0].credit);
      if (top <= 0) {
        this.resetCredit(rq, now, snext);
        this.balanceLoad(cpu, now);
      }
      snext.startTime = now;
      snext.tickledCpu = -1;
      if (snext.v.pcpu !== cpu) {
        snext.credit += MIGRATE_COMPENSATION;
        snext.v.pcpu = cpu; // sched_set_res
      }
    } else {
      this.idle[cpu] = true;
      this.updateLoad(rq, null, 0, now);
    }
    dec.next = snext === null ? null : snext.v;
    dec.time = this.runtime(cpu, snext, now);
  }
}
