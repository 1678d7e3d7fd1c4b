// Every grammar and cross-field rule of the spec, one refusal each: what an operator meets
// when a pull request edits a stack file wrongly. Each case names where (file:line:col and
// path) and what; a rule that stopped being checked fails its case. (Mutation testing,
// scripts/mutation.sh, showed which of these had no test before.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSpecFile, parseSpec, stackSpecPath } from "../src/spec/load.ts";
import { SpecError, formatPath } from "../src/spec/errors.ts";
import { exampleText, exampleWith, specRefusal } from "./support/example.ts";

const refusal = (text: string): string => specRefusal(text);

const cases: [string, string, string, RegExp][] = [
  // Grammars of values.
  ["an upper-case relay name", "  mx2: { location: nbg1", "  MX2: { location: nbg1", /^s\.yaml:33:\d+: relays\.MX2: /],
  ["a relay name starting with a hyphen", "  mx2: { location: nbg1", "  -mx2: { location: nbg1", /^s\.yaml:33:\d+: relays\."-mx2": /],
  ["a mail domain without a top-level domain", "  monmagasin.tld:\n", "  monmagasin:\n", /^s\.yaml:24:3: domains\.monmagasin: a domain needs at least two labels, such as entreprise\.tld$/],
  ["an upper-case mail domain", "  monmagasin.tld:\n", "  MonMagasin.tld:\n", /^s\.yaml:24:3: domains\."MonMagasin\.tld": write domain names in lower case: monmagasin\.tld$/],
  ["a local part with a space", "      john-doe: john@doe.tld\n      tom-smit", '      "john doe": john@doe.tld\n      tom-smit', /^s\.yaml:15:\d+: domains\."entreprise\.tld"\.aliases\."john doe": /],
  ["a role mailbox without @", "roleMailbox: ops@gestion.tld", "roleMailbox: ops.gestion.tld", /^s\.yaml:7:16: operator\.roleMailbox: expected an e-mail address such as john@doe\.tld, got "ops\.gestion\.tld"$/],
  ["a role mailbox with two dots in its local part", "roleMailbox: ops@gestion.tld", "roleMailbox: o..ps@gestion.tld", /operator\.roleMailbox: a local part may not start or end with a dot, nor have two dots in a row$/],
  ["a role mailbox whose domain has no TLD", "roleMailbox: ops@gestion.tld", "roleMailbox: ops@gestion", /operator\.roleMailbox: in "ops@gestion", the domain part: a domain needs at least two labels/],
  ["an upper-case alias target", "john-doe: john@doe.tld", "john-doe: John@doe.tld", /aliases\.john-doe: write local parts in lower case \(john\)/],
  ["a password instead of a secret's name", "passwordSecret: johnSubmission }", "passwordSecret: 'hunter 2' }", /^s\.yaml:53:44: submission\.users\."john@entreprise\.tld"\.passwordSecret: expected the name of a secret \(a Pulumi config key set with --secret, e\.g\. faiRelayPassword\), not the secret itself$/],
  ["a duration in words", "rateDelay: 5s", "rateDelay: 5 minutes", /^s\.yaml:60:33: policy\.pacing\.domains\."grosfai\.tld"\.rateDelay: expected a duration such as 1s, 30s, 2m or 1h \(a whole number and one unit: s, m, h, d or w\), got "5 minutes"$/],
  ["a duration with an unknown unit", "rateDelay: 5s", "rateDelay: 5y", /rateDelay: expected a duration/],
  ["an empty group alias", "secretariat: [john-doe@entreprise.tld, tom-smit@entreprise.tld]", "secretariat: []", /^s\.yaml:17:20: domains\."entreprise\.tld"\.aliases\.secretariat: a group alias needs at least one target$/],
  ["no DKIM selector", "selectors: [m2026a]", "selectors: []", /^s\.yaml:29:18: domains\."monmagasin\.tld"\.dkim\.selectors: at least one DKIM selector is needed$/],
  ["an upper-case DKIM selector", "selectors: [m2026a]", "selectors: [M2026a]", /dkim\.selectors\[0\]: write names in lower case: m2026a$/],
  ["an SPF include that is not a DNS name", "spfInclude: _spf.fai.tld", "spfInclude: _spf..fai", /^s\.yaml:49:17: smarthosts\.fai\.spfInclude: has an empty label \(two dots in a row, or a leading dot\)$/],
  ["an external relay host that is not a domain", "host: smtp.fai.tld", "host: smtp_fai", /smarthosts\.fai\.host: a domain needs at least two labels, such as entreprise\.tld$/],
  ["a backup MX that is not a domain", "{ host: mx-backup.fai.tld, priority: 50 }", "{ host: 'mx backup', priority: 50 }", /backupMx\[0\]\.host: /],
  ["no mail domain", "domains:\n  entreprise.tld:", "domains: {}\nxdomains:\n  entreprise.tld:", /^s\.yaml:12:10: domains: at least one mail domain is needed$/m],
  ["no smarthost", "smarthosts:\n  out1", "smarthosts: {}\nx:\n  out1", /^s\.yaml:38:13: smarthosts: at least one smarthost is needed: relays never send directly$/m],
  ["a DMARC policy that does not exist", "      policy: quarantine\n", "      policy: reject2\n", /^s\.yaml:22:15: domains\."entreprise\.tld"\.dmarc\.policy: expected one of "none", "quarantine", "reject"$/],
  ["an alias target that is neither an address nor a list", "john-doe: john@doe.tld", "john-doe: 42", /^s\.yaml:15:17: domains\."entreprise\.tld"\.aliases\.john-doe: does not match any accepted form$/],
  ["an unknown active domain selector, naming every listed one", "selectors: [e2026a]", "selectors: [e2026a, e2026b]\n      active: e2026c", /^s\.yaml:21:15: domains\."entreprise\.tld"\.dkim\.active: unknown selector e2026c; listed: e2026a, e2026b$/],
  ["an unknown active operator selector, naming every listed one", "selectors: [f2026a]", "selectors: [f2026a, f2026b]\n    active: f2026z", /^s\.yaml:10:13: operator\.dkim\.active: unknown selector f2026z; listed: f2026a, f2026b$/],
  // How zod's findings read.
  ["a missing required key", "  domain: relais.tld\n", "", /^s\.yaml:6:3: operator\.domain: missing: expected string$/],
  ["a list where a number goes", "mxPriority: 20", "mxPriority: [20]", /relays\.mx2\.mxPriority: expected a whole number, got a list$/],
  ["null where a number goes", "mxPriority: 20", "mxPriority: null", /relays\.mx2\.mxPriority: expected a whole number, got nothing \(null\)$/],
  ["two unknown keys, each pointed at", "mxPriority: 20", "mxPriority: 20, foo: 1, bar: 2", /^s\.yaml:33:60: relays\.mx2\.foo: unknown keys "foo", "bar"\ns\.yaml:33:68: relays\.mx2\.bar: unknown keys "foo", "bar"$/],
  ["a key given twice", "  mx2: { location: nbg1", "  mx1: { location: nbg1", /^s\.yaml:33:3: YAML: Map keys must be unique/],
  // Rules across fields.
  ["a group listing the same target twice", "secretariat: [john-doe@entreprise.tld, tom-smit@entreprise.tld]", "secretariat: [john-doe@entreprise.tld, john-doe@entreprise.tld]", /^s\.yaml:17:46: domains\."entreprise\.tld"\.aliases\.secretariat\[1\]: target john-doe@entreprise\.tld is listed twice$/],
  ["an alias to itself", "accueil: secretariat@entreprise.tld", "accueil: accueil@entreprise.tld", /^s\.yaml:18:16: domains\."entreprise\.tld"\.aliases\.accueil: alias accueil@entreprise\.tld points to itself$/],
  ["an unknown active operator selector", "selectors: [f2026a]", "selectors: [f2026a]\n    active: f2026z", /^s\.yaml:10:13: operator\.dkim\.active: unknown selector f2026z; listed: f2026a$/],
  ["the same backup MX twice", "  - { host: mx-backup.fai.tld, priority: 50 }", "  - { host: mx-backup.fai.tld, priority: 50 }\n  - { host: mx-backup.fai.tld, priority: 60 }", /^s\.yaml:37:13: backupMx\[1\]\.host: duplicate backup MX mx-backup\.fai\.tld$/],
  ["a reject score not above the tag score", "  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  spam: { tagScore: 10, rejectScore: 10 }", /^s\.yaml:62:38: policy\.spam\.rejectScore: the reject score must be above the tag score \(10\), or tagged mail would never be delivered$/],
  ["a hard error limit below the soft one", "  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  inbound: { softErrorLimit: 5, hardErrorLimit: 4 }", /^s\.yaml:62:49: policy\.inbound\.hardErrorLimit: must be at least softErrorLimit \(5\)$/],
  ["the operator domain listed as a mail domain", "  monmagasin.tld:\n", "  relais.tld:\n    aliases: {}\n  monmagasin.tld:\n", /^s\.yaml:25:5: domains\."relais\.tld": the operator domain relais\.tld is managed by facteur itself; do not list it under domains$/],
  ["a role mailbox in our domains that is no alias", "roleMailbox: ops@gestion.tld", "roleMailbox: ops@entreprise.tld", /^s\.yaml:7:16: operator\.roleMailbox: ops@entreprise\.tld is in one of our domains but is not an alias there: role mail would bounce$/],
];

