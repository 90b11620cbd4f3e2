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
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { RandomStream } from "../engine/random.js";
import { C } from "../hw/board.js";
import { CfsRq, cfsTunables, type CfsTunables } from "../sched/linux/cfs.js";
import { cpupri, RtRq, rrTimesliceTicks, rtPrio } from "../sched/linux/rt.js";
import {
  DlRq, dlNextPeriod, replenishDlEntity, setParamDl, setupNewDlEntity, updateDlEntity,
} from "../sched/linux/deadline.js";
import { type Activity, kernelData, KernelLatencyModel, PREEMPT_FULL, PREEMPT_RT, type PreemptName } from "./latency.js";
import {
  A_CLOCK_READ, A_COMPUTE, A_DEVICE_IO, A_GUEST, A_IRQ_WORK, A_KERNEL, A_PIPE_READ, A_PIPE_WRITE, A_SLEEP_UNTIL, A_WAIT,
  CLS_DL, CLS_FAIR, CLS_RT, MAX_RT_PRIO, niceToWeight, NP_IRQS_OFF, NP_NONE, NP_PREEMPT_OFF,
  type Program, SCHED_DEADLINE, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, SW_BLOCK, SW_IDLE, SW_OTHER,
  SW_PREEMPT_TICK, SW_PREEMPT_WAKEUP, type SwitchObserver, type WakeObserver, Task, TASK_RUNNING, TASK_SLEEPING,
} from "./task.js";

/** What the kernel needs from whatever runs its CPUs (bare metal or a hypervisor). */
export interface CpuHost {
  /** CPU `cpu` has nothing to run: halt it until an interrupt arrives. */
  halt(cpu: number, now: number): void;
  /** An interrupt is pending for halted CPU `cpu`: make it run again. */
  kick(cpu: number, now: number): void;
  /** Deliver an inter-processor interrupt; the host calls `raiseIrq(to, IRQ_RESCHED)` when it lands. */
  sendIpi(from: number, to: number, now: number): void;
  /** Steal clock of CPU `cpu` (ns the CPU was runnable but not running). */
  steal(cpu: number, now: number): number;
  /**
   * Program CPU `cpu`'s clockevent device to fire at absolute time `t` (ns),
   * replacing any earlier programming (`t` < 0 stops it). The kernel has
   * already applied the device's minimum delta (see `minTimerDelta`). The
   * host delivers the expiry, possibly late (hypervisor timer paths), as
   * `kernel.raiseIrq(cpu, IRQ_TIMER, now)`.
   * Optional: without it the kernel fires its own timer at `t` (min delta 0).
   */
  setTimer?(cpu: number, t: number, now: number): void;
  /** Minimum programmable delta of CPU `cpu`'s clockevent device, ns (Xen PV clockevent: TIMER_SLOP). */
  minTimerDelta?(cpu: number): number;
  /** Cost of one clock read (rdtsc / pvclock) on `cpu`, ns: trapped and emulated rdtsc costs more. */
  clockReadCost?(cpu: number): number;
  /**
   * The guest on CPU `cpu` performs an emulated-device access (port I/O or
   * MMIO). Hosts that forward it to a device model may suspend the CPU
   * (`kernel.suspend`) and resume it when the access completes; others
   * return at once. Returns the extra cost (ns) of the access on the CPU.
   */
  deviceAccess?(cpu: number, now: number): number;
}

export const IRQ_TIMER = 0;
export const IRQ_RESCHED = 1;
/** First device interrupt line; lines are handed out by `registerIrq`. */
export const IRQ_DEV0 = 2;
const MAX_IRQ = 31;

const PK_NONE = 0;
const PK_CS = 1; // context switch into curr (charged to curr)
const PK_IRQ = 2; // interrupt handler (prefixArg = irq number)
const PK_SCHED = 3; // schedule() entry on the outgoing task

const EX_NONE = 0;
const EX_PREFIX = 1;
const EX_TASK = 2;
const EX_SOFTIRQ = 3;

const T_SEG = 0;
const T_IPI = 2;
const T_HRIRQ = 4; // a timer interrupt deferred behind the other events of its instant
const T_DEV = 5; // kernel-internal clockevent device (hosts without setTimer)

// hrtimer kinds
const HR_SLEEP = 0; // arg: task id (hrtimer_sleeper of clock_nanosleep)
const HR_DL = 1; // arg: task id (dl_task_timer)
const HR_RT_PERIOD = 2; // sched_rt_period_timer of def_rt_bandwidth
const HR_TICK = 3; // arg: CPU (tick_sched_timer)

// enqueue_task_dl flags
const EN_WAKEUP = 1;
const EN_REPLENISH = 2;

/** Latency-breakdown components of a probe, in table order. */
export const LAT_COMPONENTS = [
  "timer_slop", "hypervisor", "vcpu_not_running", "clock_read", "kernel_nonpreemptible", "irq", "sched", "truncation",
] as const;
export const LC_SLOP = 0; // clockevent clamp: device fire time - intended expiry
export const LC_HYPER = 1; // device fire time -> interrupt raised by the host
export const LC_VCPU = 2; // the CPU was suspended by its host
export const LC_CLOCK = 3; // clock reads (rdtsc, trapped or not)
export const LC_NONPREEMPT = 4; // another task's non-preemptible / interrupts-off section, softirq work
export const LC_IRQ = 5; // interrupt handlers
export const LC_SCHED = 6; // wake-up, schedule(), context switch, return path
export const LC_TRUNC = 7; // cyclictest's truncation to whole µs (set by the workload)

/**
 * The latency probe of a measuring task: while `armed`, every ns from the
 * intended expiry on is attributed to a component (see LAT_COMPONENTS).
 */
export class LatencyProbe {
  armed = false;
  /** The sleep timer's callback ran (the task was woken). */
  fired = false;
  /** Intended expiry of the sleep, ns. */
  expiry = 0;
  /** ns from the expiry until the timer interrupt was raised (or the timer ran). */
  wait = 0;
  /** Device programming in effect when the serving interrupt was raised, and when it was. */
  devAtRaise = -1;
  raiseAt = -1;
  readonly acc = new Float64Array(LAT_COMPONENTS.length);
  constructor(readonly task: Task) {}
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

/** A pipe carrying 8-byte tokens, with at most one blocked reader. */
export class Pipe {
  tokens = 0;
  reader: Task | null = null;
  constructor(readonly id: number) {}
}

/** The program of a threaded interrupt handler (PREEMPT_RT irq/N-name thread). */
class IrqThread implements Program {
  /** Interrupts whose work is still to do. */
  pending = 1;
  task: Task | null = null;
  private working = false;
  constructor(readonly act: Activity, readonly handler: ((cpu: number, now: number) => void) | null) {}
  next(t: Task, now: number): void {
    if (this.working) {
      this.working = false;
      if (this.handler !== null) this.handler(t.cpu, now);
    }
    if (this.pending > 0) {
      this.working = true;
      this.pending--;
      t.act = A_IRQ_WORK;
      t.actArg = this.act.index;
    } else t.act = A_WAIT;
  }
}

/** Per-CPU state of the kernel model. */
export class KCpu {
  readonly rq: CfsRq;
  readonly rt = new RtRq();
  readonly dl = new DlRq();
  curr: Task | null = null;
  running = false;
  halted = false;
  needResched = false;
  reschedReason = SW_PREEMPT_WAKEUP;
  pendingIrq = 0;
  prefixKind = PK_NONE;
  prefixArg = 0;
  prefixRemaining = 0;
  /** Clock-read ns at the head of the current prefix. */
  prefixClock = 0;
  execKind = EX_NONE;
  execStart = 0;
  segTimer = -1;
  ipiTimer = -1;
  /** Pending softirq work (non-RT kernels), ns. */
  softirq = 0;
  // clockevent device and hrtimer queue
  /** The tick_sched_timer hrtimer of this CPU. */
  tickHr = -1;
  tickOn = false;
  /** Min-heap of the queued hrtimer ids, by (hard expiry, enqueue order). */
  hq: number[] = [];
  hqN = 0;
  /** cpu_base->expires_next: the hard expiry the device is programmed for (Infinity: none). */
  expiresNext = Infinity;
  /** Absolute time the device was last programmed to fire (-1: stopped). */
  devFire = -1;
  /** hrtimer_interrupt is running (device programming is deferred to its end). */
  inHrtirq = false;
  /** The timer interrupt's handler is executing. */
  timerHandler = false;
  /** Kernel-internal clockevent timer (hosts without setTimer). */
  devTimer = -1;
  /** Delivers a timer interrupt after the other events of the same instant. */
  hrIrqTimer = -1;
  /** PREEMPT_RT irq threads of this CPU, by device line. */
  readonly irqThreads: (IrqThread | null)[] = [];
  /** Random stream of this CPU's interrupt work and kernel sections of tasks without their own. */
  krng: RandomStream;
  /** Latency probes of tasks measuring on this CPU, and the last time they were accounted. */
  readonly probes: LatencyProbe[] = [];
  pmark = 0;
  // statistics
  switches = 0;
  busySince = -1;
  busyNs = 0;
  irqs = 0;
  ipisSent = 0;
  /** Time an interrupt was pending while the CPU was suspended by its host, ns (the host's delivery delay). */
  irqWhileSuspendedNs = 0;
  /** Since when an interrupt has been pending on the suspended CPU (-1: none). */
  pendingSince = -1;
  constructor(readonly idx: number, tun: CfsTunables, readonly rng: RandomStream, krng: RandomStream) {
    this.rq = new CfsRq(tun);
    this.krng = krng;
  }
}

/** Kernel configuration resolved from the spec. */
export interface KernelConfig {
  name: string;
  ncpus: number;
  hz: number;
  paravirtTimeAccounting: boolean;
  /** CONFIG_PREEMPT (kept for callers that predate `preempt`): same as preempt "full". */
  preemptFull: boolean;
  /** Preemption model. Default: "full" if preemptFull, else "none". */
  preempt?: PreemptName;
  tunables: { latency?: number; minGranularity?: number; wakeupGranularity?: number; gentleFairSleepers?: boolean };
  /** sched_rt_runtime_us in ns, or -1 (RT throttling off). Default 950 ms. */
  rtRuntime?: number;
  /** sched_rt_period_us in ns. Default 1 s. */
  rtPeriod?: number;
  /** sched_rr_timeslice_ms. Default 100. */
  rrTimesliceMs?: number;
  /** Board cost table (ns) and jitter. */
  cost: Float64Array;
  jitterCv: number;
  /** data/kernels id. Default "linux-5.0". */
  kernelData?: string;
  /** Scale of the data/kernels section lengths (the board's kernel_work_scale). Default 1. */
  kernelWorkScale?: number;
}

/** A Linux kernel instance (one guest, one Dom0, or the native OS). */
export class LinuxKernel implements TimerTarget {
  readonly cpus: KCpu[] = [];
  readonly tasks: Task[] = [];
  readonly pipes: Pipe[] = [];
  readonly tun: CfsTunables;
  /** Kernel sections, clock reads and slack of this kernel's preemption model. */
  readonly lat: KernelLatencyModel;
  /** Preemption model (latency.ts PREEMPT_*). */
  readonly preempt: number;
  host!: CpuHost;
  private observers: SwitchObserver[] = [];
  private readonly tickPeriod: number;
  private readonly tickPhase: number;
  private readonly cost: Float64Array;
  private readonly sigma: number;
  private readonly mu: number;
  private readonly smp: boolean;
  /** np level of the built-in syscall paths: preemptible with PREEMPT/PREEMPT_RT. */
  private readonly syscallNp: number;
  private guard = 0;
  private guardTime = -1;
  // RT bandwidth (def_rt_bandwidth and the per-CPU rt_runtime, which RT_RUNTIME_SHARE=false keeps equal)
  /** rt_bandwidth_enabled(): sched_rt_runtime_us >= 0. */
  readonly rtBwEnabled: boolean;
  readonly rtRuntime: number;
  readonly rtPeriod: number;
  /** sched_rr_timeslice in ticks. */
  readonly rrTicks: number;
  private rtPeriodActive = false;
  private rtExpires = 0;
  private rtTimer = -1;
  // hrtimers: parallel arrays indexed by hrtimer id
  private readonly hrKind: number[] = [];
  private readonly hrArg: number[] = [];
  private readonly hrCpu: number[] = [];
  /** Soft and hard expiry (ns); hard = soft + slack. */
  private readonly hrSoft: number[] = [];
  private readonly hrHard: number[] = [];
  private readonly hrSeq: number[] = [];
  /** Position in its CPU's heap, -1 when not queued. */
  private readonly hrPos: number[] = [];
  private hrSeqNext = 0;
  // device interrupt lines (registerIrq)
  private readonly irqLines: Activity[] = [];
  private readonly irqHandlers: (((cpu: number, now: number) => void) | null)[] = [];
  private readonly irqNoThread: boolean[] = [];

