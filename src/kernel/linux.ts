/**
 * Linux kernel model: the per-CPU execution engine (what a CPU is executing
 * right now, in segments of known cost), interrupts, the scheduler tick,
 * schedule(), try_to_wake_up() and pipes, over the CFS rules in
 * ../sched/linux/cfs.ts.
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
 */
import type { Simulator, TimerTarget } from "../engine/sim.js";
import type { RandomStream } from "../engine/random.js";
import { C } from "../hw/board.js";
import { CfsRq, cfsTunables, type CfsTunables } from "../sched/linux/cfs.js";
import {
  A_COMPUTE, A_PIPE_READ, A_PIPE_WRITE, niceToWeight, type Program, SW_BLOCK, SW_IDLE,
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

/** A pipe carrying 8-byte tokens, with at most one blocked reader. */
export class Pipe {
  tokens = 0;
  reader: Task | null = null;
  constructor(readonly id: number) {}
}

/** Per-CPU state of the kernel model. */
export class KCpu {
  readonly rq: CfsRq;
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
  private guard = 0;
  private guardTime = -1;

  constructor(readonly sim: Simulator, readonly cfg: KernelConfig) {
    this.tun = cfsTunables(cfg.ncpus, cfg.tunables);
    this.cost = cfg.cost;
    // lognormal jitter with mean 1 and the given coefficient of variation
    this.sigma = Math.sqrt(Math.log(1 + cfg.jitterCv * cfg.jitterCv));
    this.mu = -this.sigma * this.sigma / 2;
    this.tickPeriod = Math.round(1e9 / cfg.hz);
    // the boot instant relative to the hypervisor's clock: a random phase of the jiffies grid
    this.tickPhase = Math.floor(sim.random.get(`${cfg.name}/boot`).next() * this.tickPeriod);
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
   * Creates a task on `cpu` (wake_up_new_task: placed with START_DEBIT) and
   * makes it runnable at time `now`.
   */
  spawn(name: string, prog: Program, cpu: number, allowed: number[], nice: number, now: number, tag = 0): Task {
    const t = new Task(this.tasks.length, name, cpu, allowed, nice, niceToWeight(nice), prog);
    t.tag = tag;
    this.tasks.push(t);
    const c = this.cpus[cpu];
    t.state = TASK_RUNNING;
    c.rq.placeEntity(t, true);
    t.vruntime -= c.rq.minVruntime; // enqueue without WAKEUP renormalises
    c.rq.enqueue(t, this.clockTask(c, now), false, false);
    prog.next(t, now);
    if (c.curr === null) this.resched(c, SW_IDLE);
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

  onTimer(kind: number, cpu: number, now: number): void {
    const c = this.cpus[cpu];
    if (kind === T_SEG) this.segmentDone(c, now);
    else if (kind === T_TICK) this.raiseIrq(cpu, IRQ_TIMER, now);
    else this.raiseIrq(cpu, IRQ_RESCHED, now);
  }

  private armTick(c: KCpu, now: number): void {
    const p = this.tickPeriod;
    const k = Math.floor((now - this.tickPhase) / p) + 1;
    this.sim.arm(c.tickTimer, this.tickPhase + k * p);
    c.tickOn = true;
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

  private irqAction(c: KCpu, irq: number, now: number): void {
    if (irq === IRQ_TIMER) {
      // tick_sched_timer -> scheduler_tick -> task_tick_fair -> entity_tick
      if (c.curr !== null) {
        this.armTick(c, now);
        const rq = c.rq;
        rq.updateCurr(this.clockTask(c, now));
        if (rq.nrRunning > 1 && !c.needResched && rq.checkPreemptTick()) this.resched(c, SW_PREEMPT_TICK);
      }
    }
    // IRQ_RESCHED: scheduler_ipi; need_resched was set by the waker
  }

  /** __schedule() on CPU c. */
  private schedule(c: KCpu, now: number): void {
    const prev = c.curr;
    c.needResched = false;
    const rq = c.rq;
    const clock = this.clockTask(c, now);
    let reason = c.reschedReason;
    if (prev !== null) {
      if (prev.state === TASK_SLEEPING) {
        rq.dequeue(prev, clock, true);
        prev.goingToSleep = false;
        prev.nvcsw++;
        reason = SW_BLOCK;
      }
    } else {
      reason = SW_IDLE;
    }
    const next = rq.pickNext(clock);
    if (next === prev) return;
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
    }
  }

  /**
   * try_to_wake_up(p) from CPU `waker`. Returns true if p was sleeping.
   * Sets need_resched on the target and sends an IPI when it is remote.
   */
  private wake(p: Task, waker: KCpu, now: number): boolean {
    if (p.state === TASK_RUNNING) return false;
    p.state = TASK_RUNNING;
    p.wakeups++;
    if (p.onRq) {
      // still on its runqueue: it has not finished blocking (ttwu_remote)
      p.goingToSleep = false;
      return true;
    }
    const target = this.selectCpu(p, waker);
    const tc = this.cpus[target];
    const migrated = target !== p.cpu;
    if (migrated) p.vruntime -= this.cpus[p.cpu].rq.minVruntime; // migrate_task_rq_fair
    p.cpu = target;
    const clock = this.clockTask(tc, now);
    tc.rq.enqueue(p, clock, true, migrated);
    if (!tc.needResched) {
      if (tc.curr === null) this.resched(tc, SW_IDLE);
      else if (tc.rq.checkPreemptWakeup(p, clock)) this.resched(tc, SW_PREEMPT_WAKEUP);
    }
    if (tc !== waker && tc.needResched) {
      waker.ipisSent++;
      this.host.sendIpi(waker.idx, target, now);
    }
    return true;
  }

  private idleCpu(c: KCpu): boolean {
    return c.curr === null && c.rq.nrRunning === 0;
  }

  /**
   * select_task_rq_fair for a sync wake-up, simplified: wake_affine_idle
   * (the waker's CPU if idle, or if it runs only the waker), then
   * select_idle_sibling (target if idle, else the previous CPU if idle, else
   * any idle allowed CPU, else target).
   */
  private selectCpu(p: Task, waker: KCpu): number {
    const al = p.allowed;
    if (al.length === 1) return al[0];
    const prev = p.cpu;
    let target = prev;
    const w = waker.idx;
    if (al.includes(w)) {
      if (this.idleCpu(waker)) target = this.idleCpu(this.cpus[prev]) ? prev : w;
      else if (waker.rq.nrRunning === 1) target = w;
    }
    if (this.idleCpu(this.cpus[target])) return target;
    if (prev !== target && al.includes(prev) && this.idleCpu(this.cpus[prev])) return prev;
    for (let i = 0; i < al.length; i++) if (this.idleCpu(this.cpus[al[i]])) return al[i];
    return target;
  }

  /** Syscall exit: the task's action is complete; ask its program for the next one. */
  private finish(t: Task, now: number): void {
    t.inKernel = false;
    t.phase = 0;
    t.prog.next(t, now);
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

  /** Forces every task's vruntime/sum_exec up to date (for end-of-run statistics). */
  settle(now: number): void {
    for (const c of this.cpus) if (c.running && c.curr) c.rq.updateCurr(this.clockTask(c, now));
  }
}
