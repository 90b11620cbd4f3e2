/**
 * Linux kernel model, first layer: the state of one kernel instance (its
 * CPUs, tasks, pipes, scheduling classes, cost model) and the core.c helpers
 * every other part uses: resched_curr, rq_clock_task, rq->nr_running. The
 * kernel is one class built as a chain of layers, one file each (see
 * linux.ts); a layer calls the ones below directly and the ones above
 * through the abstract methods declared here, so no file imports a file
 * above it.
 */
import { LATE, type Simulator, type TimerTarget } from "../engine/sim.js";
import { cfsTunables, type CfsTunables } from "../sched/linux/cfs.js";
import type { HrtimerCallback, SchedAttr, SchedClass, SchedCore } from "../sched/linux/class.js";
import { FairSchedClass } from "../sched/linux/fair.js";
import { RtSchedClass, rrTimesliceTicks } from "../sched/linux/rt.js";
import { DlSchedClass } from "../sched/linux/deadline.js";
import { IdleSchedClass } from "../sched/linux/idle.js";
import { type Activity, kernelData, KernelLatencyModel, PREEMPT_FULL } from "./latency.js";
import type { LlcAttach } from "../hw/cache.js";
import { type CpuHost, KCpu, type KernelConfig, Pipe, T_DEV, T_HRIRQ, T_IPI, T_SEG } from "./state.js";
import { CLS_FAIR, MM_KERNEL, NP_NONE, NP_PREEMPT_OFF, type Program, type SwitchObserver, type Task, type WakeObserver } from "./task.js";

/** A Linux kernel instance: state and core helpers (the layers above add the mechanisms). */
export abstract class KernelBase implements TimerTarget, SchedCore<KCpu> {
  // implemented by the layers above (see linux.ts for the chain)
  /** The simulator timers of the kernel (T_*). */
  abstract onTimer(kind: number, arg: number, now: number): void;
  /** wake_up_new_task of a new task (core.ts). */
  abstract spawn(name: string, prog: Program, cpu: number, allowed: number[], nice: number, now: number, tag?: number, attr?: SchedAttr, mm?: number): Task;
  /** @internal hrtimer_init for a scheduling class's timer (hrtimer.ts). */
  abstract newHrtimer(cb: HrtimerCallback<KCpu>, arg: number): number;
  /** @internal hrtimer_start_range_ns (hrtimer.ts). */
  abstract hrtimerStart(id: number, cpu: number, soft: number, slack: number, now: number): boolean;
  /** @internal hrtimer_is_queued (hrtimer.ts). */
  abstract hrtimerQueued(id: number): boolean;
  /** try_to_wake_up (core.ts). */
  protected abstract wake(p: Task, waker: KCpu, now: number, sync?: boolean): boolean;
  /** __schedule (core.ts). */
  protected abstract schedule(c: KCpu, now: number): void;
  /** Accounts `ran` ns of task t's segment (exec.ts). */
  protected abstract taskRan(c: KCpu, t: Task, ran: number, account?: boolean): number;
  /** The body of an interrupt once its handler's cost has elapsed (irq.ts). */
  protected abstract irqAction(c: KCpu, irq: number, now: number): void;
  /** The action step of task t at a segment boundary (actions.ts). */
  protected abstract step(c: KCpu, t: Task, now: number): void;

