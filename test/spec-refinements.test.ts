// The schema's own rules beyond types (src/spec/schema.ts refinements), each with the exact
// message and place a spec author reads, and the boundary just inside it accepted: lists that
// must not repeat an entry, levels that must be in order, scores and durations within what
// rspamd and Postfix do with them, warm-up steps in date order, a next key that is another key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { exampleWith, specRefusal } from "./support/example.ts";
import { parseSpec } from "../src/spec/load.ts";

const DNSBL = "  dnsbl: [bl.lab.tld]";
const withPolicy = (line: string) => exampleWith(DNSBL, `${DNSBL}\n${line}`);
const OUT2 = "out2: { kind: own, location: hel1, serverType: cx23 }";
const withOut2 = (extra: string) => exampleWith(OUT2, OUT2.replace(" }", `, ${extra} }`));
const MX1 = "mx1: { location: fsn1, serverType: cx23, mxPriority: 10 }";
const SSH = "sshSources: [203.0.113.250/32]";
const MONMAGASIN_DKIM = "      selectors: [m2026a]";

test("lists whose entries are DNS records, firewall rules or blocklists refuse an entry written twice, naming the second", () => {
  const cases: [string, string][] = [
    [exampleWith(MONMAGASIN_DKIM, `${MONMAGASIN_DKIM}\n    spf:\n      extra: [include:_spf.other.tld, ip4:192.0.2.1, include:_spf.other.tld]`), 's.yaml:31:54: domains."monmagasin.tld".spf.extra[2]: include:_spf.other.tld is listed twice'],
    [exampleWith(SSH, "sshSources: [203.0.113.250/32, 198.51.100.0/24, 203.0.113.250/32]"), "s.yaml:10:51: operator.sshSources[2]: 203.0.113.250/32 is listed twice"],
    [exampleWith(SSH, `${SSH}\n  monitoringSources: [198.51.100.7/32, 198.51.100.7/32]`), "s.yaml:11:40: operator.monitoringSources[1]: 198.51.100.7/32 is listed twice"],
    [exampleWith(DNSBL, "  dnsbl: [bl.lab.tld, zen.spamhaus.org, bl.lab.tld]"), "s.yaml:61:41: policy.dnsbl[2]: bl.lab.tld is listed twice: postscreen would count one list twice against the threshold"],
  ];
  for (const [text, why] of cases) assert.equal(specRefusal(text), why);
  // Distinct entries pass, in any order.
  const ok = parseSpec(exampleWith(SSH, "sshSources: [198.51.100.0/24, 203.0.113.250/32]\n  monitoringSources: [198.51.100.7/32, 198.51.100.8/32]"), "s.yaml");
  assert.deepEqual(ok.operator.sshSources, ["198.51.100.0/24", "203.0.113.250/32"]);
  assert.deepEqual(ok.operator.monitoringSources, ["198.51.100.7/32", "198.51.100.8/32"]);
  assert.deepEqual(parseSpec(exampleWith(DNSBL, "  dnsbl: [bl.lab.tld, zen.spamhaus.org]"), "s.yaml").policy.dnsbl, ["bl.lab.tld", "zen.spamhaus.org"]);
});

test("delivery health levels: critical at least warning, both values shown (either may be a default); equal levels pass", () => {
  const cases: [string, string][] = [
    ["  deliveryHealth: { queued: { warning: 10, critical: 9 } }", "s.yaml:62:54: policy.deliveryHealth.queued.critical: critical (9) must be at least warning (10)"],
    ["  deliveryHealth: { queued: { warning: 1001 } }", "s.yaml:62:29: policy.deliveryHealth.queued.critical: critical (1000, the default) must be at least warning (1001)"],
    ["  deliveryHealth: { pushback: { warning: 11 } }", "s.yaml:62:31: policy.deliveryHealth.pushback.critical: critical (10, the default) must be at least warning (11)"],
    ["  deliveryHealth: { oldest: { warning: 2h, critical: 119m } }", "s.yaml:62:54: policy.deliveryHealth.oldest.critical: critical (119m) must be at least warning (2h)"],
    ["  deliveryHealth: { oldest: { warning: 7h } }", "s.yaml:62:29: policy.deliveryHealth.oldest.critical: critical (6h, the default) must be at least warning (7h)"],
    ["  deliveryHealth: { oldest: { critical: 5d } }", "s.yaml:62:41: policy.deliveryHealth.oldest.critical: 5d is at least Postfix's queue lifetime (maximal_queue_lifetime, 5d): no message stays queued that long (it bounces), so the level would never be reached"],
  ];
  for (const [line, why] of cases) assert.equal(specRefusal(withPolicy(line)), why);
  const ok = parseSpec(withPolicy("  deliveryHealth: { queued: { warning: 10, critical: 10 }, oldest: { warning: 2h, critical: 120m }, pushback: { warning: 3, critical: 3 } }"), "s.yaml");
  assert.deepEqual(ok.policy.deliveryHealth, { queued: { warning: 10, critical: 10 }, oldest: { warning: "2h", critical: "120m" }, pushback: { warning: 3, critical: 3 } });
  assert.deepEqual(parseSpec(withPolicy("  deliveryHealth: { oldest: { warning: 4d, critical: 7199m } }"), "s.yaml").policy.deliveryHealth.oldest, { warning: "4d", critical: "7199m" });
});

