/**
 * The per-host cost hook that lets the latency model's PV guests run the
 * privileged-operation paths of {@link PvKernel}: each board cost the
 * kernel model charges (syscall, context_switch, schedule, wake_up,
 * timer_irq, ipi_irq) is raised by (PV recipe time - native recipe time) of
 * the matching path (data/pvops/linux-pv.json `latency_hook`). The kernel's
 * own work is untouched; PVH and HVM guests keep the board's native costs
 * (their VM exits are modelled where they happen: trapped rdtsc, ioreqs).
 *
 * Which guests: a DomU of type "pv" (with `kernel.pvops` or the default
 * kernel of the hook: pv-ops, 64-bit, every upstream fix), and Dom0 only when
 * its spec names `kernel.pvops` explicitly (Dom0 is PV too, but applying the
 * hook by default would move every experiment with a Dom0, HVM rows included).
 * Boards without `pv_costs_ns` keep native costs.
 *
 * Not modelled: costs the kernel model has no slot for (irq restores inside
 * pipe_read/pipe_write, page faults, mmap: the latency workloads do not run them).
 */
import { COST_NAMES, type Board } from "../../hw/board.js";
import type { GuestSpec } from "../../spec/types.js";
import { hasPvCosts, pathTimeNs, pvData, pvKernelIssues, upstreamFixes, type PvBits, type PvKernelSpec } from "./model.js";

/** The PV kernel a guest runs in the latency model, or null when the hook does not apply. */
export function pvKernelOf(g: GuestSpec, boardId: string): PvKernelSpec | null {
  const type = g.type ?? (g.dom0 ? "pv" : "pvh");
  if (type !== "pv" || !hasPvCosts(boardId)) return null;
  const explicit = g.kernel?.pvops;
  if (g.dom0 && explicit === undefined) return null;
  const def = pvData().latency_hook.default_kernel;
  const bits: PvBits = explicit?.bits ?? def.bits;
  return {
    variant: explicit?.variant ?? def.variant,
    bits,
    fixes: explicit?.fixes ?? (explicit?.variant === undefined ? upstreamFixes(bits) : []),
  };
}

/**
 * The board cost table a guest's kernel charges: the board's own table, or
 * for a PV guest (see {@link pvKernelOf}) a copy raised by the PV extra of
 * each hooked cost.
 */
export function guestCostTable(board: Board, g: GuestSpec): Float64Array {
  const k = pvKernelOf(g, board.id);
  if (k === null) return board.cost;
  const hook = pvData().latency_hook;
  const out = Float64Array.from(board.cost);
  for (const [name, steps] of Object.entries(hook.costs)) {
    const i = (COST_NAMES as readonly string[]).indexOf(name);
    if (i < 0) throw new Error(`latency_hook cost ${name} is not a board cost`);
    const pv = pathTimeNs(k, board.id, steps, hook.conditions);
    const nat = pathTimeNs({ ...k, mode: "hvm" }, board.id, steps, hook.conditions);
    out[i] = Math.max(0, Math.round(out[i] + pv - nat));
  }
  return out;
}

/**
 * Cross-field checks of `kernel.pvops` in a validated spec: PV guests only
 * (not HVM/PVH, not a native or KVM system), known variant and fixes, fixes
 * that apply to the guest's bitness. Paths name the field.
 */
export function pvopsSpecIssues(spec: { hypervisor: { kind: string }; guests: GuestSpec[] }): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  spec.guests.forEach((g, gi) => {
    const p = g.kernel?.pvops;
    if (p === undefined) return;
    const at = `guests[${gi}].kernel.pvops`;
    const type = g.type ?? (g.dom0 ? "pv" : "pvh");
    if (spec.hypervisor.kind !== "xen") out.push({ path: at, message: `a PV kernel setting needs a Xen PV guest; the hypervisor is ${spec.hypervisor.kind}` });
    else if (type !== "pv") out.push({ path: at, message: `a PV-only setting: guest ${g.name} is ${type.toUpperCase()} (type: "${type}"); set type: "pv" or remove kernel.pvops` });
    out.push(...pvKernelIssuesAt(p, at));
  });
  return out;
}

function pvKernelIssuesAt(p: unknown, at: string): { path: string; message: string }[] {
  return pvKernelIssues(p as { variant?: unknown; bits?: unknown; fixes?: unknown }, at);
}
