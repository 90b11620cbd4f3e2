/**
 * Xen Credit (credit1), xen/common/sched/credit.c, RELEASE-4.20.0.
 *
 * Design: one private runqueue per pCPU, ordered by priority (BOOST 0 >
 * UNDER -1 > OVER -2 > IDLE -64), FIFO within a priority (`__runq_insert`);
 * the pCPU's idle unit sits at the tail. Time is charged exactly
 * (`burn_credits`: 10 credits per ms, remainder carried in `residual` and in
 * `start_time`, which is kept relative while the unit is off-CPU, as
 * `csched_schedule` does). A per-pCPU ticker every tslice/3 (10 ms) runs
 * `csched_tick` -> `csched_unit_acct` (BOOST -> UNDER, burn, join the active
 * list, migrate the running unit to an idler chosen by `_csched_cpu_pick`)
 * and `csched_runq_sort`. A master ticker every tslice (30 ms) runs
 * `csched_acct`: the pool's 300 x nCPUs credits are shared among active
 * domains by weight (capped by `credit_peak` and the cap), split per active
 * unit, priorities reset to UNDER/OVER, capped units over their share are
 * parked (paused) until their credit is positive again, units above one
 * slice of credit leave the active list with their credit halved.
 *
 * `csched_schedule`: ratelimit keeps a runnable current unit that ran less
 * than sched_ratelimit_us since it was switched in; otherwise the current
 * unit is re-queued, the head is taken, and if it is OVER or IDLE and more
 * than `load-balance-ratelimit` (1 ms) passed since this pCPU last balanced,
 * `csched_load_balance` steals the first strictly-higher-priority, not
 * running, not yielding, not cache-hot queued unit from a non-idle peer
 * with more than one runnable unit (peers visited round-robin from
 * balance_bias). Slice = tslice; idle: no timer, ticker stopped.
 *
 * Wake (`csched_unit_wake`): UNDER units not waking from a migration and not
 * parked are BOOSTed; the unit joins its pCPU's runqueue and
 * `__runq_tickle` picks pCPUs: exclusive pin to an idle pCPU; the local pCPU
 * if idle, or if no pCPU is idle and new > current priority; otherwise one
 * idler (round-robin, `tickle_one_idle_cpu`) that will steal it — or, with no
 * suitable idler and new > current, the local pCPU (marking the current
 * unit for migration if it could run on an idler).
 *
 * Simplified: one NUMA node; `_csched_cpu_pick` on a board without SMT
 * (current pCPU if it is idle or runs only this unit, else the next idler
 * in hard affinity); no soft affinity; no yield; no tasklets.
 */
import type { Board } from "../../hw/board.js";
import type { Pool, SchedDecision, VCpu, Xen, XenScheduler } from "../../virt/xen.js";

export const PRI_BOOST = 0;
export const PRI_UNDER = -1;
export const PRI_OVER = -2;
export const PRI_IDLE = -64;
export const CREDITS_PER_MSEC = 10;
const MS = 1_000_000;
const LOAD_BALANCE_RATELIMIT = 1_000_000; // CSCHED_DEFAULT_LOAD_BALANCE_RATELIMIT_US
const MIN_TIMER = 100; // CSCHED_MIN_TIMER = XEN_SYSCTL_SCHED_RATELIMIT_MIN, used as ns (sic)

export interface CreditParams { tsliceMs: number; ratelimitUs: number; migrationDelayUs: number }

/** csched_unit (v === null for a pCPU's idle unit). */
export class C1Unit {
  pri: number;
  credit = 0;
  residual = 0;
  startTime = 0;
  lastSchedTime = 0;
  parked = false;
  migrating = false;
  onRunq = false;
  active = false;
  /** pCPU to move to, set when marked for migration at a tick. */
  migrateTo = -1;
  readonly pinned: boolean;
  constructor(readonly v: VCpu | null, readonly dom: C1Dom | null, readonly idleCpu = -1) {
    this.pri = v === null ? PRI_IDLE : PRI_UNDER;
    this.pinned = v !== null && v.hard.length === 1;
  }
}

