/**
 * Linux kernel model: changing a task's scheduling parameters at run time,
 * as kernel/sched/core.c of v5.10 does it (the 2.6.31 code it grew from has
 * the same structure): __sched_setscheduler (sched_setscheduler,
 * sched_setattr, and the nice value a SCHED_NORMAL attr carries) and
 * rt_mutex_setprio (priority inheritance: the effective p->prio boosted to a
 * waiter's, p->normal_prio and the policy kept).
 *
 * The sequence is upstream's, for a task that is running, queued or
 * sleeping on any CPU:
 *   queued  = task_on_rq_queued(p); running = task_current(rq, p);
 *   if (queued)  dequeue_task(rq, p, DEQUEUE_SAVE)    (update_curr first)
 *   if (running) put_prev_task(rq, p)
 *   __setscheduler: policy, rt_priority, static_prio (set_load_weight),
 *     normal_prio, prio = rt_effective_prio(p, normal_prio) (the PI donor's
 *     prio when that is higher), sched_class from prio (rt_prio: rt, else
 *     fair; DL tasks are not changed at run time here)
 *   if (queued)  enqueue_task(rq, p, ENQUEUE_RESTORE | (prio lowered ?
 *                ENQUEUE_HEAD : 0))   (a raised task goes to the tail)
 *   if (running) set_next_task(rq, p)
 *   check_class_changed: switched_from + switched_to of the classes, or
 *     prio_changed when the class stayed and prio moved; these call
 *     resched_curr where a preemption is due (class hooks, ../sched/linux).
 * The running task keeps executing its current segment (its CPU time up to
 * now was charged by update_curr in the dequeue): a reschedule the hooks
 * asked for is noticed like a wake-up's (an IPI from a remote CPU, or a kick
 * of the CPU when called from outside any CPU context).
 *
 * The paravirtual-scheduling guest hook (the pv_sched_ops of the 2009 pvsched
 * patches): when the task changed is the one running on its CPU, the kernel
 * reports the new policy and priority to its host (`CpuHost.pvSched`, the
 * Set Scheduling Parameters hypercall), as the patched __sched_setscheduler
 * does; schedule() does the same on every context switch (core.ts).
 *
 * Not modelled: SCHED_DEADLINE at run time (admission control, the
 * switched_to/from_dl hooks: a DL task or a DL target throws), SCHED_BATCH
 * and SCHED_IDLE, permission checks (RLIMIT_RTPRIO, CAP_SYS_NICE),
 * uclamp, the PI chain walk of rt_mutex_adjust_pi (the caller gives each
 * boosted task its donor's prio), the deferral of push/pull to the
 * balance callback (they run at once).
 */
import { ENQUEUE_HEAD, type SchedAttr, type SchedClass } from "../sched/linux/class.js";
import { rtPrio } from "../sched/linux/rt.js";
import { ActionKernel } from "./actions.js";
import type { KCpu } from "./state.js";
import {
  CLS_DL, CLS_RT, MAX_RT_PRIO, niceToWeight, SCHED_DEADLINE, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, type Task,
} from "./task.js";

/** Scheduling attributes of a run-time change: policy and sched_priority (SchedAttr) plus the nice value of SCHED_NORMAL. */
export interface SetSchedAttr extends SchedAttr {
  /** Nice value -20..19 (SCHED_NORMAL; kept when absent, as sched_setscheduler keeps static_prio). */
  nice?: number;
}

/** DEFAULT_PRIO: the internal prio of a nice-0 SCHED_NORMAL task (MAX_RT_PRIO + 20). */
export const DEFAULT_PRIO = MAX_RT_PRIO + 20;

/** The kernel with run-time changes of scheduling parameters. */
export abstract class SetschedKernel extends ActionKernel {
  /** rt_mutex_setprio donors: task id -> the internal prio inherited from its top PI waiter (only boosted tasks). */
  private readonly piPrio = new Map<number, number>();

  /** normal_prio(p): the prio the policy gives, without priority inheritance (-1 DL, 99 - rt_priority, 120 + nice). */
  normalPrio(p: Task): number {
    if (p.policy === SCHED_DEADLINE) return -1;
    if (p.policy === SCHED_FIFO || p.policy === SCHED_RR) return rtPrio(p.rtPriority);
    return DEFAULT_PRIO + p.nice;
  }

