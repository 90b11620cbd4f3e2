// Every ```ts block of README.md runs as written: each block is compiled with the project's
// TypeScript (strict, nodenext) against the built package and executed with node. The only
// rewrites: `from "hvsim"` / `from "hvsim/notebook"` point at the built dist/ files, and
// `.horizon(S)` is capped at 0.3 simulated seconds to keep the test short. Also checks the
// README's what-if hint about PVH guests against the validator.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { guest, housekeeping, linux, thread, cyclictest } from "../src/spec/builders.js";
import { SpecError, validateSpec } from "../src/spec/validate.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const HORIZON_CAP_S = 0.3;

/** The ```ts blocks of the README, in order. */
function tsBlocks(md: string): string[] {
  return [...md.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function rewrite(src: string): string {
  const dist = join(ROOT, "dist");
  return src
    .replace(/from "hvsim\/notebook"/g, `from ${JSON.stringify(join(dist, "notebook", "index.js"))}`)
    .replace(/from "hvsim"/g, `from ${JSON.stringify(join(dist, "index.js"))}`)
    .replace(/\.horizon\(([\d_.]+)\)/g, (_m, s: string) => `.horizon(${Math.min(Number(s.replace(/_/g, "")), HORIZON_CAP_S)})`);
}

test("every ts block of README.md compiles (strict) and runs without error", { timeout: 300_000 }, () => {
  const blocks = tsBlocks(README);
  assert.ok(blocks.length >= 4, `README.md has ${blocks.length} ts blocks`);
  assert.ok(existsSync(join(ROOT, "dist", "index.js")), "run npm run build first");
  const dir = join(ROOT, "build", "readme-test");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "es2022", lib: ["es2022"], module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: true, types: ["node"], rootDir: "." },
    include: ["*.ts"],
  }));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  blocks.forEach((b, i) => writeFileSync(join(dir, `example${i + 1}.ts`), rewrite(b)));
  const tsc = spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", dir], { encoding: "utf8" });
  assert.equal(tsc.status, 0, `README examples do not compile:\n${tsc.stdout}${tsc.stderr}`);
  blocks.forEach((b, i) => {
    const run = spawnSync(process.execPath, [join(dir, `example${i + 1}.js`)], { encoding: "utf8", timeout: 120_000 });
    assert.equal(run.status, 0, `README example ${i + 1} failed:\n${b.split("\n").slice(0, 3).join("\n")}\n…\n${run.stderr}`);
    assert.doesNotMatch(run.stderr, /Error/, `README example ${i + 1} wrote an error:\n${run.stderr}`);
  });
});

test("the README's PVH hint holds: a PVH guest with a device model is refused, without one it validates", () => {
  assert.match(README, /make the guest PVH\s+with `\.type\("pvh"\)` and delete the `\.deviceModel\(\.\.\.\)` call/);
  const withDm = guest("domU").type("pvh").vcpus(1).pin([[1]]).deviceModel(thread().other())
    .kernel(linux().preempt("rt")).workload(housekeeping()).workload(cyclictest());
  const spec = (g: typeof withDm) => ({
    board: { preset: "i7-6700" }, horizon_s: 1,
    hypervisor: { kind: "xen", pools: [{ name: "Pool-0", cpus: [0, 1], scheduler: { name: "credit" } }] },
    guests: [{ name: "dom0", dom0: true, type: "pv", vcpus: 1, pin: [[0]], workloads: [] }, g.spec],
  });
  assert.throws(() => validateSpec(spec(withDm) as any), (e: unknown) => e instanceof SpecError && /device/i.test((e as Error).message));
  const without = guest("domU").type("pvh").vcpus(1).pin([[1]]).kernel(linux().preempt("rt")).workload(housekeeping()).workload(cyclictest());
  assert.doesNotThrow(() => validateSpec(spec(without) as any));
});
