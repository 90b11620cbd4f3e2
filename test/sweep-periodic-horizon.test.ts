// Issue 12 part 7: a periodic job still running when the run ends has its preemptions counted
// (as RTSim and SimSo count every preemption before the horizon). Kept beside the sweep tests
// (this session's file area); it belongs with test/periodic.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";

/** On one ideal CPU: `hi` (FIFO 90, 1 ms every 10 ms) preempts `lo` (FIFO 50, one 50 ms job every 100 ms). */
function spec(horizonS: number): SimSpec {
  return {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: horizonS,
    guests: [{ name: "linux", vcpus: 1, workloads: [
      { kind: "periodic", name: "hi", period_us: 10_000, exec: 1000, policy: "fifo", priority: 90 },
      { kind: "periodic", name: "lo", period_us: 100_000, exec: 50_000, policy: "fifo", priority: 50 },
    ] }],
  } as SimSpec;
}
const lo = (h: number) => simulate(spec(h), { seed: 1 }).rows("tasks").find((t) => t.task === "lo")!;

test("preemptions of a job still running at the horizon are counted", () => {
  // lo runs from 1 ms; hi preempts it at 10, 20 and 30 ms; the run ends at 30.5 ms with lo's job unfinished
  const mid = lo(0.0305);
  assert.equal(mid.jobs, 0);
  assert.equal(mid.preemptions, 3);
  // the job finishes at 56 ms (50 ms of work, 1 ms of every 10 taken by hi) after 5 preemptions;
  // the next job is released at 100 ms, after the end
  const done = lo(0.08);
  assert.equal(done.jobs, 1);
  assert.equal(done.preemptions, 5);
  assert.equal(done.max_response_us, 56_000);
  // past the second release: the first job's 5 plus the second job's so far (at 110 and 120 ms)
  assert.equal(lo(0.1205).preemptions, 7);
});