  readonly cpus: KCpu[] = [];
  readonly tasks: Task[] = [];
  /** Last address-space id handed out (newMm). */
  private mmSeq = 0;
  /** A fresh address-space id (a new process; Task.mm). */
  newMm(): number { return ++this.mmSeq; }
  readonly pipes: Pipe[] = [];
  readonly tun: CfsTunables;
  /** Kernel sections, clock reads and slack of this kernel's preemption model. */
  readonly lat: KernelLatencyModel;
  /** Preemption model (latency.ts PREEMPT_*). */
  readonly preempt: number;
  host!: CpuHost;
  protected observers: SwitchObserver[] = [];
  /** The wake-up observer, if any (one; trace recording): null costs one test per wake-up. */
  protected wakeObs: WakeObserver | null = null;
  protected readonly tickPeriod: number;
  protected readonly tickPhase: number;
  protected readonly cost: Float64Array;
  protected readonly sigma: number;
  protected readonly mu: number;
  /** @internal More than one CPU: SMP placement, push and pull run. */
  readonly smp: boolean;
  /** np level of the built-in syscall paths: preemptible with PREEMPT/PREEMPT_RT. */
  protected readonly syscallNp: number;
  /**
   * Page-table isolation is on (the kernel data's `pti` on a Meltdown-affected
   * CPU): every kernel entry from user mode and every return to it writes
   * CR3. Natively that cost is in the board's path costs; a host that makes a
   * CR3 write dearer (cr3WriteCost: shadow paging) charges it on top.
   */
  protected readonly pti: boolean;

  // scheduling classes (../sched/linux)
  /** @internal The class of each Task.cls value (p->sched_class). */
  readonly classOf: SchedClass<KCpu>[];
  /** @internal for_each_class order: dl, rt, fair, idle. */
  readonly classes: SchedClass<KCpu>[];
  /** @internal */
  readonly fair: FairSchedClass<KCpu>;
  /** @internal */
  readonly rt: RtSchedClass<KCpu>;
  /** @internal */
  readonly dl: DlSchedClass<KCpu>;
  /**
   * @internal `classes` is exactly dl, rt, fair, idle (idle picks nothing): the scheduler core may
   * call the classes directly in that order instead of looping over `classes` (a fast path).
   */
  readonly stdClasses: boolean;

