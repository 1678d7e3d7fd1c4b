// The key pairs a stack needs and where their public halves go: every domain's DKIM selectors,
// the operator's ARC selectors and each own host's managed TLS keys (current and next), each
// with an id of its own kind, so a DKIM selector can never name a host's TLS key; TLSA records
// only in a signed operator zone, a placeholder until the key exists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { heldKeyId, plannedKeys } from "../src/plan/dns.ts";

const scenarioModel = (name: string, edit = (t: string) => t) => {
  const file = `test/scenarios/${name}/stack.yaml`;
  return buildModel(parseSpec(edit(readFileSync(file, "utf8")), file));
};

test("plannedKeys: DKIM per domain, ARC for the operator, TLS current and next per own host, each under its own id", () => {
  const arc = scenarioModel("transport-security");
  assert.deepEqual(
    plannedKeys(arc).map((k) => [k.id, k.purpose, k.domain, k.selector, k.host]),
    [
      ["entreprise.tld/e2026a", "dkim", "entreprise.tld", "e2026a", undefined],
      ["relais.tld/f2026a", "dkim", "relais.tld", "f2026a", undefined],
      ["relais.tld/arc2026a", "arc", "relais.tld", "arc2026a", undefined],
    ],
  );
  const dane = scenarioModel("dane-rollover-1-publish");
  assert.deepEqual(plannedKeys(dane).map((k) => k.id), ["relais.tld/f2026a", "tls:mx1.relais.tld/mx2026a", "tls:mx1.relais.tld/mx2026b", "tls:out1.relais.tld/out2026a"], "no ARC key without operator.arc");
  assert.deepEqual(
    plannedKeys(dane).filter((k) => k.purpose === "tls").map((k) => [k.id, k.domain, k.selector, k.host]),
    [
      ["tls:mx1.relais.tld/mx2026a", "mx1.relais.tld", "mx2026a", "mx1"],
      ["tls:mx1.relais.tld/mx2026b", "mx1.relais.tld", "mx2026b", "mx1"],
      ["tls:out1.relais.tld/out2026a", "out1.relais.tld", "out2026a", "out1"],
    ],
  );
});

test("heldKeyId: a bundle's key is found under the id of its kind", () => {
  assert.equal(heldKeyId({ domain: "mx1.relais.tld", selector: "mx2026a", purpose: "tls" }), "tls:mx1.relais.tld/mx2026a");
  assert.equal(heldKeyId({ domain: "mx1.relais.tld", selector: "mx2026b", purpose: "tls-next" }), "tls:mx1.relais.tld/mx2026b", "the next key is the same planned key, held for ACME");
  assert.equal(heldKeyId({ domain: "relais.tld", selector: "f2026a" }), "relais.tld/f2026a");
});

test("TLSA: a placeholder naming the key until it exists; none at all while the operator zone is unsigned", () => {
  const dane = scenarioModel("dane-rollover-1-publish");
  const tlsa = buildPlan(dane).dns.filter((r) => r.type === "TLSA");
  assert.deepEqual(
    tlsa.map((r) => [r.id, r.content]),
    [
      ["tlsa:mx1:25:mx2026a", "3 1 1 <tlsa:tls:mx1.relais.tld/mx2026a>"],
      ["tlsa:mx1:25:mx2026b", "3 1 1 <tlsa:tls:mx1.relais.tld/mx2026b>"],
      ["tlsa:out1:465:out2026a", "3 1 1 <tlsa:tls:out1.relais.tld/out2026a>"],
      ["tlsa:out1:587:out2026a", "3 1 1 <tlsa:tls:out1.relais.tld/out2026a>"],
    ],
  );
  const unsigned = scenarioModel("dane-rollover-1-publish", (t) => t.replace("  dnssec: true\ndomains:", "domains:"));
  assert.ok(unsigned.relays[0]!.tlsKey, "the hosts keep their named keys");
  assert.deepEqual(buildPlan(unsigned).dns.filter((r) => r.type === "TLSA"), [], "an unsigned TLSA is ignored by every DANE sender: none is published");
});

test("ARC: every operator ARC selector is published, a placeholder until its key exists; the last one seals", () => {
  const arc = scenarioModel("transport-security", (t) => t.replace("arc: { selectors: [arc2026a] }", "arc: { selectors: [arc2026a, arc2026b] }"));
  const records = buildPlan(arc).dns.filter((r) => r.id.startsWith("arc:"));
  assert.deepEqual(
    records.map((r) => [r.id, r.name, r.content, r.reason]),
    [
      ["arc:relais.tld:arc2026a", "arc2026a._domainkey.relais.tld", "v=DKIM1; k=rsa; p=<dkim:relais.tld/arc2026a>", "ARC key arc2026a, kept published while seals made with it may still be checked"],
      ["arc:relais.tld:arc2026b", "arc2026b._domainkey.relais.tld", "v=DKIM1; k=rsa; p=<dkim:relais.tld/arc2026b>", "ARC key the relays seal forwarded mail with (ARC-Seal and ARC-Message-Signature d=relais.tld)"],
    ],
  );
});
