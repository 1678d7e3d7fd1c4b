// Story 1 of the field notes: aliases, group aliases and chains, where a person leaving means
// one alias removed and another added while the group keeps working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { expandAliases } from "../src/model/aliases.ts";
import { examplePlan, exampleWith } from "./support/example.ts";

const aliasOf = (model: ReturnType<typeof examplePlan>["model"], address: string) =>
  model.domains.flatMap((d) => d.aliases).find((a) => a.address === address);

test("a single alias forwards to its one target", () => {
  const { model } = examplePlan();
  assert.deepEqual(aliasOf(model, "john-doe@entreprise.tld")?.deliversTo, ["john@doe.tld"]);
  assert.deepEqual(aliasOf(model, "john-doe@monmagasin.tld")?.deliversTo, ["john@doe.tld"]);
});

test("a group alias reaches every member once", () => {
  const { model } = examplePlan();
  assert.deepEqual(aliasOf(model, "secretariat@entreprise.tld")?.deliversTo, ["john@doe.tld", "tom@smit.tld"]);
});

test("a chain (alias to a group alias) is followed to the final mailboxes", () => {
  const { model } = examplePlan();
  assert.deepEqual(aliasOf(model, "accueil@entreprise.tld")?.targets, ["secretariat@entreprise.tld"]);
  assert.deepEqual(aliasOf(model, "accueil@entreprise.tld")?.deliversTo, ["john@doe.tld", "tom@smit.tld"]);
});

test("when tom leaves, replacing his alias keeps the group working", () => {
  const { model } = examplePlan(exampleWith("tom-smit: tom@smit.tld", "tom-smit: jeanne@smit.tld"));
  assert.deepEqual(aliasOf(model, "secretariat@entreprise.tld")?.deliversTo, ["jeanne@smit.tld", "john@doe.tld"]);
});

test("postmaster@, abuse@ and hostmaster@ exist for every domain, the operator's too", () => {
  const { model } = examplePlan();
  for (const d of model.domains) {
    for (const role of ["postmaster", "abuse", "hostmaster"]) {
      const a = aliasOf(model, `${role}@${d.name}`);
      assert.ok(a, `${role}@${d.name} is missing`);
      assert.deepEqual(a.deliversTo, ["ops@gestion.tld"]);
      assert.equal(a.role, true);
    }
  }
});

test("a domain's own postmaster alias wins over the role mailbox", () => {
  const { model } = examplePlan(exampleWith("      tom-smit: tom@smit.tld", "      tom-smit: tom@smit.tld\n      postmaster: john-doe@entreprise.tld"));
  const a = aliasOf(model, "postmaster@entreprise.tld")!;
  assert.equal(a.role, false);
  assert.deepEqual(a.deliversTo, ["john@doe.tld"]);
  assert.equal(aliasOf(model, "abuse@entreprise.tld")!.role, true);
});

test("expansion de-duplicates a person reached through two groups", () => {
  const table = new Map([
    ["all@x.tld", ["a@x.tld", "b@x.tld"]],
    ["a@x.tld", ["p@ext.tld"]],
    ["b@x.tld", ["p@ext.tld", "q@ext.tld"]],
  ]);
  assert.deepEqual(expandAliases(table).get("all@x.tld"), ["p@ext.tld", "q@ext.tld"]);
});

test("expansion refuses a loop rather than recursing forever", () => {
  const table = new Map([
    ["a@x.tld", ["b@x.tld"]],
    ["b@x.tld", ["a@x.tld"]],
  ]);
  assert.throws(() => expandAliases(table), /alias loop through a@x\.tld/);
});

test("expansion visits each alias once: a lattice of 60 levels (2^60 paths) expands at once, and a chain shares its target's list", () => {
  // a<i> and b<i> both point to a<i+1> and b<i+1>: following every path would never end.
  const levels = 60;
  const table = new Map<string, string[]>();
  for (let i = 0; i < levels; i++) for (const n of ["a", "b"]) table.set(`${n}${i}@x.tld`, [`a${i + 1}@x.tld`, `b${i + 1}@x.tld`]);
  table.set(`a${levels}@x.tld`, ["p@ext.tld"]);
  table.set(`b${levels}@x.tld`, ["q@ext.tld"]);
  table.set("chain@x.tld", ["a0@x.tld"]);
  const expanded = expandAliases(table);
  assert.deepEqual(expanded.get("a0@x.tld"), ["p@ext.tld", "q@ext.tld"]);
  assert.deepEqual(expanded.get("b30@x.tld"), ["p@ext.tld", "q@ext.tld"]);
  // An alias to one alias is that alias's expansion, not a copy made again.
  assert.equal(expanded.get("chain@x.tld"), expanded.get("a0@x.tld"));
});

test("a spec's alias table and its indexing are built once and shared: the rules, the model and the walks read the same arrays", async () => {
  const { aliasTable, aliasEdges } = await import("../src/spec/aliasGraph.ts");
  const { parseSpec } = await import("../src/spec/load.ts");
  const spec = parseSpec(exampleWith("accueil: secretariat@entreprise.tld", "accueil: secretariat@entreprise.tld"), "x.yaml");
  const table = aliasTable(spec);
  assert.equal(aliasTable(spec), table, "one table per spec");
  const first = aliasEdges(table);
  const again = aliasEdges(table);
  assert.equal(again.edges, first.edges, "each target looked up once per table, not once per reader");
  assert.equal(again.offsets, first.offsets);
  // Another table, even with the same content, gets its own indexing; the numbers agree.
  const copy = new Map([...table].map(([a, n]) => [a, [...n.targets]]));
  const other = aliasEdges(copy);
  assert.notEqual(other.edges, first.edges);
  assert.deepEqual([...other.edges], [...first.edges]);
  assert.deepEqual([...other.offsets], [...first.offsets]);
});