  // device interrupt lines (registerIrq)
  protected readonly irqLines: Activity[] = [];
  protected readonly irqHandlers: (((cpu: number, now: number) => void) | null)[] = [];
  protected readonly irqNoThread: boolean[] = [];
  // --- issue 14 cache: begin
  /** The board's cache-interference model as this kernel's cost samples see it (null: none). */
  llc: LlcAttach | null = null;
  // --- issue 14 cache: end

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
    this.fair = new FairSchedClass<KCpu>(this);
    this.rt = new RtSchedClass<KCpu>(this, {
      runtime: cfg.rtRuntime ?? 950_000_000,
      period: cfg.rtPeriod ?? 1_000_000_000,
      rrTicks: rrTimesliceTicks(cfg.rrTimesliceMs ?? 100, cfg.hz),
      runtimeShare: cfg.rtRuntimeShare ?? false,
    });
    this.dl = new DlSchedClass<KCpu>(this, this.rt);
    const classOf: SchedClass<KCpu>[] = [];
    classOf[CLS_FAIR] = this.fair;
    classOf[this.rt.id] = this.rt;
    classOf[this.dl.id] = this.dl;
    this.classOf = classOf;
    this.classes = [this.dl, this.rt, this.fair, new IdleSchedClass()];
    const cs = this.classes;
    this.stdClasses = cs.length === 4 && cs[0] === this.dl && cs[1] === this.rt && cs[2] === this.fair && cs[3] instanceof IdleSchedClass;
    const preempt = cfg.preempt ?? (cfg.preemptFull ? "full" : "none");
    this.lat = new KernelLatencyModel(kernelData(cfg.kernelData), preempt, cfg.kernelWorkScale ?? 1);
    this.preempt = this.lat.preempt;
    this.syscallNp = this.preempt >= PREEMPT_FULL ? NP_NONE : NP_PREEMPT_OFF;
    this.pti = cfg.cpuMeltdown === true && this.lat.data.pti?.value === true;
    for (let i = 0; i < cfg.ncpus; i++) {
      const c = new KCpu(i, this.tun, sim.random.get(`${cfg.name}/cpu${i}/cost`), sim.random.get(`${cfg.name}/cpu${i}/kernel`));
      c.segTimer = sim.timer(this, T_SEG, i);
      c.ipiTimer = sim.timer(this, T_IPI, i);
      c.devTimer = sim.timer(this, T_DEV, i);
      c.hrIrqTimer = sim.timer(this, T_HRIRQ, i, LATE);
      this.cpus.push(c);
    }
  }

  /** Registers a context-switch observer. */
  observe(o: SwitchObserver): void {
    this.observers.push(o);
  }

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

  /** A sample of an operation's cost (ns) on CPU c. */
  protected costOf(c: KCpu, id: number): number {
    const base = this.cost[id];
    // --- issue 14 cache: the cache-interference charge (src/hw/cache.ts; 0 without pressure)
    const x = this.llc !== null ? this.llc.model.extra(this.llc, c.idx, id) : 0;
    if (this.sigma === 0 || base === 0) return base + x;
    return Math.round(base * Math.exp(this.mu + this.sigma * c.rng.normal())) + x;
  }

  /** Cost of one clockevent programming on CPU c beyond the kernel's path (the host's timerProgramCost; native 0). */
  protected timerProgram(c: KCpu): number {
    const h = this.host;
    return h.timerProgramCost !== undefined ? h.timerProgramCost(c.idx) : 0;
  }

  /** Cost of one CR3 write on CPU c beyond the kernel's path (the host's cr3WriteCost; native, HAP and PV: 0). */
  protected cr3Write(c: KCpu): number {
    const h = this.host;
    return h.cr3WriteCost !== undefined ? h.cr3WriteCost(c.idx) : 0;
  }

  /**
   * The CR3 writes of page-table isolation around a system call, beyond the
   * kernel's path: SWITCH_TO_KERNEL_CR3 at entry and SWITCH_TO_USER_CR3 at
   * exit. A call that may block charges only its entry here: its return to
   * user mode follows the switch back in, which schedule() charges. A kernel
   * thread's "system call" (the model's kernel-work actions) never changes CR3.
   */
  protected ptiSyscall(c: KCpu, t: Task, mayBlock: boolean): number {
    if (!this.pti || t.mm === MM_KERNEL) return 0;
    const w = this.cr3Write(c);
    return w > 0 ? (mayBlock ? w : 2 * w) : 0;
  }

  /** Cost of one clock read on CPU c (the host's clockReadCost). */
  protected clockRead(c: KCpu): number {
    const h = this.host;
    return h.clockReadCost !== undefined ? h.clockReadCost(c.idx) : 0;
  }

  /** rq_clock_task of CPU c at `now`. */
  clockTask(c: KCpu, now: number): number {
    return this.cfg.paravirtTimeAccounting ? now - this.host.steal(c.idx, now) : now;
  }

  /** @internal rq->nr_running: CFS, RT (unless throttled) and DL tasks queued on CPU c. */
  nrRunning(c: KCpu): number {
    return c.rq.nrRunning + (c.rt.queued ? c.rt.nr : 0) + c.dl.n;
  }

  /** @internal Sets need_resched on CPU c (resched_curr), remembering why. */
  resched(c: KCpu, reason: number): void {
    if (c.needResched) return;
    c.needResched = true;
    c.reschedReason = reason;
  }

  /** @internal resched_curr(rq) from code running on CPU `from` (null: no CPU context): an IPI when remote. */
  reschedFrom(from: KCpu | null, c: KCpu, reason: number, now: number): void {
    if (c.needResched) return;
    this.resched(c, reason);
    if (from !== null && from !== c) {
      from.ipisSent++;
      this.host.sendIpi(from.idx, c.idx, now);
    }
  }

  /** @internal A resched of CPU c that accounting done from CPU `from` has just requested needs an IPI when remote. */
  ipiIfNewResched(from: KCpu, c: KCpu, had: boolean, now: number): void {
    if (!had && c.needResched && from !== c) {
      from.ipisSent++;
      this.host.sendIpi(from.idx, c.idx, now);
    }
  }
}
