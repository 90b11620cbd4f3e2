/**
 * Linux kernel model: the latency probe of a measuring task (cyclictest).
 * Every nanosecond from the expiry of the task's sleep to the end of its
 * next clock read is attributed to what its CPU was doing (LAT_COMPONENTS):
 * the clockevent clamp ("timer slop") and the host's delivery delay before
 * the timer interrupt is raised, then a suspended CPU, clock reads, another
 * task's non-preemptible section or softirq, interrupt handlers, or the
 * scheduler. Model instrumentation: no Linux counterpart (the nearest are the
 * tracers cyclictest's -b option drives).
 */
import { EX_PREFIX, EX_SOFTIRQ, EX_TASK, type KCpu, PK_IRQ } from "./state.js";
import { KernelBase } from "./base.js";
import { type LatencyProbe, NP_NONE, type Task } from "./task.js";

export const LC_SLOP = 0; // clockevent clamp: device fire time - intended expiry
export const LC_HYPER = 1; // device fire time -> interrupt raised by the host
export const LC_VCPU = 2; // the CPU was suspended by its host
export const LC_CLOCK = 3; // clock reads (rdtsc, trapped or not)
export const LC_NONPREEMPT = 4; // another task's non-preemptible / interrupts-off section, softirq work
export const LC_IRQ = 5; // interrupt handlers
export const LC_SCHED = 6; // wake-up, schedule(), context switch, return path
export const LC_TRUNC = 7; // cyclictest's truncation to whole µs (set by the workload)

/** The kernel with its latency probes. */
export abstract class ProbeKernel extends KernelBase {
  /** Starts the measurement of probe p, whose task sleeps on CPU c until `expiry`. */
  protected probeArm(c: KCpu, p: LatencyProbe, expiry: number, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    else c.pmark = now;
    p.armed = true;
    p.fired = false;
    p.expiry = expiry;
    p.acc.fill(0);
    p.wait = expiry < now ? now - expiry : 0;
    p.devAtRaise = -1;
    p.raiseAt = -1;
    if (!c.probes.includes(p)) c.probes.push(p);
  }

  /**
   * Attributes the time since the last mark on CPU c to the components of
   * every armed probe there (from its expiry on). Call before any change of
   * what the CPU executes.
   */
  protected probeMark(c: KCpu, now: number): void {
    const from0 = c.pmark;
    c.pmark = now;
    if (now <= from0) return;
    const ps = c.probes;
    // cut the slice at the probes' expiries inside it
    let a = from0;
    while (a < now) {
      let b = now;
      for (let i = 0; i < ps.length; i++) { const e = ps[i].expiry; if (e > a && e < b) b = e; }
      this.markSlice(c, a, b);
      a = b;
    }
  }

  /** The slice [a, b] of CPU c, for every probe whose expiry is at or before a. */
  protected markSlice(c: KCpu, a: number, b: number): void {
    const ps = c.probes;
    let any = false;
    for (let i = 0; i < ps.length; i++) if (ps[i].armed && ps[i].expiry <= a) { any = true; break; }
    if (!any) return;
    const d = b - a;
    const timerIrq = (c.pendingIrq & 1) !== 0 || c.timerHandler;
    // what the CPU did in [a, b]: clock reads, then one category, or a split for a kernel activity
    let clock = 0, np = 0, cat = LC_SCHED;
    let curr: Task | null = null;
    if (!c.running) cat = LC_VCPU;
    else {
      const ek = c.execKind;
      if (ek === EX_PREFIX || ek === EX_TASK) {
        const clk = ek === EX_PREFIX ? c.prefixClock : c.curr!.segClock;
        if (clk > 0) {
          const end = c.execStart + clk;
          if (end > a) clock = (end < b ? end : b) - a;
        }
        if (ek === EX_PREFIX) cat = c.prefixKind === PK_IRQ ? LC_IRQ : LC_SCHED;
        else {
          const t = c.curr!;
          curr = t;
          if (t.np !== NP_NONE) cat = LC_NONPREEMPT;
          else if (t.kAct >= 0) {
            // a kernel activity: account its chunks up to b (the task's state moves to b)
            if (a > c.execStart) this.taskRan(c, t, a - c.execStart, true);
            np = this.taskRan(c, t, d, true);
            c.execStart = b;
          }
        }
      } else if (ek === EX_SOFTIRQ) cat = LC_NONPREEMPT;
    }
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      if (!p.armed || p.expiry > a) continue;
      if (!p.fired && !timerIrq) { p.wait += d; continue; }
      const acc = p.acc;
      if (cat === LC_VCPU) { acc[LC_VCPU] += d; continue; }
      acc[LC_CLOCK] += clock;
      const rest = d - clock;
      if (curr === p.task) acc[LC_SCHED] += rest; // the measuring task's own path
      else if (np > 0) { acc[LC_NONPREEMPT] += np; acc[LC_SCHED] += rest - np; }
      else acc[cat] += rest;
    }
  }

  /**
   * Ends the measurement of task t's probe at `now` (its clock read done):
   * returns the components (ns) of now - expiry, the truncation slot 0.
   */
  probeFinish(t: Task, now: number): Float64Array {
    const p = t.probe!;
    const c = this.cpus[t.cpu];
    const k = c.probes.indexOf(p);
    if (k >= 0) {
      this.probeMark(c, now);
      const last = c.probes.pop()!;
      if (k < c.probes.length) c.probes[k] = last;
    }
    p.armed = false;
    const acc = p.acc;
    const E = p.expiry;
    let F = p.devAtRaise;
    if (F < 0 || (p.raiseAt >= 0 && F > p.raiseAt)) F = p.raiseAt >= 0 ? p.raiseAt : E + p.wait;
    let slop = F - E;
    if (slop < 0) slop = 0;
    if (slop > p.wait) slop = p.wait;
    acc[LC_SLOP] = slop;
    acc[LC_HYPER] = p.wait - slop;
    return acc;
  }
}
