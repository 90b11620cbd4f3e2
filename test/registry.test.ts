// The workload registry, the hosts' tables and the typed table catalogue (issue 9, part 2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { simulate } from "../src/simulate.js";
import { validateSpec } from "../src/spec/validate.js";
import type { SimSpec, WorkloadSpec } from "../src/spec/types.js";
import { TABLES, TABLE_NAMES, isTableName, type TableName } from "../src/results/tables.js";
import { WORKLOADS, WORKLOAD_KINDS, workloadModule } from "../src/workloads/registry.js";
import type { SimResult } from "../src/results/result.js";

/** One workload of every kind (cyclictest with per-sample rows, a finite hog for `programs`). */
const EVERY_KIND: WorkloadSpec[] = [
  { kind: "housekeeping" },
  { kind: "context1", cpus: [0], sample_us: 1000 },
  { kind: "cpu-hog", count: 1, cpus: [1], work_ms: 20 },
  { kind: "periodic", name: "ctl", period_us: 10_000, exec: 500, policy: "fifo", priority: 50, cpus: [1] },
  { kind: "cyclictest", cpu: 1, interval_us: 1000, histogram_us: 200, samples_max: 50 },
  { kind: "stress", cpus: [1], count: 2 },
  { kind: "device-io", cpus: [1], rate_hz: 100 },
  { kind: "lat-ctx", procs: 2, cpus: [0] },
  { kind: "rtapp", name: "rt", cpus: [1], phases: [{ events: [{ run_us: 200 }, { sleep_us: 5000 }] }] },
  { kind: "calibrator", cpus: [0] }, // issue 14
  { kind: "bonnie", size_mb: 8, cpus: [1] }, // issue 14 block
];

/** Xen with Dom0 (device models) and an HVM guest running every workload kind, traced and with job rows. */
function xenSpec(): SimSpec {
  return {
    board: { preset: "i7-6700" },
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1, 2, 3], scheduler: { name: "credit" } }] },
    guests: [
      { name: "dom0", dom0: true, type: "pv", vcpus: 2, pin: [[0], [1]], workloads: [{ kind: "housekeeping" }] },
      { name: "domU", type: "hvm", vcpus: 2, pin: [[2], [3]], workloads: EVERY_KIND },
    ],
    horizon_s: 0.3, warmup_s: 0.05,
    record: { jobs_max: 1000, trace_max: 500 },
  };
}

/** KVM: a guest with cyclictest, host workloads (the host is a unit named "host"). */
function kvmSpec(): SimSpec {
  return {
    board: { preset: "i7-6700" },
    hypervisor: { kind: "kvm", host_workloads: [{ kind: "housekeeping" }, { kind: "stress", cpus: [2, 3] }] },
    // issue 14: qemu gives the tables qemu_threads and qemu_io; paravirtual scheduling the table pvsched
    guests: [
      { name: "guest", vcpus: 1, vcpu_thread: { policy: "fifo", priority: 99 }, qemu: {}, workloads: [{ kind: "cyclictest", interval_us: 500 }] },
      { name: "pv", vcpus: 1, qemu: { rt: { maxprio: 98, policy: "ts", pvsched: true } }, workloads: [{ kind: "cyclictest", interval_us: 700 }] },
    ],
    horizon_s: 0.2,
  };
}

const columnsOf = (r: SimResult, n: TableName) => r.table(n).columnNames().slice().sort();
const catalogued = (n: TableName) => Object.keys(TABLES[n].columns).sort();

test("the registry lists every workload kind of the spec once, and each kind's schema accepts it", () => {
  assert.deepEqual([...WORKLOAD_KINDS].sort(), ["bonnie", "calibrator", "context1", "cpu-hog", "cyclictest", "device-io", "housekeeping", "lat-ctx", "periodic", "rtapp", "stress"]);
  for (const k of WORKLOAD_KINDS) assert.equal(WORKLOADS[k].kind, k);
  // every kind's schema (spec/validate.ts, by kind) accepts the example above
  const kinds = new Set(validateSpec(xenSpec()).guests[1].workloads.map((w) => w.kind));
  for (const k of WORKLOAD_KINDS) assert.ok(kinds.has(k), k);
  // built-in property names are not kinds
  for (const bad of ["constructor", "__proto__", "toString", "nope"]) assert.throws(() => workloadModule(bad), /unknown workload kind .*known: context1/);
  // every table a kind declares is in the catalogue, attributed to it
  for (const k of WORKLOAD_KINDS) for (const t of WORKLOADS[k].tables) assert.equal(TABLES[t].source, k, `${k} -> ${t}`);
});

