// What Postfix accepts, at its edges (src/spec/limits.ts): time values as conv_time reads them,
// paced transports' names within sun_path, and the spec's type errors in a reader's words
// (src/spec/load.ts: "expected a map, got a list", with the line and column of the value).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pacingTransportName, postfixSeconds } from "../src/spec/limits.ts";
import { mayHavePlaceholders, placeholderProblems } from "../src/spec/placeholders.ts";
import { exampleText, specRefusal } from "./support/example.ts";
import { parseSpec } from "../src/spec/load.ts";

const TOO_BIG = (v: string) => ({ problem: `${v} is more than Postfix can store (about 68 years in seconds): it stops with "bad time value"` });
const NOT_A_DURATION = (v: string) => ({ problem: `expected a duration such as 1s, 30s, 2m or 1h (a whole number and one unit: s, m, h, d or w), got ${JSON.stringify(v)}` });

test("postfixSeconds: a whole number and one unit (seconds by default), within what Postfix stores", () => {
  assert.deepEqual(postfixSeconds("5"), { seconds: 5 });
  assert.deepEqual(postfixSeconds("0"), { seconds: 0 });
  assert.deepEqual(postfixSeconds("5s"), { seconds: 5 });
  assert.deepEqual(postfixSeconds("2m"), { seconds: 120 });
  assert.deepEqual(postfixSeconds("1w"), { seconds: 604800 });
  assert.deepEqual(postfixSeconds("2147483647"), { seconds: 2147483647 });
  assert.deepEqual(postfixSeconds("2147483648"), TOO_BIG("2147483648"));
  assert.deepEqual(postfixSeconds("2147483648s"), TOO_BIG("2147483648s"));
  // m, h, d, w: the count must stay below INT_MAX / unit (conv_time).
  assert.deepEqual(postfixSeconds("35791393m"), { seconds: 35791393 * 60 });
  assert.deepEqual(postfixSeconds("35791394m"), TOO_BIG("35791394m"));
  assert.deepEqual(postfixSeconds("596522h"), { seconds: 596522 * 3600 });
  assert.deepEqual(postfixSeconds("596523h"), TOO_BIG("596523h"));
  for (const v of ["05s", "5x", "s", "1.5s", "-1s", "5 s", "5ss", "x5s"]) assert.deepEqual(postfixSeconds(v), NOT_A_DURATION(v), v);
});

test("pacingTransportName: readable and one-to-one up to 64 characters, then its start and a hash of the domain", () => {
  assert.equal(pacingTransportName("a-b.tld"), "pace-a--b-tld");
  assert.equal(pacingTransportName("a.b.tld"), "pace-a-b-tld");
  const fits = `${"x".repeat(55)}.tld`; // "pace-" + 55 + "-tld": 64 exactly
  assert.equal(pacingTransportName(fits), `pace-${"x".repeat(55)}-tld`);
  const hash = (d: string) => createHash("sha256").update(d).digest("hex").slice(0, 12);
  const over = `${"x".repeat(56)}.tld`;
  assert.equal(pacingTransportName(over), `pace-${"x".repeat(46)}-${hash(over)}`);
  // The cut lands on the "--" of a hyphen: both go, the hash follows one hyphen.
  const cutOnHyphen = `${"x".repeat(44)}-y.${"z".repeat(20)}.tld`;
  assert.equal(pacingTransportName(cutOnHyphen), `pace-${"x".repeat(44)}-${hash(cutOnHyphen)}`);
  assert.ok(pacingTransportName(cutOnHyphen).length <= 64);
});

test("type errors say what was expected and what was given, at the value", () => {
  const t = exampleText();
  assert.equal(specRefusal(t.replace("  dnsbl: [bl.lab.tld]\n", "  dnsbl: bl.lab.tld\n")), 's.yaml:61:10: policy.dnsbl: expected a list, got the text "bl.lab.tld"');
  assert.equal(specRefusal(t.replace("roleMailbox: ops@gestion.tld", "roleMailbox: 3")), 's.yaml:7:16: operator.roleMailbox: expected text, got the number 3 (quote it if it is text: "3")');
  assert.match(specRefusal(t.replace(/^operator:\n/m, "operator: []\nx_operator:\n")), /^s\.yaml:5:11: operator: expected a map, got a list\ns\.yaml:6:1: x_operator: unknown key "x_operator"$/);
  assert.match(specRefusal(t.replace(/^domains:\n/m, "domains: [a]\nx_domains:\n")), /^s\.yaml:12:10: domains: expected a map, got a list\n/);
});

