/** Housekeeping (stub, being written). */
import type { Simulator } from "../engine/sim.js";
import type { LinuxKernel } from "../kernel/linux.js";
import type { HousekeepingSpec } from "../spec/types.js";
export class Housekeeping {
  constructor(readonly sim: Simulator, readonly kernel: LinuxKernel, readonly name: string, _spec: HousekeepingSpec, _cpus: number[], _now: number) {}
}
