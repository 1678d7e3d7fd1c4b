// MTA-STS policies (RFC 8461) as facteur writes them and as a sender reads them: the text and
// its id, the MX list in preference order, the TLS-RPT record, the parser `facteur check` uses
// on a served policy, and MX patterns. Pure functions of src/plan/mtaSts.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { mxHostsOf, mxMatches, parsePolicy, policyId, policyText, tlsRptRecord } from "../src/plan/mtaSts.ts";

test("policy text: CRLF lines in RFC order, and an id of 20 hex digits that changes exactly with the text", () => {
  const text = policyText({ mode: "enforce", maxAge: 86400, mx: ["mx1.relais.tld", "mx-b.fai.tld"] });
  assert.equal(text, "version: STSv1\r\nmode: enforce\r\nmx: mx1.relais.tld\r\nmx: mx-b.fai.tld\r\nmax_age: 86400\r\n");
  assert.match(policyId(text), /^[0-9a-f]{20}$/);
  assert.equal(policyId(text), policyId(`${text}`));
  assert.notEqual(policyId(text), policyId(text.replace("86400", "86401")));
  assert.deepEqual(parsePolicy(text), { version: "STSv1", mode: "enforce", maxAge: 86400, mx: ["mx1.relais.tld", "mx-b.fai.tld"], problems: [] });
});

test("parsePolicy reads what senders accept: LF or CRLF, spaces around, blank lines, unknown keys, MX in any case", () => {
  const text = "version: STSv1\n\n  mode:testing  \r\nmx: MX1.Relais.TLD\nextension_key: ignored\nmax_age:   604800\n";
  assert.deepEqual(parsePolicy(text), { version: "STSv1", mode: "testing", maxAge: 604800, mx: ["mx1.relais.tld"], problems: [] });
  assert.deepEqual(parsePolicy("version: STSv1\nmode: none\nmax_age: 0\n").problems, [], "mode none and max_age 0 are valid");
});

test("parsePolicy names every problem: a line that is no key, a missing or wrong version, mode or max_age", () => {
  assert.deepEqual(parsePolicy("").problems, ["version is missing, not STSv1", "mode is missing", "max_age is missing or not a number"]);
  assert.deepEqual(parsePolicy("version: STSv2\nmode: sometimes\n").problems, ["version is STSv2, not STSv1", "mode is sometimes", "max_age is missing or not a number"]);
  assert.deepEqual(parsePolicy("version: STSv1\nMode: enforce\n-mode: enforce\nmax_age: 1\n").problems, ["not a key: value line: Mode: enforce", "not a key: value line: -mode: enforce", "mode is missing"]);
  for (const bad of ["x86400", "86400x", "12345678901", "-1", "1e5"])
    assert.deepEqual(parsePolicy(`version: STSv1\nmode: enforce\nmax_age: ${bad}\n`).problems, ["max_age is missing or not a number"], `max_age: ${bad}`);
  assert.equal(parsePolicy("version: STSv1\nmode: enforce\nmax_age: 1234567890\n").maxAge, 1234567890, "ten digits are a number");
});

test("MX patterns: exact names in any case and with a final dot; a wildcard stands for exactly one label", () => {
  assert.ok(mxMatches("mx1.relais.tld", "mx1.relais.tld"));
  assert.ok(mxMatches("MX1.relais.tld.", "mx1.relais.tld"));
  assert.ok(mxMatches("mx1.relais.tld", "MX1.RELAIS.TLD."));
  assert.ok(!mxMatches("mx2.relais.tld", "mx1.relais.tld"));
  assert.ok(mxMatches("mx1.relais.tld", "*.relais.tld"));
  assert.ok(mxMatches("MX1.RELAIS.TLD", "*.Relais.tld."));
  assert.ok(!mxMatches("a.mx1.relais.tld", "*.relais.tld"), "one label only");
  assert.ok(!mxMatches("relais.tld", "*.relais.tld"), "the wildcard is not empty");
  assert.ok(!mxMatches("mx1xrelais.tld", "*.relais.tld"), "the label ends at a dot");
  assert.ok(!mxMatches("mx1.relais.tld", "*relais.tld"), "no wildcard without its dot");
});

test("a domain's MX hosts: its relays by MX priority then name, then the backup MX", () => {
  const spec = `version: 1
operator: { domain: relais.tld, roleMailbox: ops@gestion.tld, dkim: { selectors: [f2026a] } }
domains:
  a.tld: { aliases: { x: y@ailleurs.tld }, relays: [mxc, mxa, mxb] }
relays:
  mxa: { location: fsn1, serverType: cx23, mxPriority: 20 }
  mxb: { location: nbg1, serverType: cx23, mxPriority: 10 }
  mxc: { location: hel1, serverType: cx23, mxPriority: 10 }
  mxd: { location: hel1, serverType: cx23, mxPriority: 5 }
backupMx:
  - { host: mx-b.fai.tld, priority: 50 }
  - { host: mx-a.fai.tld, priority: 60 }
smarthosts:
  out1: { kind: own, location: fsn1, serverType: cx23 }
`;
  const model = buildModel(parseSpec(spec, "mx.yaml"));
  const a = model.domains.find((d) => d.name === "a.tld")!;
  assert.deepEqual(mxHostsOf(model, a), ["mxb.relais.tld", "mxc.relais.tld", "mxa.relais.tld", "mx-b.fai.tld", "mx-a.fai.tld"], "mxd does not serve a.tld");
});

test("TLS-RPT: one record, every rua address as a mailto: URI", () => {
  assert.equal(tlsRptRecord(["tls@gestion.tld"]), "v=TLSRPTv1; rua=mailto:tls@gestion.tld");
  assert.equal(tlsRptRecord(["tls@gestion.tld", "rpt@ailleurs.tld"]), "v=TLSRPTv1; rua=mailto:tls@gestion.tld,mailto:rpt@ailleurs.tld");
});
