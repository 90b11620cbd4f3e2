// The command line's outputs (dist/cli.js): --out tables as JSON/CSV/Arrow, --trace as trace.dat
// or Perfetto JSON, a spec from stdin (FILE "-"), progress lines without \r off a terminal with a
// final 100 % line, and a closed stdout (`| head`) ending quietly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as aq from "arquero";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(ROOT, "dist/cli.js");
const dir = mkdtempSync(join(tmpdir(), "hvsim-cli-out-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function hvsim(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd: dir, input, maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const specObj = {
  board: { preset: "rcar-s4" },
  hypervisor: { kind: "xen", pools: [{ name: "p", cpus: [0, 1], scheduler: { name: "credit2" } }] },
  horizon_s: 0.05,
  guests: [
    { name: "domU", vcpus: 2, workloads: [{ kind: "context1" }] },
    { name: "hog", vcpus: 1, workloads: [{ kind: "cpu-hog", count: 1 }] },
  ],
};
const spec = join(dir, "spec.json");
writeFileSync(spec, JSON.stringify(specObj));

test("run --out: .json is the --json document, .csv and .arrow one file per table with the name inserted", () => {
  const j = hvsim(["run", spec, "--json"]);
  assert.equal(j.code, 0, j.err);
  const doc = JSON.parse(j.out);
  const r = hvsim(["run", spec, "--out", "o.json"]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "o.json"), "utf8")), doc);
  const names = Object.keys(doc.tables);
  assert.ok(names.includes("vcpus") && names.includes("tasks"));
  assert.equal(hvsim(["run", spec, "--out", "o.csv"]).code, 0);
  assert.equal(hvsim(["run", spec, "--out", "o.arrow"]).code, 0);
  for (const n of names) {
    const csv = aq.fromCSV(readFileSync(join(dir, `o.${n}.csv`), "utf8"));
    const arrow = aq.fromArrow(readFileSync(join(dir, `o.${n}.arrow`)));
    assert.equal(csv.numRows(), doc.tables[n].length, `${n}.csv rows`);
    assert.deepEqual(arrow.objects(), doc.tables[n], `${n}.arrow = the JSON rows`);
  }
  const bad = hvsim(["run", spec, "--out", "o.xlsx"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--out o\.xlsx: .*\.json, \.csv, \.arrow/);
});

test("run --trace: .dat writes one trace.dat per level, .json a Perfetto trace; FILE - reads the spec from stdin", () => {
  const r = hvsim(["run", "-", "--trace", "t.dat", "--json"], JSON.stringify(specObj));
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).spec, "(stdin)");
  for (const f of ["t.dat", "t.domU.dat", "t.hog.dat"]) {
    assert.ok(existsSync(join(dir, f)), f);
    assert.deepEqual([...readFileSync(join(dir, f)).subarray(0, 10)], [0x17, 0x08, 0x44, ...Buffer.from("tracing")]);
  }
  assert.match(r.err, /trace: \d+ events\n/);
  const p = hvsim(["run", spec, "--trace", "t.json"]);
  assert.equal(p.code, 0, p.err);
  const doc = JSON.parse(readFileSync(join(dir, "t.json"), "utf8"));
  assert.ok(doc.traceEvents.some((e: any) => e.ph === "X" && e.pid === 1));
  // a cap in the spec is kept and the truncation reported
  const capped = hvsim(["run", "-", "--trace", "c.json"], JSON.stringify({ ...specObj, record: { trace_events_max: 100 } }));
  assert.match(capped.err, /trace: 100 events; \d+ later events dropped at record\.trace_events_max = 100/);
  const bad = hvsim(["run", spec, "--trace", "t.txt"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /\.dat .* or \.json/);
});

test("run progress off a terminal: plain lines, no \\r, ending with 100 %", () => {
  const r = hvsim(["run", spec]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /\r/);
  const lines = r.err.split("\n").filter((l) => /% simulated$/.test(l));
  assert.ok(lines.length >= 5 && lines.length <= 11, lines.join("|"));
  assert.equal(lines[lines.length - 1], "100% simulated");
  const pcts = lines.map((l) => parseInt(l, 10));
  assert.deepEqual(pcts, pcts.slice().sort((a, b) => a - b), "increasing");
});

test("a closed stdout (hvsim ... | head) ends quietly: no EPIPE stack trace", () => {
  // a run whose --json document is far over a pipe's buffer, read by `head -c 100`
  const big = join(dir, "big.json");
  writeFileSync(big, JSON.stringify({ ...specObj, horizon_s: 0.5, record: { jobs_max: 100_000 },
    guests: [{ name: "os", vcpus: 2, workloads: [{ kind: "periodic", name: "p", period_us: 50, exec: 10 }] }],
    hypervisor: { kind: "native" }, board: { preset: "ideal" } }));
  const full = hvsim(["run", big, "--json"]);
  assert.equal(full.code, 0, full.err);
  assert.ok(full.out.length > 1 << 20, `the document is over 1 MiB (${full.out.length} bytes)`);
  const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" run "${big}" --json | head -c 100 >/dev/null`], { encoding: "utf8" });
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /, r.stderr);
  assert.equal(r.status, 0, "hvsim exits 0 when its reader went away");
  const s = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${CLI}" list --json | head -c 10 >/dev/null`], { encoding: "utf8" });
  assert.equal(s.status, 0, s.stderr);
});
