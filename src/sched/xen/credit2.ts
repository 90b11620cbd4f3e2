/**
 * Xen Credit2 (xen/common/sched/credit2.c, RELEASE-4.20.0).
 *
 * Design: one runqueue per socket (the default `credit2_runqueue=socket`),
 * shared by its pCPUs, ordered by credit (descending). Credits are
 * nanosecond-scaled: running for t ns burns t * max_weight / weight credit
 * (t2c_update, with the division remainder carried in `residual`), floored at
 * CSCHED2_CREDIT_MIN. When the unit picked to run and the runqueue head both
 * have credit <= 0 an epoch ends (reset_credit): every unit of the runqueue,
 * sleeping ones included, gets +CREDIT_INIT (+2x if the picked one sits at
 * CREDIT_MIN), clipped to CREDIT_INIT + CARRYOVER_MAX.
 *
 * Rules carried over: runq_candidate (ratelimit keeps a runnable current unit
 * that ran less than sched_ratelimit_us since it was switched in; otherwise
 * the first runnable, allowed, not-tickled-elsewhere unit with more credit,
 * with CSCHED2_MIGRATE_RESIST against pulling from another pCPU);
 * csched2_runtime (run until credit equals the next waiter's, clamped to
 * [max(MIN_TIMER, remaining ratelimit), MAX_TIMER], where a newly picked unit
 * gets the whole ratelimit); runq_tickle on wake and on context_saved
 * (exclusive pin, fully idle cores, idle pCPUs, then tickle_score against
 * busy pCPUs: credit difference minus MIGRATE_RESIST off the unit's pCPU,
 * -1 when the victim has run less than ratelimit - 50 us); delayed runqueue
 * add in context_saved; +50 us MIGRATE_COMPENSATION when pulled.
 *
 * Not yet modelled (left for the scheduler-family work): caps (budget
 * replenishment), load tracking and balance_load between several
 * runqueues, soft affinity, yield. A spec that would need them is rejected
 * by the simulator.
 */
import type { SchedDecision, VCpu, XenScheduler, Xen, Pool } from "../../virt/xen.js";

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

/** csched2_unit. */
export class C2Unit {
  credit = CREDIT_INIT;
  residual = 0;
  startTime = 0;
  scheduled = false;
  delayedRunqAdd = false;
  onRunq = false;
  tickledCpu = -1;
  readonly pinned: boolean;
  constructor(readonly v: VCpu, readonly weight: number, readonly rqd: C2Runqueue) {
    this.pinned = v.hard.length === 1;
  }
}

/** csched2_runqueue_data. */
export class C2Runqueue {
  readonly runq: C2Unit[] = [];
  readonly svc: C2Unit[] = [];
  maxWeight = 1;
  resets = 0;
  constructor(readonly id: number, readonly cpus: number[]) {}
}

export interface Credit2Params {
  /** sched_ratelimit_us; 0 = off. */
  ratelimitUs: number;
}

export class Credit2 implements XenScheduler {
  readonly name = "credit2";
  readonly runqueues: C2Runqueue[] = [];
  private readonly rqOf: C2Runqueue[] = [];
  private readonly idle: boolean[] = [];
  private readonly tickled: boolean[] = [];
  private readonly ratelimit: number;
  /** Statistics. */
  tickles = 0;

  constructor(private readonly xen: Xen, private readonly pool: Pool, params: Credit2Params, threadsPerCore: number, sockets: number, ncpus: number) {
    this.ratelimit = params.ratelimitUs * 1000;
    // credit2_runqueue=socket: pCPUs of one socket share a runqueue
    const perSocket = Math.ceil(ncpus / sockets);
    const bySocket = new Map<number, number[]>();
    for (const c of pool.cpus) {
      const s = Math.floor(c / perSocket);
      if (!bySocket.has(s)) bySocket.set(s, []);
      bySocket.get(s)!.push(c);
    }
    for (const cpus of bySocket.values()) {
      const rq = new C2Runqueue(this.runqueues.length, cpus);
      this.runqueues.push(rq);
      for (const c of cpus) this.rqOf[c] = rq;
    }
    for (const c of pool.cpus) { this.idle[c] = true; this.tickled[c] = false; }
    this.threadsPerCore = threadsPerCore;
  }
  private readonly threadsPerCore: number;

