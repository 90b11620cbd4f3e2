/**
 * Xen's timers for guest vCPUs (xen/common/timer.c and the singleshot timer
 * of xen/common/sched/core.c + domain.c, RELEASE-4.20.0).
 *
 * Each pCPU has a heap of Xen timers. A guest programs its vCPU's singleshot
 * timer with VCPUOP_set_singleshot_timer (Linux's Xen PV clockevent, used by
 * PV, PVH and PVHVM guests): if the absolute timeout is already in the past
 * Xen sends the timer event at once; otherwise the vCPU's timer moves to the
 * pCPU the vCPU runs on and is armed there. When a timer becomes the earliest
 * of its pCPU, TIMER_SOFTIRQ reprograms the hardware; `timer_softirq_action`
 * runs every timer whose expiry is strictly before `now` and programs the
 * hardware for max(earliest pending expiry, now + timer_slop) (timer_slop
 * 50 µs by default, boot option `timer_slop=`): timers are never early, but a
 * timer due within timer_slop of a softirq is delayed to now + timer_slop and
 * batched with its neighbours. An expired singleshot timer sends VIRQ_TIMER
 * (`send_timer_event`): a blocked vCPU is woken through the scheduler; a
 * runnable one sees the interrupt when it next runs; a running one at once.
 *
 * Simplifications: only guest timers live in the modelled heap — Xen's own
 * scheduler timers (s_timer, Credit tickers, RTDS replenishment) are exact,
 * not subject to timer_slop; the hardware interrupt and softirq entry cost a
 * fixed `irqEntryNs`.
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";

/** What the timer subsystem needs from the Xen model. */
export interface XenTimerClient {
  /** pCPU whose heap holds vCPU `v`'s singleshot timer (where it last ran). */
  timerCpu(v: number): number;
  /** VIRQ_TIMER for vCPU `v` (send_timer_event). */
  sendTimerEvent(v: number, now: number): void;
}

const T_HW = 0;

export class XenTimers implements TimerTarget {
  /** Expiry of each vCPU's singleshot timer (-1 = stopped). */
  private readonly expires: Float64Array;
  /** pCPU heap the vCPU's timer is on (-1 = none). */
  private readonly onCpu: Int32Array;
  /** Guest timers per pCPU (vCPU ids); small lists. */
  private readonly heaps: number[][] = [];
  private readonly hw: number[] = [];
  /** Statistics: singleshot hypercalls, timers delayed by timer_slop, total slop delay (ns). */
  sets = 0;
  slopped = 0;
  slopNs = 0;

  constructor(
    private readonly sim: Simulator,
    ncpus: number,
    nvcpus: number,
    private readonly client: XenTimerClient,
    readonly timerSlop: number,
    private readonly irqEntryNs: number,
  ) {
    this.expires = new Float64Array(nvcpus).fill(-1);
    this.onCpu = new Int32Array(nvcpus).fill(-1);
    for (let c = 0; c < ncpus; c++) {
      this.heaps.push([]);
      this.hw.push(sim.timer(this, T_HW, c));
    }
  }

  /** VCPUOP_set_singleshot_timer for vCPU `v` at time `now` (t < 0: stop). */
  setSingleshot(v: number, t: number, now: number): void {
    this.sets++;
    this.stop(v, now);
    if (t < 0) return;
    if (t < now) {
      this.client.sendTimerEvent(v, now);
      return;
    }
    const cpu = this.client.timerCpu(v);
    this.expires[v] = t;
    this.onCpu[v] = cpu;
    const h = this.heaps[cpu];
    h.push(v);
    // add_entry: a new earliest timer raises TIMER_SOFTIRQ, which reprograms the hardware
    if (this.earliest(cpu) === t) this.reprogram(cpu, now);
  }

  private stop(v: number, _now: number): void {
    const cpu = this.onCpu[v];
    if (cpu < 0) return;
    const h = this.heaps[cpu];
    const i = h.indexOf(v);
    if (i >= 0) { h[i] = h[h.length - 1]; h.pop(); }
    this.onCpu[v] = -1;
    this.expires[v] = -1;
    // deactivating the head also raises the softirq; the hardware keeps its deadline
    // until then, and an early fire just finds nothing to run: modelled by leaving it
  }

  private earliest(cpu: number): number {
    const h = this.heaps[cpu];
    let e = Infinity;
    for (let i = 0; i < h.length; i++) { const x = this.expires[h[i]]; if (x < e) e = x; }
    return e;
  }

  /** The softirq's reprogramming: max(earliest, now + timer_slop). */
  private reprogram(cpu: number, now: number): void {
    const e = this.earliest(cpu);
    if (e === Infinity) { this.sim.cancel(this.hw[cpu]); return; }
    const d = Math.max(e, now + this.timerSlop);
    this.sim.arm(this.hw[cpu], d);
  }

  onTimer(_k: number, cpu: number, at: number): void {
    // NOW() in timer_softirq_action: time has always moved on since the interrupt (>= 1 ns),
    // which the strict `expires < now` test relies on
    const now = at + Math.max(1, this.irqEntryNs);
    const h = this.heaps[cpu];
    for (let i = 0; i < h.length; ) {
      const v = h[i];
      const e = this.expires[v];
      if (e < now) {
        h[i] = h[h.length - 1];
        h.pop();
        this.onCpu[v] = -1;
        this.expires[v] = -1;
        const late = at - e;
        if (late > 0) { this.slopped++; this.slopNs += late; }
        this.client.sendTimerEvent(v, now);
      } else i++;
    }
    this.reprogram(cpu, now);
  }
}
