// The model's defaults and the plan's routing in the cases the example does not reach: what
// the operator gets when an option is left out, where mail goes when the own pool is drained
// or the spam lane is an external relay, and the address helpers behind PTRs and DNSBL names.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { canonicalIp, expandIpv6, isPlaceholder, ptrName, reversedLabels, reverseName } from "../src/plan/addresses.ts";
import { loadAddressBook, parseAddressBook } from "../src/plan/addressBookFile.ts";
import { examplePlan, exampleWith, EXAMPLE_ADDRESSES } from "./support/example.ts";

const MINIMAL = `version: 1
operator:
  domain: relais.tld
  roleMailbox: ops@gestion.tld
  dkim: { selectors: [f2026a, f2026b] }
domains:
  b.tld:
    aliases: { x: y@ailleurs.tld }
  a.tld:
    aliases: { x: y@ailleurs.tld }
relays:
  mx2: { location: nbg1, serverType: cx23 }
  mx1: { location: fsn1, serverType: cx23 }
backupMx:
  - { host: mx-z.fai.tld, priority: 50 }
  - { host: mx-a.fai.tld, priority: 50 }
  - { host: mx-b.fai.tld, priority: 20 }
smarthosts:
  out1: { kind: own, location: fsn1, serverType: cx23 }
  ext: { kind: external, host: smtp.ext.tld }
`;

test("defaults: what an operator gets for every option left out", () => {
  const m = buildModel(parseSpec(MINIMAL, "m.yaml"));
  assert.deepEqual(m.operator.dkim, { selectors: ["f2026a", "f2026b"], active: "f2026b" }, "the last selector signs");
  assert.deepEqual(m.operator.sshSources, []);
  assert.deepEqual(m.domains.map((d) => [d.name, d.operator, d.relays, d.dmarc, d.spfExtra, d.dkim?.active]), [
    ["a.tld", false, ["mx1", "mx2"], { policy: "quarantine", pct: 100 }, [], undefined],
    ["b.tld", false, ["mx1", "mx2"], { policy: "quarantine", pct: 100 }, [], undefined],
    ["relais.tld", true, ["mx1", "mx2"], { policy: "quarantine", pct: 100 }, [], "f2026b"],
  ]);
  assert.deepEqual(m.relays.map((r) => [r.name, r.fqdn, r.mxPriority]), [["mx1", "mx1.relais.tld", 10], ["mx2", "mx2.relais.tld", 10]]);
  assert.deepEqual(m.backupMx.map((b) => b.host), ["mx-b.fai.tld", "mx-a.fai.tld", "mx-z.fai.tld"], "by priority, then name");
  assert.deepEqual(m.smarthosts, [{ name: "out1", fqdn: "out1.relais.tld", location: "fsn1", serverType: "cx23", preference: 10, drain: false, lane: "clean" }]);
  assert.deepEqual(m.externalRelays, [{ name: "ext", host: "smtp.ext.tld", port: 587, tls: "starttls", preference: 100, drain: false, lane: "clean", nexthop: "[smtp.ext.tld]:587" }]);
  assert.deepEqual(m.submissionUsers, []);
  assert.deepEqual(m.policy, {
    dailyQuota: 300,
    pacing: { default: { rateDelay: "1s", concurrency: 2 }, domains: [] },
    dnsbl: [],
    inbound: { softErrorLimit: 3, hardErrorLimit: 12, connectionCountLimit: 20, connectionRateLimit: 120, dnsblThreshold: 1 },
    spam: { tagScore: 6, rejectScore: 15 },
    ttl: 3600,
    outboundTls: { dane: false, mtaSts: false },
    deliveryHealth: { queued: { warning: 100, critical: 1000 }, oldestSeconds: { warning: 3600, critical: 21600 }, pushback: { warning: 1, critical: 10 } },
  });
  // Role addresses for every domain, the operator's included, each one marked as added.
  for (const d of m.domains) for (const r of ["abuse", "hostmaster", "postmaster"]) assert.deepEqual(d.aliases.find((a) => a.address === `${r}@${d.name}`), { address: `${r}@${d.name}`, targets: ["ops@gestion.tld"], deliversTo: ["ops@gestion.tld"], role: true });
  assert.deepEqual(m.domains[0]!.aliases.map((a) => a.address), ["abuse@a.tld", "hostmaster@a.tld", "postmaster@a.tld", "x@a.tld"], "sorted by address");
  const p = buildPlan(m);
  assert.equal(p.dns.find((r) => r.id === "a:mx1")!.content, "<mx1.ipv4>");
  assert.equal(p.dns.find((r) => r.id === "spf-pool")!.content, "v=spf1 ip4:<out1.ipv4> ip6:<out1.ipv6> -all", "an external relay without spfInclude adds no term");
  assert.deepEqual(p.dns.filter((r) => r.id.startsWith("mx:a.tld:")).map((r) => `${r.priority} ${r.content}`), ["50 mx-a.fai.tld", "20 mx-b.fai.tld", "50 mx-z.fai.tld", "10 mx1.relais.tld", "10 mx2.relais.tld"], "one per relay and backup MX, by id");
  assert.equal(p.dns.find((r) => r.id === "dkim:relais.tld:f2026a")!.reason, "DKIM key f2026a, kept published while signatures made with it may still be checked");
  assert.ok(p.dns.every((r) => r.ttl === 3600));
});