for (const [name, from, to, expected] of cases) {
  test(`spec refused: ${name}`, () => {
    assert.match(refusal(exampleWith(from, to)), expected);
  });
}

test("accepted: a role mailbox that is an alias in our domains, a role address as an alias target, equal error limits", () => {
  const spec = parseSpec(
    exampleWith("roleMailbox: ops@gestion.tld", "roleMailbox: john-doe@entreprise.tld")
      .replace("tom-smit: tom@smit.tld", "tom-smit: tom@smit.tld\n      webmaster: postmaster@entreprise.tld")
      .replace("  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  inbound: { softErrorLimit: 5, hardErrorLimit: 5 }\n  spam: { tagScore: 5, rejectScore: 5.5 }"),
    "s.yaml",
  );
  assert.equal(spec.operator.roleMailbox, "john-doe@entreprise.tld");
  assert.equal(spec.domains["entreprise.tld"]!.aliases.webmaster, "postmaster@entreprise.tld");
});

test("a spec that is not a mapping is refused where its content starts", () => {
  assert.equal(refusal("# a comment\n\nhello\n"), "s.yaml:3:1: expected a map, got the text \"hello\"");
});

test("alias loops: each cycle reported once, at its first alias, without the aliases that lead into it", () => {
  const m = refusal(
    exampleWith(
      "      contact: john-doe@monmagasin.tld",
      "      contact: a@monmagasin.tld\n      a: b@monmagasin.tld\n      b: c@monmagasin.tld\n      c: a@monmagasin.tld\n      d: e@monmagasin.tld\n      e: d@monmagasin.tld",
    ),
  );
  assert.deepEqual(
    m.split("\n").map((l) => l.replace(/^s\.yaml:\d+:\d+: /, "")),
    [
      'domains."monmagasin.tld".aliases.a: alias loop: a@monmagasin.tld -> b@monmagasin.tld -> c@monmagasin.tld -> a@monmagasin.tld',
      'domains."monmagasin.tld".aliases.d: alias loop: d@monmagasin.tld -> e@monmagasin.tld -> d@monmagasin.tld',
    ],
  );
});