/** csched_dom. */
export class C1Dom {
  readonly activeUnits: C1Unit[] = [];
  onActiveList = false;
  constructor(readonly weight: number, readonly cap: number) {}
}

const T_TICK = 0;
const T_ACCT = 1;

export class Credit implements XenScheduler {
  readonly name = "credit";
  private readonly tslice: number;
  private readonly tickPeriod: number;
  private readonly creditsPerTslice: number;
  private readonly ratelimit: number;
  private readonly migrDelay: number;
  private readonly runq: C1Unit[][] = [];
  private readonly nrRunnable: number[] = [];
  private readonly idlers: boolean[] = [];
  private readonly ticker: number[] = [];
  private readonly lastLoadBalance: number[] = [];
  private readonly sortLast: number[] = [];
  private readonly idleUnit: C1Unit[] = [];
  private readonly cpus: number[];
  private readonly activeDoms: C1Dom[] = [];
  private readonly doms = new Map<object, C1Dom>();
  private weight = 0;
  private creditBalance = 0;
  private runqSort = 0;
  private balanceBias = 0;
  private lastTickleCpu = 0;
  private readonly masterTicker: number;
  /** Statistics. */
  steals = 0;
  accts = 0;

  constructor(private readonly xen: Xen, pool: Pool, params: CreditParams, _board: Board) {
    this.tslice = params.tsliceMs * MS;
    const ticks = params.tsliceMs < 3 ? 1 : 3; // __csched_set_tslice
    this.tickPeriod = Math.floor((params.tsliceMs * 1000) / ticks) * 1000;
    this.creditsPerTslice = CREDITS_PER_MSEC * params.tsliceMs;
    this.ratelimit = params.ratelimitUs * 1000;
    this.migrDelay = params.migrationDelayUs * 1000;
    this.cpus = pool.cpus.slice().sort((a, b) => a - b);
    for (const c of this.cpus) {
      const idle = new C1Unit(null, null, c);
      idle.onRunq = true;
      this.idleUnit[c] = idle;
      this.runq[c] = [idle];
      this.nrRunnable[c] = 0;
      this.idlers[c] = true;
      this.ticker[c] = xen.sim.timer(this, T_TICK, c);
      this.lastLoadBalance[c] = -Infinity;
      this.sortLast[c] = 0;
    }
    this.masterTicker = xen.sim.timer(this, T_ACCT, 0);
    xen.sim.arm(this.masterTicker, this.tslice);
  }

  private get poolCredit(): number {
    return this.creditsPerTslice * this.cpus.length;
  }

  private unit(v: VCpu): C1Unit {
    return v.sdata as C1Unit;
  }

  private curr(cpu: number): C1Unit {
    const v = this.xen.pcpus[cpu].curr;
    return v === null ? this.idleUnit[cpu] : this.unit(v);
  }

  insert(v: VCpu, _now: number): void {
    let d = this.doms.get(v.dom);
    if (!d) { d = new C1Dom(v.dom.weight, v.dom.cap); this.doms.set(v.dom, d); }
    const u = new C1Unit(v, d);
    v.sdata = u;
    v.pcpu = this.pickCpu(u, v.pcpu);
  }

  // ------------------------------------------------------------ runqueue

  private runqInsert(u: C1Unit): void {
    const cpu = u.v!.pcpu;
    const q = this.runq[cpu];
    let i = 0;
    while (i < q.length && !(u.pri > q[i].pri)) i++;
    q.splice(i, 0, u);
    u.onRunq = true;
    this.nrRunnable[cpu]++;
  }

  private runqRemove(u: C1Unit, cpu: number): void {
    const q = this.runq[cpu];
    const i = q.indexOf(u);
    if (i >= 0) q.splice(i, 1);
    u.onRunq = false;
  }

  // ------------------------------------------------------------ credits

  /** burn_credits. */
  private burn(u: C1Unit, now: number): void {
    const delta = now - u.startTime;
    if (delta <= 0) return;
    const val = delta * CREDITS_PER_MSEC + u.residual;
    const credits = Math.floor(val / MS);
    u.residual = val - credits * MS;
    u.credit -= credits;
    u.startTime += (credits * MS) / CREDITS_PER_MSEC;
  }

