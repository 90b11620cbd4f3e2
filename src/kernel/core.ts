/**
 * Linux kernel model: the scheduler core (kernel/sched/core.c of v5.10):
 * wake_up_new_task, try_to_wake_up, check_preempt_curr, __schedule and
 * __pick_next_task, over the scheduling classes of ../sched/linux, which
 * the core walks in priority order (for_each_class: dl > rt > fair > idle)
 * and otherwise leaves every policy decision to (class.ts).
 */
import { C } from "../hw/board.js";
import {
  DEQUEUE_SLEEP, ENQUEUE_MIGRATED, ENQUEUE_WAKEUP, type SchedAttr, type SchedClass, WF_FORK, WF_SYNC, WF_TTWU,
} from "../sched/linux/class.js";
import { type KCpu, PK_CS } from "./state.js";
import { IrqKernel } from "./irq.js";
import {
  A_WAIT, CLS_FAIR, MM_KERNEL, niceToWeight, PH_START, type Program, SCHED_NORMAL, SW_BLOCK, SW_IDLE, SW_PREEMPT_WAKEUP, Task, TASK_RUNNING, TASK_SLEEPING,
} from "./task.js";

/** The kernel with its scheduler core. */
export abstract class SchedKernel extends IrqKernel {
  /**
   * Creates a task on `cpu` and makes it runnable at time `now`:
   * wake_up_new_task, with START_DEBIT placement for CFS; `attr` gives it
   * another policy first (sched_setattr before it runs: an RT task goes to
   * the tail of its priority list, a DL task starts a new instance with
   * deadline now + D and full runtime).
   */
  spawn(name: string, prog: Program, cpu: number, allowed: number[], nice: number, now: number, tag = 0, attr?: SchedAttr, mm?: number): Task {
    const t = new Task(this.tasks.length, name, cpu, allowed, nice, niceToWeight(nice), prog);
    t.tag = tag;
    t.mm = mm !== undefined ? mm : this.newMm();
    t.timerSlackNs = this.lat.timerSlackNs;
    this.tasks.push(t);
    const c = this.cpus[cpu];
    t.state = TASK_RUNNING;
    // sched_setattr before it runs: __setscheduler picks the class of the policy
    let cls: SchedClass<KCpu> = this.fair;
    if (attr !== undefined) {
      let k = 0;
      while (k < this.classes.length && !this.classes[k].hasPolicy(attr.policy)) k++;
      if (k === this.classes.length) throw new Error(`unknown policy ${attr.policy}`);
      cls = this.classes[k];
      t.policy = attr.policy;
      t.cls = cls.id;
      cls.setParams(t, attr, now);
    }
    // wake_up_new_task: task_fork, activate_task, check_preempt_curr, task_woken
    cls.taskFork(c, t, now);
    cls.enqueueTask(c, t, 0, now);
    prog.next(t, now);
    if (!c.needResched) this.checkPreemptCurr(c, t, WF_FORK, now);
    if (this.smp) cls.taskWoken(c, t, c, now);
    return t;
  }

  /** Wakes a task blocked in A_WAIT (or anywhere it sleeps) from outside the kernel (no CPU context). */
  wakeTask(t: Task, now: number): void {
    // a task about to wait (A_WAIT chosen, not yet asleep) finds the event on its way in
    if (t.state === TASK_RUNNING && t.act === A_WAIT && t.phase === PH_START) { t.wakeToken = true; return; }
    const c = this.cpus[t.cpu];
    if (this.wake(t, c, now, false) && c.needResched) this.kickIdle(c, now);
  }

  /** __schedule() on CPU c. */
  protected schedule(c: KCpu, now: number): void {
    const prev = c.curr;
    let reason = c.reschedReason;
    if (prev !== null) {
      if (prev.state === TASK_SLEEPING) {
        // deactivate_task(DEQUEUE_SLEEP)
        this.classOf[prev.cls].dequeueTask(c, prev, DEQUEUE_SLEEP, now);
        prev.goingToSleep = false;
        prev.nvcsw++;
        reason = SW_BLOCK;
      }
    } else {
      reason = SW_IDLE;
    }
    const next = this.pickNextTask(c, prev, now);
    // need_resched is cleared after picking, as __schedule does
    c.needResched = false;
    if (next === prev) {
      if (this.smp && next !== null) this.classOf[next.cls].balanceCallback(c, next, now);
      return;
    }
    if (prev !== null && prev.state === TASK_RUNNING) prev.nivcsw++;
    c.curr = next;
    c.switches++;
    const obs = this.observers;
    for (let i = 0; i < obs.length; i++) obs[i].onSwitch(prev, next, reason, now, c.idx);
    if (next !== null) {
      next.cpu = c.idx;
      c.prefixKind = PK_CS;
      c.prefixRemaining = this.costOf(c, C.context_switch);
      // switch_mm: only into a task of another address space; a kernel thread keeps the loaded
      // one (enter_lazy_tlb), and so do threads of the loaded process. A board that states
      // switch_mm (the CR3 write and the TLB refill after it) charges context_switch without it then.
      const sm = this.cost[C.switch_mm];
      if (next.mm === MM_KERNEL || next.mm === c.loadedMm) { if (sm > 0) c.prefixRemaining = Math.max(0, c.prefixRemaining - sm); }
      else { c.loadedMm = next.mm; c.prefixRemaining += this.cr3Write(c); }
      // a user task returns to user mode after the switch: with PTI, SWITCH_TO_USER_CR3 (a guest CR3
      // write that a shadow-paging host makes a VM exit; natively its cost is in the syscall's)
      if (this.pti && next.mm !== MM_KERNEL) c.prefixRemaining += this.cr3Write(c);
      if (!c.tickOn) {
        // leaving NO_HZ idle: tick_nohz_idle_exit reads the clock and restarts the tick
        // (tick_nohz_restart -> hrtimer_start_expires -> clockevents_program_event)
        const r = this.lat.readsIdleExit * this.clockRead(c);
        if (r > 0) { c.prefixRemaining += r; c.prefixClock += r; }
        c.prefixRemaining += this.timerProgram(c);
        this.armTick(c, now);
      }
      if (this.smp) this.classOf[next.cls].balanceCallback(c, next, now);
    }
    // --- issue 14 pvsched: cpu_set_sched() on every context switch, with the next task's
    // policy and priority (the idle task: SCHED_NORMAL, 0), even when they do not change
    const h = this.host;
    if (h.pvSched !== undefined) h.pvSched(c.idx, c.idx, next !== null ? next.policy : SCHED_NORMAL, next !== null ? next.rtPriority : 0, now);
    // --- end
  }

