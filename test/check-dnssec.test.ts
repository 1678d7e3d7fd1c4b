// `facteur check` and the DNSSEC chain of trust of each signed zone (operator.dnssec,
// domains.<d>.dnssec). Cloudflare signs the zone and hands out the DS; only the registrar can
// publish it at the parent, so the check reads both sides: the zone's key-signing keys and the
// parent's DS. Here Knot signs relais.tld and serves its parent tld, whose DS is changed between
// checks; the DS facteur computes is compared with Knot's own (keymgr ds).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runChecks, type CheckResult } from "../src/check/checks.ts";
import { dnsLookups, tableLookups } from "../src/check/lookups.ts";
import { chainOfTrust, dnskeyRdata, dsOf, isKsk, keyTag } from "../src/check/dnssec.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { loopbackAddresses } from "./support/check/fixtures.ts";
import { reloadZone, startKnot, zoneFiles } from "./support/check/knot.ts";

const SPEC = fileURLToPath(new URL("./scenarios/dane-rollover-1-publish/stack.yaml", import.meta.url));
const plan = buildPlan(buildModel(parseSpec(readFileSync(SPEC, "utf8"), SPEC)), { addresses: loopbackAddresses(["mx1", "out1"]) });
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result ${id}`);
  return r;
};

// RFC 4034 section 5.4's example: dskey.example.com's KSK, key tag 60485, and its SHA-1 DS; the
// SHA-256 digest is RFC 4509 section 2.3's for the same key.
const RFC_KEY =
  "256 3 5 AQOeiiR0GOMYkDshWoSKz9XzfwJr1AYtsmx3TGkJaNXVbfi/2pHm822aJ5iI9BMzNXxeYCmZDRD99WYwYqUSdjMmmAphXdvxegXd/M5+X7OrzKBaMbCVdFLUUh6DhweJBjEVv5f2wwjM9XzcnOf+EPbtG9DMBmADjFDc2w/rljwvFw==";

test("key tags, key-signing keys and DS digests as the RFCs compute them", () => {
  const key = dnskeyRdata(RFC_KEY)!;
  assert.equal(keyTag(key), 60485);
  assert.equal(dsOf("dskey.example.com", key), "60485 5 2 d4b7d520e7bb5f0f67674a0cceb1e3e0614b93c4f9e99b8383f6a1e4469da50a");
  assert.equal(dsOf("DSKEY.Example.COM.", key), dsOf("dskey.example.com", key), "the owner name is canonical: lower case, absolute");
  assert.ok(!isKsk(key), "flags 256: a zone key without the secure entry point");
  assert.ok(isKsk(dnskeyRdata(RFC_KEY.replace(/^256/, "257"))!));
  assert.ok(!isKsk(dnskeyRdata(RFC_KEY.replace(/^256/, "1"))!), "SEP alone is not a zone key");
  for (const bad of ["257 3 13 not base64!", "70000 3 13 AAAA", "257 300 13 AAAA", "257 3 13", ""]) assert.equal(dnskeyRdata(bad), undefined, bad);
});

test("the verdicts: matching DS OK; none WARNING with the DS to give; a wrong one CRITICAL; a stale one beside a good one WARNING", () => {
  const ksk = RFC_KEY.replace(/^256/, "257");
  const ds = dsOf("dskey.example.com", dnskeyRdata(ksk)!);
  const zsk = RFC_KEY;
  assert.deepEqual(chainOfTrust("dskey.example.com", [ksk, zsk], [ds.toUpperCase()]), { state: "OK", found: ds.toUpperCase() });
  const none = chainOfTrust("dskey.example.com", [ksk, zsk], []);
  assert.equal(none.state, "WARNING");
  assert.equal(none.expected, ds);
  assert.match(none.note!, /no chain of trust: .* give the registrar: dskey\.example\.com\. DS 60486 5 2 [0-9a-f]{64} /);
  const wrong = chainOfTrust("dskey.example.com", [ksk], [`60486 5 2 ${"00".repeat(32)}`]);
  assert.equal(wrong.state, "CRITICAL");
  assert.match(wrong.note!, /no DS at the parent matches a key of the zone: validating resolvers reject every answer/);
  const stale = chainOfTrust("dskey.example.com", [ksk], [ds, "11111 13 2 ab"]);
  assert.deepEqual([stale.state, stale.note], ["WARNING", "the parent also lists 11111 13 2 ab, which matches no key of the zone: remove it at the registrar"]);
  assert.equal(chainOfTrust("dskey.example.com", [ksk], [`${ds.split(" ").slice(0, 2).join(" ")} 1 2bb183af5f22588179a53b0a98631fad1a292118`]).state, "OK", "a SHA-1 DS is matched by tag and algorithm");
  assert.equal(chainOfTrust("dskey.example.com", [zsk], []).state, "WARNING", "no key-signing key, no DS: not signed yet");
  assert.equal(chainOfTrust("dskey.example.com", [], [ds]).state, "CRITICAL", "a DS for a zone that publishes no key: bogus");
});

const haveKnot = spawnSync("knotd", ["--version"]).status === 0 && spawnSync("keymgr", ["--version"]).status === 0;
test("against a real Knot: relais.tld signed, its parent without, then with the right DS, then a wrong one", { skip: !haveKnot && "knotd/keymgr not installed", timeout: 60000 }, async () => {
  const zones = [...new Set(plan.dns.map((r) => r.zone))];
  const base = zoneFiles([], ["tld"]).get("tld")!;
  const parent = (serial: number, ds: string[]) =>
    [base.replace(" 1 3600 600 ", ` ${serial} 3600 600 `), "relais.tld. 60 IN NS ns.relais.tld.", ...ds.map((d) => `relais.tld. 60 IN DS ${d}`), ""].join("\n");
  const files = new Map([["tld", parent(1, [])], ...zoneFiles([], zones)]);
  const knot = await startKnot(files, { signed: ["relais.tld"] });
  const dns = dnsLookups(knot.server);
  const ds = async () => byId(await runChecks(plan, { lookups: dns, dnsbls: [] }), "ds:relais.tld");
  try {
    const keys = await dns.resolve("relais.tld", "DNSKEY");
    const ksks = keys.map(dnskeyRdata).filter((k) => k && isKsk(k));
    assert.equal(ksks.length, 1, keys.join("\n"));
    const ours = dsOf("relais.tld", ksks[0]!);
    // Knot's own DS for its key, SHA-256 (keymgr prints "relais.tld. DS TAG ALG DIGESTTYPE HEX" per digest type).
    const knots = spawnSync("keymgr", ["-c", knot.conf, "relais.tld", "ds"], { encoding: "utf8" }).stdout.split("\n").filter((l) => / DS \d+ \d+ 2 /.test(l));
    assert.deepEqual(knots.map((l) => l.replace(/^.* DS /, "").toLowerCase()), [ours], "facteur's DS is Knot's");

    const unsigned = await ds();
    assert.deepEqual([unsigned.state, unsigned.found, unsigned.expected], ["WARNING", "no DS at the parent", ours]);
    assert.ok(unsigned.note!.includes(`give the registrar: relais.tld. DS ${ours}`), unsigned.note);

    reloadZone(knot, "tld", parent(2, [ours]));
    const trusted = await ds();
    assert.deepEqual([trusted.state, trusted.found], ["OK", ours]);

    const wrongDigest = `${ours.split(" ").slice(0, 3).join(" ")} ${"ab".repeat(32)}`;
    reloadZone(knot, "tld", parent(3, [wrongDigest]));
    const bogus = await ds();
    assert.deepEqual([bogus.state, bogus.found], ["CRITICAL", wrongDigest]);
    // entreprise.tld is signed too in this plan; Knot does not sign it here: no key yet.
    assert.equal(byId(await runChecks(plan, { lookups: dns, dnsbls: [] }), "ds:entreprise.tld").found, "no DNSKEY");
  } finally {
    dns.close();
    await knot.stop();
  }
});

test("a lookup that fails is UNKNOWN, never OK", async () => {
  const rs = await runChecks(plan, { lookups: tableLookups({ "DNSKEY relais.tld": "!ESERVFAIL" }), dnsbls: [] });
  assert.equal(byId(rs, "ds:relais.tld").state, "UNKNOWN");
  assert.match(byId(rs, "ds:relais.tld").note!, /ESERVFAIL/);
});
