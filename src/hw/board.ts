import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CostName } from "../spec/types.js";

/**
 * Names of the per-operation costs of a board (ns), in a fixed order
 * (index = cost id, see {@link C}). The first fourteen are the spec's
 * `CostName`s; the rest were added for the latency models. Existing indices
 * never move. Every name can be overridden through `board.costs_ns`.
 *
 * - `device_access`: one emulated-device register access (port I/O or MMIO
 *   read) on bare metal, ns.
 * - `dm_ioreq`: a device model (QEMU) serving one ioreq in user space: read
 *   the pending event-channel port, dispatch the request to the emulated
 *   device, write the response and notify Xen (EVTCHNOP_send), ns.
 * - `rdtsc_native`, `rdtsc_trap`, `vm_entry_exit`, `irq_injection`,
 *   `lapic_min_delta`: stored in the presets as the top-level fields
 *   `rdtsc_native_ns`, `rdtsc_trap_ns`, `vm_entry_exit_ns`,
 *   `irq_injection_ns`, `lapic_min_delta_ns` (see {@link BoardPreset}).
 * - QEMU/KVM user-space paths (issue 14, ../virt/qemu-kvm.ts), ns:
 *   `kvm_exit_user` (an exit handed to QEMU, on top of vm_entry_exit:
 *   KVM_RUN returns to user space and is re-entered), `qemu_pio` (QEMU
 *   emulating one port-I/O access), `qemu_select_wakeup` (the main loop
 *   returning from select() and dispatching), `signal_send` (an AIO
 *   thread's completion signal), `thread_spawn` (pthread_create of an AIO
 *   thread), `qemu_dma_cb` (one step of ide_dma_cb), `kvm_set_irq` (one
 *   KVM_IRQ_LINE ioctl into the in-kernel irqchip).
 * - `kvm_hypercall` (issue 14 pvsched, ../virt/pvsched.ts): a hypercall
 *   handled in the kernel on top of vm_entry_exit (kvm_emulate_hypercall
 *   and the handler's sched_setscheduler), ns.
 * - `switch_mm`: the part of `context_switch` that loads another address
 *   space (the CR3 write and the TLB refill after it), ns. context_switch()
 *   skips it when the next task is a kernel thread (lazy TLB) or a thread of
 *   the process already loaded; a board that does not state it (0) charges
 *   the whole context_switch on every switch, as before.
 * - `rdtsc_trap_pv`: a PV domU's rdtsc when Xen emulates the TSC (Xen 4.11
 *   tsc_set_info: vtsc for every domU unless the host TSC is reliable):
 *   CR4.TSD makes it a #GP that Xen decodes and emulates
 *   (pv_emulate_privileged_op -> pv_soft_rdtsc), ns.
 * - `timer_program`: the hypervisor's handling of one guest clockevent
 *   programming, on top of the exit round trip (KVM: handle_wrmsr ->
 *   kvm_set_lapic_tscdeadline_msr -> start_apic_timer; Xen: do_vcpu_op
 *   VCPUOP_set_singleshot_timer -> set_timer), ns.
 * - `shadow_cr3_kvm`, `shadow_cr3_xen`: on a CPU without hardware-assisted
 *   paging (`hap` false: no EPT/NPT) the hypervisor shadows the guest's page
 *   tables and every guest MOV to CR3 is a VM exit (CR3-load exiting); these
 *   are its handling on top of the exit round trip, ns: KVM handle_cr ->
 *   kvm_set_cr3 -> kvm_mmu_new_cr3; Xen vmx_cr_access -> hvm_set_cr3 ->
 *   paging_update_cr3 -> sh_update_cr3. Unused (0) where the CPU has HAP.
 */
