// Property tests of the Xen schedulers over seeded random specs: CPU time is
// conserved, no vCPU runs on two pCPUs at once, affinity holds, and each
// scheduler's own guarantee (Credit2 caps, RTDS budgets and EDF deadlines,
// ARINC653 windows, Null's 1:1 assignment).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import type { GuestSpec, SimSpec, WorkloadSpec, XenSchedulerSpec } from "../src/spec/types.js";
import { rng, runIntervals, runningIn, traceRows, type Interval } from "./xen-trace.js";

const SPECS = 30;
const TRACE_MAX = 1_000_000;
type R = ReturnType<typeof rng>;

function poolCpus(R: R, max = 8): number[] {
  const n = R.int(1, max);
  const all = [0, 1, 2, 3, 4, 5, 6, 7];
  for (let i = all.length - 1; i > 0; i--) { const j = R.int(0, i); [all[i], all[j]] = [all[j], all[i]]; }
  return all.slice(0, n).sort((a, b) => a - b);
}

function workload(R: R, board: string, vcpus: number, allowContext1 = true): WorkloadSpec[] {
  if (allowContext1 && board === "rcar-s4" && vcpus >= 2 && R.chance(0.2)) return [{ kind: "context1", cpus: [0, 1], sample_us: 0 }];
  if (R.chance(0.15)) return [];
  return [{ kind: "cpu-hog", count: R.int(1, vcpus) }];
}

function pins(R: R, cpus: number[], vcpus: number): number[][] | undefined {
  const u = R.next();
  if (u < 0.4) return Array.from({ length: vcpus }, () => [R.pick(cpus)]);
  if (u < 0.6) return [cpus.filter(() => R.chance(0.6)).concat([R.pick(cpus)]).filter((c, i, a) => a.indexOf(c) === i).sort((a, b) => a - b)];
  return undefined;
}

function system(board: string, cpus: number[], sched: XenSchedulerSpec, guests: GuestSpec[], horizonS: number): SimSpec {
  return {
    board: { preset: board }, horizon_s: horizonS, record: { trace_max: TRACE_MAX },
    hypervisor: { kind: "xen", pools: [{ name: "P", cpus, scheduler: sched }] }, guests,
  };
}

/** Conservation, exclusivity and affinity; returns the running intervals. */
function checkCommon(spec: SimSpec, seed: number): { r: ReturnType<typeof simulate>; iv: Interval[]; wall: number } {
  const r = simulate(spec, { seed });
  const wall = spec.horizon_s * 1000;
  const tag = `spec ${JSON.stringify(spec)}`;
  const vc = r.rows("vcpus") as any[];
  const pc = r.rows("pcpus") as any[];
  for (const v of vc) {
    const sum = v.running_ms + v.runnable_ms + v.blocked_ms + v.offline_ms;
    assert.ok(Math.abs(sum - wall) < 1e-6, `${v.domain}.v${v.vcpu}: runstates sum to ${sum} ms, not ${wall}; ${tag}`);
  }
  const pool = new Set((spec.hypervisor as any).pools[0].cpus as number[]);
  let busy = 0;
  for (const p of pc) {
    assert.ok(Math.abs(p.busy_ms + p.idle_ms - wall) < 1e-6 && p.busy_ms <= wall + 1e-6, `pCPU ${p.pcpu}: busy ${p.busy_ms} + idle ${p.idle_ms} != ${wall}`);
    if (pool.has(p.pcpu)) busy += p.busy_ms;
  }
  const running = vc.reduce((a, v) => a + v.running_ms, 0);
  assert.ok(Math.abs(running - busy) < 1e-6 * vc.length, `vCPU running ${running} ms != pool busy ${busy} ms; ${tag}`);
  const rows = traceRows(r);
  assert.ok(rows.length < TRACE_MAX, "trace complete");
  const iv = runIntervals(rows, wall); // throws if a vCPU is current on two pCPUs
  // the trace agrees with the runstates, and hard affinity holds
  const hard = new Map<string, Set<number>>();
  for (const g of spec.guests) for (let i = 0; i < g.vcpus; i++)
    hard.set(`${g.name}.v${i}`, new Set(g.pin ? (g.pin.length === 1 ? g.pin[0] : g.pin[i]) : [...pool]));
  for (const x of iv) assert.ok(hard.get(x.vcpu)!.has(x.pcpu), `${x.vcpu} ran on pCPU ${x.pcpu} outside its affinity; ${tag}`);
  for (const v of vc) {
    const name = `${v.domain}.v${v.vcpu}`;
    const t = runningIn(iv, name, 0, wall);
    assert.ok(Math.abs(t - v.running_ms) < 1e-6, `${name}: trace says ${t} ms running, runstate ${v.running_ms}`);
  }
  return { r, iv, wall };
}

