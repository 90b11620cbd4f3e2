// npm run bench: engine and model throughput. Benchmarks, not tests: they print figures only.
import { Simulator } from "../dist/engine/sim.js";
import { simulate } from "../dist/index.js";
import { setup } from "../dist/experiments/takakura-context1.js";

function engineBench(nEvents, nTimers) {
  const sim = new Simulator(1);
  let left = nEvents;
  let x = 1;
  const target = {
    onTimer(_kind, id, now) {
      // re-arm with a pseudo-random delay (LCG, no allocation)
      x = (x * 1664525 + 1013904223) >>> 0;
      if (--left > 0) sim.arm(id, now + 1 + (x & 1023));
    },
  };
  for (let i = 0; i < nTimers; i++) sim.arm(sim.timer(target, 0, i), i);
  // timers are registered with arg = their own id
  const t0 = process.hrtime.bigint();
  sim.run(Infinity);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { events: sim.events, seconds: s };
}

function line(name, events, wall, simS) {
  const eps = events / wall;
  const extra = simS !== undefined ? `, ${(simS / wall).toFixed(2)} simulated s per wall s` : "";
  console.log(`${name.padEnd(46)} ${(eps / 1e6).toFixed(2).padStart(7)} M events/s  (${events.toLocaleString("en")} events in ${wall.toFixed(2)} s${extra})`);
}

console.log(`hvsim bench — node ${process.version}, ${process.arch}`);
engineBench(1e6, 64); // warm-up
for (const nt of [16, 1024]) {
  const r = engineBench(10_000_000, nt);
  line(`engine: no-op events, ${nt} live timers`, r.events, r.seconds);
}
for (const rl of [1, 128]) {
  const spec = setup({ ratelimitMs: rl, horizonS: 10, warmupS: 0 });
  const r = simulate(spec, { seed: 1 });
  line(`context1 on Xen Credit2 (-r ${rl}ms), 10 s`, r.stats.events, r.stats.wall_ms / 1000, r.stats.simulated_s);
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