  constructor(readonly sim: Simulator, readonly cfg: KernelConfig) {
    this.tun = cfsTunables(cfg.ncpus, cfg.tunables);
    this.cost = cfg.cost;
    this.smp = cfg.ncpus > 1;
    // lognormal jitter with mean 1 and the given coefficient of variation
    this.sigma = Math.sqrt(Math.log(1 + cfg.jitterCv * cfg.jitterCv));
    this.mu = -this.sigma * this.sigma / 2;
    this.tickPeriod = Math.round(1e9 / cfg.hz);
    // the boot instant relative to the hypervisor's clock: a random phase of the jiffies grid
    this.tickPhase = Math.floor(sim.random.get(`${cfg.name}/boot`).next() * this.tickPeriod);
    const rt = cfg.rtRuntime ?? 950_000_000;
    this.rtBwEnabled = rt >= 0;
    this.rtRuntime = rt;
    this.rtPeriod = cfg.rtPeriod ?? 1_000_000_000;
    this.rrTicks = rrTimesliceTicks(cfg.rrTimesliceMs ?? 100, cfg.hz);
    const preempt = cfg.preempt ?? (cfg.preemptFull ? "full" : "none");
    this.lat = new KernelLatencyModel(kernelData(cfg.kernelData), preempt, cfg.kernelWorkScale ?? 1);
    this.preempt = this.lat.preempt;
    this.syscallNp = this.preempt >= PREEMPT_FULL ? NP_NONE : NP_PREEMPT_OFF;
    for (let i = 0; i < cfg.ncpus; i++) {
      const c = new KCpu(i, this.tun, sim.random.get(`${cfg.name}/cpu${i}/cost`), sim.random.get(`${cfg.name}/cpu${i}/kernel`));
      c.segTimer = sim.timer(this, T_SEG, i);
      c.ipiTimer = sim.timer(this, T_IPI, i);
      c.devTimer = sim.timer(this, T_DEV, i);
      c.hrIrqTimer = sim.timer(this, T_HRIRQ, i);
      this.cpus.push(c);
    }
    for (const c of this.cpus) c.tickHr = this.newHrtimer(HR_TICK, c.idx);
  }

  /** Registers a context-switch observer. */
  observe(o: SwitchObserver): void {
    this.observers.push(o);
  }

  /** The wake-up observer, if any (one; trace recording): null costs one test per wake-up. */
  private wakeObs: WakeObserver | null = null;

  /** Registers the wake-up observer (sched_wakeup for trace export). */
  observeWakeups(o: WakeObserver): void {
    this.wakeObs = o;
  }

  /** Creates a pipe. */
  newPipe(): Pipe {
    const p = new Pipe(this.pipes.length);
    this.pipes.push(p);
    return p;
  }

  /**
   * Registers a device interrupt line whose handler does kernel activity
   * `activity` (an "irq" activity of data/kernels); returns its IRQ number.
   * `handler`, if given, is the line's action (e.g. an event-channel driver
   * waking its reader): it runs at the end of the hard interrupt on non-RT
   * kernels and when the irq thread finishes the line's work on PREEMPT_RT.
   * `noThread` (IRQF_NO_THREAD, or a hard hrtimer such as KVM's LAPIC
   * timer) runs the handler in hard-interrupt context on PREEMPT_RT too.
   * Setup-time.
   */
  registerIrq(activity: string, handler?: (cpu: number, now: number) => void, noThread = false): number {
    const a = this.lat.activity(activity);
    if (!a.irqContext) throw new Error(`activity ${activity} is not an interrupt`);
    const irq = IRQ_DEV0 + this.irqLines.length;
    if (irq > MAX_IRQ) throw new Error("too many device interrupt lines");
    this.irqLines.push(a);
    this.irqHandlers.push(handler ?? null);
    this.irqNoThread.push(noThread);
    return irq;
  }

  /**
   * Ends task t's current segment now (KVM: the guest left guest mode because
   * it halted or needs user space). If t is executing, its program is asked
   * for the next action at once; otherwise when it next runs.
   */
  endSegment(t: Task, now: number): void {
    const c = this.cpus[t.cpu];
    if (c.curr === t && c.running && c.execKind === EX_TASK) {
      this.freeze(c, now);
      t.segRemaining = 0;
      this.run(c, now);
    } else t.segRemaining = 0;
  }

  /**
   * Creates a task on `cpu` and makes it runnable at time `now`:
   * wake_up_new_task, with START_DEBIT placement for CFS; `attr` gives it
   * another policy first (sched_setattr before it runs: an RT task goes to
   * the tail of its priority list, a DL task starts a new instance with
   * deadline now + D and full runtime).
   */
  spawn(name: string, prog: Program, cpu: number, allowed: number[], nice: number, now: number, tag = 0, attr?: SchedAttr): Task {
    const t = new Task(this.tasks.length, name, cpu, allowed, nice, niceToWeight(nice), prog);
    t.tag = tag;
    t.timerSlackNs = this.lat.timerSlackNs;
    this.tasks.push(t);
    const c = this.cpus[cpu];
    t.state = TASK_RUNNING;
    if (attr === undefined || attr.policy === SCHED_NORMAL) {
      c.rq.placeEntity(t, true);
      t.vruntime -= c.rq.minVruntime; // enqueue without WAKEUP renormalises
      c.rq.enqueue(t, this.clockTask(c, now), false, false);
      prog.next(t, now);
      if (c.curr === null) this.resched(c, SW_IDLE);
      return t;
    }
    t.policy = attr.policy;
    if (attr.policy === SCHED_FIFO || attr.policy === SCHED_RR) {
      t.cls = CLS_RT;
      t.rtPriority = attr.priority ?? 50;
      t.prio = rtPrio(t.rtPriority);
      t.timeSlice = this.rrTicks;
      this.enqueueRt(c, t, false, now);
    } else if (attr.policy === SCHED_DEADLINE) {
      t.cls = CLS_DL;
      t.prio = -1;
      setParamDl(t, attr.runtime!, attr.deadline!, attr.period ?? attr.deadline!);
      t.dlTimer = this.newHrtimer(HR_DL, t.id);
      setupNewDlEntity(t, now);
      t.onRq = true;
      c.dl.insert(t);
    } else {
      throw new Error(`unknown policy ${attr.policy}`);
    }
    prog.next(t, now);
    if (!c.needResched) this.checkPreemptCurr(c, t);
    if (this.smp) this.taskWoken(c, t, c, now);
    return t;
  }