test("Credit2 (caps, runqueue arrangements, ratelimits): conservation, exclusivity, affinity, caps", () => {
  const R = rng(2024);
  let capped = 0;
  for (let s = 0; s < SPECS; s++) {
    const board = R.pick(["ideal", "rcar-s4"]);
    const cpus = poolCpus(R);
    const ratelimit = R.pick(["off", 100, 1000, 5000] as const);
    const sched: XenSchedulerSpec = { name: "credit2", ratelimit_us: ratelimit, runqueue: R.pick(["cpu", "core", "socket", "node", "all"] as const) };
    const guests: GuestSpec[] = [];
    for (let g = R.int(1, 4); g > 0; g--) {
      const vcpus = R.int(1, 4);
      const cap = R.chance(0.4) ? R.int(5, 100 * vcpus) : 0;
      guests.push({ name: `g${guests.length}`, vcpus, pin: pins(R, cpus, vcpus), weight: R.pick([128, 256, 512, 1024]), cap, workloads: workload(R, board, vcpus) });
    }
    const spec = system(board, cpus, sched, guests, board === "ideal" ? 0.2 : 0.1);
    const { iv, wall } = checkCommon(spec, s + 1);
    // a cap is never exceeded over m aligned cap periods by more than the quota
    // granularity: m x tot_budget + per unit (quota + the slice floor)
    const minTime = Math.max(0.5, ratelimit === "off" ? 0 : ratelimit / 1000);
    for (const g of guests) {
      if (!g.cap) continue;
      capped++;
      const tot = (10 * g.cap) / 100, quota = Math.max(tot / g.vcpus, 0.5);
      const slack = g.vcpus * (quota + minTime);
      const periods = Math.floor(wall / 10);
      const per: number[] = [];
      for (let k = 0; k < periods; k++) {
        let c = 0;
        for (let i = 0; i < g.vcpus; i++) c += runningIn(iv, `${g.name}.v${i}`, 10 * k, 10 * (k + 1));
        per.push(c);
      }
      for (let a = 0; a < periods; a++) {
        let c = 0;
        for (let b = a; b < periods; b++) {
          c += per[b];
          const m = b - a + 1;
          assert.ok(c <= m * tot + slack + 1e-6, `${g.name} (cap ${g.cap}%, ${g.vcpus} vCPUs) ran ${c} ms in periods ${a}..${b}, limit ${m * tot} + ${slack}; spec ${JSON.stringify(spec)}`);
        }
      }
    }
  }
  assert.ok(capped >= 10, `${capped} capped domains exercised`);
});

