// RT runtime sharing (do_balance_runtime, kernel/sched_rt.c of 2.6.31): a CPU-bound SCHED_FIFO task on
// one CPU of a two-CPU 2.6.31 kernel borrows the other CPU's unused RT runtime and keeps its CPU, while
// on 5.10 (RT_RUNTIME_SHARE off) RT throttling leaves it 950 ms of every second.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";

function spec(version: "5.10" | "2.6.31", cpus: number[]): SimSpec {
  return {
    board: { preset: "core2-t5500", smi: false },
    hypervisor: { kind: "native" },
    guests: [{
      name: "os", vcpus: 2, kernel: { version, preempt: "full" },
      workloads: [
        { kind: "rtapp", name: "spin", policy: "fifo", priority: 50, cpus: [1], phases: [{ events: [{ run_us: 100_000 }] }] },
        { kind: "cpu-hog", cpus },
      ],
    }],
    horizon_s: 5, warmup_s: 1,
  } as SimSpec;
}

const execMs = (s: SimSpec, task: string) => {
  const r = simulate(s, { seed: 1 });
  const rows = r.rows("tasks") as { task: string; sum_exec_ms: number }[];
  return rows.find((x) => x.task.includes(task))!.sum_exec_ms;
};

test("2.6.31: a FIFO hog borrows the idle CPU's RT runtime and is not throttled; 5.10 throttles it to 95 %", () => {
  const old = execMs(spec("2.6.31", [1]), "spin");
  const cur = execMs(spec("5.10", [1]), "spin");
  // 5 s run: 5.10 gives at most 0.95 s per second of the RT bandwidth period
  assert.ok(cur <= 4 * 1000 + 1000 * 0.951 && cur >= 4600, `5.10: ${cur} ms`);
  assert.ok(old >= 4990, `2.6.31: ${old} ms`);
});

test("2.6.31: nothing to borrow when the other CPU's RT runtime is in use: throttled like 5.10", () => {
  const s = spec("2.6.31", [1]);
  // a second FIFO spinner on CPU 0 uses that CPU's RT runtime
  s.guests[0].workloads.push({ kind: "rtapp", name: "spin0", policy: "fifo", priority: 50, cpus: [0], phases: [{ events: [{ run_us: 100_000 }] }] } as any);
  const both = execMs(s, "spin");
  assert.ok(both <= 4 * 1000 + 1000 * 0.951, `${both} ms`);
});
