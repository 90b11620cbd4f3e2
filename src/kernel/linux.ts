/**
 * Linux kernel model: the per-CPU execution engine (what a CPU is executing
 * right now, in segments of known cost), interrupts, the scheduler tick,
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
 *  1. a non-preemptible "prefix" (a context switch into `curr`, an interrupt
 *     handler, or schedule()'s entry on the outgoing task);
 *  2. pending interrupts (each becomes a prefix);
 *  3. schedule(), if need_resched is set and the CPU is at a preemption point
 *     (user mode, a task that is blocking, the idle task; anywhere with
 *     CONFIG_PREEMPT);
 *  4. the current task's segment (user computation or a kernel path);
 *  5. idle: the CPU halts (WFI / SCHEDOP_block) until an interrupt.
 * Actions happen at segment boundaries: the end of pipe_write's body makes the
 * data visible and wakes the reader, the end of a read's syscall entry finds
 * the pipe empty and goes to sleep, and so on.
 *
 * Timers. The scheduler tick and the kernel's hrtimers (a task's nanosleep
 * timer, a SCHED_DEADLINE task's replenishment timer, the RT bandwidth period
 * timer) are armed on a CPU; their expiry is the timer interrupt there
 * (IRQ_TIMER, cost `timer_irq`), whose handler runs every timer that expired
 * on that CPU (hrtimer_interrupt), the tick included. A timer expiring while
 * that handler is pending or running on its CPU is served by the same
 * interrupt. Timer slack and hypervisor timer paths are not modelled yet:
 * expiry is exact.
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
 * RT period timer is pinned to the CPU that enqueued the first RT task.
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { RandomStream } from "../engine/random.js";
import { C } from "../hw/board.js";
import { CfsRq, cfsTunables, type CfsTunables } from "../sched/linux/cfs.js";
import { cpupri, RtRq, rrTimesliceTicks, rtPrio } from "../sched/linux/rt.js";
import {
  DlRq, dlNextPeriod, replenishDlEntity, setParamDl, setupNewDlEntity, updateDlEntity,
} from "../sched/linux/deadline.js";
import {
  A_COMPUTE, A_PIPE_READ, A_PIPE_WRITE, A_SLEEP_UNTIL, CLS_DL, CLS_FAIR, CLS_RT, MAX_RT_PRIO, niceToWeight,
  type Program, SCHED_DEADLINE, SCHED_FIFO, SCHED_NORMAL, SCHED_RR, SW_BLOCK, SW_IDLE, SW_OTHER,
  SW_PREEMPT_TICK, SW_PREEMPT_WAKEUP, type SwitchObserver, Task, TASK_RUNNING, TASK_SLEEPING,
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
   * Optional until the kernel uses it; hosts should implement it.
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

const PK_NONE = 0;
const PK_CS = 1; // context switch into curr (charged to curr)
const PK_IRQ = 2; // interrupt handler (prefixArg = irq number)
const PK_SCHED = 3; // schedule() entry on the outgoing task

const EX_NONE = 0;
const EX_PREFIX = 1;
const EX_TASK = 2;

const T_SEG = 0;
const T_TICK = 1;
const T_IPI = 2;
const T_HRTIMER = 3;
const T_HRIRQ = 4;

// hrtimer kinds
const HR_SLEEP = 0; // arg: task id (hrtimer_sleeper of clock_nanosleep)
const HR_DL = 1; // arg: task id (dl_task_timer)
const HR_RT_PERIOD = 2; // sched_rt_period_timer of def_rt_bandwidth
// hrtimer states
const HR_IDLE = 0;
const HR_ARMED = 1;
const HR_EXPIRED = 2; // expired, handler pending on its CPU

// enqueue_task_dl flags
const EN_WAKEUP = 1;
const EN_REPLENISH = 2;

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
  execKind = EX_NONE;
  execStart = 0;
  segTimer = -1;
  tickTimer = -1;
  ipiTimer = -1;
  tickOn = false;
  /** The tick expired and its handler has not run yet. */
  tickPending = false;
  /** Expired hrtimers waiting for this CPU's timer interrupt (linked through LinuxKernel.hrNext). */
  hrHead = -1;
  hrTail = -1;
  /** Delivers the timer interrupt for expired hrtimers, after every timer expiring at the same instant. */
  hrIrqTimer = -1;
  // statistics
  switches = 0;
  busySince = -1;
  busyNs = 0;
  irqs = 0;
  ipisSent = 0;
  constructor(readonly idx: number, tun: CfsTunables, readonly rng: RandomStream) {
    this.rq = new CfsRq(tun);
  }
}