// Note: the budget bound needs a pool without extratime. With extratime units
// (priority_level >= 1) the ReplQ, ordered by compare_unit_priority at insertion
// (level first), can hold an earlier deadline behind a later one; the timer
// handler stops at the first future deadline, so a replenishment comes late and
// the unit runs on its old budget past its deadline (rt.c in 4.20 does this too).
test("RTDS: conservation, exclusivity, affinity; in a pool without extratime no vCPU exceeds its budget in a period", () => {
  const R = rng(77);
  for (let s = 0; s < SPECS; s++) {
    const board = R.pick(["ideal", "rcar-s4"]);
    const cpus = poolCpus(R, 4);
    const guests: GuestSpec[] = [];
    const anyExtra = R.chance(0.5);
    for (let g = R.int(1, 4); g > 0; g--) {
      const vcpus = R.int(1, 3);
      const one = () => {
        const p = R.pick([1000, 2000, 5000, 10000, 20000]);
        return { period_us: p, budget_us: R.int(10, p), extratime: anyExtra && R.chance(0.5) };
      };
      const rtds = R.chance(0.5) ? one() : Array.from({ length: vcpus }, one);
      guests.push({ name: `g${guests.length}`, vcpus, pin: pins(R, cpus, vcpus), rtds, workloads: workload(R, board, vcpus) });
    }
    const spec = system(board, cpus, { name: "rtds" }, guests, board === "ideal" ? 0.2 : 0.1);
    const { iv, wall } = checkCommon(spec, s + 1);
    if (anyExtra) continue;
    for (const g of guests) for (let i = 0; i < g.vcpus; i++) {
      const p = Array.isArray(g.rtds) ? g.rtds[i] : g.rtds!;
      const P = p.period_us! / 1000, B = p.budget_us! / 1000;
      for (let k = 0; (k + 1) * P <= wall; k++) {
        const c = runningIn(iv, `${g.name}.v${i}`, k * P, (k + 1) * P);
        assert.ok(c <= B + 1e-6, `${g.name}.v${i} ran ${c} ms in period ${k} with a ${B} ms budget; spec ${JSON.stringify(spec)}`);
      }
    }
  }
});

test("RTDS meets every deadline on one pCPU when sum(budget/period) <= 1 (CPU-bound vCPUs, no extratime)", () => {
  const R = rng(4242);
  for (let s = 0; s < SPECS; s++) {
    const n = R.int(1, 5);
    const U = R.pick([0.5, 0.8, 0.95, 1]);
    const w = Array.from({ length: n }, () => 0.1 + R.next());
    const ws = w.reduce((a, x) => a + x, 0);
    const guests: GuestSpec[] = w.map((x, i) => {
      const period = R.pick([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20]) * 1000;
      const budget = Math.max(10, Math.floor((period * U * x) / ws));
      return { name: `t${i}`, vcpus: 1, rtds: { period_us: period, budget_us: budget, extratime: false }, workloads: [{ kind: "cpu-hog" }] };
    });
    const cpu = R.int(0, 7);
    const spec = system("ideal", [cpu], { name: "rtds" }, guests, 0.2);
    const { iv, wall } = checkCommon(spec, s + 1);
    for (const g of guests) {
      const P = (g.rtds as any).period_us / 1000, B = (g.rtds as any).budget_us / 1000;
      for (let k = 0; (k + 1) * P <= wall; k++) {
        const c = runningIn(iv, `${g.name}.v0`, k * P, (k + 1) * P);
        assert.ok(c >= B - 1e-6, `${g.name} got ${c} ms in period ${k} ([${k * P}, ${(k + 1) * P}) ms), budget ${B}; spec ${JSON.stringify(spec)}`);
      }
    }
  }
});

test("ARINC653: each vCPU runs only inside its minor frames, and a CPU-bound one fills them", () => {
  const R = rng(653);
  for (let s = 0; s < SPECS; s++) {
    const board = R.pick(["ideal", "rcar-s4"]);
    const cpu = R.int(0, 7);
    const guests: GuestSpec[] = [];
    for (let g = R.int(1, 4); g > 0; g--) {
      const vcpus = R.chance(0.3) ? 2 : 1;
      guests.push({ name: `g${guests.length}`, vcpus, workloads: workload(R, board, vcpus) });
    }
    const frames = Array.from({ length: R.int(1, 6) }, () => {
      const g = R.pick(guests);
      return { guest: g.name, vcpu: R.int(0, g.vcpus - 1), runtime_ms: R.int(2, 40) / 8 };
    });
    const sum = frames.reduce((a, f) => a + f.runtime_ms, 0);
    const major = sum + (R.chance(0.5) ? 0 : R.int(1, 16) / 4);
    const spec = system(board, [cpu], { name: "arinc653", major_frame_ms: major, frames }, guests, board === "ideal" ? 0.2 : 0.1);
    const { iv, wall } = checkCommon(spec, s + 1);
    // windows of each vCPU
    const win = new Map<string, [number, number][]>();
    for (let k = 0; k * major < wall; k++) {
      let off = k * major;
      for (const f of frames) {
        const name = `${f.guest}.v${f.vcpu ?? 0}`;
        if (!win.has(name)) win.set(name, []);
        win.get(name)!.push([off, off + f.runtime_ms]);
        off += f.runtime_ms;
      }
    }
    const inside = (name: string, a: number, b: number) => (win.get(name) ?? []).some(([lo, hi]) => a >= lo - 1e-9 && b <= hi + 1e-9)
      // or a run spanning back-to-back windows of the same vCPU
      || runSpans(win.get(name) ?? [], a, b);
    for (const x of iv) assert.ok(inside(x.vcpu, x.start, x.end), `${x.vcpu} ran [${x.start}, ${x.end}) ms outside its windows; spec ${JSON.stringify(spec)}`);
    if (board === "ideal") for (const g of guests) {
      if (g.vcpus !== 1 || g.workloads.length === 0 || g.workloads[0].kind !== "cpu-hog") continue;
      for (const [lo, hi] of win.get(`${g.name}.v0`) ?? []) {
        if (hi > wall) continue;
        const c = runningIn(iv, `${g.name}.v0`, lo, hi);
        assert.ok(Math.abs(c - (hi - lo)) < 1e-6, `${g.name} ran ${c} ms of its [${lo}, ${hi}) window; spec ${JSON.stringify(spec)}`);
      }
    }
  }
});

