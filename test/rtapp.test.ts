// rt-app workload files: parsing, equivalence with the fluent API, and `hvsim run` on them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { simulate } from "../src/simulate.js";
import { board, guest, periodic, system } from "../src/spec/builders.js";
import { isRtApp, parseRtAppText, rtApp } from "../src/workloads/rtapp.js";

const cli = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));

// rt-app's own style: comments, trailing commas, SCHED_* names, µs
const RTAPP = `{
  /* a mixed task set on 2 CPUs */
  "global": {
    "duration": 2,
    "default_policy": "SCHED_FIFO",
    "calibration": "CPU0",
    "logdir": "/tmp", "log_basename": "rt-app", "ftrace": "none",
  },
  "tasks": {
    "ctl":   { "priority": 80, "run": 1000, "timer": { "ref": "unique", "period": 4000, "mode": "absolute" } },
    "video": { "policy": "SCHED_DEADLINE", "dl-runtime": 6000, "dl-period": 40000, "dl-deadline": 30000,
               "run": 5000, "timer": { "ref": "unique", "period": 40000, "mode": "absolute" } },
    "rr":    { "policy": "SCHED_RR", "priority": 20, "instance": 2, "cpus": [1], "delay": 300,
               "phases": { "p0": { "loop": 1, "run": 7000, "timer": { "ref": "unique", "period": 20000, "mode": "absolute" } } } },
    "bg":    { "policy": "SCHED_OTHER", "priority": 5, "run": 3000, "timer": { "ref": "tbg", "period": 10000, "mode": "absolute" } }, // nice 5
  },
}`;

function fluent() {
  return system().board(board("ideal")).horizon(2)
    .guest(guest("linux").vcpus(2)
      .workload(periodic("ctl").period(4000).exec(1000).fifo(80))
      .workload(periodic("video").period(40000).exec(5000).deadline(30000).edf(6000))
      .workload(periodic("rr-0").period(20000).exec(7000).rr(20).cpus([1]).offset(300))
      .workload(periodic("rr-1").period(20000).exec(7000).rr(20).cpus([1]).offset(300))
      .workload(periodic("bg").period(10000).exec(3000).other(5)))
    .build();
}

test("an rt-app file and the same task set written with the fluent API give identical result tables", () => {
  const r = rtApp(RTAPP, { cpus: 2, jobsMax: 500 });
  assert.deepEqual(r.warnings, []);
  const viaFile = simulate(r.spec, { seed: 7 });
  const s = fluent();
  s.record = { jobs_max: 500 };
  const viaApi = simulate(s, { seed: 7 });
  assert.deepEqual(viaFile.tableNames, viaApi.tableNames);
  assert.ok(viaFile.tableNames.includes("jobs"));
  for (const n of viaFile.tableNames) assert.deepEqual(viaFile.rows(n), viaApi.rows(n), `table ${n}`);
  assert.deepEqual(r.spec, s, "the very same spec");
  const tasks = viaFile.rows("tasks") as Record<string, any>[];
  assert.ok(tasks.every((t) => t.jobs > 0));
});

test("rt-app parsing: calibration, timer first, instances, defaults, policies", () => {
  const r = rtApp({
    global: { duration: 3, calibration: 300, default_policy: "SCHED_OTHER" },
    tasks: {
      a: { policy: "SCHED_FIFO", run: 1000, timer: { ref: "unique", period: 5000 } }, // 1000 µs / 300 ns per loop
      b: { policy: "SCHED_RR", priority: 7, timer: { ref: "unique", period: 8000 }, runtime: 2000, delay: 100 },
      c: { instance: 3, run: 900, timer: { ref: "uniqueC", period: 9000, mode: "absolute" } },
    },
  }, { board: "rcar-s4" });
  assert.equal(r.spec.horizon_s, 3);
  assert.equal(r.spec.board.preset, "rcar-s4");
  assert.equal(r.spec.guests[0].vcpus, 8, "all CPUs of the board");
  const [a, b, ...cs] = r.tasks;
  assert.equal(a.exec, (Math.floor(1000_000 / 300) * 300) / 1000, "n = floor(t * 1000 / ns_per_loop) loops");
  assert.equal(a.priority, 10, "rt-app's default RT priority");
  assert.equal(b.offset_us, 100 + 8000, "delay, then a first timer wait");
  assert.equal(b.exec, 2000);
  assert.deepEqual(cs.map((c) => c.name), ["c-0", "c-1", "c-2"]);
  assert.ok(cs.every((c) => c.policy === "other" && c.nice === undefined));
  assert.ok(r.warnings.some((w) => /wall-clock/.test(w)));
  assert.ok(r.warnings.some((w) => /relative/.test(w)));
});

