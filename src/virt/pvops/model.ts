/**
 * A Linux PV guest kernel at the level of privileged operations.
 *
 * Upstream read: Linux arch/x86/xen (xen-asm.S `xen_restore_fl_direct`,
 * `xen_irq_enable_direct`; irq.c `xen_force_evtchn_callback` =
 * `HYPERVISOR_xen_version(0, NULL)`; enlighten.c `xen_load_tls` /
 * `load_TLS_descriptor`; mmu.c `xen_set_pte`, `__xen_set_pte`,
 * `xen_batched_set_pte`, `xen_write_cr3`; multicalls.h `MC_BATCH`), pv-ops
 * 3.3 with the fixes of 3.4-rc2 ("xen: correctly check for pending events
 * when restoring irq flags") and 3.6-rc1 ("xen/x86: avoid updating TLS
 * descriptors if they haven't changed", "xen/mm: do direct hypercall in
 * xen_set_pte() if batching is unavailable"); classic xenlinux: the
 * mach-xen `set_pte_at` macro (update_va_mapping for the current mm) was
 * read, the 2.6.32 tree itself was not in the code index, so its other
 * recipes are marked "classic, not re-read" in the data. On
 * the Xen side (4.x), `do_multicall` (common/multicall.c: per entry, copy
 * in, dispatch, copy the result out) and the PV page-table-write emulation
 * (`ptwr_do_page_fault` / `ptwr_emulated_update`) are named for what their
 * costs stand for; only their interfaces were seen in this session, so those
 * costs are assumptions (data/boards `pv_costs_ns`). The 3.3 text of
 * `xen_restore_fl_direct` was not in the code index either: its inverted
 * pending test is inferred from the fix's title and the fixed code
 * (`cmpw $0x0001` on the {pending, mask} word, `jnz` around `call
 * check_events`); `xen_load_tls` before and after the TLS fix was read.
 *
 * Each kernel path is a list of steps (data/pvops/linux-pv.json): kernel
 * work (ns, non-privileged) and privileged operations (`restore_fl`,
 * `load_tls`, `set_pte`, ...). A kernel — a base variant (classic-2.6.32,
 * pvops-3.3), a guest bitness (32-bit PAE, 64-bit) and a set of fixes —
 * resolves every operation to a recipe of events: a native instruction, a
 * direct hypercall, a multicall entry (batched between `batch` markers, as
 * lazy CPU/MMU mode does; a batch of one entry is issued as that direct
 * hypercall, as xen_mc_flush's singleton case; at most MC_BATCH = 32 entries
 * per multicall), a trapped-and-emulated write (ptwr), an exception or
 * system call bounced by Xen, an event-channel upcall. The same paths run in
 * an HVM/PVH container use each operation's native recipe.
 *
 * Every hypercall and trap is counted (per type, per operation) and
 * recorded, xentrace-like, up to a bound; time = counts x per-board costs
 * (data/boards/*.json `pv_costs_ns`), so two variants differ only through
 * those counts. Probabilistic conditions (an event pending when events are
 * re-enabled, TLS descriptors that changed) are counted exactly with a
 * running accumulator per condition (after n trials a condition of
 * probability p has fired round(n p) times), so results are deterministic.
 *
 * Not modelled: cache and TLB effects beyond the fixed costs of CR3 writes
 * and flushes (so lat_ctx's result does not depend on its process count);
 * the FPU task switch (fpu_taskswitch) and load_gs_index/set_segment_base on
 * context switch; Xen's own scheduling and event delivery latency (the
 * micro-benchmarks run on an idle host); XPTI and other post-2018 Meltdown
 * mitigations of 64-bit PV; shadow paging; superpages; grant-table and
 * split-driver I/O; SMP TLB shootdowns (remote flushes, IPIs as events);
 * the 2-D page walk cost of EPT/NPT in HVM/PVH containers.
 */
import { readFileSync } from "node:fs";
import { DATA_DIR, boardPresets, type BoardPreset } from "../../hw/board.js";
import { SpecError } from "../../spec/validate.js";

