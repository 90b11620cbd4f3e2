// CFS rules checked against values computed by hand from Linux v5.10 kernel/sched/fair.c.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CfsRq, cfsTunables, calcDeltaFair, sysctlFactor } from "../src/sched/linux/cfs.js";
import { Task, niceToWeight } from "../src/kernel/task.js";

const MS = 1e6;
const prog = { next() {} };
const task = (id: number, nice = 0) => new Task(id, `t${id}`, 0, [0], nice, niceToWeight(nice), prog);

test("tunables scale by 1 + ilog2(min(ncpus, 8)) (update_sysctl, LOG scaling)", () => {
  assert.deepEqual([1, 2, 3, 4, 7, 8, 64].map(sysctlFactor), [1, 2, 2, 3, 3, 4, 4]);
  const t4 = cfsTunables(4);
  assert.equal(t4.latency, 18 * MS);
  assert.equal(t4.minGranularity, 2.25 * MS);
  assert.equal(t4.wakeupGranularity, 3 * MS);
  assert.equal(t4.nrLatency, 8);
  assert.equal(cfsTunables(8).latency, 24 * MS);
});

test("calc_delta_fair: delta * 1024 / weight", () => {
  assert.equal(calcDeltaFair(1000, 1024), 1000);
  assert.equal(calcDeltaFair(1000, niceToWeight(5)), (1000 * 1024) / 335);
  assert.equal(niceToWeight(-20), 88761);
  assert.equal(niceToWeight(19), 15);
});

test("wake-up preemption fires exactly when the vruntime gap exceeds the granularity", () => {
  const tun = cfsTunables(4); // wakeup_granularity 3 ms
  for (const [gap, expect] of [[2.999 * MS, false], [3 * MS, false], [3.001 * MS, true], [-1 * MS, false]] as const) {
    const rq = new CfsRq(tun);
    const curr = task(0);
    const wakee = task(1);
    curr.vruntime = 100 * MS + gap;
    wakee.vruntime = 100 * MS;
    rq.curr = curr;
    curr.onRq = true;
    rq.nrRunning = 1;
    rq.load = 1024;
    curr.execStart = 0;
    assert.equal(rq.checkPreemptWakeup(wakee, 0), expect, `gap ${gap / MS} ms`);
    if (expect) assert.equal(rq.next, wakee, "the wakee becomes the NEXT buddy");
  }
});

test("wakeup_gran is scaled by the wakee's weight", () => {
  const rq = new CfsRq(cfsTunables(1)); // 1 ms base
  assert.equal(rq.wakeupGran(task(0, 0)), 1 * MS);
  assert.equal(rq.wakeupGran(task(0, 5)), (1 * MS * 1024) / 335);
});

test("place_entity: a waking task gets min_vruntime - latency/2, never moves backwards", () => {
  const rq = new CfsRq(cfsTunables(4)); // latency 18 ms -> 9 ms sleeper credit
  rq.minVruntime = 50 * MS;
  const longSleeper = task(0);
  longSleeper.vruntime = 10 * MS;
  rq.placeEntity(longSleeper, false);
  assert.equal(longSleeper.vruntime, 41 * MS);
  const shortSleeper = task(1);
  shortSleeper.vruntime = 45 * MS;
  rq.placeEntity(shortSleeper, false);
  assert.equal(shortSleeper.vruntime, 45 * MS, "max(se.vruntime, base)");
  const noGentle = new CfsRq(cfsTunables(4, { gentleFairSleepers: false }));
  noGentle.minVruntime = 50 * MS;
  const t = task(2);
  noGentle.placeEntity(t, false);
  assert.equal(t.vruntime, 32 * MS);
});

test("update_curr charges clock_task delta; min_vruntime is monotonic", () => {
  const rq = new CfsRq(cfsTunables(1));
  const a = task(0), b = task(1);
  rq.enqueue(a, 0, false, false);
  rq.enqueue(b, 0, false, false);
  const first = rq.pickNext(0)!;
  rq.updateCurr(4 * MS);
  assert.equal(first.sumExec, 4 * MS);
  assert.equal(first.vruntime, 4 * MS);
  const mv = rq.minVruntime;
  const second = rq.pickNext(4 * MS)!;
  assert.notEqual(second, first);
  rq.updateCurr(5 * MS);
  assert.ok(rq.minVruntime >= mv);
});

test("check_preempt_tick: slice = period * w / load; preempt once ran > slice", () => {
  const rq = new CfsRq(cfsTunables(1)); // latency 6 ms, two nice-0 tasks -> 3 ms slice
  const a = task(0), b = task(1);
  rq.enqueue(a, 0, false, false);
  rq.enqueue(b, 0, false, false);
  const c = rq.pickNext(0)!;
  assert.equal(rq.slice(c), 3 * MS);
  rq.updateCurr(2.9 * MS);
  assert.equal(rq.checkPreemptTick(), false);
  rq.updateCurr(3.1 * MS);
  assert.equal(rq.checkPreemptTick(), true);
});

test("dequeue for migration makes vruntime relative; enqueue renormalises", () => {
  const src = new CfsRq(cfsTunables(1));
  const dst = new CfsRq(cfsTunables(1));
  src.minVruntime = 100 * MS;
  dst.minVruntime = 7 * MS;
  const t = task(0);
  t.vruntime = 100 * MS;
  src.enqueue(t, 0, true, false);
  const before = t.vruntime - src.minVruntime;
  src.dequeue(t, 0, false);
  dst.enqueue(t, 0, false, false);
  assert.equal(t.vruntime - dst.minVruntime, before);
});
