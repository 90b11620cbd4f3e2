/**
 * Linux kernel model: the actions a task's program asks for, as kernel paths
 * cut into segments (named phases PH_* of task.ts): user computation, guest
 * mode (KVM_RUN), clock_nanosleep (do_nanosleep), pipe_write / pipe_read
 * (fs/pipe.c: wake-up of the reader, prepare_to_wait), system calls and
 * other kernel activities drawn from data/kernels, a threaded interrupt
 * handler's work, clock_gettime through the vDSO, waiting for an explicit
 * wake-up, and an emulated-device register access through a driver.
 */
import { C } from "../hw/board.js";
import type { Activity } from "./latency.js";
import type { KCpu } from "./state.js";
import { SchedKernel } from "./core.js";
import {
  A_CLOCK_READ, A_COMPUTE, A_DEVICE_IO, A_GUEST, A_IRQ_WORK, A_KERNEL, A_KERNEL_WORK, A_PIPE_READ, A_PIPE_WRITE, A_SLEEP_UNTIL, A_WAIT,
  NP_IRQS_OFF, NP_NONE, PH_BODY, PH_IO_ACCESS, PH_IO_LOCKED, PH_IO_TAIL, PH_READ_COPY, PH_READ_WAIT, PH_SLEEP_ARMED,
  PH_SLEEP_BLOCKED, PH_START, PH_SYSCALL, PH_WRITE_WAKE, SW_BLOCK, type Task, TASK_SLEEPING,
} from "./task.js";

/** The kernel with its action paths. */
export abstract class ActionKernel extends SchedKernel {
  /** Syscall entry: phase PH_SYSCALL of an action, in kernel mode, costing `cost` ns. Returns true if that takes time. */
  protected enterSyscall(t: Task, cost: number): boolean {
    t.phase = PH_SYSCALL;
    t.inKernel = true;
    t.np = this.syscallNp;
    t.segRemaining = cost;
    return cost > 0;
  }

  /** Syscall exit: the task's action is complete; ask its program for the next one. */
  protected finish(t: Task, now: number): void {
    t.inKernel = false;
    t.np = NP_NONE;
    t.cI = t.cN = t.cP = 0;
    t.kAct = -1;
    t.phase = PH_START;
    t.prog.next(t, now);
  }

  /**
   * Starts kernel activity `a` of task t as one segment of `head` ns (the
   * syscall entry: non-preemptible, or preemptible when the model makes
   * syscall paths preemptible) plus `work` ns cut into chunks lazily.
   */
  protected startActivity(c: KCpu, t: Task, a: Activity, work: number, head: number): void {
    t.kAct = a.index;
    t.kWork = work;
    t.np = NP_NONE;
    t.cI = t.cN = t.cP = 0;
    if (head > 0) { if (this.syscallNp === NP_NONE) t.cP = head; else t.cN = head; }
    else if (work > 0) this.drawChunk(c, t);
    t.segRemaining = head + work;
  }