/** Guest bitness: 32-bit PAE or 64-bit. */
export type PvBits = 32 | 64;

/** One event of an operation's recipe (see data/pvops/linux-pv.json `events`). */
export interface PvEvent {
  native?: string;
  hypercall?: string;
  mc?: string;
  sub?: string;
  trap?: string;
  bounce?: string;
  upcall?: string;
  times?: number;
  if?: string;
}

/** A step of a kernel path. */
export interface PvStep {
  op?: string;
  times?: number;
  work_ns?: number;
  batch?: "begin" | "end";
  repeat?: number;
  steps?: PvStep[];
}

interface OpData {
  description: string;
  native: PvEvent[];
  pv: Record<string, PvEvent[]>;
}
interface FixData {
  title: string;
  release: string | null;
  applies_to: string[];
  note?: string;
  ops: Record<string, PvEvent[]>;
}
/** A micro-benchmark: conditions and the steps of one timed operation. */
export interface BenchData {
  title: string;
  note?: string;
  conditions: Record<string, number>;
  steps: PvStep[];
  /** lmbench's separately measured overhead, subtracted from each operation (lat_ctx). */
  overhead_steps?: PvStep[];
}
interface PvData {
  ops: Record<string, OpData>;
  fixes: Record<string, FixData>;
  variants: Record<string, { name: string; base: string; fixes: string[] }>;
  benchmarks: { provenance: string; list: Record<string, BenchData> };
  mix: { title: string; provenance: string; rates_per_s: Record<string, number> };
  latency_hook: {
    default_kernel: { variant: string; bits: PvBits; fixes: string };
    costs: Record<string, PvStep[]>;
    conditions: Record<string, number>;
  };
}

let dataCache: PvData | null = null;
/** The operation model's data (data/pvops/linux-pv.json). */
export function pvData(): PvData {
  if (dataCache === null) dataCache = JSON.parse(readFileSync(DATA_DIR + "pvops/linux-pv.json", "utf8")) as PvData;
  return dataCache;
}

/** Kernel variant ids (data/pvops `variants`). */
export function pvVariants(): string[] {
  return Object.keys(pvData().variants);
}
/** Fix ids (data/pvops `fixes`): the upstream fixes and the what-if switches. */
export function pvFixes(): string[] {
  return Object.keys(pvData().fixes);
}
/** Fixes that apply to a bitness and were merged upstream (release set). */
export function upstreamFixes(bits: PvBits): string[] {
  const d = pvData();
  return Object.keys(d.fixes).filter((f) => d.fixes[f].release !== null && d.fixes[f].applies_to.includes(bitsKey(bits)));
}

const bitsKey = (b: PvBits) => (b === 32 ? "pae" : "64");

/** A PV kernel: base variant, bitness and fixes; `mode` "hvm" runs every operation natively (HVM/PVH container, or bare metal). */
export interface PvKernelSpec {
  variant: string;
  bits: PvBits;
  fixes?: string[];
  /** "pv" (default): PV recipes; "hvm": the native recipe of every operation (an HVM or PVH guest). */
  mode?: "pv" | "hvm";
}

/** A field problem of a PV kernel spec (path relative to the spec object). */
export interface PvIssue {
  path: string;
  message: string;
}