export const COST_NAMES = [
  "syscall", "pipe_read", "pipe_write", "wake_up", "wake_up_remote", "sleep", "schedule",
  "context_switch", "timer_irq", "ipi_irq", "ipi_send", "hv_vcpu_switch", "hv_ipi_latency", "hv_wake",
  "device_access", "rdtsc_native", "rdtsc_trap", "vm_entry_exit", "irq_injection", "lapic_min_delta",
  "dm_ioreq",
  // --- issue 14 qemu (H2): begin
  "kvm_exit_user", "qemu_pio", "qemu_select_wakeup", "signal_send", "thread_spawn", "qemu_dma_cb", "kvm_set_irq",
  // --- issue 14 qemu (H2): end
  // --- issue 14 pvsched (H3): begin
  "kvm_hypercall",
  // --- issue 14 pvsched (H3): end
  "switch_mm",
  "rdtsc_trap_pv",
  "timer_program",
  "shadow_cr3_kvm",
  "shadow_cr3_xen",
] as const;

/** A cost name of the board model: the spec's `CostName`s plus the latency-model costs. */
export type BoardCostName = (typeof COST_NAMES)[number];

// every spec cost name is a board cost name (compile-time check)
const _specNamesAreBoardNames: readonly BoardCostName[] = [] as CostName[];
void _specNamesAreBoardNames;

/** A value with its provenance, as stored in data/ presets. */
export interface Sourced<T> {
  value: T;
  provenance: string;
}

/** Board-level costs stored as top-level preset fields (`<name>_ns`) rather than in `costs_ns`. */
const TOP_LEVEL_COSTS = ["rdtsc_native", "rdtsc_trap", "vm_entry_exit", "irq_injection", "lapic_min_delta"] as const;

/** A board preset as stored in data/boards/*.json. */
export interface BoardPreset {
  id: string;
  name: string;
  arch: string;
  cpus: number;
  sockets: number;
  threads_per_core: number;
  clock_mhz: number;
  provenance: string;
  jitter_cv: Sourced<number>;
  /** Per-operation costs. Entries added after a preset was written may be missing (default 0). */
  costs_ns: Partial<Record<BoardCostName, Sourced<number>>>;
  /** The CPU lets guests execute rdtsc natively (invariant, synchronised TSC and VMX/SVM TSC offsetting usable). Default true. */
  tsc_passthrough?: Sourced<boolean>;
  /** Latency of one native rdtsc (or the architecture's counter read), ns. Default 0. */
  rdtsc_native_ns?: Sourced<number>;
  /** One trapped and emulated rdtsc (VM exit, emulation, VM entry), ns. Default 0. */
  rdtsc_trap_ns?: Sourced<number>;
  /** One VM exit + VM entry round trip with the hypervisor's minimal exit dispatch, ns. Default 0. */
  vm_entry_exit_ns?: Sourced<number>;
  /** Injecting a virtual interrupt into a running guest (event-channel upcall or vLAPIC injection on entry), ns. Default 0. */
  irq_injection_ns?: Sourced<number>;
  /** Minimum programmable delta of the local timer clockevent (LAPIC one-shot or TSC-deadline), ns. Default 0. */
  lapic_min_delta_ns?: Sourced<number>;
  /**
   * Factor applied to the kernel-section lengths of data/kernels (stated for
   * the reference machine of that file) on this board: > 1 on a slower CPU.
   * Default 1.
   */
  kernel_work_scale?: Sourced<number>;
  // --- issue 14 board: begin
  /** The CPU offers the VMX-preemption timer (KVM may use it for the guest's LAPIC timer in guest mode). Default true. */
  vmx_preemption_timer?: Sourced<boolean>;
  /**
   * The CPU offers hardware-assisted paging (Intel EPT, AMD NPT). Without it
   * Xen and KVM shadow the guests' page tables and a guest's CR3 write is a
   * VM exit (costs `shadow_cr3_kvm` / `shadow_cr3_xen`). Default true.
   */
  hap?: Sourced<boolean>;
  /**
   * The CPU is affected by Meltdown (no RDCL_NO), so a kernel that has
   * page-table isolation enables it (Linux >= 4.15, `pti` in data/kernels):
   * CR3 writes on every kernel entry and exit. Default false.
   */
  meltdown?: Sourced<boolean>;
  /** System-management interrupts (src/hw/smi.ts): which CPUs they hit, how often, how long. Absent: none. */
  smi?: SmiPreset;
  /** The last-level cache (src/hw/cache.ts): size, sharing CPUs, miss penalty. Absent: no cache-interference model. */
  llc?: LlcPreset;
  // --- issue 14 board: end
}

