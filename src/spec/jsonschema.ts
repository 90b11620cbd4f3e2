/**
 * The JSON Schema of the spec (draft 2020-12), generated from the zod schema
 * with zod's `z.toJSONSchema`: the field types, ranges, enumerations, defaults
 * and descriptions, for editors' completion and validation of hand-written
 * spec files. The cross-field rules (CPUs that exist on the board, ...) are
 * checked by `validateSpec` only. data/spec.schema.json is this, written by
 * `npm run spec-schema`; a test keeps the file up to date.
 */
import { z } from "zod";
import { simSpecShape } from "./schema.js";

/** The spec's JSON Schema, as a JSON text ending in a newline. */
export function specJsonSchemaText(): string {
  const s = z.toJSONSchema(simSpecShape, { io: "input", unrepresentable: "throw" }) as Record<string, unknown>;
  const doc = {
    $schema: s.$schema,
    title: "hvsim simulation spec",
    description: "A whole simulation: board, hypervisor, guests and their workloads, horizon. Built by system()....build() or written by hand; hvsim validateSpec checks the cross-field rules too.",
    ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== "$schema")),
  };
  return JSON.stringify(doc, null, 2) + "\n";
}
