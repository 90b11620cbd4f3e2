/**
 * The catalogue of result tables: every table a simulation can produce,
 * its row type (column names and value types) and, per column, what it
 * holds and in which unit. `SimResult.table(name)` and `rows(name)` are
 * typed from it; a producer (a host or a workload module) is type-checked
 * against it (`TableSet`), and a test checks that every produced table has
 * exactly the catalogued columns.
 *
 * Types are plain interfaces and string-literal unions (tslab compiles
 * notebook cells with TypeScript 5.0). The order of `TABLES` is the order
 * of `SimResult.tableNames`.
 */

/** Table `vcpus` (Xen): per vCPU, its runstate times over the run. */
export interface VcpusRow {
  domain: string; vcpu: number; pool: string;
  running_ms: number; runnable_ms: number; blocked_ms: number; offline_ms: number;
  switches_in: number;
}
/** Table `pcpus` (Xen): per pCPU, busy and idle time. */
export interface PcpusRow { pcpu: number; pool: string; busy_ms: number; idle_ms: number; switches: number }
/** Table `trace` (Xen, with record.trace_max): the hypervisor's context switches. */
export interface TraceRow { t_ms: number; pcpu: number; prev: string; next: string }
/** Table `tasks`: every task of every kernel (guests, and the KVM host). */
export interface TasksRow {
  domain: string; task: string; cpu: number;
  sum_exec_ms: number; vruntime_ms: number; nvcsw: number; nivcsw: number; wakeups: number;
  jobs: number; preemptions: number; migrations: number; deadline_misses: number;
  max_response_us: number | null; mean_response_us: number | null;
}
/** Table `jobs` (periodic tasks, with record.jobs_max): one row per job. */
export interface JobsRow {
  task: string; job: number; release_us: number; start_us: number; finish_us: number; response_us: number; deadline_miss: boolean;
}
/** Table `guest_cpus`: per (v)CPU of every kernel. */
export interface GuestCpusRow {
  domain: string; cpu: number; busy_ms: number; context_switches: number; interrupts: number; ipis_sent: number;
  irq_wait_suspended_ms: number;
}
/** Table `programs` (cpu-hog with work_ms): when each finite program finished. */
export interface ProgramsRow { domain: string; task: string; work_ms: number; finish_ms: number | null }
/** Table `context1`: per Context1 instance, its score and hand-off counts. */
export interface Context1Row {
  domain: string; loops: number; duration_s: number; loops_per_s: number;
  fast_handoffs: number; slow_handoffs: number; other_handoffs: number; fast_share: number;
  workload: string;
}
/** Table `context1_gap`: the sampled vruntime gap of every Context1 instance. */
export interface Context1GapRow {
  domain: string; t_ms: number; gap_ms: number; pair_exec_ms: number; fast_handoffs: number; slow_handoffs: number;
  workload: string;
}
/** Table `cyclictest`: per measurement thread, rt-tests' statistics. */
export interface CyclictestRow {
  domain: string; thread: number; cpu: number; priority: number; interval_us: number; cycles: number;
  min_latency_us: number | null; avg_latency_us: number | null; max_latency_us: number | null; overflows: number;
  p50_latency_us: number | null; p99_latency_us: number | null; p999_latency_us: number | null; histogram_us: number;
}
/** Table `latency_hist`: per thread, the latency histogram. */
export interface LatencyHistRow { domain: string; thread: number; latency_us: number; count: number }
/** Table `latency_overflows`: cycle numbers of the histogram overflows. */
export interface LatencyOverflowsRow { domain: string; thread: number; cycle: number }
/** The latency components of the breakdown (kernel/linux.ts LAT_COMPONENTS). */
export type LatencyComponent =
  | "timer_slop" | "hypervisor" | "vcpu_not_running" | "clock_read" | "kernel_nonpreemptible" | "irq" | "sched" | "truncation";
