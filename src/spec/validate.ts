/**
 * validateSpec: the one validation of a spec, used by the builders' `build()`,
 * by `simulate()` and by the CLI, so that `build()` accepts a spec if and only
 * if `simulate()` does. It parses with the schema (./schema.ts) refined by
 * the cross-field rules (./checks.ts) and turns every issue into a
 * {@link SpecIssue} naming the field, the value found (shortened, printable
 * whatever it is) and what is allowed. It never throws anything but a
 * {@link SpecError}.
 */
import { z } from "zod";
import { crossFieldIssues, type SpecIssue } from "./checks.js";
import { formatValue } from "./format.js";
import { simSpecShape } from "./schema.js";
import type { SimSpec } from "./types.js";

export type { SpecIssue } from "./checks.js";

/** Thrown by {@link validateSpec} (and the builders) before any simulation starts. */
export class SpecError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(
      "invalid hvsim spec:\n" + issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "SpecError";
  }
}

/** "a.b[0].c" -> ["a", "b", 0, "c"]. */
function parsePath(p: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of p.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}

/** The complete spec schema: fields, then the cross-field rules. Its output type is {@link SimSpec}. */
export const simSpecSchema = simSpecShape.superRefine((s, ctx) => {
  for (const i of crossFieldIssues(s as SimSpec)) ctx.addIssue({ code: "custom", path: parsePath(i.path), message: i.message, params: { crossField: true } });
}, { when: (payload) => payload.issues.length === 0 }); // only on a spec whose every field is valid

/** Field path in the spec's notation: `guests[0].workloads[1].cpus[0]`. */
export function formatPath(p: ReadonlyArray<PropertyKey>): string {
  let s = "";
  for (const k of p) s += typeof k === "number" ? `[${k}]` : (s ? "." : "") + String(k);
  return s || "(spec)";
}

export { formatValue } from "./format.js";

function valueAt(obj: unknown, p: ReadonlyArray<PropertyKey>): { found: boolean; value: unknown } {
  let o: unknown = obj;
  for (const k of p) {
    if (o === null || typeof o !== "object" || !Object.hasOwn(o, k)) return { found: false, value: undefined };
    o = (o as Record<PropertyKey, unknown>)[k];
  }
  return { found: true, value: o };
}

/** Is `v` one of the fluent builders (./builders.ts)? Told apart by name to avoid an import cycle. */
function builderName(v: unknown): string | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const name = Object.getPrototypeOf(v)?.constructor?.name;
  return typeof name === "string" && name.endsWith("Builder") ? name : undefined;
}

/** Issues of a failed zod parse, flattened: union branches of the wrong shape are dropped so the issue that matters is reported. */
function flatten(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[], out: { path: PropertyKey[]; issue: z.core.$ZodIssue }[]): void {
  for (const i of issues) {
    const path = [...prefix, ...i.path];
    if (i.code === "invalid_union" && i.errors.length > 0) {
      // keep the branches that have the input's shape (not a type mismatch at the branch's root)
      const fits = i.errors.filter((b) => !(b.length === 1 && b[0].path.length === 0 && (b[0].code === "invalid_type" || b[0].code === "invalid_value")));
      if (fits.length === 1) { flatten(fits[0], path, out); continue; }
    }
    out.push({ path, issue: i });
  }
}

const TYPE_NAMES: Record<string, string> = {
  object: "an object", array: "a list", string: "a string", number: "a number", boolean: "true or false", int: "an integer",
};

/** Our wording for the zod issues that carry zod's default English ("Invalid input: expected object, received string"). */
function plainMessage(i: z.core.$ZodIssue, value: unknown): string {
  switch (i.code) {
    case "invalid_type": return `must be ${TYPE_NAMES[i.expected] ?? i.expected}`;
    case "invalid_value": return `must be ${i.values.map((v) => formatValue(v)).join(" or ")}`;
    case "too_small": return Array.isArray(value) ? `needs at least ${i.minimum} entries` : `must be at least ${i.minimum}`;
    case "too_big": return Array.isArray(value) ? `takes at most ${i.maximum} entries` : `must be at most ${i.maximum}`;
    default: return "is not valid here";
  }
}

