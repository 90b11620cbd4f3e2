// Writes data/spec.schema.json from the zod spec schema (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { specJsonSchemaText } from "../dist/spec/jsonschema.js";

writeFileSync(new URL("../data/spec.schema.json", import.meta.url), specJsonSchemaText());
console.log("wrote data/spec.schema.json");
