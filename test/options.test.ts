// Options that must never be ignored (issue 11): each test changes one option of the example and
// shows it reaching what is deployed. Ignoring the option in src/ makes the test fail (checked
// by hand for each one, and by mutation testing: scripts/mutation.sh).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderStack } from "../src/render/render.ts";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { examplePlan, exampleWith } from "./support/example.ts";

const fileOf = (p: ReturnType<typeof examplePlan>, host: string, path: string) => {
  const f = renderStack(p.model, p.plan, { root: "" }).find((b) => b.host === host)?.files.find((x) => x.path === path);
  assert.ok(f, `${host} has no ${path}`);
  return f.content;
};

test("a login's own dailyQuota reaches policyd-rate-limit; other logins keep the default", () => {
  const p = examplePlan(exampleWith("john@entreprise.tld: { passwordSecret: johnSubmission }", "john@entreprise.tld: { passwordSecret: johnSubmission, dailyQuota: 40 }\n    marie@entreprise.tld: { passwordSecret: marieSubmission }"));
  assert.deepEqual(p.model.submissionUsers.map((u) => [u.login, u.dailyQuota]), [["john@entreprise.tld", 40], ["marie@entreprise.tld", 300]]);
  const conf = parse(fileOf(p, "out1", "/etc/policyd-rate-limit.yaml"));
  assert.deepEqual(conf.limits_by_id, { "john@entreprise.tld": [[40, 86400]], "marie@entreprise.tld": [[300, 86400]] });
  assert.deepEqual(conf.limits, [[300, 86400]]);
});

test("a smarthost's pool MX preference is its MX priority", () => {
  const p = examplePlan(exampleWith("out2: { kind: own, location: hel1, serverType: cx23 }", "out2: { kind: own, location: hel1, serverType: cx23, preference: 30 }"));
  assert.deepEqual(
    p.plan.dns.filter((r) => r.name === "pool.relais.tld").map((r) => [r.id, r.priority]),
    [["pool-mx:out1", 10], ["pool-mx:out2", 30]],
  );
});

test("external relays are tried in the order of their preference, not of their names", () => {
  const p = examplePlan(
    exampleWith(
      "    spfInclude: _spf.fai.tld\n",
      "    spfInclude: _spf.fai.tld\n    preference: 60\n  aaa-relay:\n    kind: external\n    host: smtp.aaa.tld\n    preference: 90\n  zzz-relay:\n    kind: external\n    host: smtp.zzz.tld\n    preference: 20\n",
    ),
  );
  assert.deepEqual(p.plan.routing.fallbackRelays, ["[smtp.zzz.tld]:587", "[smtp.fai.tld]:587", "[smtp.aaa.tld]:587"]);
  assert.match(fileOf(p, "mx1", "/etc/postfix/main.cf"), /^smtp_fallback_relay = \[smtp\.zzz\.tld\]:587 \[smtp\.fai\.tld\]:587 \[smtp\.aaa\.tld\]:587$/m);
});

test("DMARC pct is published (and left out at its default, 100)", () => {
  const p = examplePlan(exampleWith("      policy: quarantine\n      rua: ops@gestion.tld", "      policy: quarantine\n      pct: 30\n      rua: ops@gestion.tld"));
  assert.equal(p.plan.dns.find((r) => r.id === "dmarc:entreprise.tld")!.content, "v=DMARC1; p=quarantine; pct=30; rua=mailto:ops@gestion.tld; adkim=r; aspf=r");
  assert.doesNotMatch(p.plan.dns.find((r) => r.id === "dmarc:monmagasin.tld")!.content, /pct=/);
});

test("an empty relays map is refused: mail for our domains would have no MX host", () => {
  const text = exampleWith(
    "relays:\n  mx1: { location: fsn1, serverType: cx23, mxPriority: 10 }\n  mx2: { location: nbg1, serverType: cx23, mxPriority: 20 }\n",
    "relays: {}\n",
  );
  assert.throws(
    () => parseSpec(text, "stacks/example.facteur.yaml"),
    (e: unknown) => e instanceof SpecError && /^stacks\/example\.facteur\.yaml:\d+:\d+: relays: at least one relay \(MX host\) is needed$/m.test(e.message),
  );
  // And a domain's own empty relays list.
  assert.throws(
    () => parseSpec(exampleWith("      contact: john-doe@monmagasin.tld", "      contact: john-doe@monmagasin.tld\n    relays: []"), "x.yaml"),
    /^SpecError: x\.yaml:28:13: domains\."monmagasin\.tld"\.relays: domain monmagasin\.tld has no relay: it needs at least one MX host$/,
  );
});

test("the operator's key is the catch-all and signs last, wherever the operator domain sorts", () => {
  // "aaa-relais.tld" sorts before every mail domain; OpenDKIM's SigningTable is first-match.
  const p = examplePlan(exampleWith("  domain: relais.tld", "  domain: aaa-relais.tld"));
  assert.deepEqual(p.model.domains.map((d) => d.name), ["aaa-relais.tld", "entreprise.tld", "monmagasin.tld"]);
  assert.equal(fileOf(p, "out1", "/etc/opendkim/SigningTable"), "*@entreprise.tld entreprise.tld\n*@monmagasin.tld monmagasin.tld\n* aaa-relais.tld\n");
  assert.match(fileOf(p, "out1", "/etc/opendkim/KeyTable"), /\naaa-relais\.tld aaa-relais\.tld:f2026a:\/etc\/opendkim\/keys\/aaa-relais\.tld\/f2026a\.private\n$/);
});
