import type { RandomStream } from "../engine/random.js";

/** Task states (a subset of Linux's __state). */
export const TASK_RUNNING = 0; // on a runqueue (running or runnable)
export const TASK_SLEEPING = 1; // blocked (TASK_INTERRUPTIBLE)

/** Actions a program asks its task to perform next. */
export const A_COMPUTE = 0; // user-mode computation for actArg ns (Infinity = forever)
export const A_PIPE_WRITE = 1; // write(2) 8 bytes to pipe actArg
export const A_PIPE_READ = 2; // read(2) 8 bytes from pipe actArg
/** clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, actArg): sleep until absolute time actArg (ns); a past target returns at once. */
export const A_SLEEP_UNTIL = 3;
/** A kernel activity (system call, page fault, reclaim ...) of activity index actArg of the kernel's latency model: syscall entry, then its sections. */
export const A_KERNEL = 4;
/** clock_gettime(CLOCK_MONOTONIC) through the vDSO: one clock read (the host's clockReadCost), in user mode. */
export const A_CLOCK_READ = 5;
/** Block until the kernel wakes the task explicitly (kernel threads waiting for work; a finished program). */
export const A_WAIT = 6;
/** One emulated-device register access through a driver (activity index actArg): kernel path, host.deviceAccess, kernel path. */
export const A_DEVICE_IO = 7;
/** Kernel-internal: the work of a threaded interrupt handler (activity index actArg), no syscall entry. */
export const A_IRQ_WORK = 8;
/**
 * Run guest code (KVM's KVM_RUN ioctl): an endless preemptible segment during
 * which the task's `carrier` runs a guest CPU. It ends only when the carrier
 * calls `kernel.endSegment` (the guest halted or exited to user space).
 */
export const A_GUEST = 9;
// --- issue 14 block: begin
/**
 * Kernel work of a system call with an explicit length: the syscall entry,
 * then actArg ns of work cut into the sections of activity index
 * `Task.actAux` (block.ts: page-cache copies, request submission, writeback).
 */
export const A_KERNEL_WORK = 10;
// --- end

/**
 * Phases of an action (Task.phase): where the kernel is in the action's path.
 * A phase is the segment that is running (or has just ended); the kernel's
 * action step moves the task to the next one at each segment boundary. The
 * values are per action, so two names may share a value.
 */
/** The program has just chosen the action; nothing of it has run. */
export const PH_START = 0;
/** Single-segment actions (A_COMPUTE, A_GUEST, A_CLOCK_READ, A_KERNEL, A_IRQ_WORK, A_WAIT): the segment, or the wait. */
export const PH_BODY = 1;
/** System calls (A_SLEEP_UNTIL, A_PIPE_READ, A_PIPE_WRITE, A_DEVICE_IO): the syscall entry. */
export const PH_SYSCALL = 1;
/** A_SLEEP_UNTIL: the hrtimer is armed, set_current_state done; the rest of the sleep path runs. */
export const PH_SLEEP_ARMED = 2;
/** A_SLEEP_UNTIL: schedule() was asked for; the task is asleep or woken. */
export const PH_SLEEP_BLOCKED = 3;
/** A_PIPE_WRITE: the data is visible; the wake-up of the reader runs. */
export const PH_WRITE_WAKE = 2;
/** A_PIPE_READ: the pipe was empty; prepare_to_wait runs (then back to PH_SYSCALL to re-check). */
export const PH_READ_WAIT = 2;
/** A_PIPE_READ: a token was taken; the copy to user space runs. */
export const PH_READ_COPY = 3;
/** A_DEVICE_IO: the driver's work inside its lock region, before a register access. */
export const PH_IO_LOCKED = 2;
/** A_DEVICE_IO: the register access (host.deviceAccess). */
export const PH_IO_ACCESS = 3;
/** A_DEVICE_IO: the rest of the driver's path after the last access. */
export const PH_IO_TAIL = 4;

/**
 * A task that carries a guest CPU (a KVM vCPU thread): told when the host
 * CPU starts and stops executing the task's A_GUEST segment. Host interrupts,
 * preemption and blocking all stop it (a VM exit); the calls come from inside
 * the host kernel's dispatch, so implementations should only record the
 * change and act through simulator timers.
 */
export interface GuestCarrier {
  enter(t: Task, now: number): void;
  exit(t: Task, now: number): void;
}

