// The spec schema is the single source of the spec's types and of its JSON
// Schema: the shipped JSON Schema is up to date, and the z.infer-derived types
// work in notebooks, which tslab compiles with TypeScript 5.0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { specJsonSchemaText } from "../src/spec/jsonschema.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

test("data/spec.schema.json is generated from the zod schema (npm run spec-schema)", () => {
  const shipped = readFileSync(join(ROOT, "data/spec.schema.json"), "utf8");
  assert.equal(shipped, specJsonSchemaText(), "data/spec.schema.json is stale: run `npm run spec-schema`");
  const doc = JSON.parse(shipped);
  assert.deepEqual(doc.required, ["board", "hypervisor", "guests", "horizon_s"]);
  assert.equal(doc.additionalProperties, false);
  // defaults and ranges come through
  const k = doc.properties.guests.items.properties.kernel.properties;
  assert.equal(k.rt_runtime_us.default, 950000);
  assert.deepEqual(k.hz.enum, [100, 250, 300, 1000]);
  assert.equal(doc.properties.guests.items.properties.vcpus.maximum, 64);
});

const TSC_50 = join(ROOT, "node_modules/@tslab/typescript-for-tslab/lib/tsc.js");

test("the spec types derived with z.infer compile with tslab's TypeScript 5.0", { skip: existsSync(TSC_50) ? false : "tslab's TypeScript is not installed" }, () => {
  const dir = mkdtempSync(join(tmpdir(), "hvsim-ts50-"));
  try {
    mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
    symlinkSync(ROOT, join(dir, "node_modules/hvsim"));
    symlinkSync(join(ROOT, "node_modules/zod"), join(dir, "node_modules/zod"));
    symlinkSync(join(ROOT, "node_modules/@types/node"), join(dir, "node_modules/@types/node"));
    writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
    // a notebook cell's worth of typed spec code; the lines marked BAD must be rejected, nothing else
    const lines = [
      'import { board, context1, credit2, guest, linux, system, xen, type GuestSpec, type KernelSpec, type SimSpec, type WorkloadSpec } from "hvsim";',
      "const s: SimSpec = system().board(board(\"rcar-s4\")).hypervisor(xen().pool(\"p\", [0, 1], credit2().ratelimit(500)))",
      "  .guest(guest(\"d\").vcpus(2).kernel(linux().hz(250)).workload(context1())).horizon(1).build();",
      "const g: GuestSpec = { name: \"x\", vcpus: 1, workloads: [{ kind: \"cyclictest\", interval_us: 100 }] };",
      "const k: KernelSpec = { rt_runtime_us: \"off\", hz: 1000 };",
      "const w: WorkloadSpec = { kind: \"periodic\", name: \"t\", period_us: 10, exec: { dist: \"uniform\", min_us: 1, max_us: 2 } };",
      "const name: string = s.hypervisor.kind === \"xen\" ? s.hypervisor.pools[0].scheduler.name : \"\";",
      "const bad1: WorkloadSpec = { kind: \"periodic\", name: \"t\", period_us: 10 }; // BAD: exec missing",
      "const bad2: GuestSpec = { name: \"x\", vcpus: 1, workloads: [], type: \"kvm\" }; // BAD: unknown type",
      "const bad3: KernelSpec = { rt_runtime_us: \"on\" }; // BAD: not a number or \"off\"",
      "console.log(s, g, k, w, name, bad1, bad2, bad3);",
    ];
    writeFileSync(join(dir, "cell.ts"), lines.join("\n") + "\n");
    let out = "";
    try {
      execFileSync(process.execPath, [TSC_50, "--noEmit", "--strict", "--skipLibCheck", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "cell.ts"], { cwd: dir, encoding: "utf8" });
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e);
    }
    const errLines = [...out.matchAll(/^cell\.ts\((\d+),\d+\): error/gm)].map((m) => Number(m[1]));
    const badLines = lines.flatMap((l, i) => (l.includes("// BAD") ? [i + 1] : []));
    assert.deepEqual([...new Set(errLines)], badLines, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
