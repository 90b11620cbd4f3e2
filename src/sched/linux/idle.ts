/**
 * idle_sched_class of Linux v5.10 kernel/sched/idle.c. The model has no idle
 * task object: a CPU running its idle task has curr = null, and the kernel
 * core halts it (the host's halt: WFI, HLT, SCHEDOP_block) until an
 * interrupt. The class is the last of for_each_class: its pick returns the
 * idle task, which is "no task"; it never has tasks to enqueue, tick or move.
 * Not modelled: cpuidle states and their exit latencies (the host's wake-up
 * cost stands for them), the idle tick stop beyond stopping tick_sched_timer.
 */
import type { SchedAttr, SchedClass, SchedCpu } from "./class.js";
import type { Task } from "../../kernel/task.js";

export class IdleSchedClass implements SchedClass<SchedCpu> {
  readonly id = -1;
  hasPolicy(_policy: number): boolean { return false; }
  setParams(_p: Task, _attr: SchedAttr, _now: number): void { throw new Error("no task joins the idle class"); }
  taskFork(): void {}
  enqueueTask(): void { throw new Error("the idle class has no runqueue"); }
  dequeueTask(): void { throw new Error("the idle class has no runqueue"); }
  checkPreemptCurr(): void {}
  /** pick_next_task_idle: the idle task (null). */
  pickNextTask(_c: SchedCpu, _now: number): Task | null { return null; }
  putPrevTask(): void {}
  selectTaskRq(p: Task): number { return p.cpu; }
  migrateTaskRq(): void {}
  taskWoken(): void {}
  /** balance_idle: nothing to pull. */
  balance(): boolean { return false; }
  balanceCallback(): void {}
  taskTick(): void {}
  accountCurr(): void {}
}