test("an alias target of the wrong form is named by the form it tried to be, by both parse paths; tags and deep nesting are located", () => {
  const at = (from: string, to: string) => exampleText().replace(`accueil: ${from}`, `accueil: ${to}`);
  const cases: [string, string][] = [
    [at("secretariat@entreprise.tld", "{ a: b }"), 's.yaml:18:16: domains."entreprise.tld".aliases.accueil: does not match any accepted form'],
    [at("secretariat@entreprise.tld", "[secretariat@entreprise.tld, 3]"), 's.yaml:18:45: domains."entreprise.tld".aliases.accueil[1]: expected text, got the number 3 (quote it if it is text: "3")'],
    [at("secretariat@entreprise.tld", "Secretariat@entreprise.tld"), 's.yaml:18:16: domains."entreprise.tld".aliases.accueil: write local parts in lower case (secretariat): Postfix compares addresses case-insensitively'],
    [exampleText().replace("roleMailbox: ops@gestion.tld", "roleMailbox: !foo ops@gestion.tld"), "s.yaml:7:21: operator.roleMailbox: YAML tags such as !foo are not used in a stack file"],
  ];
  for (const [text, message] of cases)
    for (const fastPath of [true, false]) assert.equal(specRefusal(text, "s.yaml", { fastPath }), message, `fastPath ${fastPath}: ${message}`);
  const deep = `${exampleText()}x: ${"[".repeat(5000)}${"]".repeat(5000)}\n`;
  for (const fastPath of [true, false]) assert.match(specRefusal(deep, "s.yaml", { fastPath }), /^s\.yaml:62:\d+: /, "a located error, no crash");
});

test('"${" anywhere in a spec, value or name, is refused before the schema, with the path to it', () => {
  const WHY = 'may not contain "${": facteur reserves it for secret references, which only passwordSecret fields make (write the name of the secret there)';
  assert.equal(specRefusal(exampleText().replace("roleMailbox: ops@gestion.tld", "roleMailbox: ${secret:sshPrivateKey}")), `s.yaml:7:16: operator.roleMailbox: this value ${WHY}`);
  assert.equal(specRefusal(exampleText().replace("accueil: secretariat@entreprise.tld", '"${x}": secretariat@entreprise.tld')), `s.yaml:18:7: domains."entreprise.tld".aliases."\${x}": a name ${WHY}`);
  assert.deepEqual(placeholderProblems({ a: { "k${": 1, b: ["x", "${y}"], c: "${z}", d: [{ e: "${w}" }] }, ok: "$ {" }), [
    { path: ["a", "k${"], message: `a name ${WHY}`, atKey: true },
    { path: ["a", "b", 1], message: `this value ${WHY}` },
    { path: ["a", "c"], message: `this value ${WHY}` },
    { path: ["a", "d", 0, "e"], message: `this value ${WHY}` },
  ]);
  // A structure nested past 100 levels is left to the parsers' own limits: the walk stops, no crash.
  let deep: unknown = "${deep}";
  for (let i = 0; i < 150; i++) deep = [deep];
  assert.deepEqual(placeholderProblems({ top: "${t}", deep }), [{ path: ["top"], message: `this value ${WHY}` }]);
  assert.ok(mayHavePlaceholders("a $ b") && mayHavePlaceholders("a \\u0024{") && !mayHavePlaceholders("plain text"));
});

