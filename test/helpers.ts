import { board, cpuHog, credit2, guest, linux, system, xen, context1 } from "../src/spec/builders.js";
import assert from "node:assert/strict";
import type { SimSpec } from "../src/spec/types.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";

/** n CPU-hog domains, one vCPU each, all pinned to pCPU 0 of an 8-pCPU Credit2 pool. */
export function hogsOnOnePcpu(opts: { ratelimitUs: number | "off"; weights?: number[]; horizonS?: number; boardPreset?: string; traceMax?: number }): SimSpec {
  const weights = opts.weights ?? [256, 256];
  const s = system().board(board(opts.boardPreset ?? "rcar-s4"))
    .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3, 4, 5, 6, 7], credit2().ratelimit(opts.ratelimitUs)))
    .horizon(opts.horizonS ?? 2);
  weights.forEach((w, i) => s.guest(guest(`d${i}`).vcpus(1).pin([[0]]).weight(w).workload(cpuHog())));
  if (opts.traceMax) s.trace(opts.traceMax);
  return s.build();
}

export function context1Spec(opts: { ratelimitMs: number; pvta?: boolean; horizonS?: number; cpus?: number[] }): SimSpec {
  return system().board(board("rcar-s4"))
    .hypervisor(xen().pool("Pool-0", [0, 1, 2, 3, 4, 5, 6, 7], credit2().ratelimit(opts.ratelimitMs * 1000)))
    .guest(guest("domU").vcpus(4).pin([[0], [1], [2], [3]]).kernel(linux().paravirtTimeAccounting(opts.pvta ?? false))
      .workload(context1().cpus(opts.cpus ?? [0])))
    .guest(guest("hog").vcpus(1).pin([[0]]).workload(cpuHog()))
    .horizon(opts.horizonS ?? 2)
    .build();
}

/** The SpecError of a spec (the assertion fails if it validates, or throws anything else). */
export function specError(s: SimSpec): SpecError {
  try {
    validateSpec(s);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${e}`);
    return e;
  }
  assert.fail("the spec validated");
}
