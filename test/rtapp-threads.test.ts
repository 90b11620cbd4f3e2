// rt-app thread programs (workload kind "rtapp"): rt-app example-style files with run/runtime/sleep/timer
// events, several phases, loops, instances, the four policies and affinity run; files with events hvsim
// does not model are refused naming the event and why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { simulate } from "../src/simulate.js";
import { rtApp } from "../src/workloads/rtapp.js";
import { validateSpec } from "../src/spec/validate.js";
import type { SimSpec } from "../src/spec/types.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const FIX = join(ROOT, "test/fixtures/rtapp");
const load = (f: string) => readFileSync(join(FIX, f), "utf8");
const tasksOf = (r: ReturnType<typeof simulate>) => new Map(r.rows("tasks").map((t) => [t.task, t]));

test("run + sleep forever (rt-app's first tutorial pattern): one 10 ms cycle of 2 ms work, 200 ms of CPU per second", () => {
  const a = rtApp(load("run-sleep.json"), { cpus: 2 });
  assert.deepEqual(a.tasks, []);
  assert.deepEqual(a.threads, [{ kind: "rtapp", name: "thread0", policy: "other", phases: [{ loop: 1, events: [{ run_us: 2000 }, { sleep_us: 8000 }] }] }]);
  const t = tasksOf(simulate(a.spec, { seed: 1 })).get("thread0")!;
  assert.ok(Math.abs(t.sum_exec_ms - 200) < 2, `${t.sum_exec_ms} ms`);
  assert.ok(t.wakeups >= 99 && t.wakeups <= 100, `${t.wakeups} wake-ups`);
});

test("phases with loops and instances: a light then a heavy phase, once, then the threads exit", () => {
  const a = rtApp(load("phases.json"), { cpus: 4 });
  assert.deepEqual(a.threads.map((t) => t.name), ["thread0-0", "thread0-1", "thread0-2", "thread0-3"]);
  assert.equal(a.threads[0].loop, 1);
  assert.deepEqual(a.threads[0].phases.map((p) => p.loop), [10, 10]);
  const r = simulate(a.spec, { seed: 1 });
  for (const [, t] of tasksOf(r)) {
    // 10 x 3 ms + 10 x 27 ms of work, each thread alone on a CPU: 300 ms, then nothing more
    assert.ok(Math.abs(t.sum_exec_ms - 300) < 1e-6, `${t.task}: ${t.sum_exec_ms} ms`);
    // the shared "unique" timer: 20 expiries 30 ms apart from the thread's start, each after a sleep
    assert.equal(t.wakeups, 20, `${t.task}: ${t.wakeups} wake-ups`);
  }
  const longer = simulate({ ...a.spec, horizon_s: 2 }, { seed: 1 });
  assert.deepEqual([...tasksOf(longer).values()].map((t) => t.sum_exec_ms), [...tasksOf(r).values()].map((t) => t.sum_exec_ms), "finished threads stay finished");
});

test("the four policies, affinity, delay, runtime events and an absolute timer", () => {
  const a = rtApp(load("policies.json"), { cpus: 2 });
  const byName = new Map(a.threads.map((t) => [t.name, t]));
  assert.deepEqual([...byName.keys()], ["fifo", "rr-0", "rr-1", "other", "dl"]);
  assert.equal(byName.get("fifo")!.policy, "fifo");
  assert.equal(byName.get("fifo")!.priority, 50);
  assert.deepEqual(byName.get("rr-0")!.cpus, [0]);
  assert.equal(byName.get("other")!.nice, 5);
  assert.equal(byName.get("other")!.delay_us, 2000);
  assert.deepEqual(byName.get("other")!.phases[0].events[3], { timer_us: 5000, ref: "tick", absolute: true });
  assert.deepEqual(byName.get("dl"), { kind: "rtapp", name: "dl", policy: "deadline", dl_runtime_us: 2000, dl_period_us: 10000, dl_deadline_us: 8000,
    phases: [{ loop: 1, events: [{ run_us: 1500 }, { sleep_us: 10000 }] }] });
  // calibration 100 ns per loop: run 1000 µs = 10000 loops = 1000 µs
  assert.deepEqual(byName.get("fifo")!.phases[0].events[0], { run_us: 1000 });
  assert.deepEqual(a.warnings, []);
  const r = simulate(a.spec, { seed: 1 });
  const t = tasksOf(r);
  // the absolute 5 ms timer paces "other" (1 ms of work per period after a 2 ms delay) on its otherwise idle CPU
  assert.ok(Math.abs(t.get("other")!.sum_exec_ms - 199.6) < 1.01, `other ${t.get("other")!.sum_exec_ms}`);
  // runtime events are wall-clock bounded: the RR threads, preempted by the FIFO and DL threads on CPU 0,
  // get less work than 3 ms per 4 ms cycle would give them alone
  const rr = t.get("rr-0")!.sum_exec_ms + t.get("rr-1")!.sum_exec_ms;
  assert.ok(rr < 750 && rr > 400, `rr ${rr}`);
  assert.ok(t.get("dl")!.sum_exec_ms > 100, "the DL thread runs");
  for (const n of ["fifo", "rr-0", "rr-1"]) assert.equal(t.get(n)!.cpu, 0, `${n} stays on CPU 0`);
});