  private acctStart(u: C1Unit): void {
    if (u.active) return;
    const d = u.dom!;
    u.active = true;
    d.activeUnits.push(u);
    this.weight += d.weight;
    if (!d.onActiveList) { d.onActiveList = true; this.activeDoms.unshift(d); }
  }

  private acctStop(u: C1Unit): void {
    const d = u.dom!;
    u.active = false;
    d.activeUnits.splice(d.activeUnits.indexOf(u), 1);
    this.weight -= d.weight;
    if (d.activeUnits.length === 0) {
      d.onActiveList = false;
      this.activeDoms.splice(this.activeDoms.indexOf(d), 1);
    }
  }

  /** csched_acct (every tslice on the master pCPU). */
  private acct(now: number): void {
    this.accts++;
    const weightTotal = this.weight;
    let creditTotal = this.poolCredit;
    if (this.creditBalance < 0) creditTotal -= this.creditBalance;
    if (weightTotal === 0) {
      this.creditBalance = 0;
      this.xen.sim.arm(this.masterTicker, now + this.tslice);
      return;
    }
    let weightLeft = weightTotal;
    let creditBalance = 0;
    let creditXtra = false;
    const doms = this.activeDoms.slice();
    for (const d of doms) {
      const n = d.activeUnits.length;
      weightLeft -= d.weight * n;
      let creditPeak = n * this.creditsPerTslice;
      if (this.creditBalance < 0) creditPeak += Math.floor((-this.creditBalance * d.weight * n + (weightTotal - 1)) / weightTotal);
      let creditCap = 0;
      if (d.cap !== 0) {
        creditCap = Math.floor((d.cap * this.creditsPerTslice + 99) / 100);
        if (creditCap < creditPeak) creditPeak = creditCap;
        creditCap = Math.floor((creditCap + (n - 1)) / n);
      }
      let creditFair = Math.floor((creditTotal * d.weight * n + (weightTotal - 1)) / weightTotal);
      if (creditFair < creditPeak) {
        creditXtra = true;
      } else {
        if (weightLeft !== 0) creditTotal += Math.floor(((creditFair - creditPeak) * weightTotal + (weightLeft - 1)) / weightLeft);
        if (creditXtra) {
          // keep domains with extra credits at the head
          const i = this.activeDoms.indexOf(d);
          this.activeDoms.splice(i, 1);
          this.activeDoms.unshift(d);
        }
        creditFair = creditPeak;
      }
      creditFair = Math.floor((creditFair + (n - 1)) / n);
      for (const u of d.activeUnits.slice()) {
        u.credit += creditFair;
        let credit = u.credit;
        if (credit < 0) {
          u.pri = PRI_OVER;
          if (d.cap !== 0 && credit < -creditCap && !u.parked) {
            u.parked = true;
            this.xen.park(u.v!, now);
          }
          if (credit < -this.creditsPerTslice) { credit = -this.creditsPerTslice; u.credit = credit; }
        } else {
          u.pri = PRI_UNDER;
          if (u.parked) {
            // unpause first, clear the flag after: an unpause-wake is not boosted
            this.xen.unpark(u.v!, now);
            u.parked = false;
          }
          if (credit > this.creditsPerTslice) {
            this.acctStop(u);
            credit = Math.trunc(credit / 2);
            u.credit = credit;
          }
        }
        creditBalance += credit;
      }
    }
    this.creditBalance = creditBalance;
    this.runqSort++;
    this.xen.sim.arm(this.masterTicker, now + this.tslice);
  }

  /** csched_runq_sort: move UNDER (and BOOST) units ahead of OVER ones, keeping order. */
  private runqSortCpu(cpu: number): void {
    if (this.sortLast[cpu] === this.runqSort) return;
    this.sortLast[cpu] = this.runqSort;
    const q = this.runq[cpu];
    const under: C1Unit[] = [], rest: C1Unit[] = [];
    for (const u of q) (u.pri >= PRI_UNDER ? under : rest).push(u);
    q.length = 0;
    for (const u of under) q.push(u);
    for (const u of rest) q.push(u);
  }

