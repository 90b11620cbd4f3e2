/**
 * Linux kernel model: the per-CPU execution engine (what a CPU is executing
 * right now, in segments of known cost), interrupts, clockevents and
 * hrtimers, schedule(), try_to_wake_up() and pipes, over the scheduling
 * classes of ../sched/linux: SCHED_DEADLINE (deadline.ts) > SCHED_FIFO/RR
 * (rt.ts) > CFS (cfs.ts) > idle.
 *
 * A kernel CPU is either a physical CPU (native) or a vCPU. It executes only
 * while its host says it holds a physical processor (`resume`/`suspend`):
 * a vCPU preempted by the hypervisor freezes its current segment, and every
 * completion on it waits. The kernel reads time as the host's wall clock and,
 * with CONFIG_PARAVIRT_TIME_ACCOUNTING, subtracts the host's steal clock from
 * rq_clock_task; without it, time the vCPU spent runnable but not running is
 * charged to whatever task was current (update_rq_clock_task, core.c).
 *
 * Execution model. A CPU runs, in this order of priority:
 *  1. a "prefix" that runs with interrupts off (a context switch into `curr`,
 *     an interrupt handler, or schedule()'s entry on the outgoing task);
 *  2. pending interrupts (each becomes a prefix; the timer first, then the
 *     reschedule IPI, then device lines in number order);
 *  3. pending softirq work (non-RT kernels: run on interrupt exit with
 *     interrupts on and preemption off, so it can be interrupted but not
 *     preempted);
 *  4. schedule(), if need_resched is set and the current task is at a
 *     preemption point (see below);
 *  5. the current task's segment (user computation or a kernel section);
 *  6. idle: the CPU halts (WFI / SCHEDOP_block) until an interrupt.
 * Actions happen at segment boundaries: the end of pipe_write's body makes the
 * data visible and wakes the reader, the end of a read's syscall entry finds
 * the pipe empty and goes to sleep, and so on.
 *
 * Preemption models (KernelConfig.preempt). Every task segment carries a
 * non-preemptibility level (Task.np): preemptible (user mode, preemptible
 * kernel code), non-preemptible (preemption disabled: the task keeps the CPU
 * until the segment ends, interrupts are still taken) or interrupts-off (an
 * interrupt raised meanwhile stays pending until the segment ends). A task
 * is at a preemption point when its segment is preemptible, or between two
 * segments that the kernel path marks as a point (cond_resched, blocking,
 * return to user). The short built-in syscall paths (pipes, nanosleep) are
 * non-preemptible with PREEMPT_NONE/VOLUNTARY and preemptible with
 * PREEMPT/PREEMPT_RT. Longer kernel activities (A_KERNEL: system calls,
 * page faults, reclaim, I/O; device interrupts) are cut into sections drawn
 * from data/kernels (latency.ts): under PREEMPT_NONE long stretches between
 * cond_resched points, under PREEMPT_RT only short raw-spinlock and
 * interrupts-off sections. Device interrupts: on non-RT kernels the top half
 * is an interrupts-off prefix and the softirq work follows it (step 3); on
 * PREEMPT_RT a short primary handler wakes a per-CPU, per-line irq thread
 * (SCHED_FIFO 50) that does the work in preemptible sections. The timer
 * interrupt (hrtimer expiry) stays in hard interrupt context in every model.
 *
 * Clockevents and hrtimers. Every CPU has one clockevent device, programmed
 * through the host (`host.setTimer`, or a kernel-internal simulator timer
 * when the host has none), and a queue of the hrtimers armed on it: the
 * scheduler tick (tick_sched_timer), task sleeps (hrtimer_nanosleep), the
 * SCHED_DEADLINE replenishment timers and the RT bandwidth period timer.
 * Programming follows clockevents_program_event: the device is set for the
 * earliest hard expiry, delta = expiry - now clamped to at least the host's
 * minimum delta (so an already expired timer fires after the minimum delta,
 * as the forced programming of hrtimer_reprogram does). The expiry arrives
 * as IRQ_TIMER; its handler (hrtimer_interrupt) runs every timer whose soft
 * expiry has passed, in hard-expiry order, loops while the next one has
 * already passed, and reprograms the device. A task sleep gets a range
 * [expiry, expiry + timer_slack_ns] (50 µs; 0 for RT and DL tasks), so a
 * SCHED_OTHER sleep may be deferred to coalesce with a timer already
 * programmed. Clock reads (rdtsc, sched_clock) cost the host's clockReadCost
 * each, on top of the path costs, as many times as data/kernels says each
 * path reads the clock.
 *
 * Latency probes. A task with a LatencyProbe (cyclictest) gets every
 * nanosecond between the expiry of its sleep and the end of its next clock
 * read attributed to what its CPU was doing: waiting for the timer
 * interrupt (split into the clockevent clamp, "timer slop", and the host's
 * delivery delay), CPU suspended by the host, clock reads, another task's
 * non-preemptible section or softirq, interrupt handlers, or the scheduler.
 *
 * Scheduling classes (core.c): pick_next_task asks dl, rt, fair, then idle
 * (with the all-CFS fast path); check_preempt_curr lets a higher class always
 * preempt and leaves same-class decisions to the class (CFS wakeup
 * preemption, RT strictly higher priority, DL strictly earlier deadline).
 * On SMP, RT and DL tasks are placed and moved like 5.10 does it:
 * select_task_rq_rt/dl at wake-up (find_lowest_rq over cpupri, find_later_rq
 * over free CPUs and the latest deadline), push after a wake-up that does not
 * preempt (task_woken_rt/dl) and after schedule() (balance callback), pull
 * when a CPU lowers its priority (balance_rt/dl). Simplifications: pulls are
 * direct (RT_PUSH_IPI's IPI chain is not modelled), the equal-priority /
 * equal-deadline SMP tie rules (check_preempt_equal_prio/dl) are omitted, the
 * RT period timer is pinned to the CPU that enqueued the first RT task, a
 * timer may be queued on (and program the device of) a remote CPU, soft
 * hrtimers are expired in hard interrupt context on PREEMPT_RT too, and
 * MAX_SOFTIRQ_TIME deferral to ksoftirqd is not modelled.
 *
 * Files. LinuxKernel is one class built as a chain of layers, one file each,
 * every layer extending the one below (no file imports a file above it;
 * calls upwards go through abstract methods of base.ts):
 *   state.ts    CpuHost, KernelConfig, per-CPU state (KCpu), pipes, irq threads
 *   base.ts     the instance's state, resched_curr, rq_clock_task, nr_running
 *   probe.ts    the latency probe (LAT_COMPONENTS)
 *   hrtimer.ts  clockevents, hrtimers, the tick, hrtimer_nanosleep
 *   exec.ts     per-CPU execution: segments, prefixes, chunks, run()
 *   irq.ts      interrupts, softirqs, PREEMPT_RT irq threads
 *   core.ts     wake_up_new_task, try_to_wake_up, __schedule, pick_next_task
 *   actions.ts  the actions of task programs (syscalls, sleeps, pipes, I/O)
 *   setsched.ts run-time sched_setscheduler and rt_mutex_setprio
 *   linux.ts    LinuxKernel: the simulator timers' dispatch
 * and the scheduling classes in ../sched/linux (class.ts, deadline.ts,
 * rt.ts, fair.ts over cfs.ts, idle.ts).
 */