/** [a, b) covered by a union of (sorted, possibly adjacent) windows. */
function runSpans(w: [number, number][], a: number, b: number): boolean {
  let reach = a;
  for (const [lo, hi] of w) {
    if (lo > reach + 1e-9) continue;
    if (hi > reach) reach = hi;
    if (reach >= b - 1e-9) return true;
  }
  return false;
}

test("Null: no time sharing, a pCPU serves one vCPU, and the excess vCPUs never run", () => {
  const R = rng(99);
  for (let s = 0; s < SPECS; s++) {
    const board = R.pick(["ideal", "rcar-s4"]);
    const cpus = poolCpus(R);
    const pinned = R.chance(0.5);
    const guests: GuestSpec[] = [];
    for (let g = R.int(1, 4); g > 0; g--) {
      const vcpus = R.int(1, 4);
      guests.push({ name: `g${guests.length}`, vcpus, pin: pinned ? pins(R, cpus, vcpus) : undefined, workloads: workload(R, board, vcpus) });
    }
    const spec = system(board, cpus, { name: "null" }, guests, board === "ideal" ? 0.2 : 0.1);
    const { r, iv, wall } = checkCommon(spec, s + 1);
    const onCpu = new Map<number, string>(), cpuOf = new Map<string, number>();
    for (const x of iv) {
      const o = onCpu.get(x.pcpu);
      assert.ok(o === undefined || o === x.vcpu, `pCPU ${x.pcpu} time-shared between ${o} and ${x.vcpu}; spec ${JSON.stringify(spec)}`);
      onCpu.set(x.pcpu, x.vcpu);
      const c = cpuOf.get(x.vcpu);
      assert.ok(c === undefined || c === x.pcpu, `${x.vcpu} moved from pCPU ${c} to ${x.pcpu}`);
      cpuOf.set(x.vcpu, x.pcpu);
    }
    const vc = r.rows("vcpus") as any[];
    const nv = vc.length;
    // a waiting vCPU is runnable the whole run and never runs
    const waiting = vc.filter((v) => v.running_ms === 0 && Math.abs(v.runnable_ms - wall) < 1e-6).length;
    if (!pinned) assert.equal(waiting, Math.max(0, nv - cpus.length), `waiting vCPUs; spec ${JSON.stringify(spec)}`);
    assert.ok(nv - waiting <= cpus.length, "at most one vCPU per pCPU");
  }
});

test("the trace checker itself rejects a vCPU switched in on a second pCPU, and an inconsistent prev", () => {
  const ok = [
    { t_ms: 0, pcpu: 0, prev: "idle", next: "a.v0" },
    { t_ms: 1, pcpu: 0, prev: "a.v0", next: "idle" },
    { t_ms: 1, pcpu: 1, prev: "idle", next: "a.v0" },
  ];
  assert.equal(runIntervals(ok, 2).length, 2);
  const twice = [ok[0], { t_ms: 1, pcpu: 1, prev: "idle", next: "a.v0" }];
  assert.throws(() => runIntervals(twice, 2), /while current on pCPU 0/);
  assert.throws(() => runIntervals([ok[0], { t_ms: 1, pcpu: 0, prev: "b.v0", next: "idle" }], 2), /prev b.v0 but a.v0/);
});

