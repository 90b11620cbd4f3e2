/**
 * Xen ARINC653: a static cyclic schedule on a single-pCPU cpupool
 * (xen/common/sched/arinc653.c, RELEASE-4.20.0).
 *
 * Modelled:
 * - the schedule table (arinc653_sched_set): a major frame and up to 64
 *   minor frames, each bound to (guest, vCPU) and run back to back in table
 *   order; the rest of the major frame is idle. The table is installed at
 *   time 0 (next_major_frame = NOW()), and the pool's pCPU goes through
 *   schedule() then, so the first major frame starts at 0;
 * - a653sched_do_schedule: at or after next_major_frame a new major frame
 *   starts at `now` (4.20 computes next_major_frame = now + major_frame; the
 *   s_timer fires exactly at the boundary in this model, so frames do not
 *   drift); otherwise the entry index advances while its end has passed.
 *   The entry's vCPU runs only if it is awake, runnable and its processor is
 *   this pCPU; otherwise the pCPU idles (no slack reclaiming). next_time is
 *   the time to the next entry switch (or to the next major frame after the
 *   last entry). With no table the pCPU idles in DEFAULT_TIMESLICE (10 ms)
 *   steps;
 * - `sched_index` and `next_switch_time` are function-static variables in
 *   Xen, shared by every ARINC653 cpupool: they are shared here by all the
 *   ARINC653 pools of one simulated Xen (with two such pools and different
 *   tables the behaviour is as odd as in Xen);
 * - wake flips `awake` and raises SCHEDULE_SOFTIRQ on the unit's pCPU
 *   (a653sched_unit_wake); blocking is seen through the runnable check.
 *
 * Not modelled: tasklets, the sleep hook (pause), run-time table changes
 * (sysctl), and Dom0's automatic 10 ms entries (a653sched_alloc_udata):
 * guests here are domUs, so the table is exactly the spec's `frames`.
 */
import { MS } from "../../engine/sim.js";
import type { Arinc653Spec } from "../../spec/types.js";
import type { Pool, SchedDecision, VCpu, Xen, XenScheduler } from "../../virt/xen.js";

/** DEFAULT_TIMESLICE. */
export const A653_DEFAULT_TIMESLICE = 10 * MS;

/** The function-static state of a653sched_do_schedule, one per simulated Xen. */
interface A653Static {
  schedIndex: number;
  nextSwitchTime: number;
}
const statics = new WeakMap<Xen, A653Static>();

/** arinc653_unit_t. */
class A653Unit {
  awake = false;
  constructor(readonly v: VCpu) {}
}

export class Arinc653 implements XenScheduler {
  readonly name = "arinc653";
  private readonly guest: string[] = [];
  private readonly vcpu: number[] = [];
  /** Runtime of each entry, ns (schedule[i].runtime); one spare zero slot as in Xen's fixed array. */
  private readonly runtime: Float64Array;
  /** schedule[i].unit, resolved by update_schedule_units. */
  private readonly units: (VCpu | null)[] = [];
  private readonly numEntries: number;
  private readonly majorFrame: number;
  private nextMajorFrame = 0;
  private readonly st: A653Static;
  private started = false;

  constructor(private readonly xen: Xen, private readonly pool: Pool, spec: Arinc653Spec) {
    this.numEntries = spec.frames.length;
    this.runtime = new Float64Array(this.numEntries + 1);
    spec.frames.forEach((f, i) => {
      this.guest.push(f.guest);
      this.vcpu.push(f.vcpu ?? 0);
      this.runtime[i] = Math.round(f.runtime_ms * MS);
      this.units.push(null);
    });
    this.majorFrame = Math.round(spec.major_frame_ms * MS);
    let st = statics.get(xen);
    if (!st) { st = { schedIndex: 0, nextSwitchTime: 0 }; statics.set(xen, st); }
    this.st = st;
  }

  /** a653sched_alloc_udata + a653sched_pick_resource + update_schedule_units. */
  insert(v: VCpu, now: number): void {
    v.sdata = new A653Unit(v);
    if (!this.pool.cpus.includes(v.pcpu)) v.pcpu = this.pool.cpus[0];
    for (let i = 0; i < this.numEntries; i++)
      if (this.guest[i] === v.dom.name && this.vcpu[i] === v.idx) this.units[i] = v;
    if (!this.started) {
      // the table was installed at `now` (arinc653_sched_set): the pCPU schedules
      this.started = true;
      this.nextMajorFrame = now;
      this.xen.raiseSoftirq(this.pool.cpus[0], now, 0);
    }
  }

  /** a653sched_unit_wake. */
  wake(v: VCpu, now: number): void {
    (v.sdata as A653Unit).awake = true;
    this.xen.tickle(v.pcpu, now);
  }

  /** No context_saved hook in arinc653.c. */
  contextSaved(_v: VCpu, _now: number): void {}

  /** a653sched_do_schedule. */
  doSchedule(cpu: number, _prev: VCpu | null, now: number, dec: SchedDecision): void {
    const st = this.st;
    const n = this.numEntries;
    if (n < 1) {
      this.nextMajorFrame = now + A653_DEFAULT_TIMESLICE;
    } else if (now >= this.nextMajorFrame) {
      st.schedIndex = 0;
      this.nextMajorFrame = now + this.majorFrame;
      st.nextSwitchTime = now + this.runtime[0];
    } else {
      while (now >= st.nextSwitchTime && st.schedIndex < n) {
        st.schedIndex++;
        st.nextSwitchTime += st.schedIndex < this.runtime.length ? this.runtime[st.schedIndex] : 0;
      }
    }
    if (st.schedIndex >= n) st.nextSwitchTime = this.nextMajorFrame;
    let next: VCpu | null = st.schedIndex < n ? this.units[st.schedIndex] : null;
    if (next !== null && !((next.sdata as A653Unit).awake && next.runnable)) next = null;
    if (next !== null && next.pcpu !== cpu) next = null;
    const t = st.nextSwitchTime - now;
    if (t <= 0) throw new Error(`ARINC653 on pCPU ${cpu}: next_time ${t} <= 0 (Xen's BUG_ON in a653sched_do_schedule; ARINC653 pools with different tables share sched_index)`);
    dec.next = next;
    dec.time = t;
  }
}
