import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator, LATE, NORMAL, URGENT, type TimerTarget } from "../src/engine/sim.js";
import { RandomStreams } from "../src/engine/random.js";

/** LCG used to generate schedules without allocation in the targets. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x = (x * 1664525 + 1013904223) >>> 0; return x; };
}

test("run loop fires events in (time, priority, arming order), through the front slot and the heap", () => {
  // Many timers, each armed once or re-armed from inside dispatches (so that pushes hit the
  // front slot, go behind it, displace it, and land in the heap), with many ties of time and
  // priority. Each dispatch must be the least live entry by (time, priority, arming order).
  for (const seed of [1, 2, 3]) {
    const rnd = lcg(seed);
    const sim = new Simulator(1);
    const n = 600;
    const prios = [URGENT, NORMAL, LATE];
    const prioOf: number[] = [];
    const fired: number[] = [];
    // every arm is recorded as [time, prio, seq, id]; the last arm of a timer before it fires is live
    const arms: [number, number, number, number][] = [];
    let seq = 0;
    const live = new Map<number, [number, number, number, number]>();
    const ids: number[] = [];
    const reArms = new Int32Array(n).fill(3);
    const target: TimerTarget = {
      onTimer(_k, i, now) {
        const e = live.get(i)!;
        assert.equal(e[0], now);
        // the event fired must be the least live one by (time, priority, arming order)
        let m = e;
        for (const x of live.values()) {
          if (x[0] < m[0] || (x[0] === m[0] && (x[1] < m[1] || (x[1] === m[1] && x[2] < m[2])))) m = x;
        }
        assert.equal(m, e, `seed ${seed}: fired ${e} while ${m} was due first`);
        live.delete(i);
        fired.push(e[2]);
        // arm two other timers at or after now: at the same instant often
        for (let r = 0; r < 2; r++) {
          const j = rnd() % n;
          if (reArms[j] <= 0) continue;
          reArms[j]--;
          const t = now + (rnd() % 4 === 0 ? 0 : rnd() % 3);
          const a: [number, number, number, number] = [t, prioOf[j], seq++, j];
          if (live.has(j)) live.delete(j);
          live.set(j, a);
          arms.push(a);
          sim.arm(ids[j], t);
        }
      },
    };
    for (let i = 0; i < n; i++) {
      prioOf.push(prios[rnd() % 3]);
      ids.push(sim.timer(target, 0, i, prioOf[i]));
    }
    for (let i = 0; i < n; i++) {
      const t = rnd() % 50;
      const a: [number, number, number, number] = [t, prioOf[i], seq++, i];
      live.set(i, a);
      arms.push(a);
      sim.arm(ids[i], t);
    }
    sim.run(Infinity);
    assert.equal(live.size, 0);
    assert.equal(sim.events, fired.length);
  }
});

test("same-instant priority: URGENT before NORMAL before LATE whatever the arming order", () => {
  const sim = new Simulator(1);
  const order: string[] = [];
  const tgt: TimerTarget = { onTimer: (k) => { order.push(["u", "n", "l"][k]); } };
  const late = sim.timer(tgt, 2, 0, LATE);
  const normal = sim.timer(tgt, 1, 0, NORMAL);
  const urgent = sim.timer(tgt, 0, 0, URGENT);
  // armed in reverse priority order, all at t = 10
  sim.arm(late, 10);
  sim.arm(normal, 10);
  sim.arm(urgent, 10);
  sim.run(100);
  assert.deepEqual(order, ["u", "n", "l"]);
});

test("same-instant priority: an event armed during a dispatch for the current instant", () => {
  // A NORMAL event at t = 5 arms a LATE one and an URGENT one at t = 5 while another NORMAL
  // event of t = 5 is still queued: the URGENT one overtakes it (front slot), the LATE one waits
  // for it; a stale (cancelled) entry at t = 5 changes nothing.
  const sim = new Simulator(1);
  const order: string[] = [];
  let late = -1, urgent = -1, stale = -1;
  const tgt: TimerTarget = {
    onTimer: (k, _a, now) => {
      order.push(`${["first", "second", "late", "urgent", "stale"][k]}@${now}`);
      if (k === 0) { sim.arm(late, now); sim.arm(urgent, now); }
    },
  };
  const first = sim.timer(tgt, 0);
  const second = sim.timer(tgt, 1);
  late = sim.timer(tgt, 2, 0, LATE);
  urgent = sim.timer(tgt, 3, 0, URGENT);
  stale = sim.timer(tgt, 4);
  sim.arm(stale, 5);
  sim.arm(first, 5);
  sim.arm(second, 5);
  sim.cancel(stale);
  sim.run(100);
  assert.deepEqual(order, ["first@5", "urgent@5", "second@5", "late@5"]);
  assert.equal(sim.events, 4);
});

test("simulator: cancelled and re-armed timers fire once, at the last armed time", () => {
  const sim = new Simulator(1);
  const fired: [number, number][] = [];
  const tgt: TimerTarget = { onTimer: (k, a, now) => { fired.push([a, now]); } };
  const a = sim.timer(tgt, 0, 1);
  const b = sim.timer(tgt, 0, 2);
  sim.arm(a, 100);
  sim.arm(b, 50);
  sim.arm(a, 30); // re-arm earlier
  sim.cancel(b);
  sim.arm(b, 70);
  sim.run(1000);
  assert.deepEqual(fired, [[1, 30], [2, 70]]);
  assert.equal(sim.events, 2);
  assert.equal(sim.now, 1000);
});

test("simulator: an unknown event priority is refused", () => {
  const sim = new Simulator(1);
  assert.throws(() => sim.timer({ onTimer() {} }, 0, 0, 7), /priority/);
});

test("named random streams are independent of creation order", () => {
  const r1 = new RandomStreams("7");
  const a1 = r1.get("a").next();
  r1.get("b").next();
  const r2 = new RandomStreams("7");
  r2.get("b").next();
  r2.get("c").next();
  assert.equal(r2.get("a").next(), a1);
  assert.notEqual(new RandomStreams("8").get("a").next(), a1);
});