  /** A sample of an operation's cost (ns) on CPU c. */
  private costOf(c: KCpu, id: number): number {
    const base = this.cost[id];
    if (this.sigma === 0 || base === 0) return base;
    return Math.round(base * Math.exp(this.mu + this.sigma * c.rng.normal()));
  }

  /** Cost of one clock read on CPU c (the host's clockReadCost). */
  private clockRead(c: KCpu): number {
    const h = this.host;
    return h.clockReadCost !== undefined ? h.clockReadCost(c.idx) : 0;
  }

  /** rq_clock_task of CPU c at `now`. */
  clockTask(c: KCpu, now: number): number {
    return this.cfg.paravirtTimeAccounting ? now - this.host.steal(c.idx, now) : now;
  }

  /** rq->nr_running: CFS, RT (unless throttled) and DL tasks queued on CPU c. */
  private nrRunning(c: KCpu): number {
    return c.rq.nrRunning + (c.rt.queued ? c.rt.nr : 0) + c.dl.n;
  }

  // ---------------------------------------------------------------- host side

  /** The CPU starts executing (the vCPU got a pCPU, or the native CPU woke). */
  resume(cpu: number, now: number): void {
    const c = this.cpus[cpu];
    if (c.running) return;
    if (c.probes.length !== 0) this.probeMark(c, now);
    if (c.pendingSince >= 0) {
      c.irqWhileSuspendedNs += now - c.pendingSince;
      c.pendingSince = -1;
    }
    c.running = true;
    c.halted = false;
    this.run(c, now);
  }

  /** The CPU stops executing (the vCPU lost its pCPU). */
  suspend(cpu: number, now: number): void {
    const c = this.cpus[cpu];
    if (!c.running) return;
    this.freeze(c, now);
    c.running = false;
    if (c.pendingIrq !== 0) c.pendingSince = now;
  }

  /**
   * An interrupt for CPU `cpu` (timer, reschedule IPI, or a device line).
   * A timer interrupt is taken after every other event of the same instant
   * (a segment ending exactly at the expiry completes first, and timers of
   * several hosts' devices expiring together share one interrupt).
   */
  raiseIrq(cpu: number, irq: number, now: number): void {
    if (irq === IRQ_TIMER && this.sim.queue.peekTime() <= now) {
      const c = this.cpus[cpu];
      if (!this.sim.isArmed(c.hrIrqTimer)) this.sim.arm(c.hrIrqTimer, now);
      return;
    }
    this.raiseIrqNow(cpu, irq, now);
  }

  private raiseIrqNow(cpu: number, irq: number, now: number): void {
    const c = this.cpus[cpu];
    if (c.probes.length !== 0) {
      this.probeMark(c, now);
      if (irq === IRQ_TIMER && (c.pendingIrq & 1) === 0 && !c.timerHandler) {
        for (let i = 0; i < c.probes.length; i++) {
          const p = c.probes[i];
          if (p.armed && !p.fired && p.raiseAt < 0 && p.expiry <= now) { p.devAtRaise = c.devFire; p.raiseAt = now; }
        }
      }
    }
    if (!c.running && c.pendingSince < 0) c.pendingSince = now; // pending while suspended from now on
    c.pendingIrq |= 1 << irq;
    if (c.running) {
      const ek = c.execKind;
      if (ek === EX_TASK) {
        const t = c.curr!;
        if (t.kAct < 0 && t.np === NP_IRQS_OFF) return; // a whole interrupts-off segment: taken when it ends
        this.freeze(c, now);
        // in an interrupts-off part: the interrupt is taken when it ends
        if (t.cI > 0) this.startExec(c, EX_TASK, t.cI, now);
        else this.run(c, now);
      } else if (ek === EX_SOFTIRQ) {
        this.freeze(c, now);
        this.run(c, now);
      } else if (ek === EX_NONE) {
        // halted but still holding the pCPU (the hypervisor has not descheduled it yet)
        if (c.halted) { c.halted = false; this.host.kick(cpu, now); }
        this.run(c, now);
      }
      // EX_PREFIX: interrupts off; picked up when the prefix ends
    } else if (c.halted) {
      this.host.kick(cpu, now);
    }
  }

  /** A reschedule IPI for `cpu` lands at time `t` (native hosts). */
  raiseIrqAt(cpu: number, t: number): void {
    const c = this.cpus[cpu];
    const at = this.sim.expiry(c.ipiTimer);
    if (at >= 0 && at <= t) return;
    this.sim.arm(c.ipiTimer, t);
  }

  /** A device interrupt on line `irq` (from registerIrq) for CPU `cpu`. */
  raiseDeviceIrq(cpu: number, irq: number, now: number): void {
    this.raiseIrq(cpu, irq, now);
  }

  /** Wakes a task blocked in A_WAIT (or anywhere it sleeps) from outside the kernel (no CPU context). */
  wakeTask(t: Task, now: number): void {
    // a task about to wait (A_WAIT chosen, not yet asleep) finds the event on its way in
    if (t.state === TASK_RUNNING && t.act === A_WAIT && t.phase === 0) { t.wakeToken = true; return; }
    const c = this.cpus[t.cpu];
    if (this.wake(t, c, now, false) && c.needResched) this.kickIdle(c, now);
  }

  /** A CPU with a new need_resched set from outside any CPU context: make it notice. */
  private kickIdle(c: KCpu, now: number): void {
    if (!c.running) { if (c.halted) this.host.kick(c.idx, now); return; }
    if (c.execKind === EX_TASK || c.execKind === EX_SOFTIRQ) {
      if (c.execKind === EX_TASK) {
        const t = c.curr!;
        if (t.np !== NP_NONE) return; // a non-preemptible segment: the point is at its end
        this.freeze(c, now);
        // a non-preemptible part: stop at its end to take the preemption point
        if (t.cI + t.cN > 0) { this.startExec(c, EX_TASK, t.cI + t.cN, now); return; }
        this.run(c, now);
        return;
      }
      this.freeze(c, now);
      this.run(c, now);
    } else if (c.execKind === EX_NONE) {
      if (c.halted) { c.halted = false; this.host.kick(c.idx, now); }
      this.run(c, now);
    }
  }

  // ------------------------------------------------------------------ timers

  onTimer(kind: number, arg: number, now: number): void {
    if (kind === T_SEG) this.segmentDone(this.cpus[arg], now);
    else if (kind === T_DEV) this.raiseIrq(arg, IRQ_TIMER, now);
    else if (kind === T_HRIRQ) this.raiseIrqNow(arg, IRQ_TIMER, now);
    else this.raiseIrq(arg, IRQ_RESCHED, now);
  }

  private armTick(c: KCpu, now: number): void {
    const p = this.tickPeriod;
    const k = Math.floor((now - this.tickPhase) / p) + 1;
    this.hrtimerStart(c.tickHr, c.idx, this.tickPhase + k * p, 0, now);
    c.tickOn = true;
  }

  /** Registers a kernel hrtimer (setup, or the first use by a task). */
  private newHrtimer(kind: number, arg: number): number {
    const id = this.hrKind.length;
    this.hrKind.push(kind);
    this.hrArg.push(arg);
    this.hrCpu.push(0);
    this.hrSoft.push(0);
    this.hrHard.push(0);
    this.hrSeq.push(0);
    this.hrPos.push(-1);
    return id;
  }

  /** hrtimer_is_queued. */
  private hrtimerQueued(id: number): boolean {
    return this.hrPos[id] >= 0;
  }

  /** (hard, seq) order of two queued timers. */
  private hrLess(a: number, b: number): boolean {
    const ha = this.hrHard[a], hb = this.hrHard[b];
    return ha < hb || (ha === hb && this.hrSeq[a] < this.hrSeq[b]);
  }

