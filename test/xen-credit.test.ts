// Credit (credit1) rules (xen/common/sched/credit.c, RELEASE-4.20.0) and invariants.
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { SimSpec } from "../src/spec/types.js";

function hogs(doms: { w?: number; cap?: number; vcpus?: number }[], o: { cpus?: number[]; h?: number; sched?: object; trace?: number } = {}): SimSpec {
  return {
    board: { preset: "rcar-s4" },
    hypervisor: { kind: "xen", pools: [{ name: "p", cpus: o.cpus ?? [0], scheduler: { name: "credit", ...(o.sched ?? {}) } as any }] },
    horizon_s: o.h ?? 10,
    record: o.trace ? { trace_max: o.trace } : undefined,
    guests: doms.map((d, i) => ({ name: `d${i}`, vcpus: d.vcpus ?? 1, weight: d.w, cap: d.cap, workloads: [{ kind: "cpu-hog", count: d.vcpus ?? 1 }] })),
  };
}
const share = (r: ReturnType<typeof simulate>) => {
  const v = r.rows("vcpus") as any[];
  const byDom = new Map<string, number>();
  for (const x of v) byDom.set(x.domain, (byDom.get(x.domain) ?? 0) + x.running_ms);
  return [...byDom.values()].map((x) => x / (r.spec.horizon_s * 1000));
};

test("credit: shares of CPU hogs follow weights within 2 % over 10 s", () => {
  const cases: number[][] = [[256, 256], [512, 256], [256, 256, 512, 1024], [100, 300]];
  for (const ws of cases) {
    const s = share(simulate(hogs(ws.map((w) => ({ w }))), { seed: 2 }));
    const tot = ws.reduce((a, b) => a + b, 0);
    ws.forEach((w, i) => assert.ok(Math.abs(s[i] - w / tot) < 0.02, `weights ${ws}: share ${s[i]} vs ${w / tot}`));
  }
});

test("credit: a cap holds even when the CPU is otherwise idle, and under contention", () => {
  for (const cap of [10, 30, 75]) {
    const alone = share(simulate(hogs([{ cap }]), { seed: 1 }))[0];
    assert.ok(alone <= cap / 100 + 0.005 && alone > cap / 100 - 0.02, `cap ${cap}: alone ${alone}`);
    const both = share(simulate(hogs([{ cap }, {}]), { seed: 1 }));
    assert.ok(both[0] <= cap / 100 + 0.005, `cap ${cap}: with a competitor ${both[0]}`);
    assert.ok(both[1] >= 1 - cap / 100 - 0.01, "the uncapped domain takes the rest");
  }
});

test("credit: a cap is enforced over every accounting window (30 ms granularity)", () => {
  const r = simulate(hogs([{ cap: 25 }], { h: 3, trace: 100000 }), { seed: 1 });
  const tr = r.rows("trace") as any[];
  // running intervals of d0.v0 on pCPU 0
  const iv: [number, number][] = [];
  let start = -1;
  for (const x of tr) {
    if (x.next === "d0.v0") start = x.t_ms;
    else if (x.prev === "d0.v0" && start >= 0) { iv.push([start, x.t_ms]); start = -1; }
  }
  if (start >= 0) iv.push([start, 3000]);
  const ran = (a: number, b: number) => iv.reduce((s, [x, y]) => s + Math.max(0, Math.min(b, y) - Math.max(a, x)), 0);
  // over any 300 ms window (10 accounting periods), the domain gets at most cap + one slice of overshoot
  for (let a = 300; a + 300 <= 3000; a += 30) assert.ok(ran(a, a + 300) <= 0.25 * 300 + 30 + 1e-6, `window at ${a} ms: ${ran(a, a + 300)} ms`);
});

test("credit: work conserving without caps (3 hogs on 2 pCPUs keep both busy)", () => {
  const r = simulate(hogs([{}, {}, {}], { cpus: [0, 1] }), { seed: 1 });
  for (const p of r.rows("pcpus") as any[]) assert.ok(p.idle_ms < 1, `pCPU ${p.pcpu} idle ${p.idle_ms} ms`);
  const s = share(r);
  for (const x of s) assert.ok(Math.abs(x - 2 / 3) < 0.02, `share ${x}`);
});

test("credit: slices last the 30 ms timeslice (tslice_ms) and the ratelimit bounds short ones", () => {
  for (const tslice of [30, 10]) {
    const r = simulate(hogs([{}, {}], { h: 2, trace: 10000, sched: { tslice_ms: tslice } }), { seed: 1 });
    const tr = (r.rows("trace") as any[]).filter((x) => x.pcpu === 0);
    const lens = tr.slice(1).map((x, i) => x.t_ms - tr[i].t_ms).slice(1, -1);
    for (const l of lens) assert.ok(Math.abs(l - tslice) < 1e-6, `tslice ${tslice}: slice ${l} ms`);
  }
});

test("credit: ratelimit must not exceed the timeslice", () => {
  assert.throws(() => simulate(hogs([{}], { sched: { tslice_ms: 5, ratelimit_us: 6000 } }), { seed: 1 }), /ratelimit_us: must not exceed the timeslice \(5000 µs\)/);
});
