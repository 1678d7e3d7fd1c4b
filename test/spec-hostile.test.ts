// Hostile and mistaken specs (issue 10): every value has a grammar and bounds, the error says
// why and where, and nothing crashes. Each case here was accepted, lost silently or crashed
// before the fix; the daemons' own verdict on the numbers is in test/gate.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { renderStack } from "../src/render/render.ts";
import { fillSecrets } from "../src/render/bundle.ts";
import { txtStrings } from "../src/plan/dns.ts";
import { MAX_TRANSPORT_NAME, pacingTransportName } from "../src/spec/limits.ts";
import { exampleText, exampleWith, specRefusal } from "./support/example.ts";

const FILE = "stacks/example.facteur.yaml";

const refusal = (text: string): string => specRefusal(text, FILE);

function accepted(text: string) {
  const model = buildModel(parseSpec(text, FILE));
  const plan = buildPlan(model);
  return { model, plan, bundles: renderStack(model, plan) };
}

const withAlias = (line: string) => exampleWith("      tom-smit: tom@smit.tld\n", `      tom-smit: tom@smit.tld\n      ${line}\n`);
const withInbound = (yaml: string) => `${exampleText()}  inbound: ${yaml}\n`;
const withSpfExtra = (items: string) => exampleWith("    dkim:\n      selectors: [m2026a]", `    dkim:\n      selectors: [m2026a]\n    spf:\n      extra: ${items}`);

// ---------------------------------------------------------------- secrets

test("secret leak: a SASL username with a line break cannot add a line to sasl_passwd", () => {
  assert.equal(
    refusal(exampleWith("username: relais@fai.tld", 'username: "relais@fai.tld\\n[evil.tld]:25 x"')),
    `${FILE}:48:23: smarthosts.fai.auth.username: a SASL username may not contain a line break, tab or other control character (it would start a new line in the rendered files)`,
  );
});

test("secret leak: only passwordSecret fields make ${secret:...}; any other value with ${ is refused", () => {
  for (const ref of ["${secret:sshPrivateKey}", "${secret:johnSubmission}", "x${y}"])
    assert.match(
      refusal(exampleWith("username: relais@fai.tld", `username: "${ref}"`)),
      /:48:23: smarthosts\.fai\.auth\.username: this value may not contain "\$\{": facteur reserves it for secret references, which only passwordSecret fields make/,
    );
  assert.match(refusal(withAlias('"a${b}": x@y.tld')), /aliases\."a\$\{b\}": a name may not contain "\$\{"/);
  // Made by an escape, in a text without a "$" of its own (the loader skips the walk only for a text without "$" and without escapes).
  for (const escaped of ["\\x24{secret:sshPrivateKey}", "\\u0024{secret:sshPrivateKey}"]) {
    // The example's only "$" is in its first line's comment ($schema): gone here.
    const text = exampleWith("username: relais@fai.tld", `username: "${escaped}"`).replace("$schema=", "schema=");
    assert.ok(!text.includes("$"), "a text without a $ of its own");
    assert.match(refusal(text), /:48:23: smarthosts\.fai\.auth\.username: this value may not contain "\$\{"/);
  }
});

test("secret leak: a passwordSecret may not name facteur's own keys (the root SSH key would go to the relay)", () => {
  assert.match(
    refusal(exampleWith("passwordSecret: faiRelayPassword", "passwordSecret: sshPrivateKey")),
    /:48:55: smarthosts\.fai\.auth\.passwordSecret: sshPrivateKey is facteur's own configuration \(facteur:sshPrivateKey\); a password field may not name it/,
  );
  assert.match(refusal(exampleWith("passwordSecret: faiRelayPassword", 'passwordSecret: "${secret:x}"')), /passwordSecret: .*may not contain "\$\{"/);
});

