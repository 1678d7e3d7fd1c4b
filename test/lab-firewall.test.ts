// The plan's firewall rules applied in the lab (nftables in each host's namespace, as Hetzner
// applies them to the servers): a smarthost's port 25 answers the relays and nobody else, so
// an outside client cannot even try it as a relay, while submission stays open to the world
// and mail still flows relay -> smarthost -> destination, over IPv4 and IPv6.
import { describe, it, before, after, test } from "node:test";
import assert from "node:assert/strict";
import { setLabFirewall, type LabState } from "../src/lab/index.ts";
import { labSkipReason, inHost, hostOf, swaks, waitForMail } from "./support/lab.ts";
import { nftRuleset } from "../src/lab/firewall.ts";
import { examplePlan } from "./support/example.ts";
import "./support/labStacks.ts";
import { exampleLab, exampleLabStack } from "./support/exampleLab.ts";

// Its own stack, or the one the lab-example suite shares: the firewalls are loaded for this file's tests and taken out after.
const STACK = exampleLabStack("fw");
const skip = labSkipReason();
if (skip) console.log(`# lab firewall skipped: ${skip}`);

test("the nftables ruleset is the plan's firewall: default drop, one rule per plan rule id, each family from its sources", () => {
  const { plan } = examplePlan();
  const smart = nftRuleset(plan.firewalls.find((f) => f.id === "fw:smarthost")!);
  assert.match(smart, /policy drop;/);
  assert.match(smart, /ct state established,related accept/);
  assert.match(smart, /^ {4}ip saddr \{ 198\.51\.100\.11\/32, 198\.51\.100\.12\/32 \} tcp dport 25 accept comment "fw:smarthost:smtp"$/m);
  assert.match(smart, /^ {4}ip6 saddr \{ 2001:db8:100::11\/128, 2001:db8:100::12\/128 \} tcp dport 25 accept comment "fw:smarthost:smtp"$/m);
  assert.match(smart, /^ {4}tcp dport 587 accept comment "fw:smarthost:submission"$/m);
  assert.match(smart, /^ {4}ip saddr \{ 203\.0\.113\.250\/32 \} tcp dport 22 accept comment "fw:smarthost:ssh"$/m);
  assert.doesNotMatch(smart, /ip6 saddr[^\n]*dport 22/, "no IPv6 SSH source, no IPv6 SSH rule");
  const ids = [...smart.matchAll(/comment "(fw:[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(ids)], plan.firewalls.find((f) => f.id === "fw:smarthost")!.rules.map((r) => r.id));
  assert.throws(() => nftRuleset({ id: "fw:x", role: "relay", rules: [{ id: "fw:x:smtp", protocol: "tcp", port: 25, sources: ["<mx1.ipv4>/32"], reason: "" }] }), /not a CIDR/);
});

/** "open" (a 220 banner), "refused" (RST) or "filtered" (dropped: no answer within 15 s: generous, since a loaded machine can take seconds to start the probe and answer, and the probes run at once). */
async function probe(from: string, address: string, port: number): Promise<"open" | "refused" | "filtered" | string> {
  const r = await inHost(lab, from, ["timeout", "15", "bash", "-c", `exec 3<>"/dev/tcp/$0/$1" && { [ "$1" = 465 ] || head -c 3 <&3; }`, address, String(port)]);
  if (r.code === 0) return r.stdout === "220" || port === 465 ? "open" : `answered ${JSON.stringify(r.stdout)}`;
  if (r.code === 124) return "filtered";
  return /refused/i.test(r.stderr) ? "refused" : `failed: ${r.stderr.trim()}`;
}

let lab: LabState;
/** The report lines of the firewalls this file loaded. */
let loaded: string[] = [];
const addrs = (h: string) => [hostOf(lab, h).ipv4[0]!, hostOf(lab, h).ipv6[0]!];
type Probed = { a: string; want: string; got: Promise<string> };
/** out1's port 25 from outside (filtered) and from both relays (open), over IPv4 and IPv6. */
const smtpExpected = () =>
  addrs("out1").flatMap((a) => [
    { from: "sender", a, want: "filtered" },
    { from: "spammer", a, want: "filtered" },
    { from: "mx1", a, want: "open" },
    { from: "mx2", a, want: "open" },
  ]);
/** From the sender: out1's submission ports open, its 22 filtered (not in sshSources), mx1's 25 open (the MX). */
const sourceExpected = () => [
  ...addrs("out1").flatMap((a) => [
    { a, port: 587, want: "open" },
    { a, port: 465, want: "open" },
    { a, port: 22, want: "filtered" },
  ]),
  ...addrs("mx1").map((a) => ({ a, port: 25, want: "open" })),
];
let smtpProbes: (Probed & { from: string })[] = [];
let sourceProbes: (Probed & { port: number })[] = [];

describe("lab: the plan's firewalls in the namespaces", { skip }, () => {
  before(async () => {
    lab = await exampleLab(STACK);
    loaded = await setLabFirewall(lab, true);
    // Every probe of the two reachability tests at once, each test reading its own: a filtered
    // port costs the probe's whole bound, and the answers do not depend on each other.
    smtpProbes = smtpExpected().map((e) => ({ ...e, got: probe(e.from, e.a, 25) }));
    sourceProbes = sourceExpected().map((e) => ({ ...e, got: probe("sender", e.a, e.port) }));
  });
  after(async () => {
    if (lab) await setLabFirewall(lab, false);
  });

  it("loads one firewall per host, by role, and reports it", async () => {
    for (const h of ["mx1", "mx2"]) assert.ok(loaded.includes(`${h}: firewall fw:relay (smtp, icmp, ssh)`), `${h}: ${loaded.join("; ")}`);
    for (const h of ["out1", "out2", "spam1"]) assert.ok(loaded.includes(`${h}: firewall fw:smarthost (smtp, submission, submissions, icmp, ssh)`));
    const listed = await inHost(lab, "out1", ["nft", "list", "chain", "inet", "facteur", "input"]);
    assert.match(listed.stdout, /comment "fw:smarthost:smtp"/);
  });

  it("a smarthost's port 25 is unreachable from outside, over IPv4 and IPv6, and answers both relays", async () => {
    const got = await Promise.all(smtpProbes.map((p) => p.got));
    assert.deepEqual(got.map((g, i) => `${smtpProbes[i]!.from} -> out1 ${smtpProbes[i]!.a}:25 ${g}`), smtpProbes.map((e) => `${e.from} -> out1 ${e.a}:25 ${e.want}`));
  });

  it("submission (587, 465) stays reachable from anywhere; the relays' port 25 too; SSH only from operator.sshSources", async () => {
    const got = await Promise.all(sourceProbes.map((p) => p.got));
    assert.deepEqual(got.map((g, i) => `sender -> ${sourceProbes[i]!.a}:${sourceProbes[i]!.port} ${g}`), sourceProbes.map((e) => `sender -> ${e.a}:${e.port} ${e.want}`));
  });

  it("mail still flows through the firewalls: outside -> relay (alias, SRS) -> smarthost -> destination", async () => {
    const token = `fw-${process.pid}-${Date.now() % 100000}`;
    const r = await swaks(lab, ["--server", hostOf(lab, "mx1").ipv4[0]!, "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "john-doe@entreprise.tld", "--header", `Subject: ${token}`]);
    assert.equal(r.code, 0, r.transcript);
    const got = await waitForMail(lab, "john@doe.tld", token, 1, 90_000);
    assert.equal(got.length, 1, "delivered once, through a smarthost behind its firewall");
  });

  it("switched off on the running stack, the firewalls are gone: out1's port 25 answers the outside again (a stack shared with other files is as they expect)", async () => {
    assert.deepEqual(await setLabFirewall(lab, false), []);
    const listed = await inHost(lab, "out1", ["nft", "list", "tables"]);
    assert.doesNotMatch(listed.stdout, /facteur/);
    assert.deepEqual(await Promise.all(addrs("out1").map((a) => probe("sender", a, 25))), ["open", "open"]);
    // And on again: loading twice is loading once (the file replaces the whole table).
    assert.equal((await setLabFirewall(lab, true)).length, 5);
    assert.equal((await setLabFirewall(lab, true)).length, 5);
    const rules = await inHost(lab, "out1", ["nft", "list", "chain", "inet", "facteur", "input"]);
    assert.equal(rules.stdout.match(/comment "fw:smarthost:smtp"/g)?.length, 2, "one rule per family, not loaded twice");
  });
});