function toSpecIssues(spec: unknown, issues: readonly z.core.$ZodIssue[]): SpecIssue[] {
  const flat: { path: PropertyKey[]; issue: z.core.$ZodIssue }[] = [];
  flatten(issues, [], flat);
  const out: SpecIssue[] = [];
  for (const { path, issue: i } of flat) {
    const at = valueAt(spec, path);
    let msg = i.message;
    const b = builderName(at.value);
    const crossField = i.code === "custom" && (i.params as { crossField?: boolean } | undefined)?.crossField;
    const unknownTag = i.code === "invalid_union" && (i as { note?: string }).note === "No matching discriminator";
    if (b) msg = `got a ${b}: pass it to a builder method (e.g. system().guest(...), guest(...).workload(...)), or its .spec`;
    else if (i.code === "unrecognized_keys") msg = `unknown field(s) ${i.keys.map((k) => formatValue(k)).join(", ")}`;
    else if (crossField || unknownTag) { /* the message says it all, the value included */ }
    else {
      if (/^Invalid|^Too (big|small)/.test(msg)) msg = plainMessage(i, at.value);
      if (!at.found || at.value === undefined) msg = `is missing: ${msg}`;
      else if (typeof at.value === "function") msg += `; got a function (call it: ${at.value.name ? `${at.value.name}()` : "f()"})`;
      else msg += `; got ${formatValue(at.value)}`;
    }
    out.push({ path: formatPath(path), message: msg });
  }
  // the same field reported twice (e.g. by two union branches) is reported once
  return out.filter((x, k) => out.findIndex((y) => y.path === x.path && y.message === x.message) === k);
}

/**
 * Validates a spec and returns it unchanged, or throws a {@link SpecError}
 * listing every problem with its field path, the value found and what is
 * allowed: the schema's checks (types, ranges, enumerations, unknown fields),
 * then the cross-field ones (pinning to CPUs that exist, pools that do not
 * overlap, workload CPUs inside their guest or host, what Linux refuses for
 * periodic real-time tasks, the host kernel and host workloads under KVM
 * included). Accepts anything: never throws a TypeError.
 */
export function validateSpec(spec: unknown): SimSpec {
  const b = builderName(spec);
  if (b === "SystemBuilder") throw new SpecError([{ path: "(spec)", message: "got a SystemBuilder: call .build() on it (system()....build()) to get the spec" }]);
  if (b) throw new SpecError([{ path: "(spec)", message: `got a ${b}: a spec is a whole system, built with system()....build()` }]);
  if (typeof spec === "function") throw new SpecError([{ path: "(spec)", message: `got a function${spec.name ? ` (${spec.name})` : ""}: a spec is a plain object, e.g. system()....build()` }]);
  if (spec === null || typeof spec !== "object" || Array.isArray(spec))
    throw new SpecError([{ path: "(spec)", message: `must be a spec object {board, hypervisor, guests, horizon_s}; got ${formatValue(spec)}` }]);
  let r: ReturnType<typeof simSpecSchema.safeParse>;
  try {
    r = simSpecSchema.safeParse(spec);
  } catch (err) {
    throw new SpecError([{ path: "(spec)", message: `could not be read: ${formatValue(err instanceof Error ? err.message : err)}` }]);
  }
  if (!r.success) throw new SpecError(toSpecIssues(spec, r.error.issues));
  return spec as SimSpec;
}

/**
 * Checks the options of `simulate(spec, opts)`: an object (or undefined) whose
 * `seed` is a finite number or a string and whose `onProgress` is a function.
 * Throws a {@link SpecError} with paths `options.seed`, `options.onProgress`.
 */
export function validateSimulateOptions(opts: unknown): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== "object" || Array.isArray(opts))
    throw new SpecError([{ path: "options", message: `must be an object {seed?, onProgress?}; got ${formatValue(opts)}` }]);
  const o = opts as Record<string, unknown>;
  const issues: SpecIssue[] = [];
  if (o.seed !== undefined && !(typeof o.seed === "string" || (typeof o.seed === "number" && Number.isFinite(o.seed))))
    issues.push({ path: "options.seed", message: `must be a finite number or a string; got ${formatValue(o.seed)}` });
  if (o.onProgress !== undefined && typeof o.onProgress !== "function")
    issues.push({ path: "options.onProgress", message: `must be a function (fraction) => void; got ${formatValue(o.onProgress)}` });
  if (issues.length) throw new SpecError(issues);
}
