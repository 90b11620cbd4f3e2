/**
 * KVM on a Linux host (stub: replaced by the full model).
 */
import type { Simulator } from "../engine/sim.js";
import type { Board } from "../hw/board.js";
import type { LinuxKernel } from "../kernel/linux.js";
import type { Columns } from "../results/result.js";
import type { GuestSpec, KvmSpec } from "../spec/types.js";

export class Kvm {
  constructor(readonly sim: Simulator, readonly board: Board, readonly host: LinuxKernel, readonly spec: KvmSpec) {}
  /** Adds a guest whose kernel `k` runs on vCPU threads of the host (sets k.host). */
  addGuest(_g: GuestSpec, _k: LinuxKernel, _now: number): void {
    throw new Error("KVM not implemented yet");
  }
  /** Starts the vCPU threads. */
  start(_now: number): void {}
  /** Table `vcpu_threads`. */
  table(_end: number): Columns {
    return {};
  }
}
