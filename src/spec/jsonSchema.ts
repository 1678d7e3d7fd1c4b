// The JSON Schema editors use to complete and check stack files, derived from the zod schema
// (the single source of truth). schema/facteur.schema.json is this, committed; a test keeps it in sync.
import { z } from "zod";
import { specSchema } from "./schema.ts";

export function specJsonSchema(): object {
  // "input" mode: fields with defaults are optional, as they are when writing a stack file.
  return {
    ...z.toJSONSchema(specSchema, { io: "input", unrepresentable: "any" }),
    title: "facteur stack spec",
    description: "One environment's mail relays, smarthost pool, domains and aliases (stacks/<stack>.facteur.yaml).",
  };
}
