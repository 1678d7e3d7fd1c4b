// The JSON Schema editors use (schema/facteur.schema.json) is the zod schema's, committed and in sync.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { specJsonSchema } from "../src/spec/jsonSchema.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("schema/facteur.schema.json is the zod schema's JSON Schema, committed and in sync", () => {
  const committed = JSON.parse(readFileSync(join(ROOT, "schema/facteur.schema.json"), "utf8"));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(specJsonSchema())), "run: npm run -s facteur -- schema --out schema/facteur.schema.json");
  assert.deepEqual(committed.required, ["version", "operator", "domains", "relays", "smarthosts"]);
});
