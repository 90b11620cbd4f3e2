/**
 * Bounded recording of scheduling events for trace export (trace-cmd's
 * trace.dat, Chrome/Perfetto trace-event JSON, the task-level Gantt figure).
 *
 * What is recorded, at every level of the system ("levels"):
 * - the hypervisor level (Xen: pCPUs switching vCPUs, vcpu_wake of a vCPU;
 *   KVM: the host kernel, whose tasks are the QEMU vCPU threads; bare metal:
 *   the one kernel), and
 * - each guest kernel (its vCPUs are the CPUs of that level):
 *   sched_switch (prev -> next on a CPU) and sched_wakeup (try_to_wake_up of
 *   a sleeping task, logged on the waker's CPU with the target CPU).
 * Not recorded: interrupts and hrtimer expiries (no kernel hook exposes them
 * cheaply yet), migrations, Xen runstate changes other than switch and wake.
 *
 * Memory is bounded by `record.trace_events_max` (the first N events of the
 * run are kept, 26 bytes each in typed arrays that grow by doubling; later
 * events are counted in `dropped`). Recording is off by default and costs
 * nothing then: no observer is registered.
 */
import type { LinuxKernel } from "../kernel/linux.js";
import { TASK_RUNNING, type Task } from "../kernel/task.js";
import type { TraceSink, VCpu, Xen } from "../virt/xen.js";

/** Event kinds. */
export const EV_SWITCH = 0;
export const EV_WAKEUP = 1;

/** Task states in sched_switch's prev_state (the kernel's TASK_* bits; 0 = preempted while runnable). */
export const PREV_RUNNABLE = 0;
export const PREV_SLEEPING = 1; // TASK_INTERRUPTIBLE ("S")

/** One level of the system: a set of CPUs and the entities they switch. */
export interface TraceLevel {
  /** "xen" for the hypervisor level, else the kernel's name (a guest, "host", or the bare-metal kernel). */
  name: string;
  /** Whether this level is the hypervisor (its CPUs are pCPUs and its entities vCPUs). */
  hypervisor: boolean;
  /** Number of CPUs of this level. */
  cpus: number;
  /** Label of one CPU ("pCPU", "vCPU", "CPU"). */
  cpuLabel: string;
  /** pid -> command name (pid 0 is the idle task, "swapper"). */
  comms: Map<number, string>;
}

/** The recorded events: structure of arrays, `n` rows. */
export class TraceEvents {
  readonly levels: TraceLevel[] = [];
  /** Rows kept. */
  n = 0;
  /** Events not kept because the cap was reached. */
  dropped = 0;
  /** Simulated end of the run, ns (set when the run ends). */
  endNs = 0;
  t = new Float64Array(0);
  level = new Uint16Array(0);
  /** CPU whose buffer holds the event (switch: that CPU; wakeup: the waker's CPU). */
  cpu = new Uint16Array(0);
  kind = new Uint8Array(0);
  /** switch: prev pid; wakeup: the woken pid. */
  pid = new Int32Array(0);
  /** switch: prev prio; wakeup: the woken task's prio. */
  prio = new Int16Array(0);
  /** switch: prev state (PREV_*); wakeup: unused. */
  state = new Uint8Array(0);
  /** switch: next pid; wakeup: target CPU. */
  arg = new Int32Array(0);
  /** switch: next prio. */
  prio2 = new Int16Array(0);

  /** @param cap the most events kept (record.trace_events_max). */
  constructor(readonly cap: number) {}

  private grow(): void {
    const size = Math.min(this.cap, Math.max(4096, this.t.length * 2));
    const g = <A extends { length: number; set(a: ArrayLike<number>): void }>(a: A, C: new (n: number) => A): A => {
      const b = new C(size); b.set(a); return b;
    };
    this.t = g(this.t, Float64Array); this.level = g(this.level, Uint16Array); this.cpu = g(this.cpu, Uint16Array);
    this.kind = g(this.kind, Uint8Array); this.pid = g(this.pid, Int32Array); this.prio = g(this.prio, Int16Array);
    this.state = g(this.state, Uint8Array); this.arg = g(this.arg, Int32Array); this.prio2 = g(this.prio2, Int16Array);
  }