  private unit(v: VCpu): C2Unit {
    return v.sdata as C2Unit;
  }

  insert(v: VCpu, _now: number): void {
    const rq = this.rqOf[v.pcpu];
    const u = new C2Unit(v, v.dom.weight, rq);
    v.sdata = u;
    rq.svc.push(u);
    if (u.weight > rq.maxWeight || rq.svc.length === 1) rq.maxWeight = Math.max(...rq.svc.map((s) => s.weight));
  }

  // ------------------------------------------------------------ credit

  private burn(u: C2Unit, now: number): void {
    const delta = now - u.startTime;
    if (delta <= 0) return;
    const rq = u.rqd;
    const val = delta * rq.maxWeight + u.residual;
    const q = Math.floor(val / u.weight);
    u.residual = val - q * u.weight;
    const c = u.credit - q;
    u.credit = c < CREDIT_MIN ? CREDIT_MIN : c;
    u.startTime = now;
  }

  private c2t(rq: C2Runqueue, credit: number, u: C2Unit): number {
    return Math.floor((credit * u.weight) / rq.maxWeight);
  }

  private resetCredit(rq: C2Runqueue, now: number, snext: C2Unit): void {
    let reset = CREDIT_INIT;
    if (snext.credit === CREDIT_MIN) reset += CREDIT_INIT;
    rq.resets++;
    for (const s of rq.svc) {
      if (s.v.isRunning && this.xen.pcpus[s.v.pcpu].curr === s.v) this.burn(s, now);
      s.credit += reset;
      if (s.credit > CREDIT_INIT + CARRYOVER_MAX) s.credit = CREDIT_INIT + CARRYOVER_MAX;
      s.startTime = now;
    }
  }

  // ------------------------------------------------------------ runqueue

  private runqInsert(u: C2Unit): void {
    const q = u.rqd.runq;
    let i = 0;
    while (i < q.length && !(u.credit > q[i].credit)) i++;
    q.splice(i, 0, u);
    u.onRunq = true;
  }

  private runqRemove(u: C2Unit): void {
    const q = u.rqd.runq;
    const i = q.indexOf(u);
    if (i >= 0) q.splice(i, 1);
    u.onRunq = false;
  }

  // ------------------------------------------------------------ tickling

  private tickleCpu(cpu: number, now: number): void {
    this.tickled[cpu] = true;
    this.tickles++;
    this.xen.tickle(cpu, now);
  }

  /** All SMT siblings of cpu idle and not tickled (the smt_idle mask). */
  private smtIdle(cpu: number): boolean {
    const tpc = this.threadsPerCore;
    const base = cpu - (cpu % tpc);
    for (let s = base; s < base + tpc; s++) {
      if (this.rqOf[s] !== this.rqOf[cpu]) continue;
      if (!this.idle[s] || this.tickled[s]) return false;
    }
    return true;
  }

  /** cpumask_test_or_cycle over `cands` (sorted pCPU ids). */
  private testOrCycle(cpu: number, ok: (c: number) => boolean, cands: number[]): number {
    if (cands.includes(cpu) && ok(cpu)) return cpu;
    const sorted = cands.slice().sort((a, b) => a - b);
    for (const c of sorted) if (c > cpu && ok(c)) return c;
    for (const c of sorted) if (c < cpu && ok(c)) return c;
    return -1;
  }

  private isPreemptable(v: VCpu, now: number): boolean {
    if (this.ratelimit <= RATELIMIT_TICKLE_TOLERANCE) return true;
    return now - v.stateEntryTime > this.ratelimit - RATELIMIT_TICKLE_TOLERANCE;
  }

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