  /** Performs the action at a segment boundary of task t and sets up its next segment. */
  protected step(c: KCpu, t: Task, now: number): void {
    switch (t.act) {
      case A_GUEST:
        if (t.phase === PH_START) {
          // vcpu_enter_guest: guest mode until endSegment (preemptible: a host interrupt or
          // a reschedule is a VM exit)
          t.phase = PH_BODY;
          t.inKernel = true;
          t.np = NP_NONE;
          t.segRemaining = Infinity;
          return;
        }
        this.finish(t, now);
        return;
      case A_COMPUTE:
        if (t.phase === PH_START) {
          t.phase = PH_BODY;
          t.inKernel = false;
          t.np = NP_NONE;
          t.segRemaining = t.actArg;
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      case A_SLEEP_UNTIL:
        if (t.phase === PH_START) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall) + this.ptiSyscall(c, t, true))) return;
        }
        if (t.phase === PH_SYSCALL) {
          // set_current_state(TASK_INTERRUPTIBLE); hrtimer_sleeper_start_expires. An
          // absolute target already past is armed too (do_nanosleep has no shortcut):
          // the forced programming fires it after the clockevent's minimum delta.
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          const programmed = this.armSleepTimer(c, t, t.actArg, now);
          if (t.probe !== null) this.probeArm(c, t.probe, t.actArg, now);
          t.phase = PH_SLEEP_ARMED;
          const r = programmed ? this.lat.readsHrtimerReprogram * this.clockRead(c) : 0;
          t.segRemaining = this.costOf(c, C.sleep) + r + (programmed ? this.timerProgram(c) : 0);
          t.segClock = r;
          if (t.segRemaining > 0) return;
        }
        if (t.phase === PH_SLEEP_ARMED) {
          // schedule() unless the timer already woke us
          t.phase = PH_SLEEP_BLOCKED;
          if (t.state === TASK_SLEEPING) { this.resched(c, SW_BLOCK); return; }
        }
        this.finish(t, now);
        return;
      case A_PIPE_WRITE: {
        const pipe = this.pipes[t.actArg];
        if (t.phase === PH_START) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall) + this.costOf(c, C.pipe_write) + this.ptiSyscall(c, t, false))) return;
        }
        if (t.phase === PH_SYSCALL) {
          pipe.tokens++;
          const r = pipe.reader;
          if (r !== null) {
            pipe.reader = null;
            if (this.wake(r, c, now)) {
              t.phase = PH_WRITE_WAKE;
              t.segRemaining = r.cpu === c.idx
                ? this.costOf(c, C.wake_up)
                : this.costOf(c, C.wake_up_remote) + this.costOf(c, C.ipi_send);
              const rd = this.clockRead(c);
              if (rd > 0) t.segRemaining += this.lat.readsWakeUp * rd;
              if (t.segRemaining > 0) return;
            }
          }
        }
        this.finish(t, now);
        return;
      }
      case A_PIPE_READ: {
        const pipe = this.pipes[t.actArg];
        if (t.phase === PH_START) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall) + this.ptiSyscall(c, t, true))) return;
        }
        if (t.phase === PH_SYSCALL) {
          if (pipe.tokens > 0) {
            pipe.tokens--;
            t.phase = PH_READ_COPY;
            t.segRemaining = this.costOf(c, C.pipe_read);
            if (t.segRemaining > 0) return;
            this.finish(t, now);
            return;
          }
          // empty: prepare_to_wait and go to sleep
          pipe.reader = t;
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          t.phase = PH_READ_WAIT;
          t.segRemaining = this.costOf(c, C.sleep);
          if (t.segRemaining > 0) return;
        }
        if (t.phase === PH_READ_WAIT) {
          // re-check after the wait preparation: woken in between, or block now
          t.phase = PH_SYSCALL;
          if (t.state === TASK_SLEEPING) this.resched(c, SW_BLOCK);
          return;
        }
        this.finish(t, now);
        return;
      }
      case A_KERNEL:
      case A_IRQ_WORK:
        if (t.phase === PH_START) {
          t.phase = PH_BODY;
          t.inKernel = true;
          const a = this.lat.activities[t.actArg];
          const r = t.rng ?? c.krng;
          let work = a.work.sample(r);
          let head = 0;
          // a threaded handler: its body, then the softirq work it raised; a syscall: the entry first
          if (t.act === A_IRQ_WORK) { if (a.hardirq !== null && a.threadRunsHandler) work += a.hardirq.sample(r); }
          else head = this.costOf(c, C.syscall) + this.ptiSyscall(c, t, false);
          this.startActivity(c, t, a, work, head);
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      // --- issue 14 block: begin
      case A_KERNEL_WORK:
        // a system call doing actArg ns of kernel work in the sections of activity actAux
        if (t.phase === PH_START) {
          t.phase = PH_BODY;
          t.inKernel = true;
          this.startActivity(c, t, this.lat.activities[t.actAux], t.actArg, this.costOf(c, C.syscall) + this.ptiSyscall(c, t, false));
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      // --- end
      case A_CLOCK_READ:
        if (t.phase === PH_START) {
          t.phase = PH_BODY;
          t.inKernel = false;
          t.np = NP_NONE;
          const r = this.clockRead(c);
          t.segRemaining = r;
          t.segClock = r;
          if (r > 0) return;
        }
        this.finish(t, now);
        return;
      case A_WAIT:
        if (t.phase === PH_START && t.wakeToken) {
          t.wakeToken = false;
          t.phase = PH_BODY;
        }
        if (t.phase === PH_START) {
          t.phase = PH_BODY;
          t.inKernel = true;
          t.np = this.syscallNp;
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          this.resched(c, SW_BLOCK);
          return;
        }
        this.finish(t, now);
        return;
      case A_DEVICE_IO: {
        const a = this.lat.activities[t.actArg];
        // the driver's lock region around the access: interrupts off on non-RT kernels
        const lockNp = a.accessIrqsOff ? NP_IRQS_OFF : this.syscallNp;
        switch (t.phase) {
          case PH_START:
            t.phase = PH_SYSCALL;
            t.inKernel = true;
            t.np = this.syscallNp;
            t.ioLeft = t.actAux > 0 ? t.actAux : a.accesses; // issue 14 block: a driver's own access count
            t.kWork = a.work.sample(t.rng ?? c.krng);
            t.segRemaining = this.costOf(c, C.syscall) + this.ptiSyscall(c, t, false);
            if (t.segRemaining > 0) return;
          // falls through
          case PH_SYSCALL: {
            t.phase = PH_IO_LOCKED;
            const half = Math.floor(t.kWork / 2);
            t.kWork -= half;
            t.np = lockNp;
            t.segRemaining = half;
            if (half > 0) return;
          }
          // falls through
          case PH_IO_LOCKED: {
            t.phase = PH_IO_ACCESS;
            // the access instruction: atomic for the guest; the host may suspend the CPU meanwhile
            const h = this.host;
            const extra = h.deviceAccess !== undefined ? h.deviceAccess(c.idx, now) : (this.cost[C.device_access] ?? 0);
            t.np = NP_IRQS_OFF;
            t.segRemaining = extra;
            if (extra > 0 || !c.running) return;
          }
          // falls through
          case PH_IO_ACCESS:
            if (--t.ioLeft > 0) {
              // the next register access of the operation, after the driver's work between them,
              // still inside the lock region
              t.phase = PH_IO_LOCKED;
              t.np = lockNp;
              t.segRemaining = a.accessGap !== null ? a.accessGap.sample(t.rng ?? c.krng) : 0;
              if (t.segRemaining > 0) return;
              this.step(c, t, now);
              return;
            }
            t.phase = PH_IO_TAIL;
            t.np = lockNp;
            t.segRemaining = t.kWork;
            t.kWork = 0;
            if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      }
      default:
        throw new Error(`unknown action ${t.act}`);
    }
  }
}