  /** Appends one event (or counts it as dropped past the cap). */
  push(t: number, level: number, cpu: number, kind: number, pid: number, prio: number, state: number, arg: number, prio2: number): void {
    if (this.n >= this.cap) { this.dropped++; return; }
    if (this.n === this.t.length) this.grow();
    const i = this.n++;
    this.t[i] = t; this.level[i] = level; this.cpu[i] = cpu; this.kind[i] = kind; this.pid[i] = pid;
    this.prio[i] = prio; this.state[i] = state; this.arg[i] = arg; this.prio2[i] = prio2;
  }

  /** Adds a level; returns its index. */
  addLevel(name: string, hypervisor: boolean, cpus: number, cpuLabel: string): number {
    this.levels.push({ name, hypervisor, cpus, cpuLabel, comms: new Map([[0, "swapper"]]) });
    return this.levels.length - 1;
  }

  /** Whether the cap cut the trace short. */
  get truncated(): boolean {
    return this.dropped > 0;
  }
}

/** Records one Linux kernel's switches and wake-ups (a SwitchObserver and a WakeObserver). */
class KernelRecorder {
  private readonly comms: Map<number, string>;
  constructor(private readonly ev: TraceEvents, private readonly lvl: number) {
    this.comms = ev.levels[lvl].comms;
  }
  private pidOf(t: Task | null): number {
    if (t === null) return 0;
    const pid = t.id + 1; // task ids start at 0; pid 0 is the idle task
    if (!this.comms.has(pid)) this.comms.set(pid, t.name);
    return pid;
  }
  onSwitch(prev: Task | null, next: Task | null, _reason: number, now: number, cpu: number): void {
    const pp = this.pidOf(prev), np = this.pidOf(next);
    this.ev.push(now, this.lvl, cpu, EV_SWITCH, pp, prev ? prev.prio : 120,
      prev !== null && prev.state !== TASK_RUNNING ? PREV_SLEEPING : PREV_RUNNABLE, np, next ? next.prio : 120);
  }
  onWakeup(p: Task, wakerCpu: number, targetCpu: number, now: number): void {
    this.ev.push(now, this.lvl, wakerCpu, EV_WAKEUP, this.pidOf(p), p.prio, 0, targetCpu, 0);
  }
}

/** Records Xen's pCPU switches and vCPU wake-ups (a TraceSink). vCPU pids are Xen's vCPU ids + 1. */
class XenRecorder implements TraceSink {
  private readonly comms: Map<number, string>;
  constructor(private readonly ev: TraceEvents, private readonly lvl: number, private readonly inner: TraceSink | null) {
    this.comms = ev.levels[lvl].comms;
  }
  private pidOf(v: VCpu | null): number {
    if (v === null) return 0;
    const pid = v.id + 1;
    if (!this.comms.has(pid)) this.comms.set(pid, v.name);
    return pid;
  }
  onSwitch(pcpu: number, prev: VCpu | null, next: VCpu | null, now: number): void {
    if (this.inner) this.inner.onSwitch(pcpu, prev, next, now);
    // Xen has no priorities in this sense: 120 (a nice-0 task) for every vCPU
    this.ev.push(now, this.lvl, pcpu, EV_SWITCH, this.pidOf(prev), 120,
      prev !== null && prev.blocked ? PREV_SLEEPING : PREV_RUNNABLE, this.pidOf(next), 120);
  }
  onWake(v: VCpu, now: number): void {
    if (this.inner && this.inner.onWake) this.inner.onWake(v, now);
    this.ev.push(now, this.lvl, v.pcpu, EV_WAKEUP, this.pidOf(v), 120, 0, v.pcpu, 0);
  }
}

/** Starts recording a Linux kernel's events as a new level of `ev`. */
export function recordKernel(ev: TraceEvents, kernel: LinuxKernel, name: string, cpuLabel: string): void {
  const lvl = ev.addLevel(name, false, kernel.cpus.length, cpuLabel);
  const r = new KernelRecorder(ev, lvl);
  kernel.observe(r);
  kernel.observeWakeups(r);
}

/** Starts recording Xen's pCPU switches as a new level of `ev` (keeping any trace sink already set). */
export function recordXen(ev: TraceEvents, xen: Xen): void {
  const lvl = ev.addLevel("xen", true, xen.pcpus.length, "pCPU");
  xen.trace = new XenRecorder(ev, lvl, xen.trace);
}
