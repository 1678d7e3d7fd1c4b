// `facteur check` and the TLSA records of our hosts (operator.dnssec, tlsKey): every planned key's
// digest published (current: DANE senders defer without it; next: must be out before the switch),
// leftovers named, and a plan made without the keys checked for shape. TLSA lookups go over the
// wire (node 20 has no resolveTlsa): read back from a real Knot serving the plan's zone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runChecks, type CheckResult } from "../src/check/checks.ts";
import { dnsLookups, tableLookups } from "../src/check/lookups.ts";
import { dnsQuestion, parseDnsResponse, queryWire } from "../src/check/dnsWire.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { liveRecordsOf, lookupTable, loopbackAddresses, dkimKeysFor } from "./support/check/fixtures.ts";
import { startKnot, zoneFiles } from "./support/check/knot.ts";

const SPEC = fileURLToPath(new URL("./scenarios/dane-rollover-1-publish/stack.yaml", import.meta.url));
const model = buildModel(parseSpec(readFileSync(SPEC, "utf8"), SPEC));
const addresses = loopbackAddresses(["mx1", "out1"]);
const keys = dkimKeysFor(model);
const plan = buildPlan(model, { addresses, dkimKeys: keys });
const tlsa = (id: string) => plan.dns.find((r) => r.id === id)!.content;
const MX1 = "TLSA _25._tcp.mx1.relais.tld";

