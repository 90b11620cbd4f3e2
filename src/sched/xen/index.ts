/**
 * Scheduler factory: one scheduler instance per cpupool, from the pool's spec.
 * Each scheduler lives in its own file with a design header.
 */
import type { Board } from "../../hw/board.js";
import { SpecError } from "../../spec/validate.js";
import type { SimSpec, XenSchedulerSpec } from "../../spec/types.js";
import type { Pool, Xen, XenScheduler } from "../../virt/xen.js";
import { Credit2, DEFAULT_RATELIMIT_US } from "./credit2.js";
import { Credit } from "./credit.js";
import { Rtds } from "./rtds.js";
import { Arinc653 } from "./arinc653.js";
import { NullSched } from "./null.js";

/** Creates the scheduler of `pool`. */
export function createScheduler(xen: Xen, pool: Pool, s: XenSchedulerSpec, board: Board, _spec: SimSpec): XenScheduler {
  switch (s.name) {
    case "credit2":
      return new Credit2(xen, pool, {
        ratelimitUs: s.ratelimit_us === "off" ? 0 : s.ratelimit_us ?? DEFAULT_RATELIMIT_US,
        runqueue: s.runqueue ?? "socket",
      }, board.threadsPerCore, board.sockets, board.cpus);
    case "credit":
      return new Credit(xen, pool, {
        tsliceMs: s.tslice_ms ?? 30,
        ratelimitUs: s.ratelimit_us === "off" ? 0 : s.ratelimit_us ?? DEFAULT_RATELIMIT_US,
        migrationDelayUs: s.migration_delay_us ?? 0,
      }, board);
    case "rtds":
      return new Rtds(xen, pool);
    case "arinc653":
      return new Arinc653(xen, pool, s);
    case "null":
      return new NullSched(xen, pool);
    default:
      throw new SpecError([{ path: `hypervisor.pools[${xen.pools.length}].scheduler.name`, message: `the "${(s as { name: string }).name}" scheduler is not modelled yet` }]);
  }
}
