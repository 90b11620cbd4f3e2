/**
 * What a Linux kernel version changes in the model (`kernel.version`): the
 * CFS defaults of kernel/sched_fair.c, sleeper placement, the data/kernels
 * preset (kernel sections, irq and softirq thread priorities), and for KVM
 * hosts whether the guest's LAPIC timer can use the VMX-preemption timer and
 * in which context KVM's hrtimer callback runs under PREEMPT_RT.
 *
 * "5.10": the model as it was (kernel/sched/fair.c of v5.10: sched_latency
 * 6 ms, min_granularity 0.75 ms, wakeup_granularity 1 ms, scaled by
 * 1 + ilog2(min(ncpus, 8)); GENTLE_FAIR_SLEEPERS on; data/kernels/linux-5.0).
 *
 * "2.6.31" (the KVM host of the 2009 real-time KVM study: 2.6.31-rc4 with CONFIG_PREEMPT, and
 * 2.6.31-rt) and "2.6.29" (its guest: 2.6.29.6-rt23), from kernel/sched_fair.c
 * and sched.c of 2.6.31 (read for this model in a 2.6.31.14 tree; 2.6.29 is
 * assumed to have the same values, its sched_fair.c was not re-read):
 *  - sysctl_sched_latency = 20 ms, sysctl_sched_min_granularity = 4 ms,
 *    sched_nr_latency = 5, sysctl_sched_wakeup_granularity = 5 ms, each
 *    "* (1 + ilog(ncpus))": sched_init_granularity() multiplies by
 *    1 + ilog2(num_online_cpus()) without the cap at 8 CPUs that 2.6.32's
 *    update_sysctl brought, and limits latency and min_granularity to 200 ms;
 *    the model's scaling caps at 8, so the base values are pre-multiplied by
 *    the ratio of the two factors (and the limit applied).
 *  - place_entity(): a waking entity is placed at min_vruntime -
 *    sysctl_sched_latency (NEW_FAIR_SLEEPERS; NORMALIZED_SLEEPER, which would
 *    convert it to virtual time, is off by default in 2.6.31's
 *    sched_features.h - not re-read for this model); GENTLE_FAIR_SLEEPERS,
 *    which halves the credit, arrived in 2.6.32 (commit 51e0304ce6e5). So
 *    gentle_fair_sleepers defaults to false.
 *  - RT throttling (sched_rt_period_us 1 s, sched_rt_runtime_us 0.95 s, since
 *    2.6.25) and the RR timeslice (DEF_TIMESLICE 100 ms) are the same as 5.10,
 *    but 2.6.31's sched_rt_runtime_exceeded() balances runtime between CPUs
 *    (do_balance_runtime, unconditional then; the RT_RUNTIME_SHARE feature
 *    from 3.2, off by default from 5.10): an RT task may take a whole CPU
 *    while the other CPUs leave their RT runtime unused (rt.ts,
 *    `runtimeShare`; simulate.ts sets it for these versions).
 *  - CONFIG_HZ: x86's Kconfig.hz default is HZ_250 in 2.6.31 too; the
 *    openSUSE 11.1 kernel configs the paper's kernels started from are not
 *    known here, so the model's default (250) stays (assumed).
 *  - timer slack: current->timer_slack_ns = 50 µs since 2.6.28, RT tasks
 *    sleep without slack (hrtimer_nanosleep) - as 5.10.
 *  - data/kernels/linux-2.6.31.json for the kernel sections, irq thread and
 *    sirq-hrtimer thread priorities of that era.
 *
 * Not modelled (differences of 2.6.31 CFS the model has no mechanism for):
 * the LAST_BUDDY / NEXT_BUDDY pick_next_entity preferences, avg_overlap-based
 * sync wake-ups and wake_affine of 2.6.31, SD_WAKE_IDLE placement, START_DEBIT
 * differences for forked tasks.
 */
import type { KernelSpec } from "../spec/types.js";
import { sysctlFactor } from "../sched/linux/cfs.js";

/** The kernel versions `kernel.version` accepts. */
export type KernelVersionName = NonNullable<KernelSpec["version"]>;

/** A kernel version of the 2.6 era (2.6.29, 2.6.31). */
export function isLegacy26(v: KernelVersionName | undefined): boolean {
  return v === "2.6.29" || v === "2.6.31";
}

/** data/kernels id of a version (undefined: the default, linux-5.0). */
export function kernelDataId(v: KernelVersionName | undefined): string | undefined {
  return isLegacy26(v) ? "linux-2.6.31" : undefined;
}

/** 1 + ilog2(ncpus) without a cap (sched_init_granularity of 2.6.2x/2.6.31). */
function factor26(ncpus: number): number {
  return 1 + Math.floor(Math.log2(Math.max(1, ncpus)));
}

/** kernel/sched_fair.c of v2.6.31: base values (before the CPU-count scaling), ns. */
export const CFS_2_6_31 = { latency: 20_000_000, minGranularity: 4_000_000, wakeupGranularity: 5_000_000 } as const;
/** sched_init_granularity()'s `limit` (2.6.31 kernel/sched.c): 200 ms. */
const LIMIT_2_6_31 = 200_000_000;

/**
 * The CFS tunables (base values for cfsTunables) of kernel `k` on `ncpus`
 * CPUs: the spec's overrides, else the version's defaults. 5.10 returns the
 * spec's values untouched (undefined = the 5.10 defaults of cfs.ts).
 */
export function cfsBaseFor(k: KernelSpec, ncpus: number): { latency?: number; minGranularity?: number; wakeupGranularity?: number; gentleFairSleepers?: boolean } {
  if (!isLegacy26(k.version)) {
    return { latency: k.sched_latency_ns, minGranularity: k.sched_min_granularity_ns, wakeupGranularity: k.sched_wakeup_granularity_ns, gentleFairSleepers: k.gentle_fair_sleepers };
  }
  // 2.6.31 scales by 1 + ilog2(ncpus); cfsTunables by 1 + ilog2(min(ncpus, 8)): pre-multiply by the ratio
  const f = factor26(ncpus), f510 = sysctlFactor(ncpus), r = f / f510;
  // sched_init_granularity: latency and min_granularity are limited to 200 ms after the scaling
  const lim = (base: number) => Math.min(base * f, LIMIT_2_6_31) / f510;
  return {
    latency: lim(k.sched_latency_ns ?? CFS_2_6_31.latency),
    minGranularity: lim(k.sched_min_granularity_ns ?? CFS_2_6_31.minGranularity),
    wakeupGranularity: (k.sched_wakeup_granularity_ns ?? CFS_2_6_31.wakeupGranularity) * r,
    gentleFairSleepers: k.gentle_fair_sleepers ?? false,
  };
}
