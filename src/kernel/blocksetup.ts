/**
 * Setting up a kernel's block layer from the spec: the memory of an OS
 * instance and the board's physical disk. Used by workloads that do file
 * I/O (bonnie) and by hypervisors that need their host's block layer (QEMU's
 * AIO threads reading and writing a guest's disk image on the KVM host).
 */
import type { Simulator } from "../engine/sim.js";
import { diskPresetForBoard, PhysicalDisk } from "../hw/disk.js";
import { BLOCK_DEFAULTS } from "../spec/defaults.js";
import type { GuestSpec, SimSpec } from "../spec/types.js";
import { attachBlock, blockOf, type KernelBlock } from "./block.js";
import type { LinuxKernel } from "./linux.js";
import { boardMemoryMb } from "./pagecache.js";

/** Whether `g` is the KVM host unit (not one of the spec's guests). */
export function isKvmHostUnit(spec: SimSpec, g: GuestSpec): boolean {
  return spec.hypervisor.kind === "kvm" && !spec.guests.includes(g);
}

/**
 * Memory of the OS instance `g`, MB: a guest's `memory_mb` (default
 * BLOCK_DEFAULTS.guest_memory_mb); the KVM host's, and a native kernel's
 * without `memory_mb`, the board's (boardMemoryMb).
 */
export function unitMemoryMb(spec: SimSpec, g: GuestSpec): number {
  if (isKvmHostUnit(spec, g)) return boardMemoryMb(spec.board.preset);
  if (spec.hypervisor.kind === "native") return g.memory_mb ?? boardMemoryMb(spec.board.preset);
  return g.memory_mb ?? BLOCK_DEFAULTS.guest_memory_mb;
}

/** The CPUs of the disk interrupt of OS instance `g` (kernel.irq_affinity.disk, default [0]). */
export function unitDiskIrqCpus(g: GuestSpec): readonly number[] {
  return g.kernel?.irq_affinity?.disk ?? BLOCK_DEFAULTS.irq_affinity_disk;
}

/**
 * The block layer of kernel `k` (OS instance `unit`): the one already
 * attached (e.g. a hypervisor's emulated disk), else a new one over the
 * board's physical disk (natively and on the KVM host; a guest without an
 * emulated disk gets the disk as if passed through). `from`: statistics
 * window start; `now`: creation time (its kernel threads are spawned then).
 */
export function machineBlock(spec: SimSpec, sim: Simulator, k: LinuxKernel, unit: GuestSpec, from: number, now: number): KernelBlock {
  const have = blockOf(k);
  if (have) return have;
  const disk = new PhysicalDisk(sim, diskPresetForBoard(spec.board.preset), sim.random.get(`${k.cfg.name}/disk`));
  return attachBlock(k, { device: disk, memoryMb: unitMemoryMb(spec, unit), irqCpus: unitDiskIrqCpus(unit), from, now });
}