/** Checks a PV kernel spec against the data: unknown variant or fix, a fix for the other bitness. */
export function pvKernelIssues(k: { variant?: unknown; bits?: unknown; fixes?: unknown }, at = "pvops"): PvIssue[] {
  const d = pvData();
  const out: PvIssue[] = [];
  if (k.variant !== undefined && (typeof k.variant !== "string" || !(k.variant in d.variants)))
    out.push({ path: `${at}.variant`, message: `unknown PV kernel variant ${JSON.stringify(k.variant)}; allowed: ${Object.keys(d.variants).map((x) => JSON.stringify(x)).join(", ")}` });
  if (k.bits !== undefined && k.bits !== 32 && k.bits !== 64)
    out.push({ path: `${at}.bits`, message: `guest bitness must be 32 (PAE) or 64; got ${JSON.stringify(k.bits)}` });
  const fx = k.fixes;
  if (fx !== undefined) {
    if (!Array.isArray(fx)) out.push({ path: `${at}.fixes`, message: "must be a list of fix ids" });
    else fx.forEach((f, i) => {
      if (typeof f !== "string" || !(f in d.fixes)) {
        out.push({ path: `${at}.fixes[${i}]`, message: `unknown fix ${JSON.stringify(f)}; allowed: ${Object.keys(d.fixes).map((x) => JSON.stringify(x)).join(", ")}` });
        return;
      }
      const bits = k.bits === 32 || k.bits === 64 ? k.bits : 64;
      if (!d.fixes[f].applies_to.includes(bitsKey(bits)))
        out.push({ path: `${at}.fixes[${i}]`, message: `fix ${JSON.stringify(f)} applies to ${d.fixes[f].applies_to.map((x) => (x === "pae" ? "32-bit PAE" : "64-bit")).join(" and ")} guests only; this guest is ${bits === 32 ? "32-bit PAE" : "64-bit"}` });
    });
  }
  return out;
}

/** Event classes of the trace. */
export const EV_HYPERCALL = 0;
export const EV_MULTICALL_ENTRY = 1;
export const EV_TRAP = 2;
export const EV_BOUNCE = 3;
export const EV_UPCALL = 4;
const EV_NAMES = ["hypercall", "multicall_entry", "trap", "bounce", "upcall"];

/** A resolved event: class, trace name, cost (ns) and condition. */
interface REvent {
  cls: number; // -1 native
  name: string;
  cost: number;
  cond: string | null;
  times: number;
}

/** Per-board costs of the privileged operations (data/boards/*.json `pv_costs_ns`), ns. */
export function pvCosts(board: string): Record<string, number> {
  const p: BoardPreset | undefined = boardPresets().get(board);
  if (!p) throw new Error(`unknown board preset ${board}`);
  const raw = (p as unknown as { pv_costs_ns?: Record<string, { value: number } | string> }).pv_costs_ns;
  if (!raw) throw new Error(`board ${board} has no pv_costs_ns: the PV operation model needs them`);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) if (typeof v === "object") out[k] = v.value;
  return out;
}

/** Whether a board preset carries the PV operation costs. */
export function hasPvCosts(board: string): boolean {
  const p = boardPresets().get(board) as unknown as { pv_costs_ns?: unknown } | undefined;
  return p !== undefined && p.pv_costs_ns !== undefined;
}

function need(c: Record<string, number>, k: string): number {
  const v = c[k];
  if (v === undefined) throw new Error(`pv_costs_ns.${k} missing from the board preset`);
  return v;
}

/** A trace record (xentrace-like): time within the run, event class, name, operation. */
export interface PvTraceRow {
  t_ns: number;
  event: string;
  name: string;
  op: string;
}

/**
 * A resolved PV kernel on a board: runs kernel paths, counting every
 * hypercall and trap. Create one per run (its counters and trace accumulate).
 */
export class PvKernel {
  readonly bits: PvBits;
  readonly mode: "pv" | "hvm";
  /** Resolved recipe of each operation. */
  private readonly recipes = new Map<string, REvent[]>();
  private readonly hypercallNs: number;
  private readonly mcEntryNs: number;
  private readonly workScale: number;
  private readonly costs: Record<string, number>;
  /** Counts and time (ns) per hypercall name (multicall entries as "multicall/<name>"). */
  readonly hcCount = new Map<string, number>();
  readonly hcTime = new Map<string, number>();
  /** Counts and time per trap / bounce / upcall kind. */
  readonly trapCount = new Map<string, number>();
  readonly trapTime = new Map<string, number>();
  /** Time per operation (native events and work excluded from ops: see `workNs`), and per op count. */
  readonly opTime = new Map<string, number>();
  readonly opCount = new Map<string, number>();
  /** Time of native instructions, ns; kernel work, ns. */
  nativeNs = 0;
  workNs = 0;
  /** Total time, ns. */
  now = 0;
  /** Bounded trace. */
  readonly trace: PvTraceRow[] = [];
  private readonly traceMax: number;
  private conds: Record<string, number> = {};
  private readonly acc = new Map<string, number>();
  // the open multicall
  private inBatch = false;
  private batch: { name: string; cost: number; op: string }[] = [];

