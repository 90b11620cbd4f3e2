// No import cycle between the kernel model (src/kernel) and the scheduling classes
// (src/sched/linux), type-only imports included: the class files depend on kernel/task.ts and
// sched/linux/class.ts only, and the kernel's layer files each import only the layers below.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
// the test runs from .build-test/test; the sources are in the repository's src/
const SRC = resolve(here, "../../src");

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Relative imports and re-exports of a file (import, import type, export ... from, dynamic import). */
export function importsOf(file: string, text: string): string[] {
  const re = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+["'](\.[^"']+)["']|import\(\s*["'](\.[^"']+)["']\s*\)/g;
  const out: string[] = [];
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const spec = (m[1] ?? m[2]).replace(/\.js$/, ".ts");
    out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Strongly connected components with more than one file (or a self-import): the import cycles. */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), on = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; on.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test("import-cycle finder finds a planted cycle (so the check below can fail)", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.deepEqual(cycles(g).map((c) => c.sort()), [["a", "b", "c"]]);
  assert.deepEqual(importsOf("/x/y.ts", 'import type { A } from "./a.js";\nexport { B } from "../b.js";\nimport { C,\n D } from "./c.js";'),
    ["/x/a.ts", "/b.ts", "/x/c.ts"]);
});

test("no import cycle involves src/kernel or src/sched/linux", () => {
  const files = tsFiles(SRC);
  assert.ok(files.length > 20, `sources not found under ${SRC}`);
  const graph = new Map<string, string[]>();
  for (const f of files) graph.set(f, importsOf(f, readFileSync(f, "utf8")));
  const watched = (f: string) => /^(kernel|sched[\\/]linux)[\\/]/.test(relative(SRC, f));
  const bad = cycles(graph).filter((c) => c.some(watched)).map((c) => c.map((f) => relative(SRC, f)).sort());
  assert.deepEqual(bad, [], `import cycles: ${JSON.stringify(bad)}`);
});