/** Table `latency_breakdown`: per thread and latency component, mean, max and share of the latency. */
export interface LatencyBreakdownRow {
  domain: string; thread: number; component: LatencyComponent; mean_us: number | null; max_us: number | null; share_pct: number;
}
/** Table `latency_samples` (cyclictest samples_max): per sample, the latency and its components. */
export interface LatencySamplesRow {
  domain: string; thread: number; cycle: number; expiry_us: number; latency_us: number;
  timer_slop_us: number; hypervisor_us: number; vcpu_not_running_us: number; clock_read_us: number;
  kernel_nonpreemptible_us: number; irq_us: number; sched_us: number; truncation_us: number;
}
/** Table `vcpu_threads` (KVM): per vCPU thread. */
export interface VcpuThreadsRow {
  guest: string; vcpu: number; host_cpu: number; policy: string; priority: number;
  in_guest_ms: number; runnable_wait_ms: number; halts: number; polls_succeeded: number; sleeps: number; vm_exits: number;
}
// --- issue 14 qemu (H2): begin
/** Table `qemu_threads` (KVM guests with `qemu`): per QEMU thread (vCPU, main I/O, AIO). */
export interface QemuThreadsRow {
  guest: string; thread: string; kind: string; policy: string; priority: number; host_cpu: number;
  cpu_time_ms: number; max_wait_us: number; lock_acquisitions: number; lock_waits: number;
  lock_wait_mean_us: number | null; lock_wait_max_us: number; lock_hold_max_us: number; exited: boolean;
}
/** Table `qemu_io` (KVM guests with `qemu.disk`): per guest and stage of an emulated-disk request. */
export interface QemuIoRow { guest: string; stage: string; requests: number; mean_us: number | null; max_us: number | null }
// --- issue 14 qemu (H2): end
/** Table `device_models` (Xen HVM): per QEMU device model in Dom0. */
export interface DeviceModelsRow {
  domain: string; task: string; policy: string; priority: number; ioreqs: number;
  mean_ioreq_us: number | null; max_ioreq_us: number | null;
}
/** Table `device_io`: per device-io workload. */
export interface DeviceIoRow { domain: string; task: string; accesses: number; mean_access_us: number | null; max_access_us: number | null }
/** Table `stress`: per stress load. */
export interface StressRow { domain: string; processes: number; kernel_activities: number; io_waits: number; interrupts: number }
/** Table `lat_ctx` (issue 11): per lat-ctx workload, lmbench lat_ctx's time per token pass. */
export interface LatCtxRow { domain: string; procs: number; passes: number; us_per_pass: number | null }
// --- issue 14 block: begin
/** Table `bonnie`: per bonnie workload and phase, the phases run after the warm-up (the one in progress included). */
export interface BonnieRow {
  domain: string; task: string; phase: string; phases: number; bytes: number; time_s: number;
  MB_per_s: number | null; seeks_per_s: number | null;
}
/** Table `block_io`: per kernel with a block layer, its request queue and disk. */
export interface BlockIoRow {
  domain: string; device: string; requests: number; read_requests: number; write_requests: number; merges: number; bytes: number;
  mean_service_us: number | null; max_service_us: number | null; mean_wait_us: number | null; max_wait_us: number | null;
  irq_cpu: number; irqs: number; irqs_outside_affinity: number; memory_mb: number; throttled: number;
}
// --- end