test("a signed operator zone gives every own host a managed TLS key, tls1 unless the host names its own", () => {
  const signed = MINIMAL.replace("  dkim: { selectors: [f2026a, f2026b] }\n", "  dkim: { selectors: [f2026a, f2026b] }\n  dnssec: true\n").replace("mx2: { location: nbg1, serverType: cx23 }", "mx2: { location: nbg1, serverType: cx23, tlsKey: { current: k1, next: k2 } }");
  const m = buildModel(parseSpec(signed, "m.yaml"));
  assert.deepEqual([...m.relays, ...m.smarthosts].map((h) => [h.name, h.tlsKey]), [["mx1", { current: "tls1" }], ["mx2", { current: "k1", next: "k2" }], ["out1", { current: "tls1" }]]);
  const unsigned = buildModel(parseSpec(MINIMAL, "m.yaml"));
  assert.deepEqual([...unsigned.relays, ...unsigned.smarthosts].map((h) => h.tlsKey), [undefined, undefined, undefined], "no signed zone: no managed key unless asked");
});

test("a pool of external relays only: the relays' firewall, and none for smarthosts the stack does not run", () => {
  const external = MINIMAL.replace("  out1: { kind: own, location: fsn1, serverType: cx23 }\n", "");
  const plan = buildPlan(buildModel(parseSpec(external, "m.yaml")));
  assert.deepEqual(plan.hosts.map((h) => h.name), ["mx1", "mx2"]);
  assert.deepEqual(plan.firewalls.map((f) => f.id), ["fw:relay"]);
  assert.deepEqual(buildPlan(buildModel(parseSpec(MINIMAL, "m.yaml"))).firewalls.map((f) => f.id), ["fw:relay", "fw:smarthost"]);
});

test("policy.ttl, DMARC policy none and a domain's own SPF terms reach the records", () => {
  const { plan } = examplePlan(
    exampleWith("  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  ttl: 300\n  dmarc: { policy: none }").replace("    dkim:\n      selectors: [m2026a]", "    dkim:\n      selectors: [m2026a]\n    spf:\n      extra: [include:_spf.shop.tld, ip4:192.0.2.7]"),
  );
  assert.ok(plan.dns.every((r) => r.ttl === 300));
  const dm = plan.dns.find((r) => r.id === "dmarc:monmagasin.tld")!;
  assert.equal(dm.content, "v=DMARC1; p=none; adkim=r; aspf=r");
  assert.equal(dm.reason, "DMARC policy for monmagasin.tld: receivers only report mail that fails SPF and DKIM alignment");
  assert.equal(plan.dns.find((r) => r.id === "spf:monmagasin.tld")!.content, "v=spf1 include:_spf.relais.tld include:_spf.shop.tld ip4:192.0.2.7 -all");
  assert.equal(plan.dns.find((r) => r.id === "spf:relais.tld")!.reason, "SPF of the SRS domain: forwarded mail's rewritten senders pass at the destination");
});

test("routing: with every own clean smarthost drained, the relays hand mail to the first external relay, with no fallback to itself", () => {
  const { plan } = examplePlan(
    exampleWith("  out1: { kind: own, location: fsn1, serverType: cx23 }\n  out2: { kind: own, location: hel1, serverType: cx23 }", "  out1: { kind: own, location: fsn1, serverType: cx23, drain: true }\n  out2: { kind: own, location: hel1, serverType: cx23, drain: true }").replace(
      "    spfInclude: _spf.fai.tld\n",
      "    spfInclude: _spf.fai.tld\n  backup:\n    kind: external\n    host: smtp.backup.tld\n    preference: 150\n  old:\n    kind: external\n    host: smtp.old.tld\n    drain: true\n",
    ),
  );
  assert.equal(plan.routing.relayhost, "[smtp.fai.tld]:587");
  assert.deepEqual(plan.routing.fallbackRelays, ["[smtp.backup.tld]:587"], "not the relayhost itself, not a drained one");
  assert.deepEqual(plan.dns.filter((r) => r.name === "pool.relais.tld"), []);
  assert.deepEqual(plan.routing.saslCredentials, [{ nexthop: "[smtp.fai.tld]:587", username: "relais@fai.tld", passwordSecret: "faiRelayPassword" }]);
});