/** Non-preemptibility of the current segment (Task.np). */
export const NP_NONE = 0; // user mode, or preemptible kernel code
export const NP_PREEMPT_OFF = 1; // preemption disabled (spinlock, PREEMPT_NONE kernel path); interrupts are delivered
export const NP_IRQS_OFF = 2; // interrupts disabled: interrupts stay pending until the segment ends

/** Scheduling classes, in sched_class order (a higher number always preempts a lower one). */
export const CLS_FAIR = 0; // SCHED_NORMAL (CFS)
export const CLS_RT = 1; // SCHED_FIFO, SCHED_RR
export const CLS_DL = 2; // SCHED_DEADLINE

/** Policies (include/uapi/linux/sched.h values). */
export const SCHED_NORMAL = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_DEADLINE = 6;

/** MAX_RT_PRIO: internal priorities 0..99 are RT (prio = 99 - rt_priority), 100..139 are CFS (120 + nice), DL is -1. */
export const MAX_RT_PRIO = 100;

/** Why a CPU switched from one task to another. */
export const SW_BLOCK = 0; // prev blocked (voluntary)
export const SW_PREEMPT_WAKEUP = 1; // prev preempted after a wake-up (check_preempt_wakeup)
export const SW_PREEMPT_TICK = 2; // prev preempted by the tick (check_preempt_tick)
export const SW_IDLE = 3; // prev was the idle task
export const SW_OTHER = 4; // e.g. RT throttling, a pull, a period-timer reschedule

/**
 * A workload program drives one task: when the task finishes an action the
 * kernel calls `next`, which must set `t.act` and `t.actArg`.
 */
export interface Program {
  next(t: Task, now: number): void;
}

/** Observer of context switches (used by workloads that classify hand-offs). */
export interface SwitchObserver {
  /** `cpu`: the kernel CPU that switched (observers that classify hand-offs may ignore it). */
  onSwitch(prev: Task | null, next: Task | null, reason: number, now: number, cpu: number): void;
}

/** Observer of wake-ups (try_to_wake_up of a sleeping task), e.g. for trace export. */
export interface WakeObserver {
  onWakeup(p: Task, wakerCpu: number, targetCpu: number, now: number): void;
}

/** Task.mm of a kernel thread (task->mm == NULL). */
export const MM_KERNEL = 0;

/**
 * A task (process/thread) of a Linux kernel model, carrying its CFS
 * scheduling entity and the state of the action it is executing.
 */