test("every produced table has exactly the catalogued columns, in catalogue order of tables", () => {
  const x = simulate(xenSpec(), { seed: 3 });
  const k = simulate(kvmSpec(), { seed: 3 });
  // issue 14: a board with SMI and LLC data and a memory-bound host task (tables smi, llc)
  const c = simulate({ ...kvmSpec(), board: { preset: "core2-t5500" }, hypervisor: { kind: "kvm", host_workloads: [{ kind: "calibrator", cpus: [1] }] } }, { seed: 3 });
  const seen = new Set<string>();
  for (const r of [x, k, c]) {
    for (const n of r.tableNames) {
      assert.ok(isTableName(n), n);
      assert.deepEqual(columnsOf(r, n), catalogued(n), `columns of ${n}`);
      seen.add(n);
    }
    // tables come in catalogue order
    const idx = r.tableNames.map((n) => TABLE_NAMES.indexOf(n));
    assert.deepEqual(idx, idx.slice().sort((a, b) => a - b));
  }
  // between them the runs produce every catalogued table (hosts' tables included)
  assert.deepEqual([...seen].sort(), [...TABLE_NAMES].sort());
  // the hosts' tables: Xen's vcpus/pcpus/trace and the device model in Dom0; KVM's vCPU threads
  assert.ok(x.rows("trace").length > 0 && x.rows("trace").length <= 500);
  assert.deepEqual(x.rows("device_models").map((d) => d.domain), ["domU"]);
  assert.equal(k.rows("vcpu_threads")[0].policy, "fifo");
  // the KVM host's workloads run in the kernel named "host"
  assert.ok(k.rows("stress").every((s) => s.domain === "host"));
  assert.ok(k.rows("tasks").some((t) => t.domain === "host" && t.task.startsWith("host/stress#1:")));
});

test("typed tables: rows and columns carry the catalogue's types; an unknown name lists the available tables", () => {
  const r = simulate(kvmSpec(), { seed: 1 });
  const ct = r.rows("cyclictest")[0];
  const max: number | null = ct.max_latency_us; // typed: a compile error if the column did not exist
  assert.ok(max !== null && max > 0);
  const lat: number[] = r.table("latency_hist").array("latency_us");
  assert.ok(lat.length > 0);
  assert.throws(() => r.table("no_such_table" as TableName), (e: Error) => /no table "no_such_table"; available: .*cyclictest/.test(e.message));
  // a catalogued table this run did not produce
  assert.throws(() => r.table("context1"), /this run produced no table "context1"; available: /);
});

test("periodic statistics reach the tasks table through the registry; other tasks get zeros and nulls", () => {
  const r = simulate(xenSpec(), { seed: 2 });
  const tasks = r.rows("tasks");
  const ctl = tasks.find((t) => t.task === "ctl")!;
  assert.ok(ctl.jobs > 20, `jobs ${ctl.jobs}`);
  assert.equal(ctl.jobs, r.rows("jobs").filter((j) => j.task === "ctl").length);
  assert.ok(ctl.max_response_us !== null && ctl.max_response_us >= 500);
  const hog = tasks.find((t) => t.task.startsWith("domU/hog#2:"))!;
  assert.equal(hog.jobs, 0);
  assert.equal(hog.max_response_us, null);
});

test("every Context1 instance contributes to context1 and context1_gap, named by the workload column", () => {
  const spec: SimSpec = {
    board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 0.05,
    guests: [{ name: "linux", vcpus: 2, workloads: [
      { kind: "context1", cpus: [0], sample_us: 1000 },
      { kind: "context1", cpus: [1], sample_us: 2000 },
    ] }],
  };
  const r = simulate(spec, { seed: 1 });
  assert.deepEqual(r.rows("context1").map((c) => c.workload), ["linux/context1#0", "linux/context1#1"]);
  const gap = r.rows("context1_gap");
  const n = (w: string) => gap.filter((g) => g.workload === w).length;
  assert.ok(n("linux/context1#0") >= 45 && n("linux/context1#0") <= 50, `samples of #0: ${n("linux/context1#0")}`);
  assert.ok(n("linux/context1#1") >= 22 && n("linux/context1#1") <= 25, `samples of #1: ${n("linux/context1#1")}`);
  // the first instance's rows come first, as the single-instance table always had them
  assert.equal(gap[0].workload, "linux/context1#0");
});