test("routing: an external relay can be the spam lane; without any spam-lane host there is none", () => {
  const ext = examplePlan(
    exampleWith("  spam1: { kind: own, location: fsn1, serverType: cx23, lane: spam }\n", "  spamext:\n    kind: external\n    host: smtp.spam.tld\n    lane: spam\n"),
  );
  assert.equal(ext.plan.routing.spamRelayhost, "[smtp.spam.tld]:587");
  assert.deepEqual(ext.plan.routing.fallbackRelays, ["[smtp.fai.tld]:587"], "a spam-lane relay is no fallback for clean mail");
  const drained = examplePlan(exampleWith("spam1: { kind: own, location: fsn1, serverType: cx23, lane: spam }", "spam1: { kind: own, location: fsn1, serverType: cx23, lane: spam, drain: true }"));
  assert.equal(drained.plan.routing.spamRelayhost, undefined);
  assert.deepEqual(drained.plan.dns.filter((r) => r.name === "spam-pool.relais.tld"), []);
});

test("plan hosts: relays are MX for their domains, smarthosts carry lane and drain; relay clients are the relays' two addresses", () => {
  const { plan } = examplePlan(exampleWith("      contact: john-doe@monmagasin.tld", "      contact: john-doe@monmagasin.tld\n    relays: [mx2]"));
  assert.deepEqual(plan.hosts.map((h) => [h.name, h.role, h.helo, h.mxFor.join(","), h.lane ?? "", String(h.drain ?? "")]), [
    ["mx1", "relay", "mx1.relais.tld", "entreprise.tld,relais.tld", "", ""],
    ["mx2", "relay", "mx2.relais.tld", "entreprise.tld,monmagasin.tld,relais.tld", "", ""],
    ["out1", "smarthost", "out1.relais.tld", "", "clean", "false"],
    ["out2", "smarthost", "out2.relais.tld", "", "clean", "false"],
    ["spam1", "smarthost", "spam1.relais.tld", "", "spam", "false"],
  ]);
  assert.deepEqual(plan.hosts.map((h) => [h.location, h.serverType]), [["fsn1", "cx23"], ["nbg1", "cx23"], ["fsn1", "cx23"], ["hel1", "cx23"], ["fsn1", "cx23"]]);
  assert.deepEqual(plan.routing.relayClients, ["198.51.100.11", "2001:db8:100::11", "198.51.100.12", "2001:db8:100::12"]);
  assert.deepEqual(plan.ptrs.slice(0, 2), [
    { id: "ptr:mx1:ipv4", host: "mx1", family: "ipv4", address: "198.51.100.11", name: "mx1.relais.tld" },
    { id: "ptr:mx1:ipv6", host: "mx1", family: "ipv6", address: "2001:db8:100::11", name: "mx1.relais.tld" },
  ]);
  assert.equal(plan.operatorDomain, "relais.tld");
  assert.deepEqual([plan.routing.poolName, plan.routing.spamPoolName, plan.routing.srsDomain], ["pool.relais.tld", "spam-pool.relais.tld", "relais.tld"]);
});

