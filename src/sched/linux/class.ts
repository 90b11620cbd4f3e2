/**
 * The scheduling-class interface of the Linux kernel model: struct
 * sched_class of Linux v5.10 kernel/sched/sched.h, one object per class and
 * kernel instance (deadline.ts, rt.ts, fair.ts, idle.ts). The kernel core
 * (../../kernel/) holds no policy of its own: it walks the classes in
 * priority order (for_each_class: stop > dl > rt > fair > idle; the stop
 * class is not modelled, the model has no stopper threads) and calls the
 * class of the task concerned (p->sched_class) for everything else.
 *
 * Each hook names the sched_class member it mirrors. Differences from the
 * kernel's signatures: hooks get the model's `now` (ns) and read
 * rq_clock_task through `SchedCore.clockTask`; `prev` / `p` are the model's
 * Task; a CPU is the class's view of the per-CPU state (`SchedCpu` plus the
 * class's own runqueue); the idle task is "no task" (curr = null).
 *
 * Dependencies point one way: this file and the class files import only
 * ../../kernel/task.ts (and each other's types); the kernel imports them.
 */
import type { Task } from "../../kernel/task.js";

/** enqueue_task flags (kernel/sched/sched.h, v5.10 values). */
export const ENQUEUE_WAKEUP = 0x01;
export const ENQUEUE_HEAD = 0x10;
export const ENQUEUE_REPLENISH = 0x20;
export const ENQUEUE_MIGRATED = 0x40;
/** dequeue_task flags. */
export const DEQUEUE_SLEEP = 0x01;
/** Wake flags (v5.10 values): WF_FORK for wake_up_new_task, WF_SYNC for a waker about to sleep. */
export const WF_FORK = 0x04;
export const WF_TTWU = 0x08;
export const WF_SYNC = 0x10;

/** What every class sees of a CPU (struct rq): the classes add their own runqueue fields. */
export interface SchedCpu {
  readonly idx: number;
  /** rq->curr; null is the idle task. */
  curr: Task | null;
  /** TIF_NEED_RESCHED of curr. */
  needResched: boolean;
}

/** hrtimer.function of a timer a class owns; `arg` is the value given to `newHrtimer`. */
export interface HrtimerCallback<C extends SchedCpu> {
  hrtimerExpired(c: C, arg: number, now: number): void;
}

/** The kernel core's services the classes call (core.c, hrtimer.c). */
export interface SchedCore<C extends SchedCpu> {
  /** The CPUs of the kernel instance (cpu_rq(i)). */
  readonly cpus: readonly C[];
  /** Every task, by id. */
  readonly tasks: readonly Task[];
  /** More than one CPU (CONFIG_SMP with several CPUs online): push/pull and placement run. */
  readonly smp: boolean;
  /** rq_clock_task of CPU c at `now` (steal excluded with PARAVIRT_TIME_ACCOUNTING). */
  clockTask(c: C, now: number): number;
  /** rq->nr_running: tasks of every class queued on c (RT ones only while not throttled). */
  nrRunning(c: C): number;
  /** resched_curr on the local CPU c, with the model's switch reason (SW_*). */
  resched(c: C, reason: number): void;
  /** resched_curr(c) from code running on CPU `from` (null: no CPU context): an IPI when remote. */
  reschedFrom(from: C | null, c: C, reason: number, now: number): void;
  /** A resched of c that accounting done from `from` has just requested (`had`: need_resched before) needs an IPI when remote. */
  ipiIfNewResched(from: C, c: C, had: boolean, now: number): void;
  /** hrtimer_init: a kernel hrtimer calling `cb.hrtimerExpired(cpu, arg, now)`; returns its id. */
  newHrtimer(cb: HrtimerCallback<C>, arg: number): number;
  /** hrtimer_start_range_ns on CPU `cpu` (soft expiry, slack); true if it programmed the device. */
  hrtimerStart(id: number, cpu: number, soft: number, slack: number, now: number): boolean;
  /** hrtimer_is_queued. */
  hrtimerQueued(id: number): boolean;
}

