// What Postfix accepts, at its edges (src/spec/limits.ts): time values as conv_time reads them,
// paced transports' names within sun_path, and the spec's type errors in a reader's words
// (src/spec/load.ts: "expected a map, got a list", with the line and column of the value).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { pacingTransportName, postfixSeconds } from "../src/spec/limits.ts";
import { mayHavePlaceholders, placeholderProblems } from "../src/spec/placeholders.ts";
import { exampleText, specRefusal } from "./support/example.ts";

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