test("addresses: canonical forms, reversed labels and PTR names for both families", () => {
  assert.equal(canonicalIp("2001:DB8:0:0::1"), "2001:db8::1");
  assert.equal(canonicalIp("not-an-ip"), "not-an-ip");
  assert.equal(reversedLabels("203.0.113.66"), "66.113.0.203");
  assert.equal(reversedLabels("2001:DB8::1"), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
  assert.throws(() => reversedLabels("mx1"), /not an IP address: mx1/);
  assert.equal(ptrName("203.0.113.66"), "66.113.0.203.in-addr.arpa");
  assert.match(ptrName("2001:db8::1"), /\.8\.b\.d\.0\.1\.0\.0\.2\.ip6\.arpa$/);
  assert.equal(reverseName("<mx1.ipv6>"), undefined);
  assert.ok(isPlaceholder("<mx1.ipv4>") && !isPlaceholder("mx1.ipv4>") && !isPlaceholder("<mx1.ipv4") && !isPlaceholder("x<a>") && !isPlaceholder("<a>b"));
  assert.equal(expandIpv6("2001:db8::"), "2001:0db8:0000:0000:0000:0000:0000:0000");
  assert.equal(expandIpv6("::1"), "0000:0000:0000:0000:0000:0000:0000:0001");
  assert.equal(expandIpv6("2001:db8:1:2:3:4:5:6"), "2001:0db8:0001:0002:0003:0004:0005:0006");
});

test("address books: a YAML book, a whole `pulumi stack output --json`, and their errors with file:line:col", () => {
  const { model } = examplePlan();
  assert.deepEqual(parseAddressBook("mx1: { ipv4: 198.51.100.11 }\nout1: { ipv6: '2001:db8:113::21' }\n", "a.yaml", model), { mx1: { ipv4: "198.51.100.11" }, out1: { ipv6: "2001:db8:113::21" } });
  const output = JSON.stringify({ hosts: ["mx1"], addresses: { mx1: EXAMPLE_ADDRESSES.mx1 }, dns: [] }, null, 2);
  assert.deepEqual(parseAddressBook(output, "out.json", model), { mx1: EXAMPLE_ADDRESSES.mx1 });
  assert.throws(() => parseAddressBook("mx9: { ipv4: 198.51.100.11 }\n", "a.yaml", model), (e: unknown) => e instanceof SpecError && e.message === "a.yaml:1:6: mx9: unknown host mx9; the stack's hosts are mx1, mx2, out1, out2, spam1");
  assert.throws(() => parseAddressBook(JSON.stringify({ addresses: { mx9: { ipv4: "198.51.100.11" } } }), "o.json", model), /o\.json:1:\d+: addresses\.mx9: unknown host mx9/);
  assert.throws(() => parseAddressBook("mx1: { ipv6: 198.51.100.11 }\n", "a.yaml", model), /a\.yaml:1:14: mx1\.ipv6: not an IPv6 address \(expected one such as 2001:db8::10\)/);
  assert.throws(() => parseAddressBook("mx1: { ipv4: '2001:db8::1' }\n", "a.yaml", model), /mx1\.ipv4: not an IPv4 address \(expected one such as 198\.51\.100\.10\)/);
  assert.throws(() => parseAddressBook("mx1: { ipv4: 198.51.100.11, mac: x }\n", "a.yaml", model), /mx1\.mac: unknown key "mac"/);
  assert.throws(() => parseAddressBook("mx1: [\n", "a.yaml", model), /a\.yaml:\d+:\d+: YAML: /);
  // A host named "addresses" is a book entry, not a stack output.
  assert.throws(() => parseAddressBook("addresses: { ipv4: 198.51.100.11 }\n", "a.yaml", model), /addresses: unknown host addresses/);
  assert.throws(() => parseAddressBook("addresses: { ipv6: '2001:db8::1' }\n", "a.yaml", model), /addresses: unknown host addresses/);
  assert.throws(() => parseAddressBook("addresses: none\n", "a.yaml", model), (e: unknown) => e instanceof SpecError && /^a\.yaml:1:12: addresses: expected a map, got the text "none"$/.test(e.message));
  assert.throws(() => parseAddressBook("addresses: ~\n", "a.yaml", model), (e: unknown) => e instanceof SpecError && /^a\.yaml:1:\d+: addresses: /.test(e.message), "an empty entry is an error at its line, not a crash");
  assert.throws(() => parseAddressBook("mx1: { ipv6: 'fe80::1%eth0' }\n", "a.yaml", model), (e: unknown) => e instanceof SpecError && e.message.includes("mx1.ipv6: fe80::1%eth0 carries an interface zone (%...): an address book holds the hosts' public addresses"));
  // The known hosts are listed in name order, whatever their roles.
  const zModel = buildModel(parseSpec(MINIMAL.replace("mx2: { location: nbg1", "zz: { location: nbg1"), "m.yaml"));
  assert.throws(() => parseAddressBook("nope: { ipv4: 198.51.100.11 }\n", "a.yaml", zModel), /the stack's hosts are mx1, out1, zz$/);
  const dir = mkdtempSync(join(tmpdir(), "facteur-book-"));
  try {
    writeFileSync(join(dir, "b.yaml"), "mx2: { ipv4: 198.51.100.12 }\n");
    assert.deepEqual(loadAddressBook(join(dir, "b.yaml"), model), { mx2: { ipv4: "198.51.100.12" } });
    assert.throws(() => loadAddressBook(join(dir, "none.yaml"), model), /none\.yaml:1:1: cannot read address book: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