  /**
   * sched_setscheduler / sched_setattr (__sched_setscheduler with pi =
   * true) of task `p` at time `now`: new policy (SCHED_NORMAL, SCHED_FIFO,
   * SCHED_RR), sched_priority (1..99 for FIFO/RR) and, for SCHED_NORMAL,
   * nice. Works whether p is running, queued or sleeping.
   * `from`: the CPU whose code makes the call, for the reschedule it may
   * cause on p's CPU (a remote CPU is sent an IPI, the local one notices at
   * its next step); -1: no CPU context (a simulator event, e.g. a host-side
   * device model or hypervisor handler): p's CPU is kicked at once.
   */
  setScheduler(p: Task, attr: SetSchedAttr, now: number, from = -1): void {
    const policy = attr.policy;
    if (policy !== SCHED_NORMAL && policy !== SCHED_FIFO && policy !== SCHED_RR) {
      throw new Error(`sched_setscheduler: policy ${policy} is not supported at run time (SCHED_NORMAL, SCHED_FIFO, SCHED_RR)`);
    }
    if (p.cls === CLS_DL) throw new Error(`sched_setscheduler: ${p.name} is SCHED_DEADLINE (not changed at run time by this model)`);
    const rt = policy !== SCHED_NORMAL;
    const prio = rt ? (attr.priority ?? 0) : 0;
    if (rt ? !(Number.isInteger(prio) && prio >= 1 && prio <= 99) : (attr.priority ?? 0) !== 0) {
      throw new Error(`sched_setscheduler: sched_priority ${attr.priority} out of range for policy ${policy} (1..99 for FIFO/RR, 0 for NORMAL)`);
    }
    const nice = attr.nice ?? p.nice;
    if (!(Number.isInteger(nice) && nice >= -20 && nice <= 19)) throw new Error(`sched_setscheduler: nice ${nice} out of range (-20..19)`);
    const c = this.cpus[p.cpu];
    // pv_sched_ops: the patched __sched_setscheduler reports the change of the task running on its CPU
    const reportPv = c.curr === p;
    this.changeParams(p, policy, prio, nice, -2, now, from);
    if (reportPv) {
      const h = this.host;
      if (h.pvSched !== undefined) h.pvSched(from >= 0 ? from : c.idx, c.idx, p.policy, p.rtPriority, now);
    }
  }

  /**
   * rt_mutex_setprio(p, pi_task): p inherits the internal prio `donorPrio`
   * of its top priority-inheritance waiter (0..99 RT, 100..139 CFS), or,
   * with `donorPrio` < 0 (pi_task = NULL), returns to its normal_prio. The
   * effective prio is min(normal_prio, donor) (rt_effective_prio); the
   * class follows it (a SCHED_NORMAL task boosted to an RT prio runs in the
   * RT class as FIFO), the policy, rt_priority and nice do not change.
   * `from` as in setScheduler.
   */
  rtMutexSetprio(p: Task, donorPrio: number, now: number, from = -1): void {
    if (p.cls === CLS_DL) throw new Error(`rt_mutex_setprio: ${p.name} is SCHED_DEADLINE (DL PI is not modelled)`);
    if (donorPrio >= 0) {
      if (!(Number.isInteger(donorPrio) && donorPrio < DEFAULT_PRIO + 20)) throw new Error(`rt_mutex_setprio: donor prio ${donorPrio} out of range (0..139)`);
      this.piPrio.set(p.id, donorPrio);
    } else this.piPrio.delete(p.id);
    this.changeParams(p, p.policy, p.rtPriority, p.nice, donorPrio, now, from);
  }

  /** The effective prio p has inherited (its donor's), or -1 when not boosted. */
  inheritedPrio(p: Task): number {
    return this.piPrio.get(p.id) ?? -1;
  }

  /**
   * The common body of __sched_setscheduler and rt_mutex_setprio (see the
   * file header). `donor`: -2 keeps the current PI donor (setscheduler),
   * otherwise the donor just set (-1 none).
   */
  private changeParams(p: Task, policy: number, rtPriority: number, nice: number, donor: number, now: number, from: number): void {
    const c = this.cpus[p.cpu];
    const oldPrio = p.prio;
    const queued = p.onRq;
    const running = c.curr === p;
    const prevCls = this.classOf[p.cls];
    const had = c.needResched;
    if (queued) prevCls.dequeueTask(c, p, 0, now);
    if (running) prevCls.putPrevTask(c, p, now);
    // __setscheduler_params
    p.policy = policy;
    const wasRt = p.cls === CLS_RT;
    if (policy === SCHED_NORMAL) {
      p.rtPriority = 0;
      if (nice !== p.nice) {
        // set_load_weight (the task is off the runqueue: its load leaves and rejoins with it)
        p.nice = nice;
        p.weight = niceToWeight(nice);
      }
    } else p.rtPriority = rtPriority;
    // __setscheduler: prio = rt_effective_prio(p, normal_prio), class by prio
    const normal = this.normalPrio(p);
    const d = donor === -2 ? (this.piPrio.get(p.id) ?? -1) : donor;
    p.prio = d >= 0 && d < normal ? d : normal;
    const cls: SchedClass<KCpu> = p.prio < MAX_RT_PRIO ? this.rt : this.fair;
    p.cls = cls.id;
    // a task joining the RT class has the full SCHED_RR slice sched_fork gave it
    if (!wasRt && p.cls === CLS_RT && p.timeSlice <= 0) p.timeSlice = this.rt.rrTicks;
    if (queued) cls.enqueueTask(c, p, oldPrio < p.prio ? ENQUEUE_HEAD : 0, now);
    if (running) {
      if (cls.setNextTask === undefined) throw new Error(`sched class ${cls.id} has no set_next_task`);
      cls.setNextTask(c, p, now);
    }
    // check_class_changed
    if (prevCls !== cls) {
      if (prevCls.switchedFrom !== undefined) prevCls.switchedFrom(c, p, now);
      if (cls.switchedTo !== undefined) cls.switchedTo(c, p, now);
    } else if (oldPrio !== p.prio && cls.prioChanged !== undefined) cls.prioChanged(c, p, oldPrio, now);
    // resched_curr on p's CPU: make it notice
    if (!had && c.needResched) {
      if (from < 0) this.kickIdle(c, now);
      else if (from !== c.idx) {
        const f = this.cpus[from];
        f.ipisSent++;
        this.host.sendIpi(f.idx, c.idx, now);
      }
    }
  }
}