import { SetschedKernel } from "./setsched.js";
import { T_DEV, T_HRIRQ, T_SEG, IRQ_RESCHED, IRQ_TIMER } from "./state.js";

export { type CpuHost, IRQ_DEV0, IRQ_RESCHED, IRQ_TIMER, KCpu, type KernelConfig, Pipe } from "./state.js";
export type { SchedAttr } from "../sched/linux/class.js";
export type { SetSchedAttr } from "./setsched.js";
export { LAT_COMPONENTS, LatencyProbe } from "./task.js";
export { LC_CLOCK, LC_HYPER, LC_IRQ, LC_NONPREEMPT, LC_SCHED, LC_SLOP, LC_TRUNC, LC_VCPU } from "./probe.js";

/** A Linux kernel instance (one guest, one Dom0, a KVM host, or the native OS). */
export class LinuxKernel extends SetschedKernel {
  onTimer(kind: number, arg: number, now: number): void {
    if (kind === T_SEG) this.segmentDone(this.cpus[arg], now);
    else if (kind === T_DEV) this.raiseIrq(arg, IRQ_TIMER, now);
    else if (kind === T_HRIRQ) this.raiseIrqNow(arg, IRQ_TIMER, now);
    else this.raiseIrq(arg, IRQ_RESCHED, now);
  }
}
