/** Xen Credit (credit1) — placeholder, being written. */
import type { Board } from "../../hw/board.js";
import type { Pool, SchedDecision, VCpu, Xen, XenScheduler } from "../../virt/xen.js";

export interface CreditParams { tsliceMs: number; ratelimitUs: number; migrationDelayUs: number }

export class Credit implements XenScheduler {
  readonly name = "credit";
  constructor(readonly xen: Xen, readonly pool: Pool, readonly params: CreditParams, readonly board: Board) {
    throw new Error("the credit scheduler is not modelled yet");
  }
  insert(_v: VCpu, _now: number): void {}
  wake(_v: VCpu, _now: number): void {}
  doSchedule(_cpu: number, _prev: VCpu | null, _now: number, dec: SchedDecision): void { dec.next = null; dec.time = -1; }
  contextSaved(_v: VCpu, _now: number): void {}
}
