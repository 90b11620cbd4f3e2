// Integration: a real single-node Slurm (Debian's slurm-wlm + munge, started by scripts/slurm-start.sh)
// runs a small sweep as a job array (scripts/slurm-sweep.sh, one shard per array task); `hvsim merge`
// of the parts must equal the local run. Skips, saying why, when Slurm cannot run here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const cli = join(root, "dist/cli.js");

/** Why Slurm cannot run here, or null. */
function slurmUnavailable(): string | null {
  if (process.platform !== "linux") return `Slurm needs Linux (platform ${process.platform})`;
  if (process.getuid?.() !== 0) return "starting munged and slurmd needs root (this test runs as uid " + process.getuid?.() + ")";
  const missing = ["munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scontrol"].filter((b) => !["/usr/sbin", "/usr/bin", "/sbin", "/bin"].some((d) => existsSync(join(d, b))));
  if (missing.length) return `not installed: ${missing.join(", ")} (Debian packages slurm-wlm and munge; scripts/setup.sh installs them as root)`;
  return null;
}

test("a sweep through sbatch --array on a single-node Slurm merges into the local run", { timeout: 120_000 }, (t) => {
  const why = slurmUnavailable();
  if (why) {
    process.stdout.write(`# slurm integration test skipped: ${why}\n`);
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "hvsim-slurm-"));
  const sdir = join(dir, "slurm");
  const env = { ...process.env, HVSIM_SLURM_PORT: process.env.HVSIM_SLURM_PORT ?? "16817", SLURM_CONF: join(sdir, "slurm.conf") };
  const start = spawnSync("bash", [join(root, "scripts/slurm-start.sh"), sdir], { encoding: "utf8", env, timeout: 60_000 });
  try {
    if (start.status === 3) {
      // a prerequisite the script checks itself (the message names it)
      const reason = start.stderr.trim().split("\n").pop()!;
      process.stdout.write(`# slurm integration test skipped: ${reason}\n`);
      t.skip(reason);
      return;
    }
    assert.equal(start.status, 0, `scripts/slurm-start.sh failed:\n${start.stderr}`);
    const spec = join(dir, "spec.json");
    writeFileSync(spec, JSON.stringify({
      board: { preset: "ideal" }, hypervisor: { kind: "native" }, horizon_s: 0.3,
      guests: [{ name: "linux", vcpus: 1, workloads: [0, 1, 2].map((i) => ({
        kind: "periodic", name: `t${i}`, period_us: [1000, 2000, 5000][i], policy: "fifo", priority: 90 - i,
        exec: { dist: "uniform", min_us: [100, 200, 500][i], max_us: [250, 500, 1250][i] },
      })) }],
    }));
    const flags = ["--grid", "guests.0.workloads.1.priority=95,50", "--grid", "guests.0.workloads.0.exec.max_us=200,400", "--seeds", "2", "--no-cache"];
    const local = spawnSync(process.execPath, [cli, "sweep", spec, ...flags, "--json", "--workers", "1"], { encoding: "utf8" });
    assert.equal(local.status, 0, local.stderr);
    const parts = join(dir, "parts");
    const sb = spawnSync("sbatch", ["--array=0-2", "--wait", `--output=${join(dir, "slurm-%A_%a.out")}`, join(root, "scripts/slurm-sweep.sh"), spec, parts, ...flags],
      { encoding: "utf8", env, cwd: root, timeout: 90_000 });
    const logs = readdirSync(dir).filter((f) => f.startsWith("slurm-") && f.endsWith(".out"));
    assert.equal(sb.status, 0, `sbatch --array failed (${sb.error ?? ""}):\n${sb.stdout}${sb.stderr}\njob outputs: ${logs.join(", ")}`);
    assert.equal(logs.length, 3, "one output file per array task");
    assert.deepEqual(readdirSync(parts).sort(), ["part-0-of-3.json", "part-1-of-3.json", "part-2-of-3.json"]);
    const merged = spawnSync(process.execPath, [cli, "merge", parts, "--json"], { encoding: "utf8" });
    assert.equal(merged.status, 0, merged.stderr);
    assert.equal(JSON.parse(merged.stdout).runs.length, 8);
    assert.equal(merged.stdout, local.stdout);
  } finally {
    spawnSync("bash", [join(root, "scripts/slurm-stop.sh"), sdir], { encoding: "utf8" });
    rmSync(dir, { recursive: true, force: true });
  }
});