// --- issue 14 pvsched: begin
/** Table `pvsched` (KVM, issue 14): per vCPU of a guest with paravirtual scheduling on. */
export interface PvschedRow {
  guest: string; vcpu: number; p_max: number; set_sched_calls: number; irq_done_calls: number; boosts: number; timer_boosts: number;
  setscheduler_calls: number; host_policy: string; host_priority: number; boosted_time_ms: number; hypercall_time_ms: number;
}
// --- end
/** Row type of every table, by name. */
export interface TableRows {
  vcpus: VcpusRow;
  pcpus: PcpusRow;
  trace: TraceRow;
  tasks: TasksRow;
  jobs: JobsRow;
  guest_cpus: GuestCpusRow;
  programs: ProgramsRow;
  context1: Context1Row;
  context1_gap: Context1GapRow;
  cyclictest: CyclictestRow;
  latency_hist: LatencyHistRow;
  latency_overflows: LatencyOverflowsRow;
  latency_breakdown: LatencyBreakdownRow;
  latency_samples: LatencySamplesRow;
  vcpu_threads: VcpuThreadsRow;
  qemu_threads: QemuThreadsRow; // issue 14 qemu (H2)
  qemu_io: QemuIoRow; // issue 14 qemu (H2)
  device_models: DeviceModelsRow;
  device_io: DeviceIoRow;
  stress: StressRow;
  lat_ctx: LatCtxRow;
  // --- issue 14 board/cache: begin
  smi: SmiRow;
  llc: LlcRow;
  // --- issue 14 board/cache: end
  // --- issue 14 block: begin
  bonnie: BonnieRow;
  block_io: BlockIoRow;
  // --- end
  pvsched: PvschedRow; // issue 14 pvsched
}

// --- issue 14 board/cache: begin
/** Table `smi` (boards with SMI data, board.smi not false): per CPU hit by SMIs. */
export interface SmiRow { cpu: number; smis: number; smm_ms: number }
/** Table `llc` (boards with `llc` data and a memory-bound task): the cache-interference model's charges per kernel and path. */
export interface LlcRow { domain: string; path: string; samples: number; evicted_lines: number; extra_us: number }
// --- issue 14 board/cache: end

/** A table name. */
export type TableName = keyof TableRows;

/** Columns of one table as produced: column name -> values (arrays or typed arrays). */
export type ColumnsOf<R> = { [C in keyof R]: ArrayLike<R[C]> };

/** Tables produced by one source (a host, the kernels, a workload module). */
export type TableSet = { [N in TableName]?: ColumnsOf<TableRows[N]> };

/** What the catalogue says about one table. */
export interface TableInfo<R> {
  /** What one row is. */
  doc: string;
  /** Who produces it (a host, the kernels, or a workload kind). */
  source: string;
  /** Per column: what it holds, with its unit. */
  columns: { [C in keyof R]: string };
}