  private runqTickle(nu: C2Unit, now: number): void {
    const v = nu.v;
    const cpu = v.pcpu;
    const rq = nu.rqd;
    const hard = v.hard.filter((c) => this.rqOf[c] === rq);
    let ipid = -1;
    if (nu.pinned && this.idle[cpu] && !this.tickled[cpu]) {
      ipid = cpu;
    } else {
      ipid = this.testOrCycle(cpu, (c) => this.idle[c] && this.smtIdle(c), hard);
      if (ipid < 0) ipid = this.testOrCycle(cpu, (c) => this.idle[c] && !this.tickled[c], hard);
      if (ipid < 0) {
        let max = 0;
        const busy = (c: number) => !this.idle[c] && !this.tickled[c];
        if (hard.includes(cpu) && busy(cpu)) {
          const s = this.tickleScore(now, nu, cpu);
          if (s > max) { max = s; ipid = cpu; }
        }
        if (ipid < 0) {
          for (const c of rq.cpus) {
            if (c === cpu || !hard.includes(c) || !busy(c)) continue;
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

  // ------------------------------------------------------------ hooks

  wake(v: VCpu, now: number): void {
    const u = this.unit(v);
    if (this.xen.pcpus[v.pcpu].curr === v) return;
    if (u.onRunq) return;
    if (u.scheduled) { u.delayedRunqAdd = true; return; }
    this.runqInsert(u);
    this.runqTickle(u, now);
  }

  contextSaved(v: VCpu, now: number): void {
    const u = this.unit(v);
    u.scheduled = false;
    if (u.delayedRunqAdd) {
      u.delayedRunqAdd = false;
      if (v.runnable) {
        this.runqInsert(u);
        this.runqTickle(u, now);
      }
    }
  }

  private runqCandidate(rq: C2Runqueue, scurr: C2Unit | null, cpu: number, now: number): C2Unit | null {
    let snext: C2Unit | null;
    if (scurr === null) {
      snext = null;
    } else {
      const runnable = scurr.v.runnable;
      if (this.ratelimit > 0 && runnable && now - scurr.v.stateEntryTime < this.ratelimit) return scurr;
      snext = runnable ? scurr : null;
    }
    const q = rq.runq;
    for (let i = 0; i < q.length; i++) {
      const s = q[i];
      const sc = snext === null ? IDLE_CREDIT : snext.credit;
      if (s.credit <= sc) break;
      if (!s.v.runnable) continue;
      if (!s.v.hard.includes(cpu)) continue;
      if (s.tickledCpu !== -1 && s.tickledCpu !== cpu && this.tickled[s.tickledCpu]) continue;
      if (s.v.pcpu !== cpu && sc + MIGRATE_RESIST > s.credit) continue;
      snext = s;
      break;
    }
    return snext;
  }

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
    if (time < minTime) time = minTime;
    else if (time > MAX_TIMER) time = MAX_TIMER;
    return time;
  }

  doSchedule(cpu: number, prev: VCpu | null, now: number, dec: SchedDecision): void {
    const rq = this.rqOf[cpu];
    this.tickled[cpu] = false;
    const scurr = prev === null ? null : this.unit(prev);
    if (scurr !== null) this.burn(scurr, now);
    const snext = this.runqCandidate(rq, scurr, cpu, now);
    if (snext !== scurr && scurr !== null && scurr.v.runnable) scurr.delayedRunqAdd = true;
    if (snext !== null) {
      if (snext !== scurr) {
        this.runqRemove(snext);
        snext.scheduled = true;
      }
      this.idle[cpu] = false;
      const top = rq.runq.length === 0 ? snext.credit : Math.max(snext.credit, rq.runq[0].credit);
      if (top <= 0) this.resetCredit(rq, now, snext);
      snext.startTime = now;
      snext.tickledCpu = -1;
      if (snext.v.pcpu !== cpu) snext.credit += MIGRATE_COMPENSATION;
    } else {
      this.idle[cpu] = true;
    }
    dec.next = snext === null ? null : snext.v;
    dec.time = this.runtime(cpu, snext, now);
  }
}