test("spam scores are 0 to 1000 with at most two decimals, as rspamd's actions compare them", () => {
  const cases: [string, string][] = [
    ["  spam: { tagScore: -1 }", "s.yaml:62:21: policy.spam.tagScore: must be at least 0"],
    ["  spam: { rejectScore: 1000.5 }", "s.yaml:62:24: policy.spam.rejectScore: must be at most 1000 (rspamd scores are sums of rule weights; above 1000 the action would never trigger)"],
    ["  spam: { rejectScore: 7.555 }", "s.yaml:62:24: policy.spam.rejectScore: write a score with at most two decimals, such as 6 or 7.5"],
  ];
  for (const [line, why] of cases) assert.equal(specRefusal(withPolicy(line)), why);
  assert.deepEqual(parseSpec(withPolicy("  spam: { tagScore: 0, rejectScore: 1000 }"), "s.yaml").policy.spam, { tagScore: 0, rejectScore: 1000 });
  assert.deepEqual(parseSpec(withPolicy("  spam: { tagScore: 7.55, rejectScore: 15.1 }"), "s.yaml").policy.spam, { tagScore: 7.55, rejectScore: 15.1 });
});

test("a pacing delay stays under Postfix's queue lifetime (5d = 7200m): at it, a second message would bounce", () => {
  assert.equal(
    specRefusal(exampleWith("grosfai.tld: { rateDelay: 5s", "grosfai.tld: { rateDelay: 7200m")),
    's.yaml:60:33: policy.pacing.domains."grosfai.tld".rateDelay: 7200m is at least Postfix\'s queue lifetime (maximal_queue_lifetime, 5d): a second message to the same domain would wait that long and bounce',
  );
  assert.equal(parseSpec(exampleWith("grosfai.tld: { rateDelay: 5s", "grosfai.tld: { rateDelay: 7199m"), "s.yaml").policy.pacing.domains["grosfai.tld"]!.rateDelay, "7199m");
});

test("a warm-up has steps, one per day at most, in date order; a next TLS key is another key", () => {
  assert.equal(specRefusal(withOut2("warmup: []")), "s.yaml:40:64: smarthosts.out2.warmup: a warm-up schedule needs at least one step");
  assert.equal(
    specRefusal(withOut2("warmup: [{ from: 2026-03-02, weight: 1 }, { from: 2026-03-02, weight: 2 }]")),
    "s.yaml:40:106: smarthosts.out2.warmup[1].from: 2026-03-02 is not after the previous step's 2026-03-02: list the steps in date order, one per day at most",
  );
  const ok = parseSpec(withOut2("warmup: [{ from: 2026-03-02, weight: 1 }, { from: 2026-03-03, weight: 2 }]"), "s.yaml").smarthosts.out2!;
  assert.ok(ok.kind === "own");
  assert.deepEqual(ok.warmup?.map((s) => s.from), ["2026-03-02", "2026-03-03"]);
  assert.equal(specRefusal(exampleWith(MX1, MX1.replace(" }", ", tlsKey: { current: k1, next: k1 } }"))), "s.yaml:32:89: relays.mx1.tlsKey.next: next must name another key than current");
  assert.deepEqual(parseSpec(exampleWith(MX1, MX1.replace(" }", ", tlsKey: { current: k1, next: k2 } }")), "s.yaml").relays.mx1!.tlsKey, { current: "k1", next: "k2" });
});
