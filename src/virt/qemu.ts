/** QEMU device models of Xen HVM guests (stub, being written). */
import type { Columns } from "../results/result.js";
import type { Domain, Xen } from "./xen.js";
export class XenDeviceModels {
  constructor(readonly xen: Xen, readonly dom0: Domain, _now: number) {}
  table(): Columns { return {}; }
}