/** Scheduling attributes of a task (sched_setattr), times in ns. */
export interface SchedAttr {
  policy: number;
  /** sched_priority 1..99 (SCHED_FIFO, SCHED_RR). */
  priority?: number;
  /** SCHED_DEADLINE runtime, deadline, period (ns). */
  runtime?: number;
  deadline?: number;
  period?: number;
}

/**
 * struct sched_class. `C` is the class's view of a CPU; the kernel's CPU
 * type satisfies every class's view.
 */
export interface SchedClass<C extends SchedCpu> {
  /** The class number of its tasks (Task.cls, CLS_*); higher always preempts lower. -1: idle. */
  readonly id: number;
  /** Whether `policy` belongs to this class (fair_policy / rt_policy / dl_policy). */
  hasPolicy(policy: number): boolean;
  /** __setscheduler_params for a task joining the class (priority, DL parameters, timers). */
  setParams(p: Task, attr: SchedAttr, now: number): void;
  /** task_fork: a new task's initial state before its first enqueue (sched_fork / wake_up_new_task). */
  taskFork(c: C, p: Task, now: number): void;
  /** enqueue_task (ENQUEUE_* flags). */
  enqueueTask(c: C, p: Task, flags: number, now: number): void;
  /** dequeue_task (DEQUEUE_* flags). */
  dequeueTask(c: C, p: Task, flags: number, now: number): void;
  /** check_preempt_curr for p, queued on c, against a curr of the same class (WF_* flags). */
  checkPreemptCurr(c: C, p: Task, wakeFlags: number, now: number): void;
  /** pick_next_task, including set_next_task: the task to run, or null. */
  pickNextTask(c: C, now: number): Task | null;
  /** put_prev_task: prev (of this class) leaves the CPU or is about to be compared again. */
  putPrevTask(c: C, prev: Task, now: number): void;
  /** select_task_rq at a wake-up from CPU `waker` (p allowed on more than one CPU). */
  selectTaskRq(p: Task, waker: C, wakeFlags: number): number;
  /** migrate_task_rq: p moves to CPU `newCpu` (p.cpu is still the old one). */
  migrateTaskRq(p: Task, newCpu: number): void;
  /** task_woken: p was woken onto c by CPU `waker` (SMP only). */
  taskWoken(c: C, p: Task, waker: C, now: number): void;
  /** balance: pull work before prev's CPU picks; true when a task of this class or higher is runnable (stop the walk). */
  balance(c: C, prev: Task, now: number): boolean;
  /** The balance callback queued by set_next_task (push what can run elsewhere), run after __schedule (SMP only). */
  balanceCallback(c: C, next: Task, now: number): void;
  /** task_tick: the scheduler tick on c with curr p of this class. */
  taskTick(c: C, p: Task, now: number): void;
  /** update_curr's sum_exec_runtime accounting only (end-of-run statistics; no throttling, no preemption). */
  accountCurr(c: C, p: Task, now: number): void;
  // --- issue 14 pvsched: run-time sched_setscheduler / rt_mutex_setprio hooks (kernel/setsched.ts): begin
  /**
   * set_next_task: p (of this class, queued on c) is made the running task
   * again after __sched_setscheduler took it off with put_prev_task.
   * Optional: a class without it cannot have a running task changed.
   */
  setNextTask?(c: C, p: Task, now: number): void;
  /** switched_from: p has just left this class (p.cls is already the new class). */
  switchedFrom?(c: C, p: Task, now: number): void;
  /** switched_to: p has just joined this class (check preemption, as upstream). */
  switchedTo?(c: C, p: Task, now: number): void;
  /** prio_changed: p stayed in this class with a new prio (check preemption, as upstream). */
  prioChanged?(c: C, p: Task, oldPrio: number, now: number): void;
  // --- end
}