test("a timer overrun in rt-app's relative mode re-anchors the timer; absolute mode catches up", () => {
  const spec = (absolute: boolean): SimSpec => ({
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 0.1,
    guests: [{ name: "os", vcpus: 1, workloads: [
      // 3 ms of work against a 2 ms timer for 5 loops (overruns), then 1 ms per 2 ms
      { kind: "rtapp", name: "t", policy: "fifo", phases: [
        { loop: 5, events: [{ run_us: 3000 }, { timer_us: 2000, absolute }] },
        { loop: 1_000_000, events: [{ run_us: 1000 }, { timer_us: 2000, absolute }] },
      ] },
    ] }],
  } as SimSpec);
  const rel = simulate(spec(false), { seed: 1 }).rows("tasks")[0];
  const abs = simulate(spec(true), { seed: 1 }).rows("tasks")[0];
  // relative: t_next := now at each overrun, so from 15 ms a fresh 2 ms grid: 1 ms per 2 ms for 85 ms -> 15 + 43 ms;
  // absolute: t_next is 12 ms when the second phase's first run ends at 16 ms; the thread runs back to back
  // (t_next gains 2 ms per 1 ms run) until t_next passes now, about 2 ms more work than relative mode
  assert.ok(Math.abs(rel.sum_exec_ms - 58) < 1.01, `relative ${rel.sum_exec_ms}`);
  assert.ok(Math.abs(abs.sum_exec_ms - 60) < 1.01 && abs.sum_exec_ms - rel.sum_exec_ms >= 1.5, `absolute ${abs.sum_exec_ms} vs relative ${rel.sum_exec_ms}`);
});

test("rt-app example files with events hvsim does not model are refused naming the event and why", () => {
  const cases: [string, RegExp][] = [
    ["barrier.json", /tasks\.task0\.barrier1: barrier events are not supported: barriers between threads are not modelled/],
    ["mem.json", /tasks\.thread0\.mem: mem events are not supported/],
    ["fork.json", /tasks\.parent\.phases\.p1\.fork: fork events are not supported/],
    ["lock.json", /tasks\.thread0\.lock: lock events are not supported: mutexes/],
    ["affinity-phases.json", /tasks\.thread0\.phases\.phase1\.cpus: a change of scheduling parameters or affinity between phases is not modelled/],
  ];
  for (const [f, re] of cases) assert.throws(() => rtApp(load(f), { cpus: 2 }), re, f);
  // the command line says the same, without a stack trace
  const r = spawnSync(process.execPath, [join(ROOT, "dist/cli.js"), "run", join(FIX, "barrier.json")], { encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /barrier1: barrier events are not supported/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test("rtapp specs are validated before the run: a DL thread needs a runtime, loop 0 is refused", () => {
  const spec = (w: object): SimSpec => ({ board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 0.1,
    guests: [{ name: "os", vcpus: 1, workloads: [{ kind: "rtapp", name: "t", phases: [{ events: [{ run_us: 10 }] }], ...w }] }] } as SimSpec);
  assert.throws(() => validateSpec(spec({ policy: "deadline" })), /dl_runtime_us.*needed/);
  assert.throws(() => validateSpec(spec({ loop: 0 })), /loop.*-1 \(forever\) or at least 1/);
  assert.throws(() => validateSpec(spec({ phases: [{ events: [{ jump_us: 3 }] }] })), /must be one event/);
  assert.throws(() => validateSpec(spec({ policy: "deadline", dl_runtime_us: 500, dl_period_us: 100 })), /runtime <= deadline <= period/);
});