test("facteur's own names are refused where a spec would reuse them, each saying what the name already is", () => {
  const t = exampleText();
  const dom = (d: string) => t.replace(/^domains:\n/m, `domains:\n  ${d}:\n    aliases: { contact: boss@ailleurs.tld }\n`);
  const first = (text: string) => specRefusal(text).split("\n")[0];
  const COLLIDES = "its MX and SPF records would collide with facteur's own";
  assert.equal(first(dom("relais.tld")), 's.yaml:14:5: domains."relais.tld": the operator domain relais.tld is managed by facteur itself; do not list it under domains');
  assert.equal(first(dom("pool.relais.tld")), `s.yaml:14:5: domains."pool.relais.tld": mail domain pool.relais.tld is the clean pool's name (relays hand outbound mail to it): ${COLLIDES}`);
  assert.equal(first(dom("spam-pool.relais.tld")), `s.yaml:14:5: domains."spam-pool.relais.tld": mail domain spam-pool.relais.tld is the spam lane's pool name: ${COLLIDES}`);
  assert.equal(first(dom("mx1.relais.tld")), `s.yaml:14:5: domains."mx1.relais.tld": mail domain mx1.relais.tld is relay mx1's host name: ${COLLIDES}`);
  assert.equal(first(dom("out1.relais.tld")), `s.yaml:14:5: domains."out1.relais.tld": mail domain out1.relais.tld is smarthost out1's host name: ${COLLIDES}`);
  // An external relay has no host name of ours: its spec key is just a domain under the operator's.
  assert.equal(first(dom("fai.relais.tld")), 's.yaml:14:5: domains."fai.relais.tld": mail domain fai.relais.tld is under the operator domain relais.tld, whose names facteur manages (hosts, pools, SPF): use a domain outside it');
  assert.equal(first(dom("smtp.fai.tld")), "s.yaml:47:11: smarthosts.fai.host: external relay smtp.fai.tld is one of our mail domains: relays would hand mail back to themselves (a loop)");
  assert.equal(first(t.replace("  mx2: { location: nbg1", "  pool: { location: nbg1")), "s.yaml:33:9: relays.pool: host pool would be named pool.relais.tld, which is the clean pool's name (relays hand outbound mail to it)");
  assert.equal(first(t.replace("  out2: { kind: own, location: hel1", "  spam-pool: { kind: own, location: hel1")), "s.yaml:40:14: smarthosts.spam-pool: host spam-pool would be named spam-pool.relais.tld, which is the spam lane's pool name");
  assert.equal(first(t.replace("{ host: mx-backup.fai.tld, priority: 50 }", "{ host: mx1.relais.tld, priority: 50 }")), "s.yaml:36:13: backupMx[0].host: backup MX mx1.relais.tld is relay mx1's host name, not a third party's server");
  assert.equal(first(t.replace("host: smtp.fai.tld", "host: pool.relais.tld")), "s.yaml:45:11: smarthosts.fai.host: external relay pool.relais.tld is the clean pool's name (relays hand outbound mail to it): relays would hand mail back to themselves (a loop)");
  assert.equal(first(t.replace("spfInclude: _spf.fai.tld", "spfInclude: _spf.relais.tld")), "s.yaml:49:17: smarthosts.fai.spfInclude: _spf.relais.tld is the pool's own SPF record: including it in itself is an SPF loop (permerror)");
  // Host names at the 253-character edge: mx1 and mx2 fit (4 + 249), out1, out2 (5 + 249) and spam1 do not.
  const op = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}`;
  assert.equal(op.length, 249);
  const long = specRefusal(t.replace(/domain: relais\.tld/, `domain: ${op}`)).split("\n").filter((l) => l.includes("is longer than the 253 characters of a DNS name"));
  assert.deepEqual(long.map((l) => l.split(": ")[1]), ["smarthosts.out1", "smarthosts.out2", "smarthosts.spam1", "operator.dkim.selectors[0]"], "and the DKIM key record f2026a._domainkey.<op>");
});

test("cross-field rules in their exact words, at the field to change", () => {
  const t = exampleText();
  const ms = "      selectors: [m2026a]\n";
  const ssh = "  sshSources: [203.0.113.250/32]\n";
  const dnsbl = "  dnsbl: [bl.lab.tld]\n";
  const cases: [string, string][] = [
    [t.replace("  spam1: { kind: own", "  mx2: { kind: own"), "s.yaml:42:8: smarthosts.mx2: duplicate host name mx2: already a relay; every host needs its own name"],
    [t.replace(ms, `${ms}    relays: [mx1, mx9]\n`), 's.yaml:30:19: domains."monmagasin.tld".relays[1]: unknown relay mx9; known relays: mx1, mx2'],
    [t.replace(ms, `${ms}    relays: [mx1, mx1]\n`), 's.yaml:30:19: domains."monmagasin.tld".relays[1]: relay mx1 is listed twice'],
    [t.replace(ms, `${ms}    relays: []\n`), 's.yaml:30:13: domains."monmagasin.tld".relays: domain monmagasin.tld has no relay: it needs at least one MX host'],
    [t.replace(ms, `${ms}      active: m2026b\n`), 's.yaml:30:15: domains."monmagasin.tld".dkim.active: unknown selector m2026b; listed: m2026a'],
    [t.replace(`    selectors: [f2026a]\n${ssh}`, `    selectors: [f2026a]\n    active: f2026b\n${ssh}`), "s.yaml:10:13: operator.dkim.active: unknown selector f2026b; listed: f2026a"],
    [t.replace(ssh, `${ssh}  arc: { selectors: [f2026a] }\n`), "s.yaml:11:22: operator.arc.selectors[0]: f2026a is also a DKIM selector of the operator: f2026a._domainkey.relais.tld can publish only one key; give the ARC key its own selector"],
    [t.replace(ssh, `${ssh}  arc: { selectors: [a2026a], active: a2026b }\n`), "s.yaml:11:39: operator.arc.active: unknown selector a2026b; listed: a2026a"],
    [t.replace("  - { host: mx-backup.fai.tld, priority: 50 }\n", "  - { host: mx-backup.fai.tld, priority: 50 }\n  - { host: mx-backup.fai.tld, priority: 60 }\n"), "s.yaml:37:13: backupMx[1].host: duplicate backup MX mx-backup.fai.tld"],
    [t.replace("  dailyQuota: 300\n", "  dailyQuota: 300\n  quotaStore: { host: fai, passwordSecret: quotaStorePassword }\n"), "s.yaml:57:23: policy.quotaStore.host: fai is not one of our hosts; the quota store runs on a relay or an own smarthost: mx1, mx2, out1, out2, spam1"],
    [t.replace(dnsbl, `${dnsbl}  inbound: { dnsblThreshold: 2 }\n`), "s.yaml:62:30: policy.inbound.dnsblThreshold: 2 lists must agree, but policy.dnsbl has 1: postscreen would never block anyone"],
    [t.replace(dnsbl, `${dnsbl}  inbound: { softErrorLimit: 5, hardErrorLimit: 4 }\n`), "s.yaml:62:49: policy.inbound.hardErrorLimit: must be at least softErrorLimit (5)"],
    [t.replace(dnsbl, `${dnsbl}  spam: { tagScore: 6, rejectScore: 6 }\n`), "s.yaml:62:37: policy.spam.rejectScore: the reject score must be above the tag score (6), or tagged mail would never be delivered"],
  ];
  for (const [text, message] of cases) assert.equal(specRefusal(text), message);
  // The edges those rules leave open: equal limits, a threshold the lists can meet, a store on an own smarthost.
  for (const ok of [
    t.replace(dnsbl, `${dnsbl}  inbound: { softErrorLimit: 5, hardErrorLimit: 5 }\n`),
    t.replace(dnsbl, `${dnsbl}  inbound: { dnsblThreshold: 1 }\n`),
    t.replace(dnsbl, `${dnsbl}  spam: { tagScore: 6, rejectScore: 7 }\n`),
    t.replace("  dailyQuota: 300\n", "  dailyQuota: 300\n  quotaStore: { host: out2, passwordSecret: quotaStorePassword }\n"),
  ])
    assert.doesNotThrow(() => parseSpec(ok, "s.yaml"));
});

test("the ${ pre-check walks 100 levels, a value in a list or a map alike; deeper structure is left to the parsers' own limits", () => {
  const inLists = (depth: number, leaf: unknown): unknown => (depth === 0 ? leaf : [inLists(depth - 1, leaf)]);
  const value = "${secret:x}";
  // A string at depth d, reached through lists; a map's string at depth d + 1, like a list item's.
  assert.equal(placeholderProblems(inLists(100, value)).length, 1);
  assert.deepEqual(placeholderProblems(inLists(100, value))[0]!.path, Array(100).fill(0));
  assert.equal(placeholderProblems(inLists(101, value)).length, 0);
  assert.equal(placeholderProblems(inLists(99, { k: value })).length, 1);
  assert.deepEqual(placeholderProblems(inLists(99, { k: value }))[0]!.path, [...Array(99).fill(0), "k"]);
  assert.equal(placeholderProblems(inLists(100, { k: value })).length, 0);
  assert.equal(placeholderProblems(inLists(99, [value])).length, 1);
});