// --- issue 14 board: begin
/** data/boards `smi`: SMIs as a noise source (src/hw/smi.ts). */
export interface SmiPreset {
  /** CPUs that SMIs stop. */
  cpus: Sourced<number[]>;
  /** Mean SMI rate per CPU (Poisson arrivals), per second. */
  rate_hz: Sourced<number>;
  /** Duration of one SMI, uniform in min_us..max_us. */
  duration_us: { dist: "uniform"; min_us: number; max_us: number; provenance: string };
}

/** data/boards `llc`: the last-level cache (src/hw/cache.ts). */
export interface LlcPreset {
  size_bytes: Sourced<number>;
  /** CPUs sharing the cache. */
  cpus: Sourced<number[]>;
  line_bytes: Sourced<number>;
  /** Extra time of one access to an evicted line, ns. */
  miss_penalty_ns: Sourced<number>;
}

/** The resolved SMI noise of a board. */
export interface BoardSmi { cpus: number[]; rateHz: number; minNs: number; maxNs: number }
/** The resolved last-level cache of a board. */
export interface BoardLlc { sizeBytes: number; cpus: number[]; lineBytes: number; missPenaltyNs: number }
// --- issue 14 board: end

/** Directory of the data/ presets shipped with the package (the nearest `data/boards` above this module). */
export const DATA_DIR = findDataDir();

function findDataDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, "data", "boards"))) return join(d, "data") + "/";
    d = dirname(d);
  }
  throw new Error("hvsim: cannot find the data/ presets directory above " + fileURLToPath(import.meta.url));
}

let cache: Map<string, BoardPreset> | null = null;

/** All board presets, by id. */
export function boardPresets(): Map<string, BoardPreset> {
  if (cache) return cache;
  const m = new Map<string, BoardPreset>();
  const dir = DATA_DIR + "boards/";
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith(".json")) continue;
    const p = JSON.parse(readFileSync(dir + f, "utf8")) as BoardPreset;
    m.set(p.id, p);
  }
  cache = m;
  return m;
}

/** The resolved board a simulation runs on. */
export interface Board {
  id: string;
  name: string;
  cpus: number;
  sockets: number;
  threadsPerCore: number;
  /** Cost per operation, ns, indexed like COST_NAMES (see {@link C}); older tables may be shorter (missing = 0). */
  cost: Float64Array;
  jitterCv: number;
  // The fields below are always set by resolveBoard; they are optional so that
  // hand-made boards (tests) stay valid. Read them with the defaults noted.
  /** CPU clock, MHz. */
  clockMhz?: number;
  /** Guests may execute rdtsc without a trap (see {@link BoardPreset.tsc_passthrough}). Default true. */
  tscPassthrough?: boolean;
  /** = cost[C.rdtsc_native]. Default 0. */
  rdtscNativeNs?: number;
  /** = cost[C.rdtsc_trap]. Default 0. */
  rdtscTrapNs?: number;
  /** = cost[C.vm_entry_exit]. Default 0. */
  vmEntryExitNs?: number;
  /** = cost[C.irq_injection]. Default 0. */
  irqInjectionNs?: number;
  /** = cost[C.lapic_min_delta]. Default 0. */
  lapicMinDeltaNs?: number;
  /** Scale of data/kernels section lengths on this board. Default 1. */
  kernelWorkScale?: number;
  // --- issue 14 board: begin
  /** The VMX-preemption timer exists. Default true. */
  vmxPreemptionTimer?: boolean;
  /** Hardware-assisted paging (EPT/NPT) exists. Default true. */
  hap?: boolean;
  /** The CPU is affected by Meltdown (a PTI-capable kernel isolates its page tables). Default false. */
  meltdown?: boolean;
  /** SMI noise (null or absent: none; also when the spec's board.smi is false). */
  smi?: BoardSmi | null;
  /** Last-level cache (null or absent: no cache-interference model). */
  llc?: BoardLlc | null;
  // --- issue 14 board: end
}