  constructor(readonly spec: PvKernelSpec, readonly board: string, opts: { traceMax?: number; workScale?: number } = {}) {
    const issues = pvKernelIssues(spec);
    if (spec.bits === undefined) issues.push({ path: "pvops.bits", message: "guest bitness is required: 32 (PAE) or 64" });
    if (issues.length) throw new SpecError(issues);
    const d = pvData();
    this.bits = spec.bits;
    this.mode = spec.mode ?? "pv";
    this.costs = pvCosts(board);
    this.hypercallNs = need(this.costs, "hypercall");
    this.mcEntryNs = need(this.costs, "multicall_entry");
    this.traceMax = opts.traceMax ?? 0;
    const p = boardPresets().get(board) as BoardPreset;
    this.workScale = opts.workScale ?? p.kernel_work_scale?.value ?? 1;
    const base = d.variants[spec.variant].base;
    const fixes = [...d.variants[spec.variant].fixes, ...(spec.fixes ?? [])];
    const bk = bitsKey(spec.bits);
    for (const [name, op] of Object.entries(d.ops)) {
      let r: PvEvent[] | undefined;
      if (this.mode === "hvm") r = op.native;
      else {
        r = op.pv[`${base}:${bk}`] ?? op.pv[base] ?? op.pv[bk] ?? op.pv.any;
        for (const f of fixes) if (d.fixes[f].ops[name]) r = d.fixes[f].ops[name];
      }
      if (r === undefined) throw new Error(`operation ${name} has no recipe for ${base} ${bk}`);
      this.recipes.set(name, r.map((e) => this.resolve(e)));
    }
  }

  private resolve(e: PvEvent): REvent {
    const c = this.costs;
    const times = e.times ?? 1;
    const cond = e.if ?? null;
    if (e.native !== undefined) return { cls: -1, name: e.native, cost: need(c, `native_${e.native}`), cond, times };
    if (e.hypercall !== undefined || e.mc !== undefined) {
      const h = (e.hypercall ?? e.mc)!;
      const body = need(c, e.sub ? `body_${h}.${e.sub}` : `body_${h}`);
      return { cls: e.mc !== undefined ? EV_MULTICALL_ENTRY : EV_HYPERCALL, name: h, cost: body, cond, times };
    }
    if (e.trap !== undefined) return { cls: EV_TRAP, name: `trap:${e.trap}`, cost: need(c, `trap_${e.trap}`), cond, times };
    if (e.bounce !== undefined) return { cls: EV_BOUNCE, name: `bounce:${e.bounce}`, cost: need(c, `bounce_${e.bounce}`), cond, times };
    if (e.upcall !== undefined) return { cls: EV_UPCALL, name: `upcall:${e.upcall}`, cost: need(c, `upcall_${e.upcall}`), cond, times };
    throw new Error(`bad event ${JSON.stringify(e)}`);
  }

  /** Sets the probabilities of the conditions for the following paths. */
  setConditions(c: Record<string, number>): void {
    this.conds = { ...c, not_event_pending: 1 - (c.event_pending ?? 0) };
  }

  /** Whether a condition fires this time (exact running count of its probability). */
  private fires(cond: string): boolean {
    const p = this.conds[cond];
    if (p === undefined) throw new Error(`condition ${cond} has no probability`);
    // the accumulator starts at 1/2: after n trials the condition has fired round(n p) times
    const a = (this.acc.get(cond) ?? 0.5) + p;
    if (a >= 1 - 1e-12) { this.acc.set(cond, a - 1); return true; }
    this.acc.set(cond, a);
    return false;
  }

  private add(m: Map<string, number>, k: string, v: number): void {
    m.set(k, (m.get(k) ?? 0) + v);
  }