test("SPF: exactly 10 DNS lookups is accepted, 11 refused; only external relays' includes count for the pool", () => {
  // Pool: include:_spf.fai.tld (1) + the domain's include of the pool (1); an external relay without spfInclude adds nothing.
  const withExtra = (n: number) =>
    exampleWith("    dkim:\n      selectors: [m2026a]", `    dkim:\n      selectors: [m2026a]\n    spf:\n      extra: [${Array.from({ length: n }, (_, i) => `include:x${i}.tld`).join(", ")}]`).replace(
      "  fai:\n",
      "  other:\n    kind: external\n    host: smtp.other.tld\n  fai:\n",
    );
  assert.ok(parseSpec(withExtra(8), "s.yaml"));
  assert.match(refusal(withExtra(9)), /domains\."monmagasin\.tld"\.spf\.extra: SPF for monmagasin\.tld needs 11 DNS lookups \(pool 2, extra 9\)/);
});

test("a problem of a missing list item points at its parent; problems keep file order", () => {
  const m = refusal(exampleWith("mxPriority: 20", "mxPriority: -5").replace("version: 1", "version: 2"));
  assert.deepEqual(m.split("\n").map((l) => l.split(": ")[0]), ["s.yaml:3:10", "s.yaml:33:56"]);
});

test("paths read as in YAML: dotted names, quoted keys with dots, [index], (root)", () => {
  assert.equal(formatPath([]), "(root)");
  assert.equal(formatPath(["domains", "entreprise.tld", "aliases", "secretariat", 1]), 'domains."entreprise.tld".aliases.secretariat[1]');
  assert.equal(formatPath(["smarthosts", "out-1", "drain"]), "smarthosts.out-1.drain");
  assert.equal(formatPath(["_x", "9lives"]), '_x."9lives"');
  assert.equal(formatPath(["entreprise.tld", "aliases"]), '"entreprise.tld".aliases');
  const e = new SpecError("f.yaml", [{ path: [], message: "whole file" }]);
  assert.equal(e.message, "f.yaml:1:1: whole file");
  assert.equal(e.name, "SpecError");
});

test("reading: a missing spec file is a spec problem naming it; stacks live in <dir>/<stack>.facteur.yaml", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-spec-"));
  try {
    assert.throws(() => loadSpecFile(join(dir, "nope.facteur.yaml")), (e: unknown) => e instanceof SpecError && /nope\.facteur\.yaml:1:1: cannot read spec: ENOENT$/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(stackSpecPath("stacks", "prod"), "stacks/prod.facteur.yaml");
  assert.ok(parseSpec(exampleText(), "x"));
});
