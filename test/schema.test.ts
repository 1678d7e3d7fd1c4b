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

type Node = { description?: string; default?: unknown; properties?: Record<string, Node>; additionalProperties?: Node | boolean; items?: Node; oneOf?: Node[]; anyOf?: Node[] };

/** The schema nodes a dotted README key names ("domains.<domain>.dkim", "backupMx[]"); unions give one node per branch. */
function nodesAt(root: Node, key: string): Node[] {
  let nodes = [root];
  for (const seg of key.split(".")) {
    const [name, array] = seg.endsWith("[]") ? [seg.slice(0, -2), true] : [seg, false];
    nodes = nodes
      .flatMap((n) => [n, ...(n.oneOf ?? []), ...(n.anyOf ?? [])])
      .flatMap((n) => (name.startsWith("<") ? (typeof n.additionalProperties === "object" ? [n.additionalProperties] : []) : n.properties?.[name] ? [n.properties[name]!] : []));
    if (array) nodes = nodes.flatMap((n) => (n.items ? [n.items] : []));
  }
  return nodes.flatMap((n) => [n, ...(n.oneOf ?? []), ...(n.anyOf ?? [])]);
}

test("the schema is the options table: every option of the spec is described (and the description reaches the JSON Schema)", () => {
  const missing: string[] = [];
  const walk = (n: Node, path: string) => {
    for (const [k, v] of Object.entries(n.properties ?? {})) {
      if (!v.description) missing.push(`${path}${k}`);
      walk(v, `${path}${k}.`);
    }
    if (typeof n.additionalProperties === "object") walk(n.additionalProperties, `${path}<name>.`);
    if (n.items) walk(n.items, `${path}[].`);
    for (const b of [...(n.oneOf ?? []), ...(n.anyOf ?? [])]) walk(b, path);
  };
  walk(specJsonSchema() as Node, "");
  assert.deepEqual([...new Set(missing)], []);
});

test("README's key table agrees with the schema: every key exists, every field of a row is the schema's, every default stated is the schema's", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const table = /^\| key \| meaning \|\n\| --- \| --- \|\n((?:\|.*\n)+)/m.exec(readme)?.[1];
  assert.ok(table, "README has no key table (| key | meaning |)");
  const rows = [...table.matchAll(/^\| `([a-zA-Z<>.[\]]+)`(?: \(`kind: ([a-z]+)`\))? \| (.*) \|$/gm)].map((m) => ({ key: m[1]!, kind: m[2], text: m[3]! }));
  assert.ok(rows.length >= 20, `only ${rows.length} rows found in the README's key table`);
  const schema = specJsonSchema() as Node;
  const problems: string[] = [];
  for (const { key, kind, text } of rows) {
    const nodes = nodesAt(schema, key).filter((n) => !kind || (n.properties?.kind as { const?: string } | undefined)?.const === kind);
    if (!nodes.length) {
      problems.push(`${key}: not an option of the schema`);
      continue;
    }
    const fields = new Map(nodes.flatMap((n) => Object.entries(n.properties ?? {})));
    // Each `name` the row mentions that is a field of this key's object must exist, and a default
    // written after it ("`port` (587)", "`softErrorLimit` (3, ...)", "(default 10)") must be the schema's.
    for (const m of text.matchAll(/`([a-zA-Z]+)`(?: \((?:default )?([0-9]+)[,):])?/g)) {
      const field = fields.get(m[1]!);
      if (!field || m[2] === undefined) continue;
      if (String(field.default) !== m[2]) problems.push(`${key}: README says ${m[1]} defaults to ${m[2]}, the schema says ${JSON.stringify(field.default)}`);
    }
    // A leaf key's own default, written "(N)" or "(default N)" in its row.
    const own = /\((?:default )?([0-9]+)\)/.exec(text)?.[1];
    const leaf = nodes.find((n) => n.default !== undefined && typeof n.default !== "object");
    if (own && leaf && String(leaf.default) !== own) problems.push(`${key}: README says the default is ${own}, the schema says ${JSON.stringify(leaf.default)}`);
    // Object rows name every field their schema has.
    if (fields.size && !/^`[a-z]+: /.test(text)) for (const f of fields.keys()) if (f !== "kind" && !text.includes(`\`${f}\``) && !text.includes(`${f}:`)) problems.push(`${key}: README does not name its field ${f}`);
  }
  // The drift the table once had: dailyQuota counts recipients, in the README and in the schema alike.
  const quota = nodesAt(schema, "policy.dailyQuota")[0]!;
  assert.match(quota.description!, /recipient/i);
  assert.match(rows.find((r) => r.key === "policy.dailyQuota")!.text, /counted per recipient/);
  assert.deepEqual(problems, []);
});
