// The spec options of transport security (issue 14): what they accept, what they refuse and why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { exampleWith, specRefusal } from "./support/example.ts";
import { planStack } from "../src/pulumi/stackPlan.ts";

const refusal = (text: string): string => specRefusal(text);

const OPERATOR_DKIM = "  dkim:\n    selectors: [f2026a]\n";
const withArc = (arc: string) => exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}  arc: ${arc}\n`);

test("ARC: off unless operator.arc is given; the active selector defaults to the last listed", () => {
  assert.equal(buildModel(parseSpec(exampleWith("", ""), "s.yaml")).operator.arc, undefined);
  assert.deepEqual(buildModel(parseSpec(withArc("{ selectors: [arc2026a, arc2026b] }"), "s.yaml")).operator.arc, { selectors: ["arc2026a", "arc2026b"], active: "arc2026b" });
});

const refused: [string, string, RegExp][] = [
  ["an ARC selector that is also the operator's DKIM selector (one record, one key)", "{ selectors: [f2026a] }", /^s\.yaml:10:22: operator\.arc\.selectors\[0\]: f2026a is also a DKIM selector of the operator: f2026a\._domainkey\.relais\.tld can publish only one key; give the ARC key its own selector$/],
  ["an unknown active ARC selector", "{ selectors: [arc2026a], active: arc2026b }", /^s\.yaml:10:41: operator\.arc\.active: unknown selector arc2026b; listed: arc2026a$/],
  ["no ARC selector", "{ selectors: [] }", /operator\.arc\.selectors: at least one DKIM selector is needed$/],
  ["an ARC selector listed twice", "{ selectors: [arc1, arc1] }", /operator\.arc\.selectors\[1\]: selector arc1 is listed twice/],
  ["an upper-case ARC selector", "{ selectors: [Arc1] }", /operator\.arc\.selectors\[0\]: write names in lower case: arc1$/],
];
for (const [name, arc, expected] of refused) test(`spec refused: ${name}`, () => assert.match(refusal(withArc(arc)), expected));

const ENTREPRISE_DKIM = "    dkim:\n      selectors: [e2026a]\n";
const withDomain = (yaml: string) => exampleWith(ENTREPRISE_DKIM, `${ENTREPRISE_DKIM}${yaml}`);

test("MTA-STS and TLS-RPT: off unless given; testing for a week by default", () => {
  const m = buildModel(parseSpec(withDomain("    mtaSts: {}\n    tlsRpt: { rua: [tls@gestion.tld] }\n"), "s.yaml"));
  const d = m.domains.find((x) => x.name === "entreprise.tld")!;
  assert.deepEqual(d.mtaSts, { mode: "testing", maxAge: 604800 });
  assert.deepEqual(d.tlsRpt, { rua: ["tls@gestion.tld"] });
  const other = m.domains.find((x) => x.name === "monmagasin.tld")!;
  assert.equal(other.mtaSts, undefined);
  assert.equal(other.tlsRpt, undefined);
});

const stsRefused: [string, string, RegExp][] = [
  ["an MTA-STS mode that does not exist", "    mtaSts: { mode: strict }\n", /domains\."entreprise\.tld"\.mtaSts\.mode: expected one of "testing", "enforce", "none"$/],
  ["a max_age above RFC 8461's cap", "    mtaSts: { maxAge: 31557601 }\n", /mtaSts\.maxAge: must be at most 31557600 \(RFC 8461 caps max_age at 31557600 seconds, about a year\)$/],
  ["a max_age below a day", "    mtaSts: { maxAge: 3600 }\n", /mtaSts\.maxAge: must be at least 86400$/],
  ["a max_age that is not whole", "    mtaSts: { maxAge: 86400.5 }\n", /mtaSts\.maxAge: expected a whole number$/],
  ["an unknown MTA-STS key", "    mtaSts: { mx: [mx1.relais.tld] }\n", /mtaSts\.mx: unknown key "mx"/],
  ["TLS-RPT without an address", "    tlsRpt: { rua: [] }\n", /tlsRpt\.rua: at least one address is needed to receive TLS reports$/],
  ["a TLS-RPT address that is not one", "    tlsRpt: { rua: ['mailto:tls@gestion.tld'] }\n", /tlsRpt\.rua\[0\]: /],
  ["a TLS-RPT address listed twice", "    tlsRpt: { rua: [a@b.tld, a@b.tld] }\n", /tlsRpt\.rua\[1\]: a@b\.tld is listed twice$/],
];
for (const [name, yaml, expected] of stsRefused) test(`spec refused: ${name}`, () => assert.match(refusal(withDomain(yaml)), expected));

test("outbound TLS: off by default; each switch on its own", () => {
  assert.deepEqual(buildModel(parseSpec(exampleWith("", ""), "s.yaml")).policy.outboundTls, { dane: false, mtaSts: false });
  const m = buildModel(parseSpec(exampleWith("  dnsbl: [bl.lab.tld]\n", "  dnsbl: [bl.lab.tld]\n  outboundTls: { dane: true }\n"), "s.yaml"));
  assert.deepEqual(m.policy.outboundTls, { dane: true, mtaSts: false });
});

test("spec refused: an outbound TLS switch that is not a boolean, an unknown one", () => {
  assert.match(refusal(exampleWith("  dnsbl: [bl.lab.tld]\n", "  dnsbl: [bl.lab.tld]\n  outboundTls: { dane: yes please }\n")), /policy\.outboundTls\.dane: /);
  assert.match(refusal(exampleWith("  dnsbl: [bl.lab.tld]\n", "  dnsbl: [bl.lab.tld]\n  outboundTls: { tlsa: true }\n")), /policy\.outboundTls\.tlsa: unknown key "tlsa"/);
});

// DANE for our hosts: operator.dnssec, domains.<d>.dnssec, tlsKey.
const MX1 = "  mx1: { location: fsn1, serverType: cx23, mxPriority: 10 }";
const withTlsKey = (key: string, operatorDnssec = true) =>
  exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}${operatorDnssec ? "  dnssec: true\n" : ""}`).replace(MX1, `  mx1: { location: fsn1, serverType: cx23, mxPriority: 10, tlsKey: ${key} }`);