  /**
   * __pick_next_task: the fast path when every runnable task is CFS and prev
   * is CFS or idle, else put_prev_task_balance (balance from prev's class
   * downwards until a class has a runnable task, SMP only), put_prev_task,
   * and the for_each_class loop of pick_next_task.
   */
  protected pickNextTask(c: KCpu, prev: Task | null, now: number): Task | null {
    if ((prev === null || prev.cls <= CLS_FAIR) && this.nrRunning(c) === c.rq.nrRunning) return this.fair.pickNextTask(c, now);
    if (prev !== null) {
      if (this.smp) {
        const cs = this.classes;
        for (let k = cs.indexOf(this.classOf[prev.cls]); k < cs.length; k++) if (cs[k].balance(c, prev, now)) break;
      }
      this.classOf[prev.cls].putPrevTask(c, prev, now);
    }
    // for_each_class over the standard classes, unrolled: direct (monomorphic) calls V8 can inline
    if (this.stdClasses) {
      const p = this.dl.pickNextTask(c, now);
      if (p !== null) return p;
      const q = this.rt.pickNextTask(c, now);
      return q !== null ? q : this.fair.pickNextTask(c, now);
    }
    const cs = this.classes;
    for (let k = 0; k < cs.length; k++) {
      const p = cs[k].pickNextTask(c, now);
      if (p !== null) return p;
    }
    return null;
  }

  /**
   * check_preempt_curr for a task p just queued on CPU c: a higher class
   * always preempts; within a class the class decides.
   */
  protected checkPreemptCurr(c: KCpu, p: Task, wakeFlags: number, now: number): void {
    const curr = c.curr;
    if (curr === null) { this.resched(c, SW_IDLE); return; }
    if (p.cls === curr.cls) this.classOf[p.cls].checkPreemptCurr(c, p, wakeFlags, now);
    else if (p.cls > curr.cls) this.resched(c, SW_PREEMPT_WAKEUP);
  }

  /**
   * try_to_wake_up(p) from CPU `waker`. Returns true if p was sleeping.
   * Sets need_resched on the target and sends an IPI when it is remote.
   * `sync`: WF_SYNC (a pipe write), which lets wake_affine_idle take the
   * waker's CPU when it runs only the waker.
   */
  protected wake(p: Task, waker: KCpu, now: number, sync = true): boolean {
    if (p.state === TASK_RUNNING) return false;
    p.state = TASK_RUNNING;
    p.wakeups++;
    if (p.onRq) {
      // still on its runqueue: it has not finished blocking (ttwu_remote)
      p.goingToSleep = false;
      if (this.wakeObs !== null) this.wakeObs.onWakeup(p, waker.idx, p.cpu, now);
      return true;
    }
    const cls = this.classOf[p.cls];
    const wf = sync ? WF_TTWU | WF_SYNC : WF_TTWU;
    // select_task_rq, then set_task_cpu (migrate_task_rq) and ttwu_do_activate
    const target = p.allowed.length === 1 ? p.allowed[0] : cls.selectTaskRq(p, waker, wf);
    const tc = this.cpus[target];
    let flags = ENQUEUE_WAKEUP;
    if (target !== p.cpu) {
      cls.migrateTaskRq(p, target);
      p.nrMigrations++;
      p.cpu = target;
      flags |= ENQUEUE_MIGRATED;
    }
    cls.enqueueTask(tc, p, flags, now);
    if (!tc.needResched) this.checkPreemptCurr(tc, p, wf, now);
    if (this.smp) cls.taskWoken(tc, p, waker, now);
    if (this.wakeObs !== null) this.wakeObs.onWakeup(p, waker.idx, tc.idx, now);
    if (tc !== waker && tc.needResched) {
      waker.ipisSent++;
      this.host.sendIpi(waker.idx, tc.idx, now);
    }
    return true;
  }

  /** Forces every running task's vruntime/sum_exec up to date (for end-of-run statistics). */
  settle(now: number): void {
    for (const c of this.cpus) {
      const t = c.curr;
      if (!c.running || t === null) continue;
      this.classOf[t.cls].accountCurr(c, t, now);
    }
  }
}
