#!/usr/bin/env node
// API reference from the docstrings with TypeDoc (npm devDependency), published beside the
// notebooks: `npm run docs` writes build/site/api/ (or the folder given as the first argument).
//
// TypeDoc drives the TypeScript compiler through its JavaScript API, which TypeScript 7 (the
// native compiler that builds hvsim) no longer has. So TypeDoc gets TypeScript 6.0, installed
// under the alias `typescript-6`: this script sends every `typescript` import and require of
// this process there (a resolve hook for ESM, Module._resolveFilename for CommonJS). The
// library build is unaffected. .npmrc's legacy-peer-deps lets npm install TypeDoc beside
// TypeScript 7 although its peer range stops at 6.0.
import Module, { register } from "node:module";
import { resolve } from "node:path";

const out = resolve(process.argv[2] ?? "build/site/api");

const origResolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "typescript" || request.startsWith("typescript/")) request = request.replace(/^typescript/, "typescript-6");
  return origResolve.call(this, request, ...rest);
};
register(
  "data:text/javascript," +
    encodeURIComponent(
      "export async function resolve(s, c, next) {" +
        " if (s === 'typescript' || s.startsWith('typescript/')) s = s.replace(/^typescript/, 'typescript-6');" +
        " return next(s, c); }",
    ),
);

// Skip when the reference in `out` was generated from the same inputs (the public sources, the
// tsconfig and package files, this script): a content stamp in `out`. HVSIM_FORCE_DOCS=1 regenerates.
const { createHash } = await import("node:crypto");
const { readFileSync, readdirSync, statSync, existsSync, writeFileSync } = await import("node:fs");
const hash = createHash("sha256");
const walk = (dir) => {
  for (const e of readdirSync(dir).sort()) {
    const p = `${dir}/${e}`;
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts")) hash.update(p).update(readFileSync(p));
  }
};
walk("src");
for (const f of ["tsconfig.json", "package.json", "package-lock.json", new URL(import.meta.url).pathname]) if (existsSync(f)) hash.update(f).update(readFileSync(f));
const key = hash.digest("hex");
const stampFile = `${out}/.hvsim-docs-stamp`;
if (process.env.HVSIM_FORCE_DOCS !== "1" && existsSync(stampFile) && readFileSync(stampFile, "utf8") === key && existsSync(`${out}/index.html`)) {
  console.log(`typedoc: API reference in ${out} is current (stamp ${stampFile}); skipped`);
  process.exit(0);
}

const { Application, LogLevel } = await import("typedoc");
const t0 = Date.now();
const app = await Application.bootstrapWithPlugins({
  entryPoints: ["src/index.ts", "src/notebook/index.ts"],
  tsconfig: "tsconfig.json",
  name: "hvsim API reference",
  readme: "none",
  out,
  excludePrivate: true,
  excludeInternal: true,
  githubPages: false,
  validation: { notExported: false, invalidLink: true, notDocumented: false },
  logLevel: LogLevel.Warn,
});
const project = await app.convert();
if (!project) {
  console.error("typedoc: conversion failed (see the errors above)");
  process.exit(1);
}
await app.generateDocs(project, out);
if (app.logger.hasErrors()) process.exit(1);
writeFileSync(stampFile, key);
console.log(`typedoc: API reference in ${out} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