test("Credit (credit1): conservation, exclusivity, affinity over random specs; caps bounded per accounting window", () => {
  const R = rng(1031);
  let capped = 0;
  for (let s = 0; s < SPECS; s++) {
    const board = R.pick(["ideal", "rcar-s4"]);
    const cpus = poolCpus(R);
    const tslice = R.pick([10, 30, 100]);
    const ratelimit = R.pick(["off", 100, 1000, 5000] as const);
    const sched: XenSchedulerSpec = { name: "credit", tslice_ms: tslice, ratelimit_us: ratelimit };
    const guests: GuestSpec[] = [];
    for (let g = R.int(1, 4); g > 0; g--) {
      const vcpus = R.int(1, 4);
      const cap = R.chance(0.4) ? R.int(5, 100 * vcpus) : 0;
      guests.push({ name: `g${guests.length}`, vcpus, pin: pins(R, cpus, vcpus), weight: R.pick([128, 256, 512, 1024]), cap, workloads: workload(R, board, vcpus) });
    }
    const spec = system(board, cpus, sched, guests, board === "ideal" ? 0.6 : 0.3);
    const { iv, wall } = checkCommon(spec, s + 1);
    // csched_acct hands a capped domain at most cap% of a tslice per accounting period and parks
    // it once its credit falls below minus its per-unit cap share: over m periods it runs at most
    // m x cap% x tslice plus, per vCPU, the parking lag (one period of credit below zero plus a slice).
    for (const g of guests) {
      if (!g.cap) continue;
      capped++;
      const per = (tslice * g.cap) / 100;
      const periods = Math.floor(wall / tslice);
      let worst = 0;
      for (let a = 0; a < periods; a++) for (let b = a; b < periods; b++) {
        let c = 0;
        for (let i = 0; i < g.vcpus; i++) c += runningIn(iv, `${g.name}.v${i}`, tslice * a, tslice * (b + 1));
        worst = Math.max(worst, c - (b - a + 1) * per);
      }
      const slack = g.vcpus * (per + 2 * tslice);
      assert.ok(worst <= slack + 1e-6, `${g.name} (cap ${g.cap}%) overran its cap by ${worst} ms > ${slack}; spec ${JSON.stringify(spec)}`);
    }
  }
  assert.ok(capped >= 10, `${capped} capped domains exercised`);
});

// csched_acct rounds each domain's credit_fair *up* out of only 300 credits per 30 ms, so
// every domain gains up to one credit per period and the heaviest one pays for it: with four
// domains and weights 64:192:960:640 the heaviest gets 49.4 % instead of 51.7 % (faithful to
// the source). The 2 % property is therefore checked for weight ratios up to 8.
test("Credit (credit1): CPU-hog shares match random weight ratios (<= 8:1) within 2 % over 10 s", () => {
  const R = rng(77);
  for (let s = 0; s < 10; s++) {
    const n = R.int(2, 4);
    const weights = Array.from({ length: n }, () => R.pick([128, 256, 384, 512, 768, 1024]));
    const guests: GuestSpec[] = weights.map((w, i) => ({ name: `d${i}`, vcpus: 1, pin: [[0]], weight: w, workloads: [{ kind: "cpu-hog" }] }));
    const spec: SimSpec = { board: { preset: "rcar-s4" }, horizon_s: 10, hypervisor: { kind: "xen", pools: [{ name: "P", cpus: [0], scheduler: { name: "credit" } }] }, guests };
    const vc = simulate(spec, { seed: s + 1 }).rows("vcpus") as any[];
    const tot = weights.reduce((a, b) => a + b, 0);
    vc.forEach((v, i) => {
      const share = v.running_ms / 10_000;
      assert.ok(Math.abs(share - weights[i] / tot) < 0.02, `weights ${weights}: d${i} got ${share}, expected ${weights[i] / tot}`);
    });
  }
});
