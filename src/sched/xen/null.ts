/**
 * Xen's null scheduler: static 1:1 vCPU-to-pCPU assignment
 * (xen/common/sched/null.c, RELEASE-4.20.0).
 *
 * Modelled:
 * - per pCPU at most one assigned unit (null_pcpu->unit), the `cpus_free`
 *   mask and a FIFO waitqueue of units without a pCPU;
 * - null_unit_insert with pick_res: keep the unit's processor if it is free
 *   (or already its own) and in its hard affinity & cpupool, else the first
 *   free pCPU there (cpumask_first), else any pCPU of the affinity and the
 *   unit goes to the waitqueue (Xen prints "not assigned to any CPU");
 * - null_schedule: run the assigned unit if it is runnable, else idle;
 *   next_time = -1 (no slices, no timer, no preemption among guests). A pCPU
 *   without an assigned unit scans the waitqueue and adopts the first unit
 *   whose hard affinity holds it;
 * - null_unit_wake: the assigned unit just tickles its pCPU; a unit neither
 *   assigned nor waiting is assigned to its processor if free, else queued
 *   with a tickle of every free pCPU of its affinity;
 * - blocking leaves the pCPU idle: it is not lent to anybody. More vCPUs than
 *   pCPUs: the excess ones wait forever (no unit ever leaves its pCPU, since
 *   removal, offlining, cpupool changes and affinity changes are not
 *   modelled).
 *
 * Simplified: in Xen a vCPU is created offline, so null_unit_insert returns
 * early and the assignment is made by its first wake-up (null_unit_wake:
 * free processor, else waitqueue and a pCPU adopting it). Here the vCPU is
 * inserted as an online unit (the path of a domain moved into a null
 * cpupool); both end in the same 1:1 assignment, without the transit through
 * the waitqueue. pick_res's fallback cpumask_any (random in Xen) takes the
 * first pCPU: it only sets the processor of a unit left waiting. No soft
 * affinity (every balance step is the hard-affinity one).
 */
import type { Pool, SchedDecision, VCpu, Xen, XenScheduler } from "../../virt/xen.js";
import { hardMask, removeAt } from "./util.js";

/** struct null_unit. */
class NullUnit {
  inWaitq = false;
  constructor(readonly v: VCpu, readonly hard: Uint8Array) {}
}

export class NullSched implements XenScheduler {
  readonly name = "null";
  /** null_pcpu->unit per pCPU. */
  readonly assigned: (VCpu | null)[] = [];
  /** prv->cpus_free. */
  private readonly cpusFree: Uint8Array;
  /** prv->waitq (FIFO). */
  readonly waitq: NullUnit[] = [];
  private readonly ncpu: number;
  /** Statistics. */
  tickles = 0;

  constructor(private readonly xen: Xen, private readonly pool: Pool) {
    this.ncpu = xen.board.cpus;
    this.cpusFree = new Uint8Array(this.ncpu);
    for (let c = 0; c < this.ncpu; c++) this.assigned.push(null);
    for (const c of pool.cpus) this.cpusFree[c] = 1;
  }

  private unit(v: VCpu): NullUnit {
    return v.sdata as NullUnit;
  }

  /** pick_res. */
  private pickRes(u: NullUnit): number {
    const cpu = u.v.pcpu;
    const a = this.assigned[cpu];
    if ((a === null || a === u.v) && u.hard[cpu]) return cpu;
    for (let c = 0; c < this.ncpu; c++) if (u.hard[c] && this.cpusFree[c]) return c;
    for (let c = 0; c < this.ncpu; c++) if (u.hard[c]) return c;
    return cpu;
  }

  /** unit_assign. */
  private assign(u: NullUnit, cpu: number): void {
    this.assigned[cpu] = u.v;
    u.v.pcpu = cpu;
    this.cpusFree[cpu] = 0;
  }

  private tickle(cpu: number, now: number): void {
    this.tickles++;
    this.xen.tickle(cpu, now);
  }

  /** null_alloc_udata + null_unit_insert. */
  insert(v: VCpu, _now: number): void {
    const u = new NullUnit(v, hardMask(v, this.pool.cpus, this.ncpu));
    v.sdata = u;
    for (;;) {
      const cpu = this.pickRes(u);
      v.pcpu = cpu;
      if (this.assigned[cpu] === null) { this.assign(u, cpu); return; }
      let anyFree = false;
      for (let c = 0; c < this.ncpu; c++) if (u.hard[c] && this.cpusFree[c]) { anyFree = true; break; }
      if (!anyFree) break; // else retry
    }
    this.waitq.push(u);
    u.inWaitq = true;
  }

  /** null_unit_wake. */
  wake(v: VCpu, now: number): void {
    const u = this.unit(v);
    const cpu = v.pcpu;
    if (this.xen.pcpus[cpu].curr === v) return;
    if (u.inWaitq) return;
    if (this.assigned[cpu] === v) { this.tickle(cpu, now); return; }
    if (this.assigned[cpu] === null && u.hard[cpu]) {
      this.assign(u, cpu);
      this.tickle(cpu, now);
      return;
    }
    this.waitq.push(u);
    u.inWaitq = true;
    for (let c = 0; c < this.ncpu; c++) if (u.hard[c] && this.cpusFree[c]) this.tickle(c, now);
  }

  /** No context_saved hook in null.c. */
  contextSaved(_v: VCpu, _now: number): void {}

  /** null_schedule. */
  doSchedule(cpu: number, _prev: VCpu | null, _now: number, dec: SchedDecision): void {
    let next = this.assigned[cpu];
    dec.time = -1;
    if (next === null) {
      const q = this.waitq;
      for (let i = 0; i < q.length; i++) {
        const w = q[i];
        if (!w.hard[cpu]) continue;
        this.assign(w, cpu);
        removeAt(q, i);
        w.inWaitq = false;
        next = w.v;
        break;
      }
      if (next === null && !this.cpusFree[cpu]) this.cpusFree[cpu] = 1;
    }
    if (next !== null && !next.runnable) next = null;
    dec.next = next;
  }
}
