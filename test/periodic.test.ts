// The periodic real-time workload: per-job records, per-task statistics, execution-time
// streams, warm-up, SMP placement, and bounded memory.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { PeriodicSpec, SimSpec, WorkloadSpec } from "../src/spec/types.js";

type Row = Record<string, any>;

function spec(workloads: WorkloadSpec[], horizonS: number, more: Partial<SimSpec> = {}, vcpus = 1, kernel = {}): SimSpec {
  return {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: horizonS,
    guests: [{ name: "linux", vcpus, kernel, workloads }], ...more,
  };
}
const run = (s: SimSpec, seed = 1) => simulate(s, { seed });
const task = (rs: Row[], name: string): Row => rs.find((r) => r.task === name)!;

const SET: PeriodicSpec[] = [
  { kind: "periodic", name: "fast", period_us: 2000, exec: 500, policy: "fifo", priority: 30 },
  { kind: "periodic", name: "mid", period_us: 5000, exec: { dist: "uniform", min_us: 500, max_us: 2000 }, policy: "fifo", priority: 20 },
  { kind: "periodic", name: "slow", period_us: 10000, exec: 3000, deadline_us: 6000, policy: "fifo", priority: 10, offset_us: 1000 },
];

test("per-job rows: release grid, start after release, response = finish - release, misses against the deadline", () => {
  const r = run(spec(SET, 0.2, { record: { jobs_max: 1_000_000 } }));
  const jobs = r.rows("jobs") as Row[];
  const tasks = r.rows("tasks") as Row[];
  assert.deepEqual(Object.keys(jobs[0]), ["task", "job", "release_us", "start_us", "finish_us", "response_us", "deadline_miss"]);
  for (const w of SET) {
    const js = jobs.filter((j) => j.task === w.name);
    const t = task(tasks, w.name);
    assert.equal(js.length, t.jobs, "one row per completed job");
    js.forEach((j, k) => {
      assert.equal(j.job, k);
      assert.equal(j.release_us, (w.offset_us ?? 0) + k * w.period_us);
      assert.ok(j.start_us >= j.release_us && j.finish_us >= j.start_us);
      assert.ok(Math.abs(j.response_us - (j.finish_us - j.release_us)) < 1e-6);
      assert.equal(j.deadline_miss, j.response_us > (w.deadline_us ?? w.period_us));
    });
    assert.equal(t.max_response_us, Math.max(...js.map((j) => j.response_us)));
    assert.ok(Math.abs(t.mean_response_us - js.reduce((a, j) => a + j.response_us, 0) / js.length) < 1e-9);
    assert.equal(t.deadline_misses, js.filter((j) => j.deadline_miss).length);
  }
  // rows come in completion order
  for (let i = 1; i < jobs.length; i++) assert.ok(jobs[i].finish_us >= jobs[i - 1].finish_us);
});

test("statistics do not depend on jobs_max; rows stop at jobs_max; no jobs table without it", () => {
  const full = run(spec(SET, 0.3));
  assert.ok(!full.tableNames.includes("jobs"));
  const capped = run(spec(SET, 0.3, { record: { jobs_max: 7 } }));
  assert.deepEqual(capped.rows("tasks"), full.rows("tasks"));
  assert.equal(capped.rows("jobs").length, 7);
});

test("tasks table: periodic columns, zeros and nulls for other tasks", () => {
  const rs = run(spec([...SET, { kind: "cpu-hog" }], 0.1)).rows("tasks") as Row[];
  for (const c of ["jobs", "preemptions", "migrations", "deadline_misses", "max_response_us", "mean_response_us"]) assert.ok(c in rs[0], c);
  const hog = rs.find((r) => !SET.some((w) => w.name === r.task))!;
  assert.equal(hog.jobs, 0);
  assert.equal(hog.preemptions, 0);
  assert.equal(hog.deadline_misses, 0);
  assert.equal(hog.max_response_us, null);
  // the CFS hog never delays the FIFO tasks
  assert.equal(task(rs, "fast").max_response_us, 500);
});