test("DANE: off unless asked; operator.dnssec gives every own host a managed key tls1, tlsKey names it, a domain's dnssec is its own", () => {
  const off = buildModel(parseSpec(exampleWith("", ""), "s.yaml"));
  assert.equal(off.operator.dnssec, false);
  assert.deepEqual([...off.relays, ...off.smarthosts].map((h) => h.tlsKey), [undefined, undefined, undefined, undefined, undefined]);
  assert.ok(off.domains.every((d) => d.dnssec === undefined));
  const on = buildModel(parseSpec(withTlsKey("{ current: mx2026a, next: mx2026b }"), "s.yaml"));
  assert.deepEqual(on.relays.map((r) => [r.name, r.tlsKey]), [["mx1", { current: "mx2026a", next: "mx2026b" }], ["mx2", { current: "tls1" }]]);
  assert.deepEqual(on.smarthosts.map((s) => s.tlsKey), [{ current: "tls1" }, { current: "tls1" }, { current: "tls1" }]);
  assert.deepEqual(on.domains.filter((d) => d.dnssec).map((d) => d.name), ["relais.tld"], "the operator zone only");
  const domain = buildModel(parseSpec(exampleWith("  monmagasin.tld:\n", "  monmagasin.tld:\n    dnssec: true\n"), "s.yaml"));
  assert.deepEqual(domain.domains.filter((d) => d.dnssec).map((d) => d.name), ["monmagasin.tld"]);
  assert.deepEqual(domain.relays.map((r) => r.tlsKey), [undefined, undefined], "a signed mail domain alone manages no key");
});

const refusedKeys: [string, string, RegExp][] = [
  ["a next key named like the current one", "{ current: k1, next: k1 }", /relays\.mx1\.tlsKey\.next: next must name another key than current$/],
  ["a key name that is not a DNS label", "{ current: K_1 }", /relays\.mx1\.tlsKey\.current: /],
  ["a tlsKey without current", "{ next: k2 }", /relays\.mx1\.tlsKey\.current: /],
];
for (const [name, key, expected] of refusedKeys) test(`spec refused: ${name}`, () => assert.match(refusal(withTlsKey(key)), expected));

test("DANE: a signed mail domain under an unsigned operator zone is warned about (its MX hosts have no TLSA), not refused", () => {
  const w = (text: string) => planStack(parseSpec(text, "s.yaml")).warnings.filter((x) => x.includes("dnssec"));
  assert.deepEqual(w(exampleWith("  monmagasin.tld:\n", "  monmagasin.tld:\n    dnssec: true\n")), [
    "domains.monmagasin.tld.dnssec is on but operator.dnssec is off: monmagasin.tld's MX records are signed, but the TLSA records of its MX hosts (in relais.tld) are not published, so DANE senders fall back to opportunistic TLS",
  ]);
  assert.deepEqual(w(exampleWith("  monmagasin.tld:\n", "  monmagasin.tld:\n    dnssec: true\n").replace(OPERATOR_DKIM, `${OPERATOR_DKIM}  dnssec: true\n`)), []);
});
