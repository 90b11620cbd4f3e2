import { test } from "node:test";
import assert from "node:assert/strict";
import { EventQueue } from "../src/engine/queue.js";
import { Simulator, type TimerTarget } from "../src/engine/sim.js";
import { RandomStreams } from "../src/engine/random.js";

test("event queue pops in (time, insertion) order, like a stable sort", () => {
  const q = new EventQueue(4);
  const items: [number, number][] = [];
  let x = 12345;
  for (let i = 0; i < 5000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const t = x % 97; // many ties
    items.push([t, i]);
    q.push(t, i, 0);
  }
  const expected = items.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((e) => e[1]);
  const got: number[] = [];
  while (q.pop()) got.push(q.popTimer);
  assert.deepEqual(got, expected);
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