/** Kernel configuration resolved from the spec. */
export interface KernelConfig {
  name: string;
  ncpus: number;
  hz: number;
  paravirtTimeAccounting: boolean;
  preemptFull: boolean;
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
}

/** A Linux kernel instance (one guest, one Dom0, or the native OS). */
export class LinuxKernel implements TimerTarget {
  readonly cpus: KCpu[] = [];
  readonly tasks: Task[] = [];
  readonly pipes: Pipe[] = [];
  readonly tun: CfsTunables;
  host!: CpuHost;
  private observers: SwitchObserver[] = [];
  private readonly tickPeriod: number;
  private readonly tickPhase: number;
  private readonly cost: Float64Array;
  private readonly sigma: number;
  private readonly mu: number;
  private readonly smp: boolean;
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
  private readonly hrSim: number[] = [];
  private readonly hrCpu: number[] = [];
  private readonly hrState: number[] = [];
  private readonly hrLinked: boolean[] = [];
  private readonly hrNext: number[] = [];

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
    for (let i = 0; i < cfg.ncpus; i++) {
      const c = new KCpu(i, this.tun, sim.random.get(`${cfg.name}/cpu${i}/cost`));
      c.segTimer = sim.timer(this, T_SEG, i);
      c.tickTimer = sim.timer(this, T_TICK, i);
      c.ipiTimer = sim.timer(this, T_IPI, i);
      this.cpus.push(c);
    }
  }

  /** Registers a context-switch observer. */
  observe(o: SwitchObserver): void {
    this.observers.push(o);
  }

  /** Creates a pipe. */
  newPipe(): Pipe {
    const p = new Pipe(this.pipes.length);
    this.pipes.push(p);
    return p;
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
  }

  /** An interrupt for CPU `cpu` (timer, or an IPI landing). */
  raiseIrq(cpu: number, irq: number, now: number): void {
    const c = this.cpus[cpu];
    c.pendingIrq |= 1 << irq;
    if (c.running) {
      if (c.execKind === EX_TASK) {
        this.freeze(c, now);
        this.run(c, now);
      } else if (c.execKind === EX_NONE) {
        // halted but still holding the pCPU (the hypervisor has not descheduled it yet)
        if (c.halted) { c.halted = false; this.host.kick(cpu, now); }
        this.run(c, now);
      }
      // EX_PREFIX: non-preemptible; picked up when the prefix ends
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

  // ------------------------------------------------------------------ timers

  onTimer(kind: number, arg: number, now: number): void {
    if (kind === T_SEG) this.segmentDone(this.cpus[arg], now);
    else if (kind === T_HRTIMER) this.hrtimerExpired(arg, now);
    else if (kind === T_HRIRQ) this.raiseTimerIrq(this.cpus[arg], now);
    else if (kind === T_TICK) {
      const c = this.cpus[arg];
      c.tickPending = true;
      this.raiseTimerIrq(c, now);
    } else this.raiseIrq(arg, IRQ_RESCHED, now);
  }

  /** The timer interrupt on CPU c, unless one is already pending or being handled there. */
  private raiseTimerIrq(c: KCpu, now: number): void {
    if (c.prefixKind === PK_IRQ && c.prefixArg === IRQ_TIMER) return;
    this.raiseIrq(c.idx, IRQ_TIMER, now);
  }

  private armTick(c: KCpu, now: number): void {
    const p = this.tickPeriod;
    const k = Math.floor((now - this.tickPhase) / p) + 1;
    this.sim.arm(c.tickTimer, this.tickPhase + k * p);
    c.tickOn = true;
  }

  /** Registers a kernel hrtimer (setup, or the first use by a task). */
  private newHrtimer(kind: number, arg: number): number {
    const id = this.hrKind.length;
    if (id === 0) for (const c of this.cpus) c.hrIrqTimer = this.sim.timer(this, T_HRIRQ, c.idx);
    this.hrKind.push(kind);
    this.hrArg.push(arg);
    this.hrCpu.push(0);
    this.hrState.push(HR_IDLE);
    this.hrLinked.push(false);
    this.hrNext.push(-1);
    this.hrSim.push(this.sim.timer(this, T_HRTIMER, id));
    return id;
  }

  /** hrtimer_start on CPU `cpu`, absolute expiry (ns). */
  private hrtimerStart(id: number, cpu: number, expires: number): void {
    this.hrCpu[id] = cpu;
    this.hrState[id] = HR_ARMED;
    this.sim.arm(this.hrSim[id], expires);
  }

  /** hrtimer_is_queued: armed, or expired with its handler still pending. */
  private hrtimerQueued(id: number): boolean {
    return this.hrState[id] !== HR_IDLE;
  }

  private hrtimerExpired(id: number, now: number): void {
    if (this.hrState[id] !== HR_ARMED) return;
    this.hrState[id] = HR_EXPIRED;
    const c = this.cpus[this.hrCpu[id]];
    if (!this.hrLinked[id]) {
      this.hrLinked[id] = true;
      this.hrNext[id] = -1;
      if (c.hrTail >= 0) this.hrNext[c.hrTail] = id; else c.hrHead = id;
      c.hrTail = id;
    }
    // one interrupt serves every timer that expires at this instant (hrtimer_interrupt):
    // when other events are queued for `now`, the delivery is queued behind them
    if (this.sim.isArmed(c.hrIrqTimer)) return;
    if (this.sim.queue.peekTime() > now) this.raiseTimerIrq(c, now);
    else this.sim.arm(c.hrIrqTimer, now);
  }

  /** __hrtimer_run_queues: the callbacks of every timer that expired on CPU c. */
  private runHrtimers(c: KCpu, now: number): void {
    let id = c.hrHead;
    c.hrHead = c.hrTail = -1;
    while (id >= 0) {
      const nx = this.hrNext[id];
      this.hrLinked[id] = false;
      if (this.hrState[id] === HR_EXPIRED) {
        this.hrState[id] = HR_IDLE;
        const k = this.hrKind[id];
        if (k === HR_SLEEP) this.wake(this.tasks[this.hrArg[id]], c, now, false);
        else if (k === HR_DL) this.dlTaskTimer(c, this.tasks[this.hrArg[id]], now);
        else this.rtPeriodTimer(c, now);
      }
      id = nx;
    }
  }

  // --------------------------------------------------------------- execution

  /** Stops the clock on whatever the CPU is executing. */
  private freeze(c: KCpu, now: number): void {
    const ran = now - c.execStart;
    if (c.execKind === EX_PREFIX) c.prefixRemaining -= ran;
    else if (c.execKind === EX_TASK) c.curr!.segRemaining -= ran;
    if (c.execKind !== EX_NONE) this.sim.cancel(c.segTimer);
    c.execKind = EX_NONE;
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
  }

  private segmentDone(c: KCpu, now: number): void {
    if (c.busySince >= 0) { c.busyNs += now - c.busySince; c.busySince = -1; }
    if (c.execKind === EX_PREFIX) {
      c.execKind = EX_NONE;
      c.prefixRemaining = 0;
      const k = c.prefixKind;
      c.prefixKind = PK_NONE;
      if (k === PK_IRQ) this.irqAction(c, c.prefixArg, now);
      else if (k === PK_SCHED) this.schedule(c, now);
    } else if (c.execKind === EX_TASK) {
      c.execKind = EX_NONE;
      c.curr!.segRemaining = 0;
    }
    this.run(c, now);
  }

  private startExec(c: KCpu, kind: number, dur: number, now: number): void {
    c.execKind = kind;
    c.execStart = now;
    c.busySince = now;
    if (dur < 1e17) this.sim.arm(c.segTimer, now + dur);
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
        const k = c.prefixKind;
        c.prefixKind = PK_NONE;
        if (k === PK_IRQ) this.irqAction(c, c.prefixArg, now);
        else if (k === PK_SCHED) this.schedule(c, now);
        continue;
      }
      if (c.pendingIrq !== 0) {
        const irq = c.pendingIrq & 1 ? IRQ_TIMER : IRQ_RESCHED;
        c.pendingIrq &= ~(1 << irq);
        c.irqs++;
        c.prefixKind = PK_IRQ;
        c.prefixArg = irq;
        c.prefixRemaining = this.costOf(c, irq === IRQ_TIMER ? C.timer_irq : C.ipi_irq);
        continue;
      }
      const t = c.curr;
      if (c.needResched) {
        if (t === null) { this.schedule(c, now); continue; }
        const atPoint = !t.inKernel || this.cfg.preemptFull || (t.segRemaining === 0 && t.state === TASK_SLEEPING);
        if (atPoint) {
          c.prefixKind = PK_SCHED;
          c.prefixRemaining = this.costOf(c, C.schedule);
          continue;
        }
      }
      if (t === null) {
        if (c.tickOn) { this.sim.cancel(c.tickTimer); c.tickOn = false; }
        if (!c.halted) {
          c.halted = true;
          this.host.halt(c.idx, now);
        }
        return;
      }
      if (t.segRemaining > 0) {
        this.startExec(c, EX_TASK, t.segRemaining, now);
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

  private irqAction(c: KCpu, irq: number, now: number): void {
    if (irq === IRQ_TIMER) {
      if (c.tickPending) {
        c.tickPending = false;
        // tick_sched_timer -> scheduler_tick -> curr->sched_class->task_tick
        const t = c.curr;
        if (t !== null) {
          this.armTick(c, now);
          if (t.cls === CLS_FAIR) {
            const rq = c.rq;
            rq.updateCurr(this.clockTask(c, now));
            if (rq.nrRunning > 1 && !c.needResched && rq.checkPreemptTick()) this.resched(c, SW_PREEMPT_TICK);
          } else if (t.cls === CLS_RT) this.taskTickRt(c, t, now);
          else this.updateCurrDl(c, t, this.clockTask(c, now), now);
        } else c.tickOn = false; // the tick stops (NO_HZ idle); schedule() restarts it for the next task
      }
      if (c.hrHead >= 0) this.runHrtimers(c, now);
    }
    // IRQ_RESCHED: scheduler_ipi; need_resched was set by the waker
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
    for (let i = 0; i < obs.length; i++) obs[i].onSwitch(prev, next, reason, now);
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
    this.hrtimerStart(this.rtTimer, c.idx, this.rtExpires);
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
    else this.hrtimerStart(this.rtTimer, c.idx, this.rtExpires);
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
    if (!this.hrtimerQueued(p.dlTimer)) this.hrtimerStart(p.dlTimer, c.idx, act);
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

  /** Syscall exit: the task's action is complete; ask its program for the next one. */
  private finish(t: Task, now: number): void {
    t.inKernel = false;
    t.phase = 0;
    t.prog.next(t, now);
  }

  /**
   * hrtimer_start_range_ns for the sleep of task t on CPU c (do_nanosleep).
   * The next issue adds timer slack and hypervisor timer paths here.
   */
  private armSleepTimer(c: KCpu, t: Task, expires: number): void {
    if (t.sleepTimer < 0) t.sleepTimer = this.newHrtimer(HR_SLEEP, t.id);
    this.hrtimerStart(t.sleepTimer, c.idx, expires);
  }

  /** Performs the action at a segment boundary of task t and sets up its next segment. */
  private step(c: KCpu, t: Task, now: number): void {
    switch (t.act) {
      case A_COMPUTE:
        if (t.phase === 0) {
          t.phase = 1;
          t.inKernel = false;
          t.segRemaining = t.actArg;
          if (t.segRemaining > 0) return;
        }
        this.finish(t, now);
        return;
      case A_SLEEP_UNTIL:
        if (t.phase === 0) {
          t.phase = 1;
          t.inKernel = true;
          t.segRemaining = this.costOf(c, C.syscall);
          if (t.segRemaining > 0) return;
        }
        if (t.phase === 1) {
          // clock_nanosleep(TIMER_ABSTIME): a target already past returns at once
          if (t.actArg <= now) { this.finish(t, now); return; }
          // set_current_state(TASK_INTERRUPTIBLE); hrtimer_sleeper_start_expires
          t.state = TASK_SLEEPING;
          t.goingToSleep = true;
          this.armSleepTimer(c, t, t.actArg);
          t.phase = 2;
          t.segRemaining = this.costOf(c, C.sleep);
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
          t.phase = 1;
          t.inKernel = true;
          t.segRemaining = this.costOf(c, C.syscall) + this.costOf(c, C.pipe_write);
          if (t.segRemaining > 0) return;
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
          t.phase = 1;
          t.inKernel = true;
          t.segRemaining = this.costOf(c, C.syscall);
          if (t.segRemaining > 0) return;
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