async function check(mutate: (t: Record<string, string[] | string>) => void = () => {}, p = plan) {
  const table: Record<string, string[] | string> = lookupTable(liveRecordsOf(plan, model));
  mutate(table);
  return runChecks(p, { lookups: tableLookups(table), dnsbls: [] });
}
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result ${id}`);
  return r;
};

test("check: every planned TLSA published (current and next keys, relay and submission ports) is OK", async () => {
  const rs = await check();
  const ids = ["tlsa:mx1:25:mx2026a", "tlsa:mx1:25:mx2026b", "tlsa:out1:465:out2026a", "tlsa:out1:587:out2026a"];
  for (const id of ids) assert.equal(byId(rs, id).state, "OK", id);
  assert.equal(byId(rs, "tlsa:mx1:25:mx2026a").what, "TLSA _25._tcp.mx1.relais.tld");
  assert.deepEqual(rs.filter((r) => r.id.includes("tlsa") && !ids.includes(r.id)), []);
});

const drifts: [string, (t: Record<string, string[] | string>) => void, string, "CRITICAL" | "WARNING", RegExp][] = [
  ["the current key's TLSA missing", (t) => (t[MX1] = [tlsa("tlsa:mx1:25:mx2026b")]), "tlsa:mx1:25:mx2026a", "CRITICAL", /no TLSA matches the key the host serves/],
  ["the next key's TLSA missing", (t) => (t[MX1] = [tlsa("tlsa:mx1:25:mx2026a")]), "tlsa:mx1:25:mx2026b", "CRITICAL", /switching to it now would make DANE senders defer/],
  ["a leftover TLSA (a retired key)", (t) => (t[MX1] = [...(t[MX1] as string[]), `3 1 1 ${"ab".repeat(32)}`]), "extra:tlsa:_25._tcp.mx1.relais.tld", "WARNING", /not in the plan: 3 1 1 abab/],
  ["no TLSA for submission", (t) => delete t["TLSA _587._tcp.out1.relais.tld"], "tlsa:out1:587:out2026a", "CRITICAL", /no TLSA matches/],
];
for (const [name, mutate, id, state, note] of drifts)
  test(`check: ${name} -> ${state} ${id}`, async () => {
    const r = byId(await check(mutate), id);
    assert.equal(r.state, state, JSON.stringify(r));
    assert.match(r.note ?? "", note);
  });

test("check: a plan made without the keys checks the shape only: one well-formed 3 1 1 record per planned key", async () => {
  const blind = buildPlan(model, { addresses });
  assert.match(blind.dns.find((r) => r.id === "tlsa:mx1:25:mx2026a")!.content, /^3 1 1 <tlsa:tls:mx1\.relais\.tld\/mx2026a>$/);
  const ok = byId(await check(() => {}, blind), "tlsa:mx1:25:mx2026a");
  assert.equal(ok.state, "OK");
  assert.match(ok.note!, /key material not compared/);
  const short = byId(await check((t) => (t[MX1] = [tlsa("tlsa:mx1:25:mx2026a")]), blind), "tlsa:mx1:25:mx2026b");
  assert.equal(short.state, "CRITICAL", "two keys planned, one record published");
});

test("TLSA wire format: the question asks TLSA IN with recursion, and an answer's rdata reads back as usage selector matching hex", () => {
  const q = dnsQuestion("_25._tcp.mx1.relais.tld", "TLSA", 0x1234);
  assert.equal(q.readUInt16BE(0), 0x1234);
  assert.equal(q.readUInt16BE(2), 0x0100, "RD");
  assert.deepEqual([...q.subarray(-4)], [0, 52, 0, 1]);
  // The answer: the question echoed, one TLSA record whose owner is a pointer to it.
  const rdata = Buffer.concat([Buffer.from([3, 1, 1]), Buffer.from("ab".repeat(32), "hex")]);
  const rr = Buffer.concat([Buffer.from([0xc0, 12, 0, 52, 0, 1, 0, 0, 0, 60, 0, rdata.length]), rdata]);
  const answer = Buffer.concat([Buffer.from([0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]), q.subarray(12), rr]);
  assert.deepEqual(parseDnsResponse(answer, 0x1234, "TLSA"), { rcode: 0, truncated: false, records: [`3 1 1 ${"ab".repeat(32)}`] });
  assert.throws(() => parseDnsResponse(answer, 0x4321, "TLSA"), /not the answer/);
});

const haveKnot = spawnSync("knotd", ["--version"]).status === 0;
test("check against a real Knot: the plan's TLSA records read back over the wire, and a name without any is empty", { skip: !haveKnot && "knotd not installed", timeout: 30000 }, async () => {
  const zones = [...new Set(plan.dns.map((r) => r.zone))];
  const knot = await startKnot(zoneFiles(liveRecordsOf(plan, model).filter((r) => r.type !== "PTR"), zones));
  const dns = dnsLookups(knot.server);
  try {
    assert.deepEqual((await dns.resolve("_25._tcp.mx1.relais.tld", "TLSA")).sort(), [tlsa("tlsa:mx1:25:mx2026a"), tlsa("tlsa:mx1:25:mx2026b")].sort());
    assert.deepEqual(await dns.resolve("_25._tcp.nothing.relais.tld", "TLSA"), []);
    const rs = await runChecks(plan, { lookups: dns, dnsbls: [] });
    for (const r of rs.filter((x) => x.id.startsWith("tlsa:"))) assert.equal(r.state, "OK", JSON.stringify(r));
  } finally {
    dns.close();
    await knot.stop();
  }
});

test("a TLSA set too big for a UDP answer (TC) is read again over TCP, whole, from a real Knot", { skip: !haveKnot && "knotd not installed", timeout: 30000 }, async () => {
  // Fourteen 3 1 1 records: about 660 bytes of answer, over the 512 a question without EDNS gets by UDP.
  const many = Array.from({ length: 14 }, (_, i) => `3 1 1 ${i.toString(16).padStart(2, "0").repeat(32)}`);
  const records = [...liveRecordsOf(plan, model).filter((r) => r.type !== "PTR"), ...many.map((value) => ({ name: "_25._tcp.big.relais.tld", type: "TLSA" as const, value }))];
  const knot = await startKnot(zoneFiles(records, [...new Set(plan.dns.map((r) => r.zone))]));
  try {
    const answer = await queryWire("_25._tcp.big.relais.tld", "TLSA", knot.server, 5000);
    assert.equal(answer.truncated, false, "the answer read is the whole one, over TCP");
    assert.deepEqual(answer.records.sort(), [...many].sort());
    const small = await queryWire("_25._tcp.mx1.relais.tld", "TLSA", knot.server, 5000);
    assert.deepEqual(small.records.sort(), [tlsa("tlsa:mx1:25:mx2026a"), tlsa("tlsa:mx1:25:mx2026b")].sort());
  } finally {
    await knot.stop();
  }
});
