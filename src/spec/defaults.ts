/**
 * The defaults of the spec, in one place. The schema (./schema.ts) documents
 * them (and puts them into the JSON Schema); the model code that reads an
 * optional field falls back to the value here, so a default is written once.
 */
import { SCHED_DEADLINE, SCHED_FIFO, SCHED_NORMAL, SCHED_RR } from "../kernel/task.js";

/** Linux kernel defaults (KernelSpec). */
export const KERNEL_DEFAULTS = {
  /** CONFIG_HZ: 250 is the x86 and arm64 defconfig value (kernel/Kconfig.hz HZ_250). */
  hz: 250,
  /** sched_rt_runtime_us: 950000 (kernel/sched/core.c sysctl_sched_rt_runtime, 0.95 s). */
  rt_runtime_us: 950_000,
  /** sched_rt_period_us: 1000000 (kernel/sched/core.c sysctl_sched_rt_period, 1 s). */
  rt_period_us: 1_000_000,
  /** sched_rr_timeslice_ms: 100 (RR_TIMESLICE, include/linux/sched/rt.h, 100 ms). */
  rr_timeslice_ms: 100,
  /** Linux's Xen PV clockevent minimum delta, ns (TIMER_SLOP, arch/x86/xen/time.c, 100 µs). */
  xen_timer_slop_ns: 100_000,
} as const;

/** Xen hypervisor defaults (XenSpec). */
export const XEN_DEFAULTS = {
  /** timer_slop, ns (xen/common/timer.c: `timer_slop = 50000`, 50 µs). */
  timer_slop_ns: 50_000,
} as const;

/**
 * Priority of a SCHED_FIFO/RR thread or periodic task whose spec gives a
 * policy but no priority: 50, the middle of 1..99 (assumed, hvsim's choice;
 * chrt requires a priority, so there is no Linux default).
 */
export const DEFAULT_RT_PRIORITY = 50;

/** A Xen guest's virtualization mode when `type` is not given: Dom0 is PV (it always is), any other guest PVH (hvsim's default, assumed). */
export function guestType(g: { type?: "pv" | "pvh" | "hvm"; dom0?: boolean }): "pv" | "pvh" | "hvm" {
  return g.type ?? (g.dom0 ? "pv" : "pvh");
}

/** The policy names of the spec. */
export type PolicyName = "other" | "fifo" | "rr" | "deadline";

/**
 * Kernel scheduling attributes (sched_attr's policy and priority) of a
 * thread with spec policy `policy` (default "other") and `priority`
 * (default {@link DEFAULT_RT_PRIORITY}): SCHED_NORMAL for "other", SCHED_FIFO
 * or SCHED_RR with the priority otherwise. SCHED_DEADLINE needs runtime,
 * deadline and period and is built by its caller.
 */
/**
 * Scheduling attributes of a host or Dom0 thread spec (QEMU vCPU thread, device model): SCHED_OTHER
 * (undefined: the caller applies the nice value), SCHED_FIFO/RR at a priority, or SCHED_DEADLINE with
 * runtime <= deadline <= period (ns; period defaults to the deadline, the deadline to the period, as
 * sched_setattr's user tools do).
 */
export function threadAttr(t: { policy?: "other" | "fifo" | "rr" | "deadline"; priority?: number; dl_runtime_us?: number; dl_period_us?: number; dl_deadline_us?: number }): { policy: number; priority?: number; runtime?: number; deadline?: number; period?: number } | undefined {
  const pol = t.policy ?? "other";
  if (pol === "other") return undefined;
  if (pol !== "deadline") return rtAttr(pol, t.priority);
  const runtime = Math.round(t.dl_runtime_us! * 1000);
  const periodUs = t.dl_period_us ?? t.dl_deadline_us ?? t.dl_runtime_us!;
  const period = Math.round(periodUs * 1000);
  return { policy: SCHED_DEADLINE, runtime, deadline: Math.round((t.dl_deadline_us ?? periodUs) * 1000), period };
}

export function rtAttr(policy: "other" | "fifo" | "rr" | undefined, priority: number | undefined): { policy: number; priority?: number } {
  if (policy === "fifo" || policy === "rr") return { policy: policy === "fifo" ? SCHED_FIFO : SCHED_RR, priority: priority ?? DEFAULT_RT_PRIORITY };
  return { policy: SCHED_NORMAL };
}

// --- issue 14 block: begin
/** Block I/O and bonnie defaults (issue 14). */
export const BLOCK_DEFAULTS = {
  /** A guest's memory_mb when not given (the KVM host and a native kernel without it take the board's memory). */
  guest_memory_mb: 512,
  /** The CPUs of the disk interrupt (kernel.irq_affinity.disk): CPU 0, the lowest CPU of the default "all CPUs" mask. */
  irq_affinity_disk: [0] as readonly number[],
  /** bonnie -s: 100 MB (Bonnie's default size). */
  bonnie_size_mb: 100,
} as const;
// --- end