  /** csched_tick. */
  private tick(cpu: number, now: number): void {
    const cur = this.curr(cpu);
    if (cur.v !== null) {
      // csched_unit_acct
      if (cur.pri === PRI_BOOST) cur.pri = PRI_UNDER;
      this.burn(cur, now);
      if (!cur.active) this.acctStart(cur);
      else {
        const nc = this.pickCpu(cur, cpu);
        if (nc !== cpu) {
          cur.migrating = true;
          cur.migrateTo = nc;
          this.xen.raiseSoftirq(cpu, now, 0);
        }
      }
    }
    this.runqSortCpu(cpu);
    this.xen.sim.arm(this.ticker[cpu], now + this.tickPeriod);
  }

  onTimer(kind: number, arg: number, now: number): void {
    if (kind === T_TICK) this.tick(arg, now);
    else this.acct(now);
  }

  /** _csched_cpu_pick without SMT: stay if the current pCPU is idle (counting u out), else the next idler. */
  private pickCpu(u: C1Unit, cpu: number): number {
    const hard = u.v!.hard;
    const inPool = (c: number) => this.idlers[c] !== undefined;
    let c = hard.includes(cpu) && inPool(cpu) ? cpu : this.cycle(cpu, (x) => hard.includes(x) && inPool(x));
    // is_runq_idle: nothing queued ahead of the idle unit; a pCPU running only u counts as idle for u
    const isIdler = (x: number) => this.idlers[x] || (x === u.v!.pcpu && this.runq[x][0].v === null);
    if (isIdler(c)) return c;
    const n = this.cycle(c, (x) => hard.includes(x) && inPool(x) && isIdler(x));
    return n >= 0 ? n : c;
  }

  /** cpumask_cycle over the pool's pCPUs. */
  private cycle(from: number, ok: (c: number) => boolean): number {
    const cs = this.cpus;
    for (const c of cs) if (c > from && ok(c)) return c;
    for (const c of cs) if (c <= from && ok(c)) return c;
    return -1;
  }

  // ------------------------------------------------------------ wake / tickle

  wake(v: VCpu, now: number): void {
    const u = this.unit(v);
    if (this.xen.pcpus[v.pcpu].curr === v) return;
    if (u.onRunq) return;
    const migrating = u.migrating;
    u.migrating = false;
    if (!migrating && u.pri === PRI_UNDER && !u.parked) u.pri = PRI_BOOST;
    this.runqInsert(u);
    this.tickle(u, now);
  }

  /** __runq_tickle. */
  private tickle(nu: C1Unit, now: number): void {
    const cpu = nu.v!.pcpu;
    const cur = this.curr(cpu);
    let idlersEmpty = true;
    for (const c of this.cpus) if (this.idlers[c]) { idlersEmpty = false; break; }
    const mark: number[] = [];
    if (nu.pinned && this.idlers[cpu]) {
      mark.push(cpu);
    } else if (cur.pri === PRI_IDLE || (idlersEmpty && nu.pri > cur.pri)) {
      mark.push(cpu);
    } else if (!idlersEmpty) {
      const hard = nu.v!.hard;
      let any = false;
      for (const c of hard) if (this.idlers[c]) { any = true; break; }
      if (!any && nu.pri > cur.pri) {
        // (the source would also mark cur as migrating if *new's* hard affinity met an idler,
        // which cannot be the case in this branch without soft affinity)
        mark.push(cpu);
      } else if (any) {
        const c = this.cycle(this.lastTickleCpu, (x) => hard.includes(x) && this.idlers[x]);
        this.lastTickleCpu = c;
        mark.push(c);
      }
    }
    for (const c of mark) {
      this.idlers[c] = false;
      this.xen.tickle(c, now);
    }
  }

  contextSaved(v: VCpu, now: number): void {
    const u = this.unit(v);
    if (u.migrating && u.migrateTo >= 0) {
      // vcpu_migrate_finish: move to the picked pCPU, then wake there (no boost)
      v.pcpu = u.migrateTo;
      u.migrateTo = -1;
      if (v.runnable && !u.onRunq) {
        this.runqInsert(u);
        u.migrating = false;
        this.tickle(u, now);
      } else u.migrating = false;
    }
  }

