// The plan for the example stack: every DNS record with its reason, PTRs consistent with
// A/AAAA and HELO (story 5), and routing that never lets a relay send directly (story 1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { examplePlan, exampleWith } from "./support/example.ts";
import { reverseName, expandIpv6 } from "../src/plan/addresses.ts";
import { quoteTxt, txtStrings } from "../src/plan/dns.ts";

const rec = (plan: ReturnType<typeof examplePlan>["plan"], id: string) => {
  const r = plan.dns.find((d) => d.id === id);
  assert.ok(r, `no record ${id}`);
  return r;
};

test("MX: both relays by priority, then the ISP's backup MX", () => {
  const { plan } = examplePlan();
  const mx = plan.dns.filter((r) => r.type === "MX" && r.name === "entreprise.tld").map((r) => [r.priority, r.content]);
  assert.deepEqual(mx, [
    [50, "mx-backup.fai.tld"],
    [10, "mx1.relais.tld"],
    [20, "mx2.relais.tld"],
  ]);
});

test("SPF: every domain includes one pool record, strict -all; the pool lists every smarthost address", () => {
  const { plan } = examplePlan();
  for (const d of ["entreprise.tld", "monmagasin.tld", "relais.tld"])
    assert.equal(rec(plan, `spf:${d}`).content, "v=spf1 include:_spf.relais.tld -all");
  const pool = rec(plan, "spf-pool");
  assert.equal(pool.name, "_spf.relais.tld");
  assert.equal(pool.content, "v=spf1 ip4:203.0.113.21 ip6:2001:db8:113::21 ip4:203.0.113.22 ip6:2001:db8:113::22 ip4:203.0.113.31 ip6:2001:db8:113::31 include:_spf.fai.tld -all");
  assert.ok(!pool.content.includes("198.51.100."), "relays never send, so they are not in SPF");
});

test("DKIM and DMARC records per domain", () => {
  const { plan } = examplePlan();
  assert.equal(rec(plan, "dkim:relais.tld:f2026a").content, "v=DKIM1; k=rsa; p=MIIBfake");
  assert.equal(rec(plan, "dkim:entreprise.tld:e2026a").name, "e2026a._domainkey.entreprise.tld");
  assert.equal(rec(plan, "dkim:entreprise.tld:e2026a").content, "v=DKIM1; k=rsa; p=<dkim:entreprise.tld/e2026a>", "an unknown key is a named placeholder");
  assert.equal(rec(plan, "dmarc:entreprise.tld").content, "v=DMARC1; p=quarantine; rua=mailto:ops@gestion.tld; adkim=r; aspf=r");
  assert.equal(rec(plan, "dmarc:monmagasin.tld").content, "v=DMARC1; p=quarantine; adkim=r; aspf=r");
});

test("the outbound pool is an MX name with one record per active clean smarthost", () => {
  const { plan } = examplePlan();
  assert.deepEqual(
    plan.dns.filter((r) => r.name === "pool.relais.tld").map((r) => [r.id, r.content, r.priority]),
    [
      ["pool-mx:out1", "out1.relais.tld", 10],
      ["pool-mx:out2", "out2.relais.tld", 10],
    ],
  );
  assert.equal(plan.routing.relayhost, "pool.relais.tld");
  assert.deepEqual(
    plan.dns.filter((r) => r.name === "spam-pool.relais.tld").map((r) => [r.id, r.content]),
    [["spam-pool-mx:spam1", "spam1.relais.tld"]],
    "the spam lane is a pool of its own",
  );
  assert.equal(plan.routing.spamRelayhost, "spam-pool.relais.tld");
  assert.deepEqual(plan.routing.fallbackRelays, ["[smtp.fai.tld]:587"]);
});

test("draining a smarthost takes it out of the pool MX but keeps its addresses, PTRs and SPF", () => {
  const { plan } = examplePlan(exampleWith("out2: { kind: own, location: hel1, serverType: cx23 }", "out2: { kind: own, location: hel1, serverType: cx23, drain: true }"));
  assert.deepEqual(plan.dns.filter((r) => r.name === "pool.relais.tld").map((r) => r.id), ["pool-mx:out1"]);
  assert.ok(plan.dns.some((r) => r.id === "a:out2"));
  assert.ok(plan.ptrs.some((p) => p.id === "ptr:out2:ipv4"));
  assert.match(rec(plan, "spf-pool").content, /ip4:203\.0\.113\.22/, "queued mail may still leave from it");
});

test("every record has a stable id, a zone it belongs to and a one-line reason", () => {
  const { plan } = examplePlan();
  assert.equal(new Set(plan.dns.map((r) => r.id)).size, plan.dns.length);
  for (const r of plan.dns) {
    assert.ok(r.name === r.zone || r.name.endsWith(`.${r.zone}`), `${r.id}: ${r.name} is outside ${r.zone}`);
    assert.ok(r.reason.length > 10 && !r.reason.includes("\n"), `${r.id} needs a one-line reason`);
  }
  assert.equal(plan.dns.length, 37);
});

test("PTR for every sending address names the host, whose A/AAAA give the same address back, and HELO is that name", () => {
  const { plan } = examplePlan();
  assert.equal(plan.ptrs.length, 10);
  for (const p of plan.ptrs) {
    const host = plan.hosts.find((h) => h.name === p.host)!;
    const forward = plan.dns.find((r) => r.name === p.name && r.type === (p.family === "ipv4" ? "A" : "AAAA"));
    assert.equal(forward?.content, p.address, `${p.id}: ${p.name} must resolve back to ${p.address}`);
    assert.equal(host.helo, p.name);
  }
});

test("unknown addresses are named placeholders, never guesses", () => {
  const { plan } = examplePlan(undefined, { mx1: { ipv4: "198.51.100.11" } });
  assert.equal(rec(plan, "a:mx1").content, "198.51.100.11");
  assert.equal(rec(plan, "aaaa:mx1").content, "<mx1.ipv6>");
  assert.equal(rec(plan, "a:out1").content, "<out1.ipv4>");
});

test("reverse names for PTR zones", () => {
  assert.equal(reverseName("203.0.113.21"), "21.113.0.203.in-addr.arpa");
  assert.equal(expandIpv6("2001:db8::21"), "2001:0db8:0000:0000:0000:0000:0000:0021");
  assert.equal(reverseName("2001:db8::21"), "1.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  assert.equal(reverseName("<mx1.ipv4>"), undefined);
});

test("long TXT data (a 2048-bit DKIM key) is split into quoted strings of at most 255 bytes", () => {
  const key = `v=DKIM1; k=rsa; p=${"A".repeat(392)}`;
  const quoted = quoteTxt(key);
  const parts = [...quoted.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  assert.deepEqual(parts.map((p) => p.length), [255, key.length - 255]);
  assert.equal(parts.join(""), key);
  assert.equal(quoted, `"${key.slice(0, 255)}" "${key.slice(255)}"`);
  assert.deepEqual(txtStrings("B".repeat(255)), ["B".repeat(255)], "exactly 255 bytes is one string");
  assert.equal(quoteTxt(""), '""');
  assert.equal(quoteTxt('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
});
