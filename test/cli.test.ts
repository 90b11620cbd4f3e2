// The command line (dist/cli.js, built by `npm test`): strict arguments with
// suggestions, --version, examples in --help, no stack trace on bad input, and
// every existing verb and flag still working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { board, cyclictest, guest, linux, system } from "../src/spec/builders.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist/cli.js");

function hvsim(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A usage error: exit 2, one message on stderr matching `re`, nothing on stdout, no stack trace. */
function usageError(args: string[], re: RegExp): void {
  const r = hvsim(...args);
  assert.equal(r.code, 2, `hvsim ${args.join(" ")}: exit ${r.code}\n${r.err}`);
  assert.match(r.err, re);
  assert.equal(r.out, "");
  assert.doesNotMatch(r.err, /\n\s+at /, "no stack trace");
}

const dir = mkdtempSync(join(tmpdir(), "hvsim-cli-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const spec = file("spec.json", JSON.stringify(system().board(board("ideal"))
  .guest(guest("vm").vcpus(2).kernel(linux().preempt("rt")).workload(cyclictest().interval(500).histogram(20)))
  .horizon(0.02).build()));
const rtapp = file("rtapp.json", JSON.stringify({
  global: { duration: 0.05 },
  tasks: { t: { policy: "SCHED_FIFO", priority: 50, run: 1000, timer: { ref: "t", period: 10000 } } },
}));

test("unknown commands and flags are errors with a suggestion (exit 2)", () => {
  usageError(["lst"], /hvsim: unknown command "lst" \(did you mean "list"\?\); commands: list, reproduce, run/);
  usageError(["frobnicate"], /unknown command "frobnicate"; commands/);
  usageError(["reproduce", "five-schedulers", "--jsno"], /unknown flag "--jsno" for "reproduce" \(did you mean "--json"\?\)/);
  usageError(["run", spec, "--horizn", "60"], /unknown flag "--horizn" for "run" \(did you mean "--horizon"\?\)/);
  usageError(["run", spec, "-j"], /unknown flag "-j"/);
  usageError(["--verison"], /unknown flag "--verison" \(did you mean "--version"\?\)/);
  usageError(["reproduce", "five-schedulers", "--seed", "3"], /--seed does not apply to "reproduce" \(its flags: --json --quick --out\)/);
  usageError(["list", "--quick"], /--quick does not apply to "list"/);
});

test("flags without a value, flags given twice and extra arguments are errors", () => {
  usageError(["run", spec, "--horizon"], /--horizon needs a value/);
  usageError(["run", spec, "--seed", "--json"], /--seed needs a value/);
  usageError(["run", spec, "--json=yes"], /--json takes no value/);
  usageError(["run", spec, "--seed", "1", "--seed=2"], /--seed is given twice/);
  usageError(["run", spec, spec], /unexpected argument ".*spec\.json": run takes FILE/);
  usageError(["reproduce", "five-schedulers", "abeni-faggioli"], /unexpected argument "abeni-faggioli"/);
  usageError(["list", "extra"], /unexpected argument "extra": list takes no arguments/);
  usageError(["run", spec, "--cpus", "2"], /--cpus applies to rt-app files only/);
  const r = hvsim("run");
  assert.equal(r.code, 2);
  assert.match(r.err, /run needs FILE[\s\S]*usage:/);
});

test("sweep and merge: unknown options get a suggestion, value options need a value", () => {
  usageError(["swep", spec], /unknown command "swep" \(did you mean "sweep"\?\)/);
  usageError(["sweep", spec, "--grd", "horizon_s=1"], /sweep: unknown option --grd \(did you mean "--grid"\?\)/);
  usageError(["sweep", spec, "--seeds", "--json"], /sweep: --seeds needs a value/);
  usageError(["merge", dir, "--jsn"], /merge: unknown option --jsn \(did you mean "--json"\?\)/);
});

test("--version prints the package version; --help has examples", () => {
  const v = hvsim("--version");
  assert.equal(v.code, 0);
  assert.equal(v.out, `hvsim ${JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version}\n`);
  for (const h of [hvsim("--help"), hvsim("run", "--help"), hvsim("help")]) {
    assert.equal(h.code, 0);
    assert.match(h.out, /^usage:/);
    assert.match(h.out, /examples:\n {2}hvsim list/);
    assert.match(h.out, /hvsim run .*--horizon/);
  }
});

test("run FILE holding JSON null, a number, a string or a list: a clean error", () => {
  for (const [name, text, shown] of [["null", "null", "null"], ["num", "42", "42"], ["str", '"spec"', '"spec"'], ["arr", "[]", "\\[\\]"]]) {
    usageError(["run", file(`${name}.json`, text), "--horizon", "1"], new RegExp(`must hold a spec object \\{board, hypervisor, guests, horizon_s\\} or an rt-app file; got ${shown}`));
  }
  usageError(["run", file("bad.json", JSON.stringify({ board: { preset: "ideal" }, hypervisor: { kind: "native" }, guests: [{ name: "g", vcpus: 99, workloads: [] }], horizon_s: 1 }))],
    /invalid hvsim spec:\n {2}- guests\[0\]\.vcpus: must be an integer in 1\.\.64 \(number of vCPUs\); got 99/);
  usageError(["run", join(dir, "missing.json")], /cannot read/);
});

test("existing verbs and flags work as before", () => {
  const l = hvsim("list", "--json");
  assert.equal(l.code, 0);
  assert.ok(JSON.parse(l.out).boards.some((b: { id: string }) => b.id === "ideal"));
  const r = hvsim("run", spec, "--json", "--seed", "3", "--horizon=0.01", "--board", "i7-6700");
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.seed, 3);
  assert.ok(doc.tables.cyclictest[0].cycles > 0);
  const h = hvsim("run", spec, "--histogram");
  assert.equal(h.code, 0, h.err);
  assert.match(h.out, /^# Histogram/m);
  const a = hvsim("run", rtapp, "--cpus", "1", "--rt-runtime", "off", "--json");
  assert.equal(a.code, 0, a.err);
  assert.ok(JSON.parse(a.out).tables.tasks.some((t: { task: string; jobs: number }) => t.task.endsWith("t") && t.jobs > 0));
  const md = hvsim("run", rtapp, "--rt-runtime=950000");
  assert.equal(md.code, 0, md.err);
  assert.match(md.out, /## tasks/);
  // a hand-written spec file may declare the shipped JSON Schema for editors
  const withSchema = file("with-schema.json", JSON.stringify({ $schema: "../node_modules/hvsim/data/spec.schema.json", ...JSON.parse(readFileSync(spec, "utf8")) }));
  const ws = hvsim("run", withSchema, "--json");
  assert.equal(ws.code, 0, ws.err);
  usageError(["reproduce", "no-such-experiment"], /unknown experiment "no-such-experiment"; known: /);
});