test("rt-app files: the periodic subset becomes periodic tasks, other patterns thread programs, the rest is refused with the reason", () => {
  const base = (t: object) => ({ global: { duration: 1 }, tasks: { x: t } });
  assert.throws(() => rtApp(base({ run: 100, lock: "m0", timer: { ref: "unique", period: 1000 } })), /x\.lock: lock events are not supported: mutexes/);
  // run/sleep without a timer, a finite loop, a DL period other than the timer's: thread programs
  for (const t of [{ run: 100, sleep: 1000 }, { loop: 10, run: 100, timer: { ref: "unique", period: 1000 } },
    { policy: "SCHED_DEADLINE", "dl-runtime": 200, "dl-period": 2000, run: 100, timer: { ref: "unique", period: 1000 } }]) {
    const r = rtApp(base(t));
    assert.equal(r.tasks.length, 0);
    assert.equal(r.threads.length, 1);
    assert.equal(r.threads[0].kind, "rtapp");
  }
  assert.throws(() => rtApp(base({ instance: 2, run: 100, timer: { ref: "shared", period: 1000 } })), /shared by several threads/);
  assert.throws(() => rtApp(base({ run: 100, timer: { ref: "unique", period: 1000 }, cpus: [9] })), /cpus/);
  assert.throws(() => rtApp({ global: {}, tasks: { x: { run: 1, timer: { ref: "unique", period: 10 } } } }), /horizon/);
  assert.equal(isRtApp({ tasks: {} }), true);
  assert.equal(isRtApp({ guests: [], tasks: {} }), false);
  assert.deepEqual(parseRtAppText('{ "a": [1, 2, ], // c\n "b": "/* not a comment */", }'), { a: [1, 2], b: "/* not a comment */" });
});

test("hvsim run FILE: rt-app files run natively on --board; --json prints only the document", () => {
  const dir = mkdtempSync(join(tmpdir(), "hvsim-rtapp-"));
  try {
    const f = join(dir, "set.json");
    writeFileSync(f, RTAPP);
    const out = execFileSync(process.execPath, [cli, "run", f, "--cpus", "2", "--json", "--seed", "3"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const j = JSON.parse(out);
    assert.deepEqual(Object.keys(j), ["spec", "seed", "tables"]);
    assert.equal(j.seed, 3);
    const ctl = j.tables.tasks.find((t: any) => t.task === "ctl");
    for (const c of ["task", "jobs", "preemptions", "migrations", "deadline_misses", "max_response_us"]) assert.ok(c in ctl, c);
    assert.equal(ctl.jobs, 500, "horizon = the file's duration (2 s)");
    const short = JSON.parse(execFileSync(process.execPath, [cli, "run", f, "--cpus", "2", "--json", "--horizon", "0.5"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    assert.equal(short.tables.tasks.find((t: any) => t.task === "ctl").jobs, 125);
    // text output: the periodic columns lead the tasks table
    const text = execFileSync(process.execPath, [cli, "run", f, "--cpus", "2", "--horizon", "0.1"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    assert.match(text, /\|task\|jobs\|preemptions\|migrations\|deadline_misses\|max_response_us\|/);
    // a saved spec runs too
    const sf = join(dir, "spec.json");
    writeFileSync(sf, JSON.stringify(fluent()));
    const j2 = JSON.parse(execFileSync(process.execPath, [cli, "run", sf, "--json", "--horizon", "0.5"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }));
    assert.deepEqual(j2.tables.tasks.map((t: any) => t.jobs), short.tables.tasks.map((t: any) => t.jobs));
    // refusals name the reason
    writeFileSync(f, JSON.stringify({ global: { duration: 1 }, tasks: { x: { run: 1, wait: "c" } } }));
    assert.throws(() => execFileSync(process.execPath, [cli, "run", f], { stdio: "pipe" }), /tasks\.x\.wait: wait events are not supported: condition variables/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