  // ------------------------------------------------------------ schedule

  /** csched_runq_steal. */
  private steal(peer: number, cpu: number, pri: number, now: number): C1Unit | null {
    if (this.xen.pcpus[peer].curr === null) return null;
    const q = this.runq[peer];
    for (let i = 0; i < q.length; i++) {
      const s = q[i];
      if (s.pri <= pri) break;
      const v = s.v!;
      if (v.isRunning) continue;
      const hot = this.migrDelay > 0 && now - s.lastSchedTime < this.migrDelay;
      if (hot || !v.hard.includes(cpu)) continue;
      q.splice(i, 1);
      s.onRunq = false;
      this.nrRunnable[peer]--;
      this.nrRunnable[cpu]++;
      v.pcpu = cpu;
      this.steals++;
      return s;
    }
    return null;
  }

  /** csched_load_balance. */
  private loadBalance(cpu: number, snext: C1Unit, now: number): C1Unit {
    const workers = (c: number) => c !== cpu && !this.idlers[c];
    const first = this.cycle(this.balanceBias, workers);
    if (first >= 0) {
      let peer = first;
      do {
        if (this.nrRunnable[peer] > 1) {
          const s = this.steal(peer, cpu, snext.pri, now);
          if (s !== null) { this.balanceBias = peer; return s; }
        }
        peer = this.cycle(peer, workers);
      } while (peer !== first && peer >= 0);
    }
    this.runqRemove(snext, cpu);
    return snext;
  }

  doSchedule(cpu: number, prev: VCpu | null, now: number, dec: SchedDecision): void {
    const scurr = prev === null ? this.idleUnit[cpu] : this.unit(prev);
    const runtime = prev === null ? 0 : Math.max(0, now - prev.stateEntryTime);
    if (prev !== null) {
      this.burn(scurr, now);
      scurr.startTime -= now;
      scurr.lastSchedTime = now;
    } else scurr.pri = PRI_IDLE;
    const runnable = prev !== null && prev.runnable && !scurr.migrating;
    if (this.ratelimit > 0 && runnable && runtime < this.ratelimit) {
      scurr.startTime += now;
      dec.next = prev;
      dec.time = runtime < MIN_TIMER ? MIN_TIMER : this.ratelimit - runtime;
      return;
    }
    let tslice = this.tslice;
    if (prev !== null) {
      if (runnable) {
        const q = this.runq[cpu];
        let i = 0;
        while (i < q.length && !(scurr.pri > q[i].pri)) i++;
        q.splice(i, 0, scurr);
        scurr.onRunq = true;
      } else {
        this.nrRunnable[cpu]--;
      }
    }
    let snext: C1Unit;
    for (;;) {
      snext = this.runq[cpu][0];
      if (snext.pri <= PRI_OVER && now - this.lastLoadBalance[cpu] > LOAD_BALANCE_RATELIMIT) {
        this.lastLoadBalance[cpu] = now;
        snext = this.loadBalance(cpu, snext, now);
      } else {
        this.runqRemove(snext, cpu);
      }
      if (snext.v === null || (snext.v.runnable && !snext.migrating)) break;
      // not runnable any more: dropped from the runqueue
      this.nrRunnable[cpu]--;
    }
    if (snext.v === null) {
      this.idlers[cpu] = true;
      // the idle unit goes back to the tail of the runqueue
      this.runq[cpu].push(snext);
      snext.onRunq = true;
    } else {
      this.idlers[cpu] = false;
      snext.startTime += now;
    }
    dec.next = snext.v;
    dec.time = snext.v === null ? -1 : tslice;
    // stop the ticker going idle, restart it aligned when leaving idle
    if (prev !== null && snext.v === null) this.xen.sim.cancel(this.ticker[cpu]);
    if (prev === null && snext.v !== null) this.xen.sim.arm(this.ticker[cpu], now + this.tickPeriod - (now % this.tickPeriod));
    tslice = 0;
  }
}
