/**
 * Experiment `kiszka-rt-hypervisor`: "Towards Linux as a Real-Time
 * Hypervisor" (Kiszka, seed 002), every measurement in the paper's order
 * (Fig. 1-10), plus the what-ifs of its section 6 and some it did not run.
 *
 * Configuration only: this file states the paper's setup as specs; every
 * number comes out of the models (the KVM vCPU threads and QEMU's process
 * of threads with its global lock and AIO pool, the host block layer and
 * disk, the hrtimer path of PREEMPT and PREEMPT_RT hosts, pvsched, the
 * cache-interference cost model, the board preset). The setup, from the
 * paper's section 3.2, and the assumptions it leaves open, stated once:
 * - board `core2-t5500` (Core2 T5500, 2 cores, shared 2 MB L2; SMIs hit
 *   CPU 0 only). Everything measured is bound to CPU 1, as the paper binds
 *   QEMU, the load programs and the host's disk interrupt there.
 * - host kernel: 2.6.31 with CONFIG_PREEMPT (+ PREEMPT_RCU), or the
 *   PREEMPT_RT kernel of that era with the hrtimer thread of CPU 1 at
 *   SCHED_FIFO 99 (section 4.1: `chrt -p -f 99 $(pgrep hrtimer/1)`).
 * - guest: one vCPU, 512 MB, the PREEMPT_RT 2.6.29.6-rt23 kernel with the
 *   pvsched patches (inactive unless the host offers pvsched), a raw disk
 *   image; QEMU threads bound to CPU 1.
 * - loads, in endless loops: bonnie 1.4 `-y -s 2000` (in the guest, or on
 *   the host) and the cache calibrator `1660 4M` (always on the host).
 * - cyclictest `-m -n -p 99 -i 1000 -h 100000 -q`; the host figures run it
 *   on the host's CPU 1, the guest figures on the guest's only CPU.
 * - QEMU priorities: "none" (every thread SCHED_OTHER), "fifo98/97"
 *   (`-rt maxprio=98`: main and AIO threads FIFO 98, vCPU threads 97),
 *   "fifo98/97-aio-other" (`-rt maxprio=98,aioprio=0,aiopolicy=ts`).
 * - run length: the paper ran 10^6 loops (about 15 minutes, one sample per
 *   ms); `loops` sets it here (default {@link LOOPS}, --quick
 *   {@link QUICK_LOOPS}); maxima grow with run length.
 */
import * as aq from "arquero";
import { runSpecs, type ExperimentRunOptions } from "../sweep/runs.js";
import type { SimResult } from "../results/result.js";
import type { GuestSpec, SimSpec, WorkloadSpec } from "../spec/types.js";
import { evaluateLedger, readLedger, type CheckResult, fmt } from "./ledger.js";
import { boardPresets, presetCost } from "../hw/board.js";

/** Host kernel preemption model. */
export type HostKernel = "preempt" | "rt";
/** QEMU thread priorities (`-rt` settings). */
export type QemuPriorities = "none" | "fifo98/97" | "fifo98/97-aio-other";
/** Where bonnie runs. */
export type IoLoad = "guest" | "host" | "none";

/** One measured configuration. */
export interface KiszkaConfig {
  /** `fig1` .. `fig10`, or a what-if id. */
  figure: string;
  /** The paper's caption, or the what-if's description. */
  title: string;
  /** cyclictest on the host (Fig. 1, 6) or in the guest. */
  measured: "host" | "guest";
  host_kernel: HostKernel;
  qemu_priorities: QemuPriorities;
  io_load: IoLoad;
  pvsched: boolean;
  /** What-if knobs (the paper's figures leave them at their defaults). */
  whatIf?: {
    /** Host hrtimer thread priority on an RT host (the paper: 99). */
    hrtimerPriority?: number;
    /** QEMU disk image format (the paper: raw). */
    diskFormat?: "raw" | "qcow2";
    /** CPU of the host cyclictest (the paper: 1). */
    cyclictestCpu?: number;
    /** Calibrator on the host (the paper: always). */
    calibrator?: boolean;
    /** A busy serial console: the guest writes `serialHz` characters per second to QEMU's UART, backed by a pty (the paper: -serial /dev/null, no console load). */
    serialHz?: number;
  };
}