/** Cost `id` of a board (0 when its table predates that cost). */
export function boardCost(b: Board, id: number): number {
  return b.cost[id] ?? 0;
}

/** The value of a cost in a preset (top-level `<name>_ns` fields for the virtualization costs), 0 if absent. */
export function presetCost(p: BoardPreset, n: BoardCostName): number {
  if ((TOP_LEVEL_COSTS as readonly string[]).includes(n)) {
    const f = (p as unknown as Record<string, Sourced<number> | undefined>)[`${n}_ns`];
    return f?.value ?? 0;
  }
  return p.costs_ns[n]?.value ?? 0;
}

/** Resolves a preset plus overrides into a Board. */
export function resolveBoard(preset: string, overrides?: Partial<Record<string, number>>, jitterCv?: number, smi = true): Board {
  const p = boardPresets().get(preset);
  if (!p) throw new Error(`unknown board preset ${preset}`);
  const cost = new Float64Array(COST_NAMES.length);
  COST_NAMES.forEach((n, i) => {
    const o = overrides?.[n];
    cost[i] = o !== undefined ? o : presetCost(p, n);
  });
  return {
    id: p.id, name: p.name, cpus: p.cpus, sockets: p.sockets, threadsPerCore: p.threads_per_core,
    cost, jitterCv: jitterCv ?? p.jitter_cv.value, clockMhz: p.clock_mhz,
    tscPassthrough: p.tsc_passthrough?.value ?? true,
    rdtscNativeNs: cost[C.rdtsc_native], rdtscTrapNs: cost[C.rdtsc_trap], vmEntryExitNs: cost[C.vm_entry_exit],
    irqInjectionNs: cost[C.irq_injection], lapicMinDeltaNs: cost[C.lapic_min_delta],
    kernelWorkScale: p.kernel_work_scale?.value ?? 1,
    // --- issue 14 board: begin
    vmxPreemptionTimer: p.vmx_preemption_timer?.value ?? true,
    hap: p.hap?.value ?? true,
    meltdown: p.meltdown?.value ?? false,
    smi: smi && p.smi ? { cpus: p.smi.cpus.value.slice(), rateHz: p.smi.rate_hz.value, minNs: p.smi.duration_us.min_us * 1000, maxNs: p.smi.duration_us.max_us * 1000 } : null,
    llc: p.llc ? { sizeBytes: p.llc.size_bytes.value, cpus: p.llc.cpus.value.slice(), lineBytes: p.llc.line_bytes.value, missPenaltyNs: p.llc.miss_penalty_ns.value } : null,
    // --- issue 14 board: end
  };
}

/** Cost ids (indices into Board.cost). */
export const C = {
  syscall: 0, pipe_read: 1, pipe_write: 2, wake_up: 3, wake_up_remote: 4, sleep: 5, schedule: 6,
  context_switch: 7, timer_irq: 8, ipi_irq: 9, ipi_send: 10, hv_vcpu_switch: 11, hv_ipi_latency: 12, hv_wake: 13,
  device_access: 14, rdtsc_native: 15, rdtsc_trap: 16, vm_entry_exit: 17, irq_injection: 18, lapic_min_delta: 19,
  dm_ioreq: 20,
  // --- issue 14 qemu (H2): begin
  kvm_exit_user: 21, qemu_pio: 22, qemu_select_wakeup: 23, signal_send: 24, thread_spawn: 25, qemu_dma_cb: 26, kvm_set_irq: 27,
  // --- issue 14 qemu (H2): end
  // --- issue 14 pvsched (H3): begin
  kvm_hypercall: 28,
  // --- issue 14 pvsched (H3): end
  switch_mm: 29,
  rdtsc_trap_pv: 30,
  timer_program: 31,
  shadow_cr3_kvm: 32,
  shadow_cr3_xen: 33,
} as const;
