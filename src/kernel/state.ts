/**
 * State of the Linux kernel model: what it needs from its host (CpuHost),
 * its configuration, the per-CPU state (struct rq with its cfs_rq, rt_rq
 * and dl_rq, the clockevent device and hrtimer queue, the interrupt and
 * execution state), pipes and PREEMPT_RT irq threads, and the numeric codes
 * the kernel's files share. See linux.ts for the model as a whole.
 */
import type { RandomStream } from "../engine/random.js";
import { CfsRq, type CfsTunables } from "../sched/linux/cfs.js";
import { RtRq } from "../sched/linux/rt.js";
import { DlRq } from "../sched/linux/deadline.js";
import type { Activity, PreemptName } from "./latency.js";
import { A_IRQ_WORK, A_WAIT, type LatencyProbe, type Program, SW_PREEMPT_WAKEUP, type Task } from "./task.js";

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
   * Cost on `cpu` of one programming of its clockevent device, ns, beyond the
   * kernel's own path: a VM exit and its handling for a KVM guest's
   * TSC-deadline or LAPIC write and a Xen HVM/PVH guest's VCPUOP hypercall,
   * a hypercall for a PV guest. Optional (native: none). Charged where the
   * kernel programs the device on a wake-up path (hrtimer_interrupt, a
   * sleep's first timer, the tick's restart on leaving idle) and `vm_exits`
   * counts it (KVM).
   */
  timerProgramCost?(cpu: number): number;
  /**
   * Cost on `cpu` of one guest write of CR3 beyond the kernel's own path,
   * ns: under shadow paging (a CPU without EPT/NPT) a VM exit and the
   * hypervisor's shadow-root switch. Optional (native, HAP and PV guests:
   * none). Charged where the guest kernel writes CR3: switch_mm into another
   * address space, and with page-table isolation every kernel entry from and
   * return to user mode.
   */
  cr3WriteCost?(cpu: number): number;
  /**
   * The guest on CPU `cpu` performs an emulated-device access (port I/O or
   * MMIO). Hosts that forward it to a device model may suspend the CPU
   * (`kernel.suspend`) and resume it when the access completes; others
   * return at once. Returns the extra cost (ns) of the access on the CPU.
   */
  deviceAccess?(cpu: number, now: number): number;
  // --- issue 14 pvsched: paravirtual scheduling (pv_sched_ops), offered by hosts that implement it: begin
  /**
   * cpu_set_sched: CPU `cpu` reports that CPU `target` (itself, or a remote
   * vCPU) now runs a task of `policy` (SCHED_*) and sched_priority
   * `priority` (0 for SCHED_NORMAL). Called from schedule() on every
   * context switch (the next task's parameters) and from
   * __sched_setscheduler for the running task. A hypercall: the host may
   * suspend `cpu` for it (`kernel.suspend`) and resume it when done.
   */
  pvSched?(cpu: number, target: number, policy: number, priority: number, now: number): void;
  /** cpu_interrupt_done: CPU `cpu` left interrupt context with no reschedule pending (irq_exit). A hypercall, as pvSched. */
  pvIrqDone?(cpu: number, now: number): void;
  // --- end
}

export const IRQ_TIMER = 0;
export const IRQ_RESCHED = 1;
/** First device interrupt line; lines are handed out by `registerIrq`. */
export const IRQ_DEV0 = 2;
/**
 * Interrupt lines 0..30 have a bit each in KCpu.pendingIrq; the lines from
 * IRQ_HIGH0 on (as many as registerIrq hands out) are kept in
 * KCpu.pendingHigh, and bit 31 of pendingIrq says one of them is pending.
 * A lower line is taken first either way.
 */
export const IRQ_HIGH0 = 31;

/** @internal What a CPU's prefix stands for (KCpu.prefixKind). */
export const PK_NONE = 0;
export const PK_CS = 1; // context switch into curr (charged to curr)
export const PK_IRQ = 2; // interrupt handler (prefixArg = irq number)
export const PK_SCHED = 3; // schedule() entry on the outgoing task

/** @internal What a CPU is executing (KCpu.execKind). */
export const EX_NONE = 0;
export const EX_PREFIX = 1;
export const EX_TASK = 2;
export const EX_SOFTIRQ = 3;

/** @internal Kinds of the kernel's simulator timers. */
export const T_SEG = 0;
export const T_IPI = 2;
export const T_HRIRQ = 4; // a timer interrupt delivered after the other events of its instant (LATE priority)
export const T_DEV = 5; // kernel-internal clockevent device (hosts without setTimer)

/** A pipe carrying 8-byte tokens, with at most one blocked reader. */
export class Pipe {
  tokens = 0;
  reader: Task | null = null;
  constructor(readonly id: number) {}
}

/** The program of a threaded interrupt handler (PREEMPT_RT irq/N-name thread). */
export class IrqThread implements Program {
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
  /**
   * The address space whose page tables the CPU has loaded (rq->prev_mm /
   * cpu_tlbstate.loaded_mm): set by schedule() when it switches to a task of
   * another mm, kept across kernel threads and idle (lazy TLB). -1: none yet.
   */
  loadedMm = -1;
  running = false;
  halted = false;
  needResched = false;
  reschedReason = SW_PREEMPT_WAKEUP;
  /** Pending interrupts: bit i for line i < IRQ_HIGH0, bit 31 for "a line >= IRQ_HIGH0 is pending". */
  pendingIrq = 0;
  /** Pending lines >= IRQ_HIGH0: bit (i - IRQ_HIGH0) & 31 of word (i - IRQ_HIGH0) >> 5. */
  readonly pendingHigh: number[] = [];
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
  /** RT runtime sharing between CPUs (do_balance_runtime; kernels before 5.10). Default false. */
  rtRuntimeShare?: boolean;
  /** Board cost table (ns) and jitter. */
  cost: Float64Array;
  jitterCv: number;
  /** data/kernels id. Default "linux-5.0". */
  kernelData?: string;
  /** Scale of the data/kernels section lengths (the board's kernel_work_scale). Default 1. */
  kernelWorkScale?: number;
  /** The CPU is affected by Meltdown (the board's `meltdown`): a kernel with `pti` in its data enables page-table isolation. Default false. */
  cpuMeltdown?: boolean;
}