/** Board preset of the paper's machine. */
export const BOARD = "core2-t5500";
/** The CPU everything is bound to. */
export const CPU = 1;
/** Default loops per configuration (the paper: 10^6). */
export const LOOPS = 200_000;
/** Loops with --quick. */
export const QUICK_LOOPS = 5_000;
/** The paper's run length. */
export const PAPER_LOOPS = 1_000_000;
/** cyclictest -h 100000: 1 µs buckets up to 100 ms. */
export const HIST_US = 100_000;

/** The paper's ten measurements, in its order. */
export const FIGURES: KiszkaConfig[] = [
  { figure: "fig1", title: "Host latency (CONFIG_PREEMPT host, bonnie and calibrator on the host)", measured: "host", host_kernel: "preempt", qemu_priorities: "none", io_load: "host", pvsched: false },
  { figure: "fig2", title: "Unprioritized guest latency (bonnie in the guest)", measured: "guest", host_kernel: "preempt", qemu_priorities: "none", io_load: "guest", pvsched: false },
  { figure: "fig3", title: "Prioritized guest latency (QEMU I/O threads FIFO 98, vCPU FIFO 97)", measured: "guest", host_kernel: "preempt", qemu_priorities: "fifo98/97", io_load: "guest", pvsched: false },
  { figure: "fig4", title: "Lowered AIO priority (AIO threads SCHED_OTHER)", measured: "guest", host_kernel: "preempt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: false },
  { figure: "fig5", title: "I/O load moved to the host", measured: "guest", host_kernel: "preempt", qemu_priorities: "fifo98/97-aio-other", io_load: "host", pvsched: false },
  { figure: "fig6", title: "PREEMPT-RT host latency", measured: "host", host_kernel: "rt", qemu_priorities: "none", io_load: "host", pvsched: false },
  { figure: "fig7", title: "Guest latency on PREEMPT-RT host (prioritized QEMU)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97", io_load: "guest", pvsched: false },
  { figure: "fig8", title: "PREEMPT-RT with lowered AIO", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: false },
  { figure: "fig9", title: "Paravirtual scheduling on CONFIG_PREEMPT", measured: "guest", host_kernel: "preempt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: true },
  { figure: "fig10", title: "Paravirtual scheduling on CONFIG_PREEMPT_RT", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: true },
];

/** Configurations the paper's text describes without a figure, and what-ifs it did not run. */
export const WHAT_IFS: KiszkaConfig[] = [
  { figure: "prioritized-no-io", title: "Fig. 3 without bonnie (no I/O load; the calibrator stays)", measured: "guest", host_kernel: "preempt", qemu_priorities: "fifo98/97", io_load: "none", pvsched: false },
  { figure: "rt-no-io", title: "Fig. 8 without bonnie (no I/O load; the calibrator stays)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "none", pvsched: false },
  { figure: "host-cpu0", title: "Host without loads, cyclictest on CPU 0 (where SMIs land)", measured: "host", host_kernel: "preempt", qemu_priorities: "none", io_load: "none", pvsched: false, whatIf: { cyclictestCpu: 0, calibrator: false } },
  { figure: "host-cpu1-noload", title: "Host without loads, cyclictest on CPU 1 (the baseline of host-cpu0)", measured: "host", host_kernel: "preempt", qemu_priorities: "none", io_load: "none", pvsched: false, whatIf: { calibrator: false } },
  { figure: "rt-qcow2", title: "Fig. 8 with a QCOW2 image (metadata I/O under QEMU's global lock)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: false, whatIf: { diskFormat: "qcow2" } },
  { figure: "rt-hrtimer50", title: "Fig. 7 with the hrtimer thread left below QEMU (FIFO 50)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97", io_load: "guest", pvsched: false, whatIf: { hrtimerPriority: 50 } },
  { figure: "rt-serial", title: "Fig. 8 with a busy serial console (2000 characters/s to the emulated UART, pty backend)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: false, whatIf: { serialHz: 2000 } },
  { figure: "rt-no-calibrator", title: "Fig. 8 without the calibrator (no cache pollution)", measured: "guest", host_kernel: "rt", qemu_priorities: "fifo98/97-aio-other", io_load: "guest", pvsched: false, whatIf: { calibrator: false } },
];

const bonnie = (cpus?: number[]): WorkloadSpec => ({ kind: "bonnie", size_mb: 2000, sync: true, ...(cpus ? { cpus } : {}) }) as unknown as WorkloadSpec;
const calibrator = (): WorkloadSpec => ({ kind: "calibrator", mhz: 1660, size_bytes: 4 * 1024 * 1024, cpus: [CPU] }) as unknown as WorkloadSpec;
const cyclictest = (cpu: number, loops: number): WorkloadSpec => ({ kind: "cyclictest", priority: 99, interval_us: 1000, cpu, loops, histogram_us: HIST_US });

/** The host kernel spec of a configuration. */
function hostKernel(c: KiszkaConfig): Record<string, unknown> {
  return c.host_kernel === "rt"
    ? { version: "2.6.31", preempt: "rt", hrtimer_thread_priority: c.whatIf?.hrtimerPriority ?? 99, irq_affinity: { disk: [CPU] } }
    : { version: "2.6.31", preempt: "full", irq_affinity: { disk: [CPU] } };
}

/** QEMU's `-rt` settings of a configuration (undefined: unprioritized). */
function qemuRt(c: KiszkaConfig): Record<string, unknown> | undefined {
  if (c.qemu_priorities === "none") return undefined;
  const rt: Record<string, unknown> = { maxprio: 98, policy: "ff" };
  if (c.qemu_priorities === "fifo98/97-aio-other") Object.assign(rt, { aioprio: 0, aiopolicy: "ts" });
  if (c.pvsched) rt.pvsched = true;
  return rt;
}

/**
 * The spec of one configuration; `loops` cyclictest loops at 1 ms (the
 * horizon is the loops plus a 1 s warm-up, so the loops all fall after it).
 */
export function setup(c: KiszkaConfig, o: { loops: number }): SimSpec {
  const warm = 1;
  const horizon = warm + o.loops / 1000 + 0.01;
  const hostLoads: WorkloadSpec[] = [];
  if (c.whatIf?.calibrator !== false) hostLoads.push(calibrator());
  if (c.io_load === "host") hostLoads.push(bonnie([CPU]));
  if (c.measured === "host") {
    const kernel = hostKernel(c);
    const os = {
      name: "host", vcpus: 2, kernel,
      workloads: [cyclictest(c.whatIf?.cyclictestCpu ?? CPU, o.loops), ...hostLoads],
    } as unknown as GuestSpec;
    return { board: { preset: BOARD }, hypervisor: { kind: "native" }, guests: [os], horizon_s: horizon, warmup_s: warm };
  }
  const rt = qemuRt(c);
  const guest = {
    name: "guest", vcpus: 1, memory_mb: 512,
    kernel: { version: "2.6.29", preempt: "rt" },
    qemu: { cpus: [CPU], ...(rt ? { rt } : {}), disk: { format: c.whatIf?.diskFormat ?? "raw" }, ...(c.whatIf?.serialHz ? { serial: { backend: "pty" } } : {}) },
    workloads: [
      cyclictest(0, o.loops), ...(c.io_load === "guest" ? [bonnie()] : []),
      ...(c.whatIf?.serialHz ? [{ kind: "device-io", rate_hz: c.whatIf.serialHz } as WorkloadSpec] : []),
    ],
  } as unknown as GuestSpec;
  return {
    board: { preset: BOARD },
    hypervisor: { kind: "kvm", host_kernel: hostKernel(c), host_workloads: hostLoads } as SimSpec["hypervisor"],
    guests: [guest], horizon_s: horizon, warmup_s: warm,
  };
}

/** The measured thread's row of a run's `cyclictest` table. */
function ctRow(r: SimResult): { min: number; avg: number; max: number; cycles: number; overflows: number } {
  const row = r.rows("cyclictest")[0];
  return { min: row.min_latency_us ?? NaN, avg: row.avg_latency_us ?? NaN, max: row.max_latency_us ?? NaN, cycles: row.cycles, overflows: row.overflows };
}

const r1 = (x: number) => Math.round(x * 10) / 10;

/** Latency statistics of a configuration's histogram. */
export interface HistStats {
  /** Most frequent latency (µs bucket). */
  mode_us: number;
  p01_us: number;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  /** Share of samples at or above 1 ms, %. */
  over_1ms_pct: number;
  samples: number;
}

/** Percentiles and tail shares from (latency_us, count) rows (1 µs buckets; overflows count above the last). */
export function histStats(rows: { latency_us: number; count: number }[], overflows = 0): HistStats {
  const s = [...rows].sort((a, b) => a.latency_us - b.latency_us);
  const n = s.reduce((a, r) => a + r.count, 0) + overflows;
  let mode = NaN, best = -1;
  for (const r of s) if (r.count > best) { best = r.count; mode = r.latency_us; }
  const q = (p: number) => {
    const k = p * n;
    let acc = 0;
    for (const r of s) { acc += r.count; if (acc >= k) return r.latency_us; }
    return HIST_US;
  };
  const over = s.filter((r) => r.latency_us >= 1000).reduce((a, r) => a + r.count, 0) + overflows;
  return { mode_us: mode, p01_us: q(0.01), p50_us: q(0.5), p99_us: q(0.99), p999_us: q(0.999), over_1ms_pct: n ? (over / n) * 100 : NaN, samples: n };
}

/** Per-configuration statistics: the histogram's and cyclictest's own min/avg/max and overflow count. */
export type S = Map<string, HistStats & { min: number; avg: number; max: number; overflows: number }>;

/** Runs configurations; returns the per-figure rows, the histogram rows and the stats. */
export function runConfigs(cs: KiszkaConfig[], o: { loops: number; seed?: number } & ExperimentRunOptions): {
  rows: Record<string, unknown>[]; hist: { figure: string; latency_us: number; count: number }[]; stats: S; results: SimResult[];
} {
  const results = runSpecs(cs.map((c) => ({ spec: setup(c, o), seed: o.seed ?? 1 })), { workers: o.workers, cache: o.cache });
  const rows: Record<string, unknown>[] = [];
  const hist: { figure: string; latency_us: number; count: number }[] = [];
  const stats: S = new Map();
  cs.forEach((c, i) => {
    const r = results[i];
    const ct = ctRow(r);
    const h = (r.rows("latency_hist") as { latency_us: number; count: number }[]).filter((x) => x.count > 0);
    for (const x of h) hist.push({ figure: c.figure, latency_us: x.latency_us, count: x.count });
    const hs = histStats(h, ct.overflows);
    stats.set(c.figure, { ...hs, min: ct.min, avg: ct.avg, max: ct.max, overflows: ct.overflows });
    rows.push({
      figure: c.figure, host_kernel: c.host_kernel, qemu_priorities: c.qemu_priorities, io_load: c.io_load, pvsched: c.pvsched,
      min_latency_us: ct.min, avg_latency_us: r1(ct.avg), max_latency_us: ct.max,
      p99_latency_us: hs.p99_us, over_1ms_pct: Math.round(hs.over_1ms_pct * 1000) / 1000, cycles: ct.cycles, overflows: ct.overflows,
    });
  });
  return { rows, hist, stats, results };
}

/** Run length study: avg and max of a configuration against the number of loops. */
export function runLength(c: KiszkaConfig, loops: number[], o: ExperimentRunOptions & { seed?: number } = {}): aq.ColumnTable {
  const rs = runSpecs(loops.map((l) => ({ spec: setup(c, { loops: l }), seed: o.seed ?? 1 })), { workers: o.workers, cache: o.cache });
  return aq.from(loops.map((l, i) => {
    const ct = ctRow(rs[i]);
    return { figure: c.figure, loops: l, avg_latency_us: r1(ct.avg), max_latency_us: ct.max };
  }));
}

/** The board costs of the scheduler's paths that {@link switchCostSensitivity} scales. */
export const SWITCH_COSTS = ["context_switch", "switch_mm", "schedule", "wake_up", "wake_up_remote"] as const;

/**
 * How the two findings that hinge on thread hops move with the assumed
 * scheduler costs of the board: Figs. 4, 5, 8, 9 and 10 rerun with the
 * costs in {@link SWITCH_COSTS} multiplied by each factor (1 = the preset),
 * as `board.costs_ns` overrides of the paper's own setups. One row per
 * factor: the averages `figN_avg_us`, the 99th percentiles of Figs. 4 and 8,
 * and the two comparisons of the ledger: `rt_minus_preempt_avg_us` (Fig. 8
 * minus the lower of Figs. 4 and 5; fig8-best-distribution) and
 * `pvsched_preempt_up_us` / `_pct` (Fig. 9 minus Fig. 4;
 * fig9-fig10-average-slightly-up).
 */
export function switchCostSensitivity(o: { factors?: number[]; loops?: number; seed?: number } & ExperimentRunOptions = {}): aq.ColumnTable {
  const factors = o.factors ?? [0.25, 0.5, 1];
  const loops = o.loops ?? 50_000;
  const figs = ["fig4", "fig5", "fig8", "fig9", "fig10"];
  const board = boardPresets().get(BOARD)!;
  const specs: { spec: SimSpec; seed: number }[] = [];
  for (const f of factors) {
    for (const fig of figs) {
      const spec = setup(FIGURES.find((c) => c.figure === fig)!, { loops });
      spec.board = { ...spec.board, costs_ns: Object.fromEntries(SWITCH_COSTS.map((n) => [n, Math.round(presetCost(board, n) * f)])) } as SimSpec["board"];
      specs.push({ spec, seed: o.seed ?? 1 });
    }
  }
  const rs = runSpecs(specs, { workers: o.workers, cache: o.cache });
  return aq.from(factors.map((f, k) => {
    const ct = (fig: string) => ctRow(rs[k * figs.length + figs.indexOf(fig)]);
    const p99 = (fig: string) => rs[k * figs.length + figs.indexOf(fig)].rows("cyclictest")[0].p99_latency_us ?? NaN;
    const a = (fig: string) => ct(fig).avg;
    return {
      factor: f,
      fig4_avg_us: r1(a("fig4")), fig5_avg_us: r1(a("fig5")), fig8_avg_us: r1(a("fig8")), fig9_avg_us: r1(a("fig9")), fig10_avg_us: r1(a("fig10")),
      fig4_p99_us: p99("fig4"), fig8_p99_us: p99("fig8"),
      rt_minus_preempt_avg_us: r1(a("fig8") - Math.min(a("fig4"), a("fig5"))),
      pvsched_preempt_up_us: r1(a("fig9") - a("fig4")),
      pvsched_preempt_up_pct: Math.round((100 * (a("fig9") - a("fig4"))) / a("fig4")),
    };
  }));
}

/** The findings ledger (data/reference/kiszka-rt-hypervisor.findings.json), computed from the runs' statistics. */
export function findings(st: S, loops: number): aq.ColumnTable {
  const g = (f: string) => {
    const x = st.get(f);
    if (!x) throw new Error(`configuration ${f} was not run`);
    return x;
  };
  const d = (f: string) => `${f}: avg ${fmt(g(f).avg)}, max ${fmt(g(f).max)}, mode ${fmt(g(f).mode_us)}, p99 ${fmt(g(f).p99_us)}, ≥1 ms ${r1(g(f).over_1ms_pct * 1000) / 1000}%`;
  const guestFigs = ["fig2", "fig3", "fig4", "fig5", "fig7", "fig8"];
  const checks: Record<string, () => CheckResult> = {
    "fig2-shifted-maximum": () => ({ measured: `mode ${fmt(g("fig2").mode_us)} (guest, fig2) vs ${fmt(g("fig1").mode_us)} (host, fig1)`, holds: g("fig2").mode_us > g("fig1").mode_us }),
    "fig2-multi-ms-latencies": () => ({ measured: `${d("fig2")}; ${d("fig1")}`, holds: g("fig2").over_1ms_pct > 0 && g("fig2").over_1ms_pct >= 10 * g("fig1").over_1ms_pct }),
    "fig2-beyond-100ms": () => ({ measured: `fig2 max ${fmt(g("fig2").max)} in ${loops} loops, ${g("fig2").overflows} samples beyond the 100 ms histogram`, holds: g("fig2").max >= 100_000 }),
    "fig3-average-drops": () => ({ measured: `avg ${fmt(g("fig3").avg)} (fig3) vs ${fmt(g("fig2").avg)} (fig2)`, holds: g("fig3").avg <= 0.5 * g("fig2").avg }),
    "fig4-shape-kept-tails-trimmed": () => {
      const a = g("fig3"), b = g("fig4");
      const shape = Math.abs(b.mode_us - a.mode_us) <= Math.max(5, 0.25 * a.mode_us);
      const tails = b.p99_us <= a.p99_us && b.p01_us >= a.p01_us && (b.p99_us < a.p99_us || b.p01_us > a.p01_us);
      return { measured: `mode ${fmt(a.mode_us)} -> ${fmt(b.mode_us)}, p1 ${fmt(a.p01_us)} -> ${fmt(b.p01_us)}, p99 ${fmt(a.p99_us)} -> ${fmt(b.p99_us)} (fig3 -> fig4)`, holds: shape && tails };
    },
    "fig5-roughly-same": () => {
      const a = g("fig4"), b = g("fig5");
      return { measured: `avg ${fmt(a.avg)} -> ${fmt(b.avg)}, p99 ${fmt(a.p99_us)} -> ${fmt(b.p99_us)} (fig4 -> fig5)`, holds: Math.abs(b.avg - a.avg) <= 0.25 * a.avg && b.p99_us <= 1.5 * a.p99_us + 10 && a.p99_us <= 1.5 * b.p99_us + 10 };
    },
    "fig6-rt-host-no-inversion": () => ({ measured: `${d("fig6")}; ${d("fig1")}`, holds: g("fig6").max < g("fig1").max && g("fig6").max < 1000 }),
    "fig7-worst-case-improves": () => ({ measured: `max ${fmt(g("fig7").max)} (RT host, fig7) vs ${fmt(g("fig3").max)} (PREEMPT host, fig3)`, holds: g("fig7").max < g("fig3").max }),
    "fig7-changed-withheld": () => ({ measured: `simulated only: fig7 avg ${fmt(g("fig7").avg)}, max ${fmt(g("fig7").max)} (fig3: ${fmt(g("fig3").avg)}, ${fmt(g("fig3").max)})`, holds: g("fig7").avg !== g("fig3").avg || g("fig7").max !== g("fig3").max }),
    "fig8-best-distribution": () => {
      const best = guestFigs.every((f) => f === "fig8" || (g("fig8").avg <= g(f).avg && g("fig8").p99_us <= g(f).p99_us));
      return { measured: guestFigs.map((f) => `${f} avg ${fmt(g(f).avg)} p99 ${fmt(g(f).p99_us)}`).join("; "), holds: best };
    },
    "fig8-values-withheld": () => ({ measured: `simulated only: fig8 avg ${fmt(g("fig8").avg)}, max ${fmt(g("fig8").max)} in ${loops} loops`, holds: Number.isFinite(g("fig8").avg) }),
    "sec6-rt-sub-ms-sub-100us": () => ({ measured: d("fig8"), holds: g("fig8").max < 1000 && g("fig8").avg < 100 }),
    "sec6-guest-io-influence": () => {
      const io = g("fig3"), none = g("prioritized-no-io");
      return { measured: `fig3 (bonnie in the guest) avg ${fmt(io.avg)} p99 ${fmt(io.p99_us)} max ${fmt(io.max)}; without I/O avg ${fmt(none.avg)} p99 ${fmt(none.p99_us)} max ${fmt(none.max)}`, holds: io.p99_us >= 1.5 * none.p99_us && io.max > none.max };
    },
    "sec6-aio-priority-mitigates": () => ({ measured: `p99 ${fmt(g("fig3").p99_us)} -> ${fmt(g("fig4").p99_us)}, max ${fmt(g("fig3").max)} -> ${fmt(g("fig4").max)} (fig3 -> fig4)`, holds: g("fig4").p99_us < g("fig3").p99_us }),
    "fig9-fig10-average-slightly-up": () => {
      const u9 = g("fig9").avg - g("fig4").avg, u10 = g("fig10").avg - g("fig8").avg;
      const slight = (u: number, base: number) => u > 0 && u <= Math.max(0.3 * base, 10);
      return { measured: `avg +${fmt(u9)} on PREEMPT (fig4 -> fig9), +${fmt(u10)} on PREEMPT_RT (fig8 -> fig10)`, holds: slight(u9, g("fig4").avg) && slight(u10, g("fig8").avg) };
    },
    "fig9-higher-worst-case": () => ({ measured: `max ${fmt(g("fig4").max)} -> ${fmt(g("fig9").max)} (PREEMPT, fig4 -> fig9); ${fmt(g("fig8").max)} -> ${fmt(g("fig10").max)} (RT, fig8 -> fig10)`, holds: g("fig9").max > g("fig4").max }),
    "pvsched-no-priority-inversion": () => ({ measured: `max ${fmt(g("fig8").max)} -> ${fmt(g("fig10").max)} (fig8 -> fig10), p99 ${fmt(g("fig8").p99_us)} -> ${fmt(g("fig10").p99_us)}`, holds: g("fig10").max <= 1.5 * g("fig8").max + 20 && g("fig10").p99_us <= 1.5 * g("fig8").p99_us + 10 }),
    "pvsched-average-withheld": () => ({ measured: `simulated only: average increase ${fmt(g("fig9").avg - g("fig4").avg)} (PREEMPT), ${fmt(g("fig10").avg - g("fig8").avg)} (PREEMPT_RT)`, holds: g("fig9").avg > g("fig4").avg && g("fig10").avg > g("fig8").avg }),
    "smi-first-core": () => {
      const a = g("host-cpu0"), b = g("host-cpu1-noload");
      return { measured: `host cyclictest without load: max ${fmt(a.max)} on CPU 0, ${fmt(b.max)} on CPU 1`, holds: a.max >= 100 && a.max <= 1000 && b.max < 100 };
    },
    "sec6-qcow2-high-latency": () => ({ measured: `max ${fmt(g("fig8").max)} (raw, fig8) vs ${fmt(g("rt-qcow2").max)} (qcow2); p99 ${fmt(g("fig8").p99_us)} vs ${fmt(g("rt-qcow2").p99_us)}`, holds: g("rt-qcow2").max >= 3 * g("fig8").max && g("rt-qcow2").max >= 1000 }),
    "sec6-serial-console-inversion": () => ({ measured: `max ${fmt(g("fig8").max)} (fig8) vs ${fmt(g("rt-serial").max)} with a busy serial console; p99 ${fmt(g("fig8").p99_us)} vs ${fmt(g("rt-serial").p99_us)}`, holds: g("rt-serial").max >= 3 * g("fig8").max && g("rt-serial").max >= 1000 }),
    "sec4-hrtimer-below-qemu": () => ({ measured: `RT host, prioritized QEMU with bonnie: hrtimer thread FIFO 50: ${d("rt-hrtimer50")}; FIFO 99 (fig7): ${d("fig7")}`, holds: g("rt-hrtimer50").max > 2 * g("fig7").max }),
  };
  return evaluateLedger(readLedger("kiszka-rt-hypervisor"), checks);
}

/** `hvsim reproduce kiszka-rt-hypervisor`: fig1..fig10, hist, whatif, findings. */
export function reproduce(o: { quick?: boolean; loops?: number; onProgress?: (m: string) => void } & ExperimentRunOptions = {}): Record<string, aq.ColumnTable> {
  const loops = o.loops ?? (o.quick ? QUICK_LOOPS : LOOPS);
  o.onProgress?.(`Fig. 1-10 and ${WHAT_IFS.length} what-ifs, ${loops} cyclictest loops each`);
  const all = [...FIGURES, ...WHAT_IFS];
  const run = runConfigs(all, { loops, workers: o.workers, cache: o.cache });
  const out: Record<string, aq.ColumnTable> = {};
  const cols = ["figure", "host_kernel", "qemu_priorities", "io_load", "pvsched", "min_latency_us", "avg_latency_us", "max_latency_us", "p99_latency_us", "over_1ms_pct", "cycles", "overflows"];
  for (const f of FIGURES) out[f.figure] = aq.from(run.rows.filter((r) => r.figure === f.figure)).select(cols);
  out.hist = aq.from(run.hist.filter((h) => FIGURES.some((f) => f.figure === h.figure)));
  out.whatif = aq.from(run.rows.filter((r) => WHAT_IFS.some((w) => w.figure === r.figure)).map((r) => ({ ...r, title: all.find((c) => c.figure === r.figure)!.title })));
  out.findings = findings(run.stats, loops);
  return out;
}