export class Task {
  // identity
  readonly id: number;
  readonly name: string;
  /** Allowed CPUs (cpus_allowed), kernel CPU ids. */
  readonly allowed: number[];
  /**
   * Address space (task->mm): MM_KERNEL for a kernel thread (no mm of its
   * own: it borrows the previous task's, enter_lazy_tlb), otherwise an id
   * shared by the threads of one process. Set by LinuxKernel.spawn; read by
   * schedule() to decide whether context_switch() pays switch_mm.
   */
  mm = MM_KERNEL;
  /** CPU the task is on (or last ran on). */
  cpu: number;
  // scheduling class and policy
  cls = CLS_FAIR;
  policy = SCHED_NORMAL;
  /** Internal priority (task->prio): -1 DL, 0..99 RT (lower = more important), 120 + nice for CFS. */
  prio: number;
  /** sched_priority 1..99 of SCHED_FIFO/SCHED_RR tasks. */
  rtPriority = 0;
  // RT entity (sched_rt_entity): intrusive links of its priority list, RR slice in ticks
  rtNext: Task | null = null;
  rtPrev: Task | null = null;
  timeSlice = 0;
  // DL entity (sched_dl_entity), ns
  dlRuntime = 0;
  dlDeadline = 0;
  dlPeriod = 0;
  /** to_ratio(dl_deadline, dl_runtime): runtime/deadline << 20. */
  dlDensity = 0;
  /** Remaining runtime of the current instance. */
  runtime = 0;
  /** Absolute deadline of the current instance (rq_clock, i.e. wall time). */
  deadline = 0;
  dlThrottled = false;
  /** In the dl_rq's EDF queue (on_dl_rq); a throttled task is on_rq but not queued. */
  dlQueued = false;
  /** Position in the dl_rq heap, and enqueue sequence (ties between equal deadlines are FIFO, as in the rbtree). */
  dlHeapIdx = -1;
  dlSeq = 0;
  /** Kernel hrtimer ids: the CBS replenishment timer (dl_timer) and the nanosleep hrtimer. */
  dlTimer = -1;
  sleepTimer = -1;
  // CFS entity (sched_entity)
  nice: number;
  weight: number;
  vruntime = 0;
  sumExec = 0;
  prevSumExec = 0;
  execStart = 0;
  onRq = false;
  state = TASK_RUNNING;
  // program
  readonly prog: Program;
  act = A_COMPUTE;
  actArg = 0;
  /** Phase within the current action (kernel-defined). */
  phase = 0;
  /** Remaining ns of the current segment. */
  segRemaining = 0;
  /** Current segment is kernel mode inside a syscall. */
  inKernel = false;
  /** Non-preemptibility of the current segment: NP_NONE, NP_PREEMPT_OFF or NP_IRQS_OFF. */
  np = NP_NONE;
  /**
   * A segment may start with an interrupts-off part (cI ns) followed by a
   * non-preemptible part (cN ns) before the rest runs at level `np`; both
   * count down as the segment runs. A kernel activity (kAct >= 0) is one
   * segment made of chunks [cI][cN][cP] drawn lazily, one after the other,
   * as time is accounted: an event is created at a part boundary only when
   * an interrupt or need_resched waits for it.
   */
  cI = 0;
  cN = 0;
  /** Preemptible rest of the current chunk of a kernel activity, ns. */
  cP = 0;
  /** Activity index whose chunks are drawn lazily for the current segment (-1: none). */
  kAct = -1;
  /** Clock-read ns at the head of the current segment (latency breakdown). */
  segClock = 0;
  /** hrtimer slack of the task's sleeps (current->timer_slack_ns; RT and DL tasks sleep without slack). */
  timerSlackNs = 50_000;
  // --- issue 14 cache: begin
  /** Working set of a memory-bound task, bytes (0: not memory-bound); see src/hw/cache.ts. */
  memWsBytes = 0;
  // --- issue 14 cache: end
  // kernel activity in progress (A_KERNEL, A_IRQ_WORK, A_DEVICE_IO)
  /** Kernel work of the activity not yet drawn into chunks, ns (A_DEVICE_IO: the rest of its path). */
  kWork = 0;
  /** A wakeTask() arrived after A_WAIT was chosen but before the task slept: the wait returns at once. */
  wakeToken = false;
  /** A_DEVICE_IO: register accesses of the operation still to make. */
  ioLeft = 0;
  // --- issue 14 block: begin
  /**
   * Second argument of an action: A_KERNEL_WORK's activity index;
   * A_DEVICE_IO's register-access count when > 0 (0: the activity's own).
   */
  actAux = 0;
  // --- end
  /** Random stream for the task's kernel sections (null: the CPU's). */
  rng: RandomStream | null = null;
  /** Latency probe of a measuring task (cyclictest), null otherwise. */
  probe: LatencyProbe | null = null;
  /** The guest CPU this task carries (KVM vCPU thread), null otherwise. */
  carrier: GuestCarrier | null = null;
  /** The carrier is inside its guest segment (between enter and exit). */
  inGuest = false;
  /** True between deciding to sleep and being dequeued; cleared by a racing wake-up. */
  goingToSleep = false;
  // statistics
  nvcsw = 0;
  nivcsw = 0;
  wakeups = 0;
  /** set_task_cpu() to another CPU (se.nr_migrations). */
  nrMigrations = 0;
  /** Workload-private slot. */
  tag = 0;

  constructor(id: number, name: string, cpu: number, allowed: number[], nice: number, weight: number, prog: Program) {
    this.id = id;
    this.name = name;
    this.cpu = cpu;
    this.allowed = allowed;
    this.nice = nice;
    this.weight = weight;
    this.prog = prog;
    this.prio = MAX_RT_PRIO + 20 + nice;
  }
}

/** sched_prio_to_weight (kernel/sched/core.c), index nice+20. */
export const PRIO_TO_WEIGHT = [
  88761, 71755, 56483, 46273, 36291,
  29154, 23254, 18705, 14949, 11916,
  9548, 7620, 6100, 4904, 3906,
  3121, 2501, 1991, 1586, 1277,
  1024, 820, 655, 526, 423,
  335, 272, 215, 172, 137,
  110, 87, 70, 56, 45,
  36, 29, 23, 18, 15,
];

export function niceToWeight(nice: number): number {
  return PRIO_TO_WEIGHT[nice + 20];
}

/** Latency-breakdown components of a probe, in table order. */
export const LAT_COMPONENTS = [
  "timer_slop", "hypervisor", "vcpu_not_running", "clock_read", "kernel_nonpreemptible", "irq", "sched", "truncation",
] as const;

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