test("secret leak, second line of defence: render and fill take only the references passwordSecret fields made", () => {
  const { model, plan } = accepted(exampleText());
  // A value that slipped past the schema (built by hand here) makes the render stop.
  const hostile = structuredClone(model);
  hostile.externalRelays[0]!.auth!.username = "${secret:sshPrivateKey}";
  const hostilePlan = structuredClone(plan);
  hostilePlan.routing.saslCredentials[0]!.username = "${secret:sshPrivateKey}";
  assert.throws(() => renderStack(hostile, hostilePlan), /2 secret reference\(s\) in the output, 1 made by passwordSecret fields/);
  // And the applier fills only what the file's own secretRefs name.
  const secrets = { faiRelayPassword: "pw", sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----" };
  const content = "[smtp.fai.tld]:587 ${secret:sshPrivateKey}:${secret:faiRelayPassword}\n";
  assert.throws(() => fillSecrets(content, secrets, "mx1 sasl_passwd", ["faiRelayPassword"]), /mx1 sasl_passwd: refusing to fill \$\{secret:sshPrivateKey\}: no passwordSecret field put it there/);
  assert.equal(fillSecrets("u:${secret:faiRelayPassword}\n", secrets, "x", ["faiRelayPassword"]), "u:pw\n");
});

// ---------------------------------------------------------------- numbers the daemons refuse

test("numbers beyond what Postfix stores are refused with the daemon's reason", () => {
  assert.equal(
    refusal(withInbound("{ softErrorLimit: 2147483648, hardErrorLimit: 2147483648 }")).split("\n")[0],
    `${FILE}:62:30: policy.inbound.softErrorLimit: must be at most 2147483647 (Postfix stores it in a C int and stops with "bad numerical configuration" above)`,
  );
  assert.match(refusal(withInbound("{ connectionRateLimit: 4294967296 }")), /policy\.inbound\.connectionRateLimit: must be at most 2147483647 \(Postfix stores it in a C int/);
  assert.match(
    refusal(exampleWith("grosfai.tld: { rateDelay: 5s", "grosfai.tld: { rateDelay: 600000h")),
    /:60:33: policy\.pacing\.domains\."grosfai\.tld"\.rateDelay: 600000h is more than Postfix can store \(about 68 years in seconds\): it stops with "bad time value"/,
  );
  assert.match(refusal(exampleWith("grosfai.tld: { rateDelay: 5s", "grosfai.tld: { rateDelay: 5d")), /5d is at least Postfix's queue lifetime \(maximal_queue_lifetime, 5d\)/);
  assert.match(refusal(exampleWith("grosfai.tld: { rateDelay: 5s", "grosfai.tld: { rateDelay: 5 s")), /expected a duration such as 1s, 30s, 2m or 1h/);
  assert.match(refusal(exampleWith("concurrency: 1 }", "concurrency: 101 }")), /concurrency: must be at most 100 \(Postfix runs at most default_process_limit = 100/);
  assert.match(refusal(exampleWith("mxPriority: 20", "mxPriority: 65536")), /mxPriority: must be at most 65535 \(a DNS MX preference is 16 bits\)/);
  assert.match(refusal(exampleWith("mxPriority: 20", "mxPriority: 2.5")), /mxPriority: expected a whole number/);
  assert.match(refusal(withInbound("{ dnsblThreshold: 2 }")), /policy\.inbound\.dnsblThreshold: 2 lists must agree, but policy\.dnsbl has 1: postscreen would never block anyone/);
  assert.match(refusal(`${exampleText()}  spam: { tagScore: 6.125 }\n`), /tagScore: write a score with at most two decimals/);
});

test("a pacing domain of ~180 characters gets a transport name master.cf can hold; two domains never share one", () => {
  const long = `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(55)}.tld`;
  const r = accepted(exampleWith("grosfai.tld: {", `${long}: {`));
  const transport = r.model.policy.pacing.domains[0]!.transport;
  assert.ok(transport.length <= MAX_TRANSPORT_NAME, transport);
  assert.match(transport, /^pace-a+-[0-9a-f]{12}$/);
  const master = r.bundles.find((b) => b.host === "out1")!.files.find((f) => f.path.endsWith("master.cf"))!.content;
  assert.match(master, new RegExp(`^${transport} unix `, "m"));
  // a-b.tld and a.b.tld were both pace-a-b-tld: one transport, two pacings.
  assert.deepEqual([pacingTransportName("a-b.tld"), pacingTransportName("a.b.tld")], ["pace-a--b-tld", "pace-a-b-tld"]);
  const both = accepted(exampleWith("grosfai.tld: { rateDelay: 5s, concurrency: 1 }", "a-b.tld: { rateDelay: 5s }\n      a.b.tld: { rateDelay: 9s }"));
  assert.deepEqual(both.model.policy.pacing.domains.map((p) => p.transport), ["pace-a--b-tld", "pace-a-b-tld"]);
});

// ---------------------------------------------------------------- no crash

test("no crash: YAML anchor bombs and undefined anchors are located errors", () => {
  const bomb = `${exampleText()}x: &a [a,a,a,a,a,a,a,a,a]\ny: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nz: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nw: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nv: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`;
  assert.equal(refusal(bomb), `${FILE}:66:5: v[0]: aliases expand to more than 10000 values: refused (a YAML "alias bomb" would exhaust memory)`);
  assert.equal(
    refusal(exampleWith("tom-smit: tom@smit.tld", "tom-smit: *nope")),
    `${FILE}:16:17: domains."entreprise.tld".aliases.tom-smit: alias *nope refers to no anchor: define &nope before using it`,
  );
  assert.match(refusal(`${exampleText()}x: &a [*a]\n`), /alias \*a refers to a value that contains it/);
});

test("no crash: an alias chain of 3,000 links is refused at Postfix's recursion limit, and 900 links still work", () => {
  const chain = (n: number) =>
    exampleWith(
      "      tom-smit: tom@smit.tld\n",
      `      tom-smit: tom@smit.tld\n${Array.from({ length: n }, (_, i) => `      c${i}: c${i + 1}@entreprise.tld`).join("\n")}\n      c${n}: x@y.tld\n`,
    );
  assert.match(
    refusal(chain(3000)),
    /:17:11: domains\."entreprise\.tld"\.aliases\.c0: c0@entreprise\.tld starts a chain of 3001 nested aliases; Postfix defers such mail past virtual_alias_recursion_limit \(1000\)/,
  );
  const ok = accepted(chain(900));
  const c0 = ok.model.domains.find((d) => d.name === "entreprise.tld")!.aliases.find((a) => a.address === "c0@entreprise.tld")!;
  assert.deepEqual(c0.deliversTo, ["x@y.tld"]);
});

test("Postfix's alias limits at their edge: a chain of 999 passes and 1000 is refused; of several chains or groups past a limit, the deepest (the first of equals) is named", () => {
  const TOM = "      tom-smit: tom@smit.tld\n";
  const withAliases = (extra: string) => exampleWith(TOM, TOM + extra);
  const chain = (p: string, n: number) => `${Array.from({ length: n }, (_, i) => `      ${p}${i}: ${p}${i + 1}@entreprise.tld`).join("\n")}\n      ${p}${n}: x@y.tld\n`;
  const group = (name: string, n: number) => `      ${name}: [${Array.from({ length: n }, (_, i) => `p${i}@ext.tld`).join(", ")}]\n`;
  const deep = (line: number, alias: string, links: number) =>
    `s.yaml:${line}:11: domains."entreprise.tld".aliases.${alias}: ${alias}@entreprise.tld starts a chain of ${links} nested aliases; Postfix defers such mail past virtual_alias_recursion_limit (1000): point aliases at their final addresses`;
  const wide = (alias: string) =>
    `s.yaml:${alias === "big" ? 17 : 18}:12: domains."entreprise.tld".aliases.${alias}: ${alias}@entreprise.tld expands to more than 1000 addresses (repeats counted); Postfix defers such mail past virtual_alias_expansion_limit (1000)`;
  const first = (text: string) => specRefusal(text).split("\n")[0];
  assert.ok(accepted(withAliases(chain("c", 998))), "999 nested aliases");
  assert.equal(first(withAliases(chain("c", 999))), deep(17, "c0", 1000));
  assert.equal(first(withAliases(chain("c", 1099) + chain("d", 999))), deep(17, "c0", 1100));
  assert.equal(first(withAliases(chain("d", 999) + chain("c", 1099))), deep(1017, "c0", 1100));
  assert.equal(first(withAliases(chain("c", 999) + chain("d", 999))), deep(17, "c0", 1000));
  assert.ok(accepted(withAliases(group("big", 1000))), "1000 addresses");
  assert.equal(first(withAliases(group("big", 1001))), wide("big"));
  // Expansion is counted up to the limit and one: past it, every group is the widest's equal.
  assert.equal(first(withAliases(group("big", 1001) + group("bog", 1002))), wide("big"));
  assert.equal(specRefusal(withAliases(group("big", 1001) + group("bog", 1001))).split("\n").length, 1, "one alias named per limit");
});

test("no crash: a group alias that expands past Postfix's expansion limit is refused", () => {
  const targets = Array.from({ length: 40 }, (_, i) => `p${i}@ext.tld`).join(", ");
  const text = exampleWith(
    "      tom-smit: tom@smit.tld\n",
    `      tom-smit: tom@smit.tld\n      g0: [${targets}]\n${Array.from({ length: 2 }, (_, k) => `      g${k + 1}: [${Array.from({ length: 30 }, () => `g${k}@entreprise.tld`).join(", ")}]`).join("\n")}\n`,
  );
  // Repeats are refused as such first; make each member distinct through 30 one-hop aliases instead.
  assert.match(refusal(text), /target g0@entreprise\.tld is listed twice/);
  const hops = Array.from({ length: 30 }, (_, i) => `      h${i}: g0@entreprise.tld`).join("\n");
  const wide = exampleWith(
    "      tom-smit: tom@smit.tld\n",
    `      tom-smit: tom@smit.tld\n      g0: [${targets}]\n${hops}\n      big: [${Array.from({ length: 30 }, (_, i) => `h${i}@entreprise.tld`).join(", ")}]\n`,
  );
  assert.match(refusal(wide), /big@entreprise\.tld expands to more than 1000 addresses \(repeats counted\); Postfix defers such mail past virtual_alias_expansion_limit/);
  // One more level of one-hop aliases (an odd number of levels between the group and the top):
  // every level adds its targets' expansions, whatever the depth.
  const hops2 = Array.from({ length: 30 }, (_, i) => `      k${i}: h${i}@entreprise.tld`).join("\n");
  const deeper = exampleWith(
    "      tom-smit: tom@smit.tld\n",
    `      tom-smit: tom@smit.tld\n      g0: [${targets}]\n${hops}\n${hops2}\n      big: [${Array.from({ length: 30 }, (_, i) => `k${i}@entreprise.tld`).join(", ")}]\n`,
  );
  assert.match(refusal(deeper), /big@entreprise\.tld expands to more than 1000 addresses/);
});

test("no crash: the role mailbox in the operator domain, or a role address in a loop, are errors", () => {
  // A role address facteur adds, sent to itself: the error is where the role mailbox is written.
  assert.equal(
    refusal(exampleWith("roleMailbox: ops@gestion.tld", "roleMailbox: postmaster@monmagasin.tld")),
    `${FILE}:7:16: operator.roleMailbox: alias postmaster@monmagasin.tld points to itself`,
  );
  assert.match(
    refusal(exampleWith("roleMailbox: ops@gestion.tld", "roleMailbox: ops@relais.tld")),
    /:7:16: operator\.roleMailbox: ops@relais\.tld is in the operator domain relais\.tld, which has no mailboxes/,
  );
  assert.match(
    refusal(exampleWith("roleMailbox: ops@gestion.tld", "roleMailbox: contact@monmagasin.tld").replace("contact: john-doe@monmagasin.tld", "contact: postmaster@monmagasin.tld")),
    /alias loop: contact@monmagasin\.tld -> postmaster@monmagasin\.tld -> contact@monmagasin\.tld \(postmaster@monmagasin\.tld is a role address that facteur sends to operator\.roleMailbox\)/,
  );
});

// ---------------------------------------------------------------- silent loss

test("silent loss: a local part starting with '#' would be a comment in the virtual map", () => {
  assert.equal(
    refusal(withAlias('"#tom": tom@smit.tld')),
    `${FILE}:17:7: domains."entreprise.tld".aliases."#tom": a local part may not start with '#': Postfix reads that line of the map as a comment and the address would silently not exist`,
  );
});

test("silent loss: __proto__ is refused by name; constructor and toString are ordinary local parts", () => {
  assert.match(refusal(withAlias("__proto__: tom@smit.tld")), /:17:7: domains\."entreprise\.tld"\.aliases\.__proto__: __proto__ cannot be used as a name here/);
  const r = accepted(withAlias("constructor: tom@smit.tld\n      tostring: constructor@entreprise.tld"));
  const virtual = r.bundles.find((b) => b.host === "mx1")!.files.find((f) => f.path.endsWith("/virtual"))!.content;
  assert.match(virtual, /^constructor@entreprise\.tld tom@smit\.tld$/m);
  // Object.prototype.constructor no longer passes for an alias.
  assert.match(refusal(exampleWith("roleMailbox: ops@gestion.tld", "roleMailbox: constructor@entreprise.tld")), /constructor@entreprise\.tld is in one of our domains but is not an alias there/);
  assert.match(refusal(exampleWith("accueil: secretariat@entreprise.tld", "accueil: hasownproperty@entreprise.tld")), /dangling alias target hasownproperty@entreprise\.tld/);
});

test("silent loss: keys stay as written (0612345678, 1e3), and keys that YAML would merge (1 and \"1\") are duplicates", () => {
  const r = accepted(withAlias("0612345678: tom@smit.tld\n      1e3: tom@smit.tld"));
  const addresses = r.model.domains.find((d) => d.name === "entreprise.tld")!.aliases.map((a) => a.address);
  assert.ok(addresses.includes("0612345678@entreprise.tld") && addresses.includes("1e3@entreprise.tld"), addresses.join());
  assert.equal(refusal(withAlias('1: tom@smit.tld\n      "1": other@smit.tld')), `${FILE}:18:7: domains."entreprise.tld".aliases."1": duplicate key "1": each name may appear once (1 and "1" are the same name)`);
  // A value YAML would read as a number is refused with how to write it.
  assert.match(refusal(exampleWith("username: relais@fai.tld", "username: 0612345678")), /:48:23: smarthosts\.fai\.auth\.username: 0612345678 starts with 0, .*quote it if it is text: "0612345678"/);
  assert.match(refusal(exampleWith("mxPriority: 20", "mxPriority: 1e3")), /mxPriority: write numbers in plain decimal \(such as 1000\), not 1e3/);
  assert.match(refusal(exampleWith("location: hel1", "location: 1")), /location: expected text, got the number 1 \(quote it if it is text: "1"\)/);
});

test("silent loss: targets and role addresses in the operator domain must exist", () => {
  assert.match(
    refusal(exampleWith("tom-smit: tom@smit.tld", "tom-smit: nobody@relais.tld")),
    /:16:17: domains\."entreprise\.tld"\.aliases\.tom-smit: nobody@relais\.tld does not exist: relais\.tld is the operator domain, which only has postmaster@, abuse@ and hostmaster@/,
  );
  accepted(exampleWith("tom-smit: tom@smit.tld", "tom-smit: abuse@relais.tld"));
});

// ---------------------------------------------------------------- DNS and routing conflicts

test("conflicts: a mail domain on facteur's own names (the pool, a host) is refused, naming the pair", () => {
  const as = (d: string) => exampleText().replace(/monmagasin\.tld/g, d);
  assert.match(refusal(as("pool.relais.tld")), /domains\."pool\.relais\.tld": mail domain pool\.relais\.tld is the clean pool's name \(relays hand outbound mail to it\)/);
  assert.match(refusal(as("mx1.relais.tld")), /domains\."mx1\.relais\.tld": mail domain mx1\.relais\.tld is relay mx1's host name/);
  assert.match(refusal(as("lists.relais.tld")), /mail domain lists\.relais\.tld is under the operator domain relais\.tld/);
  assert.match(refusal(exampleWith("out2: { kind: own", "pool: { kind: own")), /smarthosts\.pool: host pool would be named pool\.relais\.tld, which is the clean pool's name/);
  assert.match(refusal(exampleWith("host: smtp.fai.tld", "host: pool.relais.tld")), /external relay pool\.relais\.tld is the clean pool's name.*a loop/);
  assert.match(refusal(exampleWith("{ host: mx-backup.fai.tld", "{ host: mx2.relais.tld")), /backup MX mx2\.relais\.tld is relay mx2's host name/);
  assert.match(refusal(exampleWith("spfInclude: _spf.fai.tld", "spfInclude: _spf.relais.tld")), /_spf\.relais\.tld is the pool's own SPF record: including it in itself is an SPF loop/);
});

test("conflicts: spf.extra holds one RFC 7208 term per item, counted in the lookup limit, never +all", () => {
  const twenty = Array.from({ length: 20 }, (_, i) => `include:i${i}.tld`).join(" ");
  assert.match(refusal(withSpfExtra(`["${twenty}"]`)), /:31:15: domains\."monmagasin\.tld"\.spf\.extra\[0\]: one SPF term per item/);
  assert.match(refusal(withSpfExtra('["+all"]')), /spf\.extra\[0\]: \+all: facteur ends every SPF record with -all itself; an all that passes or is neutral would let anyone send/);
  assert.match(refusal(withSpfExtra('["?all"]')), /\?all: facteur ends every SPF record/);
  assert.match(refusal(withSpfExtra('["a\\nb"]')), /spf\.extra\[0\]: an SPF term may not contain a line break/);
  assert.match(refusal(withSpfExtra('["ptr"]')), /ptr: RFC 7208 section 5\.5 says ptr should not be used/);
  assert.match(refusal(withSpfExtra('["ip4:300.1.1.1"]')), /ip4:300\.1\.1\.1: "300\.1\.1\.1" is not an IPv4 address/);
  assert.match(refusal(withSpfExtra('["include:"]')), /include:: the domain is missing/);
  assert.match(refusal(withSpfExtra(`[${Array.from({ length: 9 }, (_, i) => `"include:i${i}.tld"`).join(", ")}]`)), /SPF for monmagasin\.tld needs 11 DNS lookups/);
  const ok = accepted(withSpfExtra('["include:_spf.other.tld", "ip4:192.0.2.0/24", "ip6:2001:db8::/32", "a:mail.other.tld/24", "mx//64", "exists:%{i}._spf.other.tld"]'));
  const spf = ok.plan.dns.find((r) => r.id === "spf:monmagasin.tld")!.content;
  assert.equal(spf, "v=spf1 include:_spf.relais.tld include:_spf.other.tld ip4:192.0.2.0/24 ip6:2001:db8::/32 a:mail.other.tld/24 mx//64 exists:%{i}._spf.other.tld -all");
});

test("conflicts: TXT strings are cut at 255 bytes, not 255 UTF-16 units, and never inside a character", () => {
  const parts = txtStrings("é".repeat(200));
  assert.deepEqual(parts.map((p) => Buffer.byteLength(p)), [254, 146]);
  assert.equal(parts.join(""), "é".repeat(200));
  assert.deepEqual(txtStrings("a".repeat(510)).map((p) => p.length), [255, 255]);
  assert.deepEqual(txtStrings(""), [""]);
});

test("conflicts: duplicate DKIM selectors (two records, one Pulumi URN) are refused", () => {
  assert.equal(
    refusal(exampleWith("selectors: [e2026a]", "selectors: [e2026a, e2026a]")),
    `${FILE}:20:27: domains."entreprise.tld".dkim.selectors[1]: selector e2026a is listed twice (each one is a DNS record of its own)`,
  );
  const { plan } = accepted(exampleText());
  assert.equal(new Set(plan.dns.map((r) => r.id)).size, plan.dns.length);
});

// ---------------------------------------------------------------- unchecked text

test("text: locations, server types and SSH sources have a grammar (no forged rows in hosts.txt)", () => {
  assert.match(
    refusal(exampleWith("location: fsn1, serverType: cx23, mxPriority: 10", 'location: "fsn1\\nevil", serverType: cx23, mxPriority: 10')),
    /:32:20: relays\.mx1\.location: a location may not contain a line break/,
  );
  assert.match(refusal(exampleWith("location: hel1, serverType: cx23", 'location: hel1, serverType: "cx23 | evil"')), /serverType: expected a Hetzner server type such as cx23/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [0.0.0.0/0]")), /:10:16: operator\.sshSources\[0\]: 0\.0\.0\.0\/0 is the whole Internet: list the networks that may reach SSH/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: ['::/0']")), /::\/0 is the whole Internet/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [not-a-cidr]")), /expected a network in CIDR notation such as 203\.0\.113\.0\/24/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [203.0.113.250/24]")), /203\.0\.113\.250\/24 has host bits set: write the network 203\.0\.113\.0\/24, or 203\.0\.113\.250\/32 for this one address/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: ['2001:db8::1/64']")), /has host bits set: write the network 2001:db8::\/64/);
  assert.match(refusal(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [203.0.113.250]")), /write a network in CIDR notation: 203\.0\.113\.250\/32/);
  accepted(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [203.0.113.0/24, '2001:db8:fa1::/48']"));
});

test("text: domains are LDH labels, IDN as punycode (xn-- TLDs too), at most 253 octets", () => {
  const as = (d: string) => exampleText().replace(/monmagasin\.tld/g, d);
  accepted(as("xn--80ak6aa92e.xn--p1ai"));
  assert.match(refusal(as("magasin.рф")), /write international domain names in punycode: magasin\.xn--p1ai/);
  assert.match(refusal(as("MonMagasin.tld")), /write domain names in lower case: monmagasin\.tld/);
  assert.match(refusal(as("mon_magasin.tld")), /label "mon_magasin" with characters DNS host names do not allow/);
  assert.match(refusal(as("xn--zz.tld")), /label "xn--zz" that is not valid punycode/);
  assert.match(refusal(as("ab--cd.tld")), /"--" in 3rd and 4th position, reserved for IDN/);
  assert.match(refusal(as(`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.tld`)), /characters long; a DNS name has at most 253/);
  assert.match(refusal(as("198.51.100.7")), /the last label may not be all digits/);
});

test("text: local parts are what a Postfix map can carry, at most 64 octets", () => {
  assert.match(refusal(withAlias(`${"a".repeat(65)}: x@y.tld`)), /a local part has at most 64 octets \(RFC 5321\); this one has 65/);
  assert.match(refusal(withAlias("John: x@y.tld")), /write local parts in lower case \(john\)/);
  assert.match(refusal(withAlias('"a b": x@y.tld')), /a local part may not contain spaces/);
  assert.match(refusal(withAlias('"a..b": x@y.tld')), /may not start or end with a dot, nor have two dots in a row/);
  assert.match(refusal(withAlias('"a:b": x@y.tld')), /a local part may not contain ":"/);
  assert.match(refusal(withAlias('"jöhn": x@y.tld')), /a local part must be ASCII/);
  assert.match(refusal(withAlias("srs0=abc: x@y.tld")), /may not start with SRS0= or SRS1=/);
  accepted(withAlias("o'brien+news: x@y.tld"));
});