  private hqUp(c: KCpu, k: number): void {
    const h = c.hq, pos = this.hrPos;
    const id = h[k];
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!this.hrLess(id, h[p])) break;
      h[k] = h[p]; pos[h[k]] = k;
      k = p;
    }
    h[k] = id; pos[id] = k;
  }

  private hqDown(c: KCpu, k: number): void {
    const h = c.hq, pos = this.hrPos, n = c.hqN;
    const id = h[k];
    for (;;) {
      let m = 2 * k + 1;
      if (m >= n) break;
      if (m + 1 < n && this.hrLess(h[m + 1], h[m])) m++;
      if (!this.hrLess(h[m], id)) break;
      h[k] = h[m]; pos[h[k]] = k;
      k = m;
    }
    h[k] = id; pos[id] = k;
  }

  private hqRemove(c: KCpu, id: number): void {
    const k = this.hrPos[id];
    this.hrPos[id] = -1;
    const last = --c.hqN;
    if (k === last) return;
    const moved = c.hq[last];
    c.hq[k] = moved;
    this.hrPos[moved] = k;
    if (k > 0 && this.hrLess(moved, c.hq[(k - 1) >> 1])) this.hqUp(c, k);
    else this.hqDown(c, k);
  }

  /**
   * hrtimer_start_range_ns on CPU `cpu`: soft expiry `soft`, hard expiry
   * soft + slack. Reprograms the device when the timer becomes the first to
   * expire (unless hrtimer_interrupt is running there). Returns true if it
   * programmed the device.
   */
  private hrtimerStart(id: number, cpu: number, soft: number, slack: number, now: number): boolean {
    let force = false;
    if (this.hrPos[id] >= 0) {
      // remove_hrtimer(restart): the device of its CPU is reprogrammed if it was the next to expire
      const oc = this.cpus[this.hrCpu[id]];
      const wasFirst = oc.hq[0] === id;
      this.hqRemove(oc, id);
      if (wasFirst) { if (oc.idx !== cpu) { if (!oc.inHrtirq) this.reprogram(oc, now); } else force = true; }
    }
    const c = this.cpus[cpu];
    this.hrCpu[id] = cpu;
    this.hrSoft[id] = soft;
    const hard = soft + slack;
    this.hrHard[id] = hard;
    this.hrSeq[id] = this.hrSeqNext++;
    const k = c.hqN++;
    if (k === c.hq.length) c.hq.push(id); else c.hq[k] = id;
    this.hqUp(c, k);
    if ((force || hard < c.expiresNext) && !c.inHrtirq) {
      this.reprogram(c, now);
      return true;
    }
    return false;
  }

  /** hrtimer_cancel: dequeue; reprogram when it was the first to expire. */
  private hrtimerCancel(id: number, now: number): void {
    if (this.hrPos[id] < 0) return;
    const c = this.cpus[this.hrCpu[id]];
    const wasFirst = c.hq[0] === id;
    this.hqRemove(c, id);
    if (wasFirst && !c.inHrtirq) this.reprogram(c, now);
  }

  /**
   * Programs CPU c's clockevent device for its earliest hard expiry
   * (clockevents_program_event): fire = now + max(min delta, expiry - now).
   */
  private reprogram(c: KCpu, now: number): void {
    const next = c.hqN > 0 ? this.hrHard[c.hq[0]] : Infinity;
    c.expiresNext = next;
    const h = this.host;
    if (next === Infinity) {
      if (c.devFire < 0) return;
      c.devFire = -1;
      if (h.setTimer !== undefined) h.setTimer(c.idx, -1, now); else this.sim.cancel(c.devTimer);
      return;
    }
    const min = h.minTimerDelta !== undefined ? h.minTimerDelta(c.idx) : 0;
    const delta = next - now;
    const fire = now + (delta > min ? delta : min);
    c.devFire = fire;
    if (h.setTimer !== undefined) h.setTimer(c.idx, fire, now); else this.sim.arm(c.devTimer, fire);
  }

  /**
   * hrtimer_interrupt on CPU c: run every timer whose soft expiry has passed
   * (in hard-expiry order, stopping at the first that is not due), again
   * while the next one is already due, then reprogram the device.
   */
  private hrtimerInterrupt(c: KCpu, now: number): void {
    c.inHrtirq = true;
    c.expiresNext = Infinity;
    for (;;) {
      while (c.hqN > 0) {
        const id = c.hq[0];
        if (this.hrSoft[id] > now) break;
        this.hqRemove(c, id);
        this.runHrtimer(c, id, now);
      }
      if (c.hqN === 0 || this.hrHard[c.hq[0]] > now) break;
    }
    c.inHrtirq = false;
    this.reprogram(c, now);
  }

  /** __run_hrtimer: the callback of an expired timer. */
  private runHrtimer(c: KCpu, id: number, now: number): void {
    const k = this.hrKind[id];
    if (k === HR_TICK) this.tickSchedTimer(c, now);
    else if (k === HR_SLEEP) {
      const t = this.tasks[this.hrArg[id]];
      const p = t.probe;
      if (p !== null && p.armed && !p.fired) {
        if (c.probes.length !== 0) this.probeMark(c, now);
        p.fired = true;
      }
      this.wake(t, c, now, false);
    } else if (k === HR_DL) this.dlTaskTimer(c, this.tasks[this.hrArg[id]], now);
    else this.rtPeriodTimer(c, now);
  }

  /** tick_sched_timer -> scheduler_tick -> curr->sched_class->task_tick. */
  private tickSchedTimer(c: KCpu, now: number): void {
    const t = c.curr;
    if (t === null) { c.tickOn = false; return; } // the tick stops (NO_HZ idle); schedule() restarts it for the next task
    this.armTick(c, now);
    if (t.cls === CLS_FAIR) {
      const rq = c.rq;
      rq.updateCurr(this.clockTask(c, now));
      if (rq.nrRunning > 1 && !c.needResched && rq.checkPreemptTick()) this.resched(c, SW_PREEMPT_TICK);
    } else if (t.cls === CLS_RT) this.taskTickRt(c, t, now);
    else this.updateCurrDl(c, t, this.clockTask(c, now), now);
  }

  // ------------------------------------------------------------ latency probe

  /** Starts the measurement of probe p, whose task sleeps on CPU c until `expiry`. */
  private probeArm(c: KCpu, p: LatencyProbe, expiry: number, now: number): void {
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
  private probeMark(c: KCpu, now: number): void {
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
  private markSlice(c: KCpu, a: number, b: number): void {
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

  // --------------------------------------------------------------- execution

  /** Stops the clock on whatever the CPU is executing. */
  private freeze(c: KCpu, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    const ran = now - c.execStart;
    const ek = c.execKind;
    if (ek === EX_PREFIX) {
      c.prefixRemaining -= ran;
      c.prefixClock = c.prefixClock > ran ? c.prefixClock - ran : 0;
    } else if (ek === EX_TASK) {
      const t = c.curr!;
      if (t.inGuest) { t.inGuest = false; t.carrier!.exit(t, now); }
      this.taskRan(c, t, ran);
    } else if (ek === EX_SOFTIRQ) c.softirq -= ran;
    if (ek !== EX_NONE) this.sim.cancel(c.segTimer);
    c.execKind = EX_NONE;
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
  }

  private segmentDone(c: KCpu, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
    const ek = c.execKind;
    c.execKind = EX_NONE;
    if (ek === EX_PREFIX) {
      c.prefixRemaining = 0;
      this.prefixDone(c, now);
    } else if (ek === EX_TASK) {
      // the segment, or the part of it that an interrupt or a preemption waited for, is done
      const t = c.curr!;
      if (t.inGuest) { t.inGuest = false; t.carrier!.exit(t, now); }
      this.taskRan(c, t, now - c.execStart);
    } else if (ek === EX_SOFTIRQ) c.softirq = 0;
    this.run(c, now);
  }

  /**
   * Task t (on CPU c) executed `ran` ns of its segment: count down its
   * parts, drawing the next chunks of a kernel activity as they start
   * (a finished segment draws nothing more unless `account` asks for the
   * split). Returns the ns of interrupts-off and non-preemptible parts in it.
   */
  private taskRan(c: KCpu, t: Task, ran: number, account = false): number {
    if (ran <= 0) return 0;
    t.segClock = t.segClock > ran ? t.segClock - ran : 0;
    const done = ran >= t.segRemaining;
    t.segRemaining = done ? 0 : t.segRemaining - ran;
    if (t.kAct < 0) return 0;
    if (done && !account) {
      t.cI = t.cN = t.cP = 0;
      t.kWork = 0;
      return 0;
    }
    let r = ran, np = 0;
    for (;;) {
      let x = r < t.cI ? r : t.cI; t.cI -= x; r -= x; np += x;
      x = r < t.cN ? r : t.cN; t.cN -= x; r -= x; np += x;
      x = r < t.cP ? r : t.cP; t.cP -= x; r -= x;
      // stop inside a chunk, or exactly at its end: that is a preemption point, and
      // run() draws the next chunk when the task goes on
      if (t.cI + t.cN + t.cP > 0 || r <= 0 || t.kWork <= 0) break;
      this.drawChunk(c, t);
    }
    return np;
  }

  /**
   * The next chunk of task t's kernel activity: [interrupts off][non-preemptible][preemptible]
   * drawn from the preemption model's distributions (absent parts empty) and cut to the work left.
   * The end of a chunk is a preemption point (cond_resched / might_sleep / preempt_enable).
   */
  private drawChunk(c: KCpu, t: Task): void {
    const a = this.lat.activities[t.kAct];
    const r = t.rng ?? c.krng;
    let w = t.kWork;
    let ci = 0, cn = 0, cp = 0;
    if (a.irqoff === null && a.np === null && a.p === null) cn = w; // no section data: one non-preemptible stretch
    else {
      if (a.irqoff !== null) { ci = a.irqoff.sample(r); if (ci > w) ci = w; w -= ci; }
      if (a.np !== null) { cn = a.np.sample(r); if (cn > w) cn = w; w -= cn; }
      if (a.p !== null) { cp = a.p.sample(r); if (cp > w) cp = w; w -= cp; }
      if (ci + cn + cp === 0) { cn = w; w = 0; } // degenerate draws: do not loop forever
    }
    t.kWork = w;
    t.cI = ci;
    t.cN = cn;
    t.cP = cp;
  }

  /** The prefix of CPU c is complete: do what it stood for. */
  private prefixDone(c: KCpu, now: number): void {
    const k = c.prefixKind;
    c.prefixKind = PK_NONE;
    c.prefixClock = 0;
    if (k === PK_IRQ) this.irqAction(c, c.prefixArg, now);
    else if (k === PK_SCHED) this.schedule(c, now);
  }

  private startExec(c: KCpu, kind: number, dur: number, now: number): void {
    if (c.probes.length !== 0) this.probeMark(c, now);
    c.execKind = kind;
    c.execStart = now;
    c.busySince = now;
    if (dur < 1e17) this.sim.arm(c.segTimer, now + dur);
    if (kind === EX_TASK) {
      const t = c.curr!;
      if (t.carrier !== null && t.act === A_GUEST && t.phase === 1) { t.inGuest = true; t.carrier.enter(t, now); }
    }
  }

  /** Decides what CPU c executes next (see the header comment). */
  private run(c: KCpu, now: number): void {
    if (now === this.guardTime) {
      if (++this.guard > 1_000_000) throw new Error(`${this.cfg.name}: a million scheduling steps at t=${now} ns without time advancing (zero-cost livelock: give some operation a cost)`);
    } else { this.guardTime = now; this.guard = 0; }
    for (;;) {
      if (!c.running) return;
      if (c.prefixRemaining > 0) {
        this.startExec(c, EX_PREFIX, c.prefixRemaining, now);
        return;
      }
      if (c.prefixKind !== PK_NONE) {
        // zero-cost prefix: complete it immediately
        this.prefixDone(c, now);
        continue;
      }
      const t = c.curr;
      if (c.pendingIrq !== 0 && (t === null || t.segRemaining === 0 || (t.cI === 0 && t.np !== NP_IRQS_OFF))) {
        const x = c.pendingIrq;
        const irq = 31 - Math.clz32(x & -x);
        c.pendingIrq = x & ~(1 << irq);
        c.irqs++;
        c.prefixKind = PK_IRQ;
        c.prefixArg = irq;
        if (irq === IRQ_TIMER) {
          c.timerHandler = true;
          // the handler's clock reads (entry, reprogramming, each wake-up's rq clock) are charged
          // up front: they delay the woken task's switch-in all the same
          const rd = this.clockRead(c);
          const r = rd > 0 ? rd * (this.lat.readsHrtimerInterrupt + this.lat.readsWakeUp * this.expiredSleepers(c, now)) : 0;
          c.prefixRemaining = this.costOf(c, C.timer_irq) + r;
          c.prefixClock = r;
        } else if (irq === IRQ_RESCHED) c.prefixRemaining = this.costOf(c, C.ipi_irq);
        else {
          const a = this.irqLines[irq - IRQ_DEV0];
          if (this.preempt === PREEMPT_RT && !this.irqNoThread[irq - IRQ_DEV0]) {
            // the primary handler wakes the irq thread: one rq clock read
            const r = this.lat.readsWakeUp * this.clockRead(c);
            c.prefixRemaining = a.primary!.sample(c.krng) + r;
            c.prefixClock = r;
          } else c.prefixRemaining = a.hardirq!.sample(c.krng);
        }
        continue;
      }
      if (c.softirq > 0) {
        this.startExec(c, EX_SOFTIRQ, c.softirq, now);
        return;
      }
      if (c.needResched) {
        if (t === null) { this.schedule(c, now); continue; }
        if ((t.np === NP_NONE && t.cI === 0 && t.cN === 0) || (t.segRemaining === 0 && t.state === TASK_SLEEPING)) {
          c.prefixKind = PK_SCHED;
          const r = this.lat.readsSchedule * this.clockRead(c);
          c.prefixRemaining = this.costOf(c, C.schedule) + r;
          c.prefixClock = r;
          continue;
        }
      }
      if (t === null) {
        if (c.tickOn) { this.hrtimerCancel(c.tickHr, now); c.tickOn = false; }
        if (!c.halted) {
          c.halted = true;
          this.host.halt(c.idx, now);
        }
        return;
      }
      if (t.segRemaining > 0) {
        // a kernel activity between two chunks (a preemption point just passed): the next chunk
        if (t.kAct >= 0 && t.cI + t.cN + t.cP === 0) this.drawChunk(c, t);
        // stop at the end of the interrupts-off part if an interrupt waits, at the end
        // of the non-preemptible part if a reschedule does
        let dur = t.segRemaining;
        if (c.pendingIrq !== 0 && t.cI > 0) dur = t.cI;
        else if (c.needResched && t.cI + t.cN > 0) dur = t.cI + t.cN;
        this.startExec(c, EX_TASK, dur, now);
        return;
      }
      this.step(c, t, now);
    }
  }

  /** Sets need_resched on CPU c (resched_curr), remembering why. */
  private resched(c: KCpu, reason: number): void {
    if (c.needResched) return;
    c.needResched = true;
    c.reschedReason = reason;
  }

  /** resched_curr(rq) from code running on CPU `from` (null: no CPU context): an IPI when remote. */
  private reschedFrom(from: KCpu | null, c: KCpu, reason: number, now: number): void {
    if (c.needResched) return;
    this.resched(c, reason);
    if (from !== null && from !== c) {
      from.ipisSent++;
      this.host.sendIpi(from.idx, c.idx, now);
    }
  }

  /** A resched of CPU c that accounting done from CPU `from` has just requested needs an IPI when remote. */
  private ipiIfNewResched(from: KCpu, c: KCpu, had: boolean, now: number): void {
    if (!had && c.needResched && from !== c) {
      from.ipisSent++;
      this.host.sendIpi(from.idx, c.idx, now);
    }
  }

  /** Sleep hrtimers of CPU c whose soft expiry has passed (the wake-ups the timer interrupt will do). */
  private expiredSleepers(c: KCpu, now: number): number {
    let n = 0;
    for (let i = 0; i < c.hqN; i++) {
      const id = c.hq[i];
      if (this.hrKind[id] === HR_SLEEP && this.hrSoft[id] <= now) n++;
    }
    return n;
  }

  /** The body of interrupt `irq` on CPU c, run when its handler's cost has elapsed. */
  private irqAction(c: KCpu, irq: number, now: number): void {
    if (irq === IRQ_TIMER) {
      this.hrtimerInterrupt(c, now);
      c.timerHandler = false;
      return;
    }
    if (irq === IRQ_RESCHED) return; // scheduler_ipi; need_resched was set by the waker
    const a = this.irqLines[irq - IRQ_DEV0];
    if (this.preempt !== PREEMPT_RT || this.irqNoThread[irq - IRQ_DEV0]) {
      const h = this.irqHandlers[irq - IRQ_DEV0];
      if (h !== null) h(c.idx, now);
      // the softirq raised by the handler runs on interrupt exit
      c.softirq += a.work.sample(c.krng);
      return;
    }
    // PREEMPT_RT: the primary handler wakes the line's irq thread on this CPU
    const line = irq - IRQ_DEV0;
    let th = c.irqThreads[line] ?? null;
    if (th === null) {
      th = new IrqThread(a, this.irqHandlers[line]);
      c.irqThreads[line] = th;
      th.task = this.spawn(`irq/${irq}-${a.name}/${c.idx}`, th, c.idx, [c.idx], 0, now, 0, { policy: SCHED_FIFO, priority: this.lat.irqThreadPriority });
      th.task.rng = c.krng;
    } else {
      th.pending++;
      this.wake(th.task!, c, now, false);
    }
  }

  /** __schedule() on CPU c. */
  private schedule(c: KCpu, now: number): void {
    const prev = c.curr;
    const rq = c.rq;
    const clock = this.clockTask(c, now);
    let reason = c.reschedReason;
    if (prev !== null) {
      if (prev.state === TASK_SLEEPING) {
        if (prev.cls === CLS_FAIR) rq.dequeue(prev, clock, true);
        else this.deactivate(c, prev, clock, now);
        prev.goingToSleep = false;
        prev.nvcsw++;
        reason = SW_BLOCK;
      }
    } else {
      reason = SW_IDLE;
    }
    // pick_next_task: the all-CFS fast path, else class by class
    const next = (prev === null || prev.cls === CLS_FAIR) && !c.rt.queued && c.dl.n === 0
      ? rq.pickNext(clock)
      : this.pickNextSlow(c, prev, clock, now);
    // need_resched is cleared after picking, as __schedule does
    c.needResched = false;
    if (next === prev) {
      if (this.smp && next !== null && next.cls !== CLS_FAIR) this.pushAfterSchedule(c, next, now);
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
      if (!c.tickOn) this.armTick(c, now);
      if (this.smp && next.cls !== CLS_FAIR) this.pushAfterSchedule(c, next, now);
    }
  }

  /** put_prev_task_balance + put_prev_task + the class loop of pick_next_task. */
  private pickNextSlow(c: KCpu, prev: Task | null, clock: number, now: number): Task | null {
    if (prev !== null && this.smp) {
      // balance from prev's class downwards, stopping at a class with a runnable task
      if (prev.cls === CLS_DL) {
        if (!prev.dlQueued) this.pullDl(c, now);
        if (c.dl.n === 0 && c.rt.highest() > prev.prio) this.pullRt(c, now);
      } else if (prev.cls === CLS_RT) {
        if (!prev.onRq && c.rt.highest() > prev.prio) this.pullRt(c, now);
      }
    }
    if (prev !== null) {
      if (prev.cls === CLS_RT) this.updateCurrRt(c, prev, clock);
      else if (prev.cls === CLS_DL) this.updateCurrDl(c, prev, clock, now);
    }
    let next = c.dl.leftmost();
    if (next === null && c.rt.queued) next = c.rt.first();
    if (next !== null) {
      if (prev !== null && prev.cls === CLS_FAIR) c.rq.putPrev(clock);
      next.execStart = clock; // set_next_task_{dl,rt}
      return next;
    }
    return c.rq.pickNext(clock);
  }

  /** deactivate_task for a blocking RT or DL task. */
  private deactivate(c: KCpu, p: Task, clock: number, now: number): void {
    if (p.cls === CLS_RT) {
      if (c.curr !== null && c.curr.cls === CLS_RT) this.updateCurrRt(c, c.curr, clock);
      c.rt.dequeue(p);
    } else {
      if (c.curr !== null && c.curr.cls === CLS_DL) this.updateCurrDl(c, c.curr, clock, now);
      c.dl.remove(p);
    }
    p.onRq = false;
  }

  /**
   * check_preempt_curr for a task p just queued on CPU c: a higher class
   * always preempts; within a class the class decides.
   */
  private checkPreemptCurr(c: KCpu, p: Task): void {
    const curr = c.curr;
    if (curr === null) { this.resched(c, SW_IDLE); return; }
    if (p.cls !== curr.cls) {
      if (p.cls > curr.cls) this.resched(c, SW_PREEMPT_WAKEUP);
      return;
    }
    if (p.cls === CLS_RT) {
      if (p.prio < curr.prio) this.resched(c, SW_PREEMPT_WAKEUP); // check_preempt_curr_rt
    } else if (p.cls === CLS_DL) {
      if (p.deadline < curr.deadline) this.resched(c, SW_PREEMPT_WAKEUP); // check_preempt_curr_dl
    }
  }

  /**
   * try_to_wake_up(p) from CPU `waker`. Returns true if p was sleeping.
   * Sets need_resched on the target and sends an IPI when it is remote.
   * `sync`: WF_SYNC (a pipe write), which lets wake_affine_idle take the
   * waker's CPU when it runs only the waker.
   */
  private wake(p: Task, waker: KCpu, now: number, sync = true): boolean {
    if (p.state === TASK_RUNNING) return false;
    p.state = TASK_RUNNING;
    p.wakeups++;
    if (p.onRq) {
      // still on its runqueue: it has not finished blocking (ttwu_remote)
      p.goingToSleep = false;
      if (this.wakeObs !== null) this.wakeObs.onWakeup(p, waker.idx, p.cpu, now);
      return true;
    }
    let tc: KCpu;
    if (p.cls === CLS_FAIR) {
      const target = this.selectCpu(p, waker, sync);
      tc = this.cpus[target];
      const migrated = target !== p.cpu;
      if (migrated) { p.vruntime -= this.cpus[p.cpu].rq.minVruntime; p.nrMigrations++; } // migrate_task_rq_fair
      p.cpu = target;
      const clock = this.clockTask(tc, now);
      tc.rq.enqueue(p, clock, true, migrated);
      if (!tc.needResched) {
        if (tc.curr === null) this.resched(tc, SW_IDLE);
        else if (tc.curr.cls === CLS_FAIR && tc.rq.checkPreemptWakeup(p, clock)) this.resched(tc, SW_PREEMPT_WAKEUP);
      }
    } else {
      const target = p.allowed.length === 1 ? p.allowed[0]
        : p.cls === CLS_RT ? this.selectRqRt(p, waker) : this.selectRqDl(p, waker);
      tc = this.cpus[target];
      if (target !== p.cpu) { p.nrMigrations++; p.cpu = target; }
      if (p.cls === CLS_RT) this.enqueueRt(tc, p, false, now);
      else this.enqueueDl(tc, p, EN_WAKEUP, now);
      if (!tc.needResched) this.checkPreemptCurr(tc, p);
      if (this.smp) this.taskWoken(tc, p, waker, now);
    }
    if (this.wakeObs !== null) this.wakeObs.onWakeup(p, waker.idx, tc.idx, now);
    if (tc !== waker && tc.needResched) {
      waker.ipisSent++;
      this.host.sendIpi(waker.idx, tc.idx, now);
    }
    return true;
  }

  private idleCpu(c: KCpu): boolean {
    return c.curr === null && this.nrRunning(c) === 0;
  }

  /**
   * select_task_rq_fair for a wake-up, simplified: wake_affine_idle
   * (the waker's CPU if idle, or, for a sync wake-up, if it runs only the
   * waker), then select_idle_sibling (target if idle, else the previous CPU
   * if idle, else any idle allowed CPU, else target).
   */
  private selectCpu(p: Task, waker: KCpu, sync: boolean): number {
    const al = p.allowed;
    if (al.length === 1) return al[0];
    const prev = p.cpu;
    let target = prev;
    const w = waker.idx;
    if (al.includes(w)) {
      if (this.idleCpu(waker)) target = this.idleCpu(this.cpus[prev]) ? prev : w;
      else if (sync && this.nrRunning(waker) === 1) target = w;
    }
    if (this.idleCpu(this.cpus[target])) return target;
    if (prev !== target && al.includes(prev) && this.idleCpu(this.cpus[prev])) return prev;
    for (let i = 0; i < al.length; i++) if (this.idleCpu(this.cpus[al[i]])) return al[i];
    return target;
  }

  // ------------------------------------------------------------- SCHED_RT

  /** enqueue_task_rt (at the tail, or the head) and start_rt_bandwidth. */
  private enqueueRt(c: KCpu, p: Task, head: boolean, now: number): void {
    c.rt.enqueue(p, head);
    p.onRq = true;
    this.startRtBandwidth(c, now);
  }

  /** update_curr_rt for the running RT task t of CPU c. */
  private updateCurrRt(c: KCpu, t: Task, clock: number): void {
    const d = clock - t.execStart;
    if (d <= 0) return;
    t.sumExec += d;
    t.execStart = clock;
    if (!this.rtBwEnabled) return;
    c.rt.rtTime += d;
    if (this.rtRuntimeExceeded(c)) this.resched(c, SW_OTHER);
  }

  /** sched_rt_runtime_exceeded (RT_RUNTIME_SHARE off: no borrowing). */
  private rtRuntimeExceeded(c: KCpu): boolean {
    const rt = c.rt;
    if (rt.throttled) return true;
    const runtime = this.rtRuntime;
    if (runtime >= this.rtPeriod) return false;
    if (rt.rtTime > runtime) {
      if (runtime > 0) rt.throttled = true; // "sched: RT throttling activated"
      else rt.rtTime = 0;
      if (rt.throttled) return true; // dequeue_top_rt_rq: the rt_rq is no longer visible
    }
    return false;
  }

  /** task_tick_rt. */
  private taskTickRt(c: KCpu, t: Task, now: number): void {
    this.updateCurrRt(c, t, this.clockTask(c, now));
    if (t.policy !== SCHED_RR) return;
    if (--t.timeSlice > 0) return;
    t.timeSlice = this.rrTicks;
    if (c.rt.notAlone(t)) {
      c.rt.requeue(t, false);
      this.resched(c, SW_PREEMPT_TICK);
    }
  }

  /** start_rt_bandwidth: (re)starts the period timer, kicking it right away if its expiry has passed. */
  private startRtBandwidth(c: KCpu, now: number): void {
    if (!this.rtBwEnabled || this.rtPeriodActive) return;
    this.rtPeriodActive = true;
    if (this.rtTimer < 0) this.rtTimer = this.newHrtimer(HR_RT_PERIOD, 0);
    // hrtimer_forward_now(timer, 0): an expiry in the past moves to now + hrtimer_resolution (1 ns)
    if (this.rtExpires <= now) this.rtExpires = now + 1;
    this.hrtimerStart(this.rtTimer, c.idx, this.rtExpires, 0, now);
  }

  /** hrtimer_forward_now(rt_period_timer, rt_period): returns the overrun count. */
  private forwardRtTimer(now: number): number {
    const interval = this.rtPeriod;
    let e = this.rtExpires;
    const delta = now - e;
    if (delta < 0) return 0;
    let orun = 1;
    if (delta >= interval) {
      orun = Math.floor(delta / interval);
      e += interval * orun;
      if (e > now) { this.rtExpires = e; return orun; }
      orun++;
    }
    this.rtExpires = e + interval;
    return orun;
  }

  /** sched_rt_period_timer, running on CPU c. */
  private rtPeriodTimer(c: KCpu, now: number): void {
    let idle = false;
    for (;;) {
      const overrun = this.forwardRtTimer(now);
      if (overrun === 0) break;
      idle = this.doRtPeriod(c, overrun, now);
    }
    if (idle) this.rtPeriodActive = false;
    else this.hrtimerStart(this.rtTimer, c.idx, this.rtExpires, 0, now);
  }

  /** do_sched_rt_period_timer: returns true when the timer may stop. */
  private doRtPeriod(from: KCpu, overrun: number, now: number): boolean {
    let idle = true;
    let throttled = false;
    const runtime = this.rtRuntime;
    for (const q of this.cpus) {
      const rt = q.rt;
      if (rt.rtTime === 0 && rt.nr === 0) continue;
      let enqueue = false;
      if (rt.rtTime !== 0) {
        rt.rtTime -= Math.min(rt.rtTime, overrun * runtime);
        if (rt.throttled && rt.rtTime < runtime) {
          rt.throttled = false;
          enqueue = true;
        }
        if (rt.rtTime !== 0 || rt.nr !== 0) idle = false;
      } else if (rt.nr !== 0) {
        idle = false;
        if (!rt.throttled) enqueue = true;
      }
      if (rt.throttled) throttled = true;
      // sched_rt_rq_enqueue
      if (enqueue && rt.nr !== 0) this.reschedFrom(from, q, SW_OTHER, now);
    }
    if (!throttled && !this.rtBwEnabled) return true;
    return idle;
  }

  /** select_task_rq_rt at wake-up. */
  private selectRqRt(p: Task, waker: KCpu): number {
    let cpu = p.cpu;
    const curr = this.cpus[cpu].curr;
    // rt_task(curr) is true for DL tasks too (prio -1)
    if (curr !== null && curr.prio < MAX_RT_PRIO && (curr.allowed.length < 2 || curr.prio <= p.prio)) {
      const target = this.findLowestRq(p, waker.idx);
      if (target !== -1 && p.prio < this.cpus[target].rt.highest()) cpu = target;
    }
    return cpu;
  }

  /** find_lowest_rq: an allowed CPU of the lowest cpupri below p's, preferring p's CPU, then this CPU. */
  private findLowestRq(p: Task, thisCpu: number): number {
    const al = p.allowed;
    if (al.length === 1) return -1;
    let best = Infinity;
    for (let i = 0; i < al.length; i++) {
      const v = cpupri(this.cpus[al[i]].rt.highest());
      if (v < best) best = v;
    }
    if (best >= cpupri(p.prio)) return -1;
    if (al.includes(p.cpu) && cpupri(this.cpus[p.cpu].rt.highest()) === best) return p.cpu;
    if (al.includes(thisCpu) && cpupri(this.cpus[thisCpu].rt.highest()) === best) return thisCpu;
    for (let i = 0; i < al.length; i++) if (cpupri(this.cpus[al[i]].rt.highest()) === best) return al[i];
    return -1;
  }

  /** deactivate_task + set_task_cpu + activate_task of a queued RT task. */
  private moveRt(src: KCpu, dst: KCpu, p: Task, from: KCpu, now: number): void {
    const had = src.needResched;
    if (src.curr !== null && src.curr.cls === CLS_RT) this.updateCurrRt(src, src.curr, this.clockTask(src, now));
    this.ipiIfNewResched(from, src, had, now);
    src.rt.dequeue(p);
    p.cpu = dst.idx;
    p.nrMigrations++;
    this.enqueueRt(dst, p, false, now);
  }

  /** push_rt_tasks(c), run by CPU `from`. */
  private pushRt(c: KCpu, from: KCpu, now: number): void {
    for (;;) {
      if (!c.rt.overloaded()) return;
      const p = c.rt.highestPushable(c.curr, -1);
      if (p === null) return;
      if (c.curr !== null && p.prio < c.curr.prio) { this.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now); return; }
      const target = this.findLowestRq(p, from.idx);
      if (target === -1 || target === c.idx) return;
      const tc = this.cpus[target];
      if (tc.rt.highest() <= p.prio) return;
      this.moveRt(c, tc, p, from, now);
      this.reschedFrom(from, tc, SW_PREEMPT_WAKEUP, now);
    }
  }

  /** pull_rt_task(c): take queued RT tasks that would run here from overloaded CPUs. */
  private pullRt(c: KCpu, now: number): void {
    let count = 0;
    for (const s of this.cpus) if (s.rt.overloaded()) count++;
    if (count === 0 || (count === 1 && c.rt.overloaded())) return;
    let pulled = false;
    for (const s of this.cpus) {
      if (s === c || !s.rt.overloaded()) continue;
      const nextOfSrc = s.rt.highestPushable(s.curr, -1);
      if (nextOfSrc === null || nextOfSrc.prio >= c.rt.highest()) continue;
      const p = s.rt.highestPushable(s.curr, c.idx);
      if (p !== null && p.prio < c.rt.highest()) {
        if (s.curr !== null && p.prio < s.curr.prio) continue; // it is about to preempt its own CPU
        this.moveRt(s, c, p, c, now);
        pulled = true;
      }
    }
    if (pulled) this.resched(c, SW_OTHER);
  }

  // ------------------------------------------------------- SCHED_DEADLINE

  /** enqueue_task_dl. */
  private enqueueDl(c: KCpu, p: Task, flags: number, now: number): void {
    p.onRq = true;
    // dl_check_constrained_dl: woken after the deadline but before the next period
    if (!p.dlThrottled && p.dlDeadline !== p.dlPeriod && p.deadline < now && now < dlNextPeriod(p)) {
      if (this.startDlTimer(c, p, now)) {
        p.dlThrottled = true;
        if (p.runtime > 0) p.runtime = 0;
      }
    }
    if (p.dlThrottled && !(flags & EN_REPLENISH)) return; // the replenishment timer will enqueue it
    if (flags & EN_WAKEUP) updateDlEntity(p, now);
    else if (flags & EN_REPLENISH) replenishDlEntity(p, now);
    c.dl.insert(p);
  }

  /** start_dl_timer: arm the replenishment timer at the next period; false if that instant has passed. */
  private startDlTimer(c: KCpu, p: Task, now: number): boolean {
    const act = dlNextPeriod(p);
    // ktime_us_delta(act, now) < 0, truncated towards zero
    if (Math.trunc((act - now) / 1000) < 0) return false;
    if (!this.hrtimerQueued(p.dlTimer)) this.hrtimerStart(p.dlTimer, c.idx, act, 0, now);
    return true;
  }

  /** update_curr_dl for the running DL task t of CPU c: charge runtime, throttle when it is used up. */
  private updateCurrDl(c: KCpu, t: Task, clock: number, now: number): void {
    if (!t.dlQueued) return;
    const d = clock - t.execStart;
    if (d <= 0) return;
    t.sumExec += d;
    t.execStart = clock;
    t.runtime -= d;
    if (t.runtime <= 0) {
      t.dlThrottled = true;
      c.dl.remove(t);
      if (!this.startDlTimer(c, t, now)) this.enqueueDl(c, t, EN_REPLENISH, now);
      if (c.dl.leftmost() !== t) this.resched(c, SW_OTHER);
    }
    // 5.10 charges DL run time to the RT bandwidth too (sched_rt_bandwidth_account)
    if (this.rtBwEnabled && (this.rtPeriodActive || c.rt.rtTime < this.rtRuntime)) c.rt.rtTime += d;
  }

  /** dl_task_timer: replenish a throttled task and queue it again if it is runnable. */
  private dlTaskTimer(from: KCpu, p: Task, now: number): void {
    if (p.cls !== CLS_DL || !p.dlThrottled) return;
    if (!p.onRq) {
      replenishDlEntity(p, now);
      return;
    }
    const c = this.cpus[p.cpu];
    this.enqueueDl(c, p, EN_REPLENISH, now);
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_DL) {
      if (p.deadline < curr.deadline) this.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
    } else this.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
    if (this.smp && c.dl.earliestPushable(c.curr, -1) !== null) this.pushDlOnce(c, from, now);
  }

  /** select_task_rq_dl at wake-up. */
  private selectRqDl(p: Task, waker: KCpu): number {
    let cpu = p.cpu;
    const curr = this.cpus[cpu].curr;
    if (curr !== null && curr.cls === CLS_DL && (curr.allowed.length < 2 || !(p.deadline < curr.deadline)) && p.allowed.length > 1) {
      const target = this.findLaterRq(p, waker.idx);
      if (target !== -1 && (p.deadline < this.cpus[target].dl.earliest() || this.cpus[target].dl.n === 0)) cpu = target;
    }
    return cpu;
  }

  /** find_later_rq over cpudl: an allowed CPU without DL tasks, else the one with the latest earliest deadline. */
  private findLaterRq(p: Task, thisCpu: number): number {
    const al = p.allowed;
    if (al.length === 1) return -1;
    let anyFree = false;
    for (let i = 0; i < al.length; i++) if (this.cpus[al[i]].dl.n === 0) { anyFree = true; break; }
    if (anyFree) {
      if (al.includes(p.cpu) && this.cpus[p.cpu].dl.n === 0) return p.cpu;
      if (al.includes(thisCpu) && this.cpus[thisCpu].dl.n === 0) return thisCpu;
      for (let i = 0; i < al.length; i++) if (this.cpus[al[i]].dl.n === 0) return al[i];
    }
    // cpudl_maximum over the root domain
    let best = -1;
    let latest = -Infinity;
    for (const q of this.cpus) {
      if (q.dl.n > 0 && q.dl.earliest() > latest) { latest = q.dl.earliest(); best = q.idx; }
    }
    if (best >= 0 && al.includes(best) && p.deadline < latest) return best;
    return -1;
  }

  /** deactivate_task + set_task_cpu + activate_task of a queued DL task. */
  private moveDl(src: KCpu, dst: KCpu, p: Task, from: KCpu, now: number): void {
    const had = src.needResched;
    if (src.curr !== null && src.curr.cls === CLS_DL) this.updateCurrDl(src, src.curr, this.clockTask(src, now), now);
    this.ipiIfNewResched(from, src, had, now);
    src.dl.remove(p);
    p.cpu = dst.idx;
    p.nrMigrations++;
    this.enqueueDl(dst, p, 0, now);
  }

  /** push_dl_task(c), run by CPU `from`; returns true if a task moved. */
  private pushDlOnce(c: KCpu, from: KCpu, now: number): boolean {
    if (!c.dl.overloaded()) return false;
    const p = c.dl.earliestPushable(c.curr, -1);
    if (p === null) return false;
    const curr = c.curr;
    if (curr !== null && curr.cls === CLS_DL && p.deadline < curr.deadline && curr.allowed.length > 1) {
      this.reschedFrom(from, c, SW_PREEMPT_WAKEUP, now);
      return false;
    }
    const target = this.findLaterRq(p, from.idx);
    if (target === -1 || target === c.idx) return false;
    const tc = this.cpus[target];
    if (tc.dl.n > 0 && !(p.deadline < tc.dl.earliest())) return false;
    this.moveDl(c, tc, p, from, now);
    this.reschedFrom(from, tc, SW_PREEMPT_WAKEUP, now);
    return true;
  }

  /** pull_dl_task(c). */
  private pullDl(c: KCpu, now: number): void {
    let any = false;
    for (const s of this.cpus) if (s.dl.overloaded()) { any = true; break; }
    if (!any) return;
    let dmin = Infinity;
    let pulled = false;
    for (const s of this.cpus) {
      if (s === c || !s.dl.overloaded()) continue;
      const nextOfSrc = s.dl.earliestPushable(s.curr, -1);
      if (c.dl.n > 0 && (nextOfSrc === null || c.dl.earliest() < nextOfSrc.deadline)) continue;
      if (s.dl.n <= 1) continue;
      const p = s.dl.earliestPushable(s.curr, c.idx);
      if (p !== null && p.deadline < dmin && (c.dl.n === 0 || p.deadline < c.dl.earliest())) {
        const sc = s.curr;
        if (sc !== null && sc.cls === CLS_DL && p.deadline < sc.deadline) continue;
        this.moveDl(s, c, p, c, now);
        dmin = p.deadline;
        pulled = true;
      }
    }
    if (pulled) this.resched(c, SW_OTHER);
  }

  // -------------------------------------------------------- SMP RT/DL glue

  /** task_woken_rt / task_woken_dl: push a woken task that will not run here soon. */
  private taskWoken(c: KCpu, p: Task, from: KCpu, now: number): void {
    const curr = c.curr;
    if (curr === p || c.needResched || p.allowed.length < 2 || curr === null) return;
    if (p.cls === CLS_RT) {
      if (curr.prio < MAX_RT_PRIO && (curr.allowed.length < 2 || curr.prio <= p.prio)) this.pushRt(c, from, now);
    } else if (p.cls === CLS_DL) {
      if (curr.cls === CLS_DL && (curr.allowed.length < 2 || !(p.deadline < curr.deadline))) {
        while (this.pushDlOnce(c, from, now));
      }
    }
  }

  /** The balance callback queued by set_next_task_{rt,dl}: push what can run elsewhere. */
  private pushAfterSchedule(c: KCpu, next: Task, now: number): void {
    if (next.cls === CLS_RT) this.pushRt(c, c, now);
    else while (this.pushDlOnce(c, c, now));
  }

  // ----------------------------------------------------------------- actions

  /** Syscall entry: phase 1 of an action, in kernel mode, costing `cost` ns. Returns true if that takes time. */
  private enterSyscall(t: Task, cost: number): boolean {
    t.phase = 1;
    t.inKernel = true;
    t.np = this.syscallNp;
    t.segRemaining = cost;
    return cost > 0;
  }

  /** Syscall exit: the task's action is complete; ask its program for the next one. */
  private finish(t: Task, now: number): void {
    t.inKernel = false;
    t.np = NP_NONE;
    t.cI = t.cN = t.cP = 0;
    t.kAct = -1;
    t.phase = 0;
    t.prog.next(t, now);
  }

  /**
   * hrtimer_start_range_ns for the sleep of task t on CPU c (do_nanosleep):
   * the range [expires, expires + timer_slack_ns], no slack for RT and DL
   * tasks (hrtimer_nanosleep). Returns true if it programmed the device.
   */
  private armSleepTimer(c: KCpu, t: Task, expires: number, now: number): boolean {
    if (t.sleepTimer < 0) t.sleepTimer = this.newHrtimer(HR_SLEEP, t.id);
    return this.hrtimerStart(t.sleepTimer, c.idx, expires, t.cls === CLS_FAIR ? t.timerSlackNs : 0, now);
  }

  /**
   * Starts kernel activity `a` of task t as one segment of `head` ns (the
   * syscall entry: non-preemptible, or preemptible when the model makes
   * syscall paths preemptible) plus `work` ns cut into chunks lazily.
   */
  private startActivity(c: KCpu, t: Task, a: Activity, work: number, head: number): void {
    t.kAct = a.index;
    t.kWork = work;
    t.np = NP_NONE;
    t.cI = t.cN = t.cP = 0;
    if (head > 0) { if (this.syscallNp === NP_NONE) t.cP = head; else t.cN = head; }
    else if (work > 0) this.drawChunk(c, t);
    t.segRemaining = head + work;
  }

  /** Performs the action at a segment boundary of task t and sets up its next segment. */
  private step(c: KCpu, t: Task, now: number): void {
    switch (t.act) {
      case A_GUEST:
        if (t.phase === 0) {
          // vcpu_enter_guest: guest mode until endSegment (preemptible: a host interrupt or
          // a reschedule is a VM exit)
          t.phase = 1;
          t.inKernel = true;
          t.np = NP_NONE;
          t.segRemaining = Infinity;
          return;
        }
        this.finish(t, now);
        return;
      case A_COMPUTE:
        if (t.phase === 0) {
          t.phase = 1;
          t.inKernel = false;
          t.np = NP_NONE;
          t.segRemaining = t.actArg;
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      case A_SLEEP_UNTIL:
        if (t.phase === 0) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall))) return;
        }
        if (t.phase === 1) {
          // set_current_state(TASK_INTERRUPTIBLE); hrtimer_sleeper_start_expires. An
          // absolute target already past is armed too (do_nanosleep has no shortcut):
          // the forced programming fires it after the clockevent's minimum delta.
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          const programmed = this.armSleepTimer(c, t, t.actArg, now);
          if (t.probe !== null) this.probeArm(c, t.probe, t.actArg, now);
          t.phase = 2;
          const r = programmed ? this.lat.readsHrtimerReprogram * this.clockRead(c) : 0;
          t.segRemaining = this.costOf(c, C.sleep) + r;
          t.segClock = r;
          if (t.segRemaining > 0) return;
        }
        if (t.phase === 2) {
          // schedule() unless the timer already woke us
          t.phase = 3;
          if (t.state === TASK_SLEEPING) { this.resched(c, SW_BLOCK); return; }
        }
        this.finish(t, now);
        return;
      case A_PIPE_WRITE: {
        const pipe = this.pipes[t.actArg];
        if (t.phase === 0) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall) + this.costOf(c, C.pipe_write))) return;
        }
        if (t.phase === 1) {
          pipe.tokens++;
          const r = pipe.reader;
          if (r !== null) {
            pipe.reader = null;
            if (this.wake(r, c, now)) {
              t.phase = 2;
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
        if (t.phase === 0) {
          if (this.enterSyscall(t, this.costOf(c, C.syscall))) return;
        }
        if (t.phase === 1) {
          if (pipe.tokens > 0) {
            pipe.tokens--;
            t.phase = 3;
            t.segRemaining = this.costOf(c, C.pipe_read);
            if (t.segRemaining > 0) return;
            this.finish(t, now);
            return;
          }
          // empty: prepare_to_wait and go to sleep
          pipe.reader = t;
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          t.phase = 2;
          t.segRemaining = this.costOf(c, C.sleep);
          if (t.segRemaining > 0) return;
        }
        if (t.phase === 2) {
          // re-check after the wait preparation: woken in between, or block now
          t.phase = 1;
          if (t.state === TASK_SLEEPING) this.resched(c, SW_BLOCK);
          return;
        }
        this.finish(t, now);
        return;
      }
      case A_KERNEL:
      case A_IRQ_WORK:
        if (t.phase === 0) {
          t.phase = 1;
          t.inKernel = true;
          const a = this.lat.activities[t.actArg];
          const r = t.rng ?? c.krng;
          let work = a.work.sample(r);
          let head = 0;
          // a threaded handler: its body, then the softirq work it raised; a syscall: the entry first
          if (t.act === A_IRQ_WORK) { if (a.hardirq !== null) work += a.hardirq.sample(r); }
          else head = this.costOf(c, C.syscall);
          this.startActivity(c, t, a, work, head);
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      case A_CLOCK_READ:
        if (t.phase === 0) {
          t.phase = 1;
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
        if (t.phase === 0 && t.wakeToken) {
          t.wakeToken = false;
          t.phase = 1;
        }
        if (t.phase === 0) {
          t.phase = 1;
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
          case 0:
            t.phase = 1;
            t.inKernel = true;
            t.np = this.syscallNp;
            t.ioLeft = a.accesses;
            t.kWork = a.work.sample(t.rng ?? c.krng);
            t.segRemaining = this.costOf(c, C.syscall);
            if (t.segRemaining > 0) return;
          // falls through
          case 1: {
            t.phase = 2;
            const half = Math.floor(t.kWork / 2);
            t.kWork -= half;
            t.np = lockNp;
            t.segRemaining = half;
            if (half > 0) return;
          }
          // falls through
          case 2: {
            t.phase = 3;
            // the access instruction: atomic for the guest; the host may suspend the CPU meanwhile
            const h = this.host;
            const extra = h.deviceAccess !== undefined ? h.deviceAccess(c.idx, now) : (this.cost[C.device_access] ?? 0);
            t.np = NP_IRQS_OFF;
            t.segRemaining = extra;
            if (extra > 0 || !c.running) return;
          }
          // falls through
          case 3:
            if (--t.ioLeft > 0) {
              // the next register access of the operation, after the driver's work between them,
              // still inside the lock region
              t.phase = 2;
              t.np = lockNp;
              t.segRemaining = a.accessGap !== null ? a.accessGap.sample(t.rng ?? c.krng) : 0;
              if (t.segRemaining > 0) return;
              this.step(c, t, now);
              return;
            }
            t.phase = 4;
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

  /** Total busy (non-idle, executing) ns of CPU `cpu` up to `now`. */
  busyNs(cpu: number, now: number): number {
    const c = this.cpus[cpu];
    return c.busyNs + (c.busySince >= 0 ? now - c.busySince : 0);
  }

  /** Forces every running task's vruntime/sum_exec up to date (for end-of-run statistics). */
  settle(now: number): void {
    for (const c of this.cpus) {
      const t = c.curr;
      if (!c.running || t === null) continue;
      const clock = this.clockTask(c, now);
      if (t.cls === CLS_FAIR) c.rq.updateCurr(clock);
      else if (clock > t.execStart && (t.cls === CLS_RT || t.dlQueued)) {
        t.sumExec += clock - t.execStart;
        t.execStart = clock;
      }
    }
  }
}
