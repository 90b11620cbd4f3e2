/**
 * The serialisable simulation spec. Builders (./builders.ts) produce it; it can
 * also be written by hand or loaded from JSON (data/spec.schema.json gives
 * editors completion and validation). Every field is plain data. Units are in
 * the field names (`_us`, `_ms`, `_s`).
 *
 * The types are derived from the zod schema (./schema.ts), where every field
 * is documented with its range and default: the schema is their single source.
 */
import type { z } from "zod";
import type * as S from "./schema.js";

/** Names of the per-operation costs a board preset defines (all in ns). */
export type CostName = z.infer<typeof S.costNameSchema>;
/** A board: a preset name plus optional overrides. */
export type BoardSpec = z.infer<typeof S.boardSchema>;
/** Xen Credit2 scheduler parameters (xl sched-credit2 semantics). */
export type Credit2Spec = z.infer<typeof S.credit2Schema>;
/** Xen Credit (credit1) parameters (xl sched-credit -s semantics). */
export type CreditSpec = z.infer<typeof S.creditSchema>;
/** Xen RTDS (global EDF); per-vCPU parameters are on the guest (`rtds`). */
export type RtdsSpec = z.infer<typeof S.rtdsSchema>;
/** One minor frame of an ARINC653 schedule. */
export type Arinc653Frame = z.infer<typeof S.arinc653FrameSchema>;
/** Xen ARINC653: a static cyclic table on a single-pCPU pool. */
export type Arinc653Spec = z.infer<typeof S.arinc653Schema>;
/** Xen Null scheduler: static 1:1 vCPU-to-pCPU assignment. */
export type NullSpec = z.infer<typeof S.nullSchema>;
/** A Xen scheduler of a cpupool, told apart by `name`. */
export type XenSchedulerSpec = z.infer<typeof S.xenSchedulerSchema>;
/** RTDS reservation of a vCPU (xl sched-rtds -p -b -e). */
export type RtdsParams = z.infer<typeof S.rtdsParamsSchema>;
/** A cpupool: a set of pCPUs with its own scheduler instance. */
export type PoolSpec = z.infer<typeof S.poolSchema>;
/** Xen hypervisor model. */
export type XenSpec = z.infer<typeof S.xenSchema>;
/** KVM on a Linux host: the host kernel schedules one QEMU vCPU thread per guest vCPU, next to the host's own workloads. */
export type KvmSpec = z.infer<typeof S.kvmSchema>;
/** No hypervisor: one Linux kernel directly on the board. */
export type NativeSpec = z.infer<typeof S.nativeSchema>;
/** The hypervisor, told apart by `kind`. */
export type HypervisorSpec = z.infer<typeof S.hypervisorSchema>;
/** Linux kernel model parameters. */
export type KernelSpec = z.infer<typeof S.kernelSchema>;
/** A Xen PV guest's kernel at the level of privileged operations (issue 11): variant, bitness, fixes. */
export type PvOpsSpec = z.infer<typeof S.pvopsSchema>;
/** Distribution of a job's execution time. */
export type ExecTimeSpec = z.infer<typeof S.execDistSchema>;
/** A periodic real-time task (period, execution time, deadline, policy). */
export type PeriodicSpec = z.infer<typeof S.periodicSchema>;
/** UnixBench Context1: two processes ping-ponging a counter through two pipes. */
export type Context1Spec = z.infer<typeof S.context1Schema>;
/** CPU hogs: `count` processes that never block (stress -c, while(1)). */
export type CpuHogSpec = z.infer<typeof S.cpuHogSchema>;
/** One rt-app thread (phases of run/runtime/sleep/timer events). */
export type RtAppThreadSpec = z.infer<typeof S.rtappSchema>;
/** cyclictest (rt-tests): a SCHED_FIFO thread waking every interval and recording its latency. */
export type CyclictestSpec = z.infer<typeof S.cyclictestSchema>;
/** Background stress: CFS tasks generating interrupts, syscalls, memory and I/O pressure. */
export type StressSpec = z.infer<typeof S.stressSchema>;
/** Emulated-device accesses made by the guest (an ioreq to QEMU on Xen HVM). */
export type DeviceIoSpec = z.infer<typeof S.deviceIoSchema>;
/** The background activity of an otherwise idle Linux system. */
export type HousekeepingSpec = z.infer<typeof S.housekeepingSchema>;
/** lmbench lat_ctx in the guest kernel model (issue 11): a ring of `procs` processes passing a token through pipes. */
export type LatCtxSpec = z.infer<typeof S.latCtxSchema>;
// --- issue 14 block: begin
/** Bonnie 1.4 in an endless loop (-s size_mb, -y sync). */
export type BonnieSpec = z.infer<typeof S.bonnieSchema>;
// --- end
/** A workload, told apart by `kind`. */
export type WorkloadSpec = z.infer<typeof S.workloadSchema>;
/** Scheduling policy of a host or Dom0 thread (QEMU vCPU thread, device model). */
export type ThreadSchedSpec = z.infer<typeof S.threadSchedSchema>;
// --- issue 14 qemu (H2): begin
/** QEMU's -rt switch (maxprio, policy, aioprio, aiopolicy, pvsched). */
export type QemuRtSpec = z.infer<typeof S.qemuRtSchema>;
/** QEMU as a process of threads for a KVM guest. */
export type QemuSpec = z.infer<typeof S.qemuSchema>;
// --- issue 14 qemu (H2): end
/** A guest domain (or, natively, the one OS). */
export type GuestSpec = z.infer<typeof S.guestSchema>;
/** Recording options. */
export type RecordSpec = z.infer<typeof S.recordSchema>;
/** The whole simulation. */
export type SimSpec = z.infer<typeof S.simSpecShape>;
