// The model does not depend on the order a stack file lists things in: a pull request that only
// reorders keys (domains, aliases, relays, smarthosts, logins, backup MX of one priority, a
// domain's relays) changes no model, so no plan, no rendered file and no resource. Only the order
// of external relays means something (it is the order they are tried in), and it is kept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { exampleText } from "./support/example.ts";

type Obj = Record<string, unknown>;
const reversedKeys = (o: Obj): Obj => Object.fromEntries(Object.entries(o).reverse());

/** The example with two same-priority backup MX and a domain served by a subset listed out of order. */
function base(): Obj {
  const spec = parse(exampleText()) as Obj;
  spec.backupMx = [
    { host: "mx-backup.fai.tld", priority: 50 },
    { host: "mx-backup.autre.tld", priority: 50 },
    { host: "mx-last.fai.tld", priority: 60 },
  ];
  const domains = spec.domains as Record<string, Obj>;
  domains["monmagasin.tld"]!.relays = ["mx1", "mx2"];
  (spec.submission as { users: Obj }).users["tom@entreprise.tld"] = { passwordSecret: "tomSubmission" };
  return spec;
}

function reordered(): Obj {
  const spec = base();
  const domains = spec.domains as Record<string, Obj>;
  for (const d of Object.values(domains)) d.aliases = reversedKeys(d.aliases as Obj);
  domains["monmagasin.tld"]!.relays = ["mx2", "mx1"];
  spec.domains = reversedKeys(domains);
  spec.relays = reversedKeys(spec.relays as Obj);
  spec.smarthosts = reversedKeys(spec.smarthosts as Obj);
  (spec.submission as { users: Obj }).users = reversedKeys((spec.submission as { users: Obj }).users);
  spec.backupMx = [...(spec.backupMx as Obj[])].reverse();
  return spec;
}

const modelOf = (spec: Obj) => buildModel(parseSpec(stringify(spec), "reordered.facteur.yaml"));

test("reordering a stack file's keys changes nothing in the model; lists come out sorted", () => {
  const a = modelOf(base());
  const b = modelOf(reordered());
  assert.deepEqual(b, a);
  const names = (xs: { name: string }[]) => xs.map((x) => x.name);
  const sorted = (xs: string[]) => [...xs].sort();
  assert.deepEqual(names(a.relays), sorted(names(a.relays)));
  assert.deepEqual(names(a.domains), sorted(names(a.domains)));
  assert.deepEqual(names(a.smarthosts), sorted(names(a.smarthosts)));
  for (const d of a.domains) assert.deepEqual(d.relays, sorted(d.relays), d.name);
  assert.deepEqual(a.backupMx.map((m) => `${m.priority} ${m.host}`), ["50 mx-backup.autre.tld", "50 mx-backup.fai.tld", "60 mx-last.fai.tld"]);
});