/** The catalogue, in the order of `SimResult.tableNames`. */
export const TABLES: { [N in TableName]: TableInfo<TableRows[N]> } = {
  vcpus: {
    doc: "one row per Xen vCPU", source: "xen",
    columns: {
      domain: "domain name", vcpu: "vCPU index", pool: "cpupool", running_ms: "runstate running, ms",
      runnable_ms: "runstate runnable, ms", blocked_ms: "runstate blocked, ms", offline_ms: "runstate offline, ms",
      switches_in: "times switched in (count)",
    },
  },
  pcpus: {
    doc: "one row per Xen pCPU", source: "xen",
    columns: { pcpu: "pCPU index", pool: "cpupool", busy_ms: "time running a vCPU, ms", idle_ms: "idle time, ms", switches: "context switches (count)" },
  },
  trace: {
    doc: "one row per hypervisor context switch, up to record.trace_max", source: "xen",
    columns: { t_ms: "time, ms", pcpu: "pCPU index", prev: "vCPU switched out (or idle)", next: "vCPU switched in (or idle)" },
  },
  tasks: {
    doc: "one row per task of every kernel (guests and the KVM host)", source: "kernels",
    columns: {
      domain: "guest (or host) name", task: "task name", cpu: "CPU at the end", sum_exec_ms: "CPU time, ms",
      vruntime_ms: "CFS vruntime, ms", nvcsw: "voluntary switches (count)", nivcsw: "involuntary switches (count)",
      wakeups: "wake-ups (count)", jobs: "periodic jobs completed after the warm-up (0 for other tasks)",
      preemptions: "involuntary switches during periodic jobs (count)", migrations: "migrations (count)",
      deadline_misses: "periodic deadline misses, late or unfinished (count)",
      max_response_us: "periodic: max response time, µs (null otherwise)", mean_response_us: "periodic: mean response time, µs (null otherwise)",
    },
  },
  jobs: {
    doc: "one row per periodic job, up to record.jobs_max, in completion order", source: "periodic",
    columns: {
      task: "task name", job: "job number", release_us: "release, µs", start_us: "start (return to user space), µs",
      finish_us: "finish, µs", response_us: "finish − release, µs", deadline_miss: "response > relative deadline",
    },
  },
  guest_cpus: {
    doc: "one row per (v)CPU of every kernel", source: "kernels",
    columns: {
      domain: "guest (or host) name", cpu: "CPU index", busy_ms: "non-idle time, ms", context_switches: "count",
      interrupts: "count", ipis_sent: "count", irq_wait_suspended_ms: "time interrupts waited for the (v)CPU to run, ms",
    },
  },
  programs: {
    doc: "one row per finite CPU-bound program (cpu-hog with work_ms)", source: "cpu-hog",
    columns: { domain: "guest name", task: "task name", work_ms: "CPU work, ms", finish_ms: "finish time, ms (null: not finished)" },
  },
  context1: {
    doc: "one row per Context1 instance", source: "context1",
    columns: {
      domain: "guest name", loops: "master iterations after the warm-up", duration_s: "measured duration, s",
      loops_per_s: "UnixBench score, loops/s", fast_handoffs: "hand-offs by wake-up preemption (count)",
      slow_handoffs: "hand-offs by blocking read (count)", other_handoffs: "other hand-offs (count)",
      fast_share: "share of loops in the fast pattern (0..1)", workload: "workload name (guest/context1#index)",
    },
  },
  context1_gap: {
    doc: "one row per sample of every Context1 instance's vruntime gap", source: "context1",
    columns: {
      domain: "guest name", t_ms: "sample time, ms", gap_ms: "vruntime(master) − vruntime(slave), ms",
      pair_exec_ms: "CPU time of both processes, ms", fast_handoffs: "cumulative fast hand-offs (count)",
      slow_handoffs: "cumulative slow hand-offs (count)", workload: "workload name (guest/context1#index)",
    },
  },
  cyclictest: {
    doc: "one row per cyclictest thread", source: "cyclictest",
    columns: {
      domain: "guest name", thread: "thread number (run-wide)", cpu: "CPU", priority: "SCHED_FIFO priority",
      interval_us: "period, µs", cycles: "samples after the warm-up", min_latency_us: "µs (null: no sample)",
      avg_latency_us: "µs (null: no sample)", max_latency_us: "µs (null: no sample)", overflows: "samples >= histogram_us (count)",
      p50_latency_us: "µs, HDR histogram (3 significant digits)", p99_latency_us: "µs, HDR histogram",
      p999_latency_us: "µs, HDR histogram", histogram_us: "histogram buckets (-h), µs",
    },
  },
  latency_hist: {
    doc: "one row per (thread, 1 µs bucket), or per recorded HDR value without -h", source: "cyclictest",
    columns: { domain: "guest name", thread: "thread number", latency_us: "bucket, µs", count: "samples" },
  },
  latency_overflows: {
    doc: "one row per logged histogram overflow", source: "cyclictest",
    columns: { domain: "guest name", thread: "thread number", cycle: "cycle number" },
  },
  latency_breakdown: {
    doc: "one row per (thread, latency component)", source: "cyclictest",
    columns: {
      domain: "guest name", thread: "thread number", component: "latency component", mean_us: "mean per sample, µs",
      max_us: "max over samples, µs", share_pct: "share of the summed latency, %",
    },
  },
  latency_samples: {
    doc: "one row per sample, up to samples_max per thread", source: "cyclictest",
    columns: {
      domain: "guest name", thread: "thread number", cycle: "cycle number", expiry_us: "intended expiry, µs",
      latency_us: "latency as cyclictest reports it, µs", timer_slop_us: "component, µs", hypervisor_us: "component, µs",
      vcpu_not_running_us: "component, µs", clock_read_us: "component, µs", kernel_nonpreemptible_us: "component, µs",
      irq_us: "component, µs", sched_us: "component, µs", truncation_us: "calcdiff truncation, µs",
    },
  },
  vcpu_threads: {
    doc: "one row per KVM vCPU thread", source: "kvm",
    columns: {
      guest: "guest name", vcpu: "vCPU index", host_cpu: "host CPU at the end", policy: "thread policy", priority: "RT priority",
      in_guest_ms: "time in guest mode, ms", runnable_wait_ms: "runnable but not running (steal), ms", halts: "HLT exits (count)",
      polls_succeeded: "halt polls that found work (count)", sleeps: "halts that slept (count)", vm_exits: "count",
    },
  },
  // --- issue 14 qemu (H2): begin
  qemu_threads: {
    doc: "one row per QEMU thread of a KVM guest with qemu (vCPU, main I/O, AIO pool; exited AIO threads stay)", source: "kvm qemu",
    columns: {
      guest: "guest name", thread: "thread name (vcpuN, main, aioN)", kind: "vcpu | main | aio", policy: "base policy (fifo, rr, other)",
      priority: "base RT priority (0 for other)", host_cpu: "host CPU at the end", cpu_time_ms: "CPU time on the host, ms",
      max_wait_us: "longest runnable wait after a QEMU wake-up or a preemption, µs", lock_acquisitions: "global lock taken (count)",
      lock_waits: "global lock found taken (count)", lock_wait_mean_us: "wait for the global lock per contended acquisition, µs (null: none)",
      lock_wait_max_us: "longest wait for the global lock, µs", lock_hold_max_us: "longest hold of the global lock, µs",
      exited: "AIO thread exited after its idle timeout",
    },
  },
  qemu_io: {
    doc: "one row per guest with qemu.disk and request stage", source: "kvm qemu",
    columns: {
      guest: "guest name",
      stage: "submit_exits (driver's register exits to the AIO submission), aio_queue (to a pool thread), host_io (blocking pread/pwrite), completion (signal, main loop, lock, ide_dma_cb, kvm_set_irq), total",
      requests: "requests (count)", mean_us: "mean time in the stage, µs", max_us: "max time in the stage, µs",
    },
  },
  // --- issue 14 qemu (H2): end
  device_models: {
    doc: "one row per QEMU device model in Dom0 (Xen HVM guests)", source: "xen device models",
    columns: {
      domain: "HVM guest", task: "QEMU task", policy: "scheduling policy", priority: "RT priority (0 for other)",
      ioreqs: "ioreqs served after the warm-up", mean_ioreq_us: "round trip, µs", max_ioreq_us: "round trip, µs",
    },
  },
  device_io: {
    doc: "one row per device-io workload", source: "device-io",
    columns: {
      domain: "guest name", task: "task name", accesses: "accesses after the warm-up",
      mean_access_us: "driver path, µs (null: none)", max_access_us: "driver path, µs (null: none)",
    },
  },
  stress: {
    doc: "one row per stress load", source: "stress",
    columns: {
      domain: "guest name", processes: "processes", kernel_activities: "kernel activities (count)",
      io_waits: "I/O waits (count)", interrupts: "device interrupts raised (count)",
    },
  },
  lat_ctx: {
    doc: "one row per lat-ctx workload (lmbench lat_ctx: a ring of processes passing a token through pipes)", source: "lat-ctx",
    columns: {
      domain: "guest name", procs: "processes in the ring (1 = lmbench's overhead loop)", passes: "token passes after the warm-up (count)",
      us_per_pass: "time per token pass, µs (null: fewer than two passes)",
    },
  },
  // --- issue 14 board/cache: begin
  smi: {
    doc: "one row per CPU that system-management interrupts hit (boards with SMI data)", source: "board (src/hw/smi.ts)",
    columns: { cpu: "physical CPU", smis: "SMIs (count)", smm_ms: "time in system-management mode, ms" },
  },
  llc: {
    doc: "one row per (kernel, latency-critical path) charged by the cache-interference model", source: "board (src/hw/cache.ts)",
    columns: {
      domain: "guest (or host) name", path: "path (cost name)", samples: "cost samples taken under cache pressure (count)",
      evicted_lines: "evicted lines charged (count)", extra_us: "extra time charged, µs",
    },
  },
  // --- issue 14 board/cache: end
  // --- issue 14 block: begin
  bonnie: {
    doc: "one row per bonnie workload and phase (putc, rewrite, block_write, getc, block_read, seeks), over the phases started after the warm-up, the one in progress included",
    source: "bonnie",
    columns: {
      domain: "guest name (\"host\": the KVM host)", task: "bonnie's main task", phase: "phase, in bonnie's order",
      phases: "completed phases (count)", bytes: "bytes transferred (seeks: seeks x 16 KiB)", time_s: "elapsed time of those phases, s",
      MB_per_s: "bytes / time, MiB per second (bonnie's K/sec / 1024)", seeks_per_s: "seeks phase: seeks per second (null otherwise)",
    },
  },
  block_io: {
    doc: "one row per kernel with a block layer: its request queue, disk and completion interrupt (requests queued after the warm-up)",
    source: "bonnie",
    columns: {
      domain: "guest name (\"host\": the KVM host)", device: "disk name", requests: "requests completed (count)",
      read_requests: "read requests (count)", write_requests: "write requests (count)", merges: "bios merged into queued requests (count)",
      bytes: "bytes of the completed requests", mean_service_us: "mean time from dispatch to completion, µs",
      max_service_us: "longest time from dispatch to completion, µs", mean_wait_us: "mean time queued before dispatch, µs",
      max_wait_us: "longest time queued before dispatch, µs", irq_cpu: "kernel CPU the disk interrupt is routed to",
      irqs: "completion interrupts handled (count, whole run)", irqs_outside_affinity: "of those, handled on a CPU outside irq_affinity.disk (count)",
      memory_mb: "memory of the kernel, MB", throttled: "balance_dirty_pages calls over the dirty limit (count)",
    },
  },
  // --- end
  // --- issue 14 pvsched: begin
  pvsched: {
    doc: "one row per vCPU of a KVM guest with paravirtual scheduling (qemu.rt.pvsched), counted over the whole run", source: "kvm pvsched",
    columns: {
      guest: "guest name", vcpu: "vCPU index", p_max: "host priority limit (QEMU -rt maxprio - 1)",
      set_sched_calls: "Set Scheduling Parameters hypercalls issued (count)", irq_done_calls: "Interrupt Done hypercalls issued (count)",
      boosts: "interrupt boosts started (count)", timer_boosts: "timer-pending boosts started (count)",
      setscheduler_calls: "sched_setscheduler() calls on the vCPU thread (count)",
      host_policy: "the vCPU thread's policy at the end (other, fifo, rr)", host_priority: "its SCHED_FIFO/RR priority at the end (0 for other)",
      boosted_time_ms: "time with an interrupt or timer-pending boost on, ms", hypercall_time_ms: "guest time stopped for the hypercalls (exit + handler + entry), ms",
    },
  },
  // --- end
};

/** Every table name, in catalogue order. */
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** Whether a string names a catalogued table. */
export function isTableName(name: string): name is TableName {
  return Object.prototype.hasOwnProperty.call(TABLES, name);
}

/** Anything that contributes result tables at the end of a run: a host (Xen, KVM, the Xen device models) or a workload kind. */
export interface TableSource {
  /** The tables at simulated time `end` (ns). */
  tables(end: number): TableSet;
}