test("jobs that pass their deadline unfinished count as misses at the end of the run", () => {
  // a FIFO-99 hog starves a FIFO-1 task completely (RT throttling off)
  const rs = run(spec([
    { kind: "periodic", name: "hog", period_us: 1e9, exec: 1e9, policy: "fifo", priority: 99 },
    { kind: "periodic", name: "starved", period_us: 10000, exec: 100, policy: "fifo", priority: 1, deadline_us: 5000 },
  ], 0.1, {}, 1, { rt_runtime_us: "off" })).rows("tasks") as Row[];
  const s = task(rs, "starved");
  assert.equal(s.jobs, 0);
  assert.equal(s.max_response_us, null);
  assert.equal(s.deadline_misses, 10, "releases 0..90 ms, deadlines 5..95 ms, all before 100 ms");
});

test("execution times: one seeded stream per task, bounded by the distribution", () => {
  const a: PeriodicSpec = { kind: "periodic", name: "a", period_us: 1000, exec: { dist: "uniform", min_us: 100, max_us: 300 }, policy: "fifo", priority: 50 };
  const b: PeriodicSpec = { kind: "periodic", name: "b", period_us: 3000, exec: { dist: "exponential", mean_us: 200, max_us: 900 }, policy: "fifo", priority: 10 };
  const rowsOfA = (ws: WorkloadSpec[], seed: number) => (run(spec(ws, 0.2, { record: { jobs_max: 100_000 } }), seed).rows("jobs") as Row[]).filter((j) => j.task === "a");
  const alone = rowsOfA([a], 1);
  for (const j of alone) assert.ok(j.response_us >= 100 && j.response_us <= 300, `${j.response_us}`);
  assert.ok(new Set(alone.map((j) => j.response_us)).size > 50, "drawn, not fixed");
  // a lower-priority task with its own stream changes nothing for a
  assert.deepEqual(rowsOfA([a, b], 1), alone);
  assert.deepEqual(rowsOfA([a], 1), alone, "same seed, same draws");
  assert.notDeepEqual(rowsOfA([a], 2), alone, "another seed, other draws");
});

test("warm-up: jobs released before warmup_s are not counted", () => {
  const w: PeriodicSpec = { kind: "periodic", name: "t", period_us: 10000, exec: 1000, policy: "fifo", priority: 10 };
  const rs = run(spec([w], 1, { warmup_s: 0.25, record: { jobs_max: 1000 } }));
  assert.equal(task(rs.rows("tasks") as Row[], "t").jobs, 75);
  assert.equal((rs.rows("jobs") as Row[])[0].release_us, 250000);
});

test("SMP: global fixed priority through push/pull; pinned tasks never migrate", () => {
  const ws: PeriodicSpec[] = [
    { kind: "periodic", name: "A", period_us: 10000, exec: 4000, policy: "fifo", priority: 50 },
    { kind: "periodic", name: "B", period_us: 10000, exec: 2000, policy: "fifo", priority: 40 },
    { kind: "periodic", name: "C", period_us: 10000, exec: 4000, policy: "fifo", priority: 30 },
  ];
  let rs = run(spec(ws, 0.1, {}, 2)).rows("tasks") as Row[];
  // the two highest-priority ready tasks always run: C runs as soon as B's CPU frees up
  assert.deepEqual(["A", "B", "C"].map((n) => task(rs, n).max_response_us), [4000, 2000, 6000]);
  assert.ok(task(rs, "C").migrations > 0, "C is pulled to the CPU B leaves");
  rs = run(spec(ws.map((w, i) => ({ ...w, cpus: [i % 2] })), 0.1, {}, 2)).rows("tasks") as Row[];
  for (const r of rs) assert.equal(r.migrations, 0);
  assert.equal(task(rs, "C").max_response_us, 8000, "partitioned: C waits for A on CPU 0");
});

test("SCHED_OTHER periodic tasks run under CFS", () => {
  const rs = run(spec([
    { kind: "periodic", name: "cfs", period_us: 10000, exec: 1000, policy: "other" },
    { kind: "cpu-hog" },
  ], 1)).rows("tasks") as Row[];
  const t = task(rs, "cfs");
  assert.equal(t.jobs, 100);
  assert.ok(t.max_response_us >= 1000);
  assert.equal(t.deadline_misses, 0, "a sleeper preempts the hog on wake-up (sleeper credit)");
});