  private record(cls: number, name: string, op: string): void {
    if (this.trace.length < this.traceMax) this.trace.push({ t_ns: this.now, event: EV_NAMES[cls], name, op });
  }

  private charge(op: string, ns: number): void {
    this.now += ns;
    this.add(this.opTime, op, ns);
  }

  /** Issues a hypercall (direct). */
  private hypercall(name: string, body: number, op: string): void {
    const t = this.hypercallNs + body;
    this.record(EV_HYPERCALL, name, op);
    this.add(this.hcCount, name, 1);
    this.add(this.hcTime, name, t);
    this.charge(op, t);
  }

  /** xen_mc_flush: a multicall of the batched entries (one entry: that hypercall directly). */
  private flush(): void {
    const b = this.batch;
    if (b.length === 1) {
      const e = b[0];
      this.hypercall(e.name, e.cost, e.op);
    } else if (b.length > 1) {
      this.record(EV_HYPERCALL, "multicall", b[0].op);
      this.add(this.hcCount, "multicall", 1);
      this.add(this.hcTime, "multicall", this.hypercallNs);
      this.charge(b[0].op, this.hypercallNs);
      for (const e of b) {
        const t = this.mcEntryNs + e.cost;
        const n = `multicall/${e.name}`;
        this.record(EV_MULTICALL_ENTRY, n, e.op);
        this.add(this.hcCount, n, 1);
        this.add(this.hcTime, n, t);
        this.charge(e.op, t);
      }
    }
    this.batch = [];
  }

  /** Performs operation `op` once. */
  operation(op: string): void {
    const r = this.recipes.get(op);
    if (r === undefined) throw new Error(`unknown operation ${op}`);
    this.add(this.opCount, op, 1);
    for (let i = 0; i < r.length; i++) {
      const e = r[i];
      for (let k = 0; k < e.times; k++) {
        if (e.cond !== null && !this.fires(e.cond)) continue;
        switch (e.cls) {
          case -1:
            this.nativeNs += e.cost;
            this.charge(op, e.cost);
            break;
          case EV_HYPERCALL:
            this.hypercall(e.name, e.cost, op);
            break;
          case EV_MULTICALL_ENTRY:
            if (this.inBatch) {
              this.batch.push({ name: e.name, cost: e.cost, op });
              if (this.batch.length >= MC_BATCH) this.flush();
            } else this.hypercall(e.name, e.cost, op);
            break;
          default:
            this.record(e.cls, e.name, op);
            this.add(this.trapCount, e.name, 1);
            this.add(this.trapTime, e.name, e.cost);
            this.charge(op, e.cost);
        }
      }
    }
  }

  /** Runs a list of steps once. */
  run(steps: PvStep[]): void {
    for (const s of steps) {
      if (s.batch === "begin") { this.flush(); this.inBatch = true; continue; }
      if (s.batch === "end") { this.flush(); this.inBatch = false; continue; }
      if (s.work_ns !== undefined) {
        const w = s.work_ns * this.workScale;
        this.workNs += w;
        this.now += w;
        continue;
      }
      if (s.repeat !== undefined) {
        for (let i = 0; i < s.repeat; i++) this.run(s.steps ?? []);
        continue;
      }
      if (s.op !== undefined) for (let i = 0; i < (s.times ?? 1); i++) this.operation(s.op);
    }
  }

  /** Sum of hypercall and trap time, ns (the privileged-operation overhead beyond native instructions). */
  hvNs(): number {
    let s = 0;
    for (const v of this.hcTime.values()) s += v;
    for (const v of this.trapTime.values()) s += v;
    return s;
  }
}

/** xen/multicalls.h: entries per multicall buffer. */
export const MC_BATCH = 32;

/** The expected time (ns) of `steps` on a kernel, for the given conditions, measured over `n` passes. */
export function pathTimeNs(k: PvKernelSpec, board: string, steps: PvStep[], conds: Record<string, number>, n = 1000): number {
  const pk = new PvKernel(k, board, { workScale: 0 });
  pk.setConditions(conds);
  for (let i = 0; i < n; i++) pk.run(steps);
  return pk.now / n;
}
