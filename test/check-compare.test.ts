// The comparison logic of `facteur check`, against fake lookup results: a correct deployment is
// all OK, and each kind of drift is flagged with the right state and says what it expected.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runChecks, countSpf, dkimRecordProblem, type CheckResult } from "../src/check/checks.ts";
import { tableLookups, parseResolver } from "../src/check/lookups.ts";
import { ptrName, reversedLabels, canonicalIp } from "../src/plan/addresses.ts";
import { nagiosLine, worst, EXIT, textReport } from "../src/check/report.ts";
import { parseAddressBook } from "../src/plan/addressBookFile.ts";
import { examplePlan, liveRecordsOf, lookupTable } from "./support/check/fixtures.ts";
import type { SmtpProber } from "../src/check/smtp.ts";
import { buildPlan } from "../src/plan/plan.ts";

const { model, plan, addresses } = examplePlan();
const goodSmtp: SmtpProber = async (address) => {
  const h = plan.hosts.find((h) => h.ipv4 === address || h.ipv6 === address)!;
  return { banner: `${h.helo} ESMTP`, bannerName: h.helo, ehloName: h.helo };
};

async function check(mutate: (t: Record<string, string[] | string>) => void = () => {}, smtp: SmtpProber = goodSmtp, dnsbls = ["bl.lab.tld"], p = plan) {
  const table: Record<string, string[] | string> = lookupTable(liveRecordsOf(p, model));
  mutate(table);
  return runChecks(p, { lookups: tableLookups(table), dnsbls, smtp: { probe: smtp, port: 25 } });
}
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((r) => r.id === id);
  assert.ok(r, `no result ${id}; have ${rs.map((r) => r.id).join(" ")}`);
  return r;
};
const notOk = (rs: CheckResult[]) => rs.filter((r) => r.state !== "OK").map((r) => `${r.state} ${r.id}`);

test("a deployment that matches the plan is all OK, and every part is checked", async () => {
  const rs = await check();
  assert.deepEqual(notOk(rs), []);
  for (const r of plan.dns) byId(rs, r.id);
  for (const h of plan.hosts)
    for (const f of ["ipv4", "ipv6"]) {
      byId(rs, `ptr:${h.name}:${f}`);
      byId(rs, `fcrdns:${h.name}:${f}`);
      byId(rs, `smtp:${h.name}:${f}`);
      byId(rs, `dnsbl:bl.lab.tld:${h.name}:${f}`);
    }
  byId(rs, "spf-pool:lookups");
  assert.equal(worst(rs), "OK");
  assert.match(nagiosLine(rs), /^FACTEUR OK - \d+ checks ok \| ok=\d+ warning=0 critical=0 unknown=0$/);
});

test("reversed-octet and reversed-nibble names", () => {
  assert.equal(reversedLabels("203.0.113.5"), "5.113.0.203");
  assert.equal(ptrName("2001:db8::1"), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  assert.equal(canonicalIp("::ffff:127.0.53.1"), canonicalIp("::ffff:7f00:3501"));
  assert.equal(canonicalIp("2001:DB8:0::1"), "2001:db8::1");
});

test("a listed smarthost is CRITICAL, names the list and the TXT reason; a drained one is a WARNING", async () => {
  const out1 = plan.hosts.find((h) => h.name === "out1")!;
  const q = `${reversedLabels(out1.ipv4)}.bl.lab.tld`;
  const rs = await check((t) => {
    t[`A ${q}`] = ["127.0.0.2"];
    t[`TXT ${q}`] = ["Listed for spam, see https://bl.lab.tld/lookup"];
  });
  const r = byId(rs, "dnsbl:bl.lab.tld:out1:ipv4");
  assert.equal(r.state, "CRITICAL");
  assert.match(r.found!, /LISTED on bl\.lab\.tld \(127\.0\.0\.2\): Listed for spam/);
  assert.deepEqual(notOk(rs), ["CRITICAL dnsbl:bl.lab.tld:out1:ipv4"]);
  assert.match(nagiosLine(rs), /^FACTEUR CRITICAL - 1 critical \| ok=\d+ warning=0 critical=1 unknown=0$/);
  assert.equal(EXIT[worst(rs)], 2);

  const drained = { ...plan, hosts: plan.hosts.map((h) => (h.name === "out1" ? { ...h, drain: true } : h)) };
  const rs2 = await check((t) => { t[`A ${q}`] = ["127.0.0.2"]; }, goodSmtp, ["bl.lab.tld"], drained);
  assert.equal(byId(rs2, "dnsbl:bl.lab.tld:out1:ipv4").state, "WARNING");
});

test("IPv6 addresses are queried by reversed nibbles; --dnsbl lists are added; a refused query is UNKNOWN", async () => {
  const out2 = plan.hosts.find((h) => h.name === "out2")!;
  const rs = await check((t) => {
    t[`A ${reversedLabels(out2.ipv6)}.extra.bl`] = ["127.0.0.4"];
    t[`A ${reversedLabels(out2.ipv4)}.extra.bl`] = ["127.255.255.254"];
    t[`A ${reversedLabels(out2.ipv4)}.bl.lab.tld`] = "!ETIMEOUT";
  }, goodSmtp, ["bl.lab.tld", "extra.bl"]);
  assert.deepEqual(notOk(rs).sort(), ["CRITICAL dnsbl:extra.bl:out2:ipv6", "UNKNOWN dnsbl:bl.lab.tld:out2:ipv4", "UNKNOWN dnsbl:extra.bl:out2:ipv4"]);
  assert.match(byId(rs, "dnsbl:extra.bl:out2:ipv6").found!, /no TXT reason/);
});

test("wrong, missing and multiple PTRs; forward confirmation; PTR name not the HELO name", async () => {
  const [mx1, mx2, out1, out2] = ["mx1", "mx2", "out1", "out2"].map((n) => plan.hosts.find((h) => h.name === n)!);
  const rs = await check((t) => {
    t[`PTR ${ptrName(mx1!.ipv4)}`] = ["static.1.53.0.127.clients.hoster.tld"]; // provider default PTR
    delete t[`PTR ${ptrName(mx2!.ipv6)}`];
    t[`PTR ${ptrName(out1!.ipv4)}`] = ["out1.relais.tld", "mail.relais.tld"];
    t[`A out2.relais.tld`] = ["127.0.53.99"]; // forward name points elsewhere
  });
  assert.equal(byId(rs, "ptr:mx1:ipv4").state, "CRITICAL");
  assert.equal(byId(rs, "ptr:mx1:ipv4").expected, "mx1.relais.tld");
  assert.equal(byId(rs, "fcrdns:mx1:ipv4").state, "CRITICAL");
  assert.equal(byId(rs, "ptr:mx2:ipv6").state, "CRITICAL");
  assert.equal(byId(rs, "ptr:out1:ipv4").state, "WARNING");
  assert.equal(byId(rs, "fcrdns:out1:ipv4").state, "CRITICAL"); // mail.relais.tld resolves nowhere, and is not the HELO name
  assert.equal(byId(rs, "fcrdns:out2:ipv4").state, "CRITICAL");
  assert.equal(byId(rs, "a:out2").state, "CRITICAL");
  assert.match(byId(rs, "fcrdns:out2:ipv4").found!, /out2\.relais\.tld -> 127\.0\.53\.99/);
});

test("SMTP: banner or EHLO name other than the host's PTR/HELO name, and unreachable hosts, are CRITICAL", async () => {
  const rs = await check(undefined, async (address) => {
    const h = plan.hosts.find((h) => h.ipv4 === address || h.ipv6 === address)!;
    if (h.name === "mx2") return { error: "ECONNREFUSED" };
    if (h.name === "out1") return { banner: "localhost ESMTP", bannerName: "localhost", ehloName: "out1.relais.tld" };
    return { bannerName: h.helo, ehloName: h.helo };
  });
  assert.deepEqual(notOk(rs).sort(), ["CRITICAL smtp:mx2:ipv4", "CRITICAL smtp:mx2:ipv6", "CRITICAL smtp:out1:ipv4", "CRITICAL smtp:out1:ipv6"]);
  assert.match(byId(rs, "smtp:out1:ipv4").found!, /banner localhost/);
});

test("records: missing MX, extra MX, wrong A, changed SPF, DKIM shape, DMARC policy", async () => {
  const rs = await check((t) => {
    t["MX entreprise.tld"] = ["10 mx1.relais.tld", "50 mx-backup.fai.tld", "5 mx.attacker.tld"];
    t["AAAA mx1.relais.tld"] = ["2001:db8::dead"];
    t["TXT monmagasin.tld"] = ["v=spf1 include:_spf.relais.tld ~all", "google-site-verification=abc"];
    t["TXT e2026a._domainkey.entreprise.tld"] = ["v=DKIM1; k=rsa; p="];
    t["TXT m2026a._domainkey.monmagasin.tld"] = ["v=DKIM1; k=rsa; p=QUJD"];
    t["TXT _dmarc.entreprise.tld"] = ["v=DMARC1; p=none; rua=mailto:ops@gestion.tld; adkim=r; aspf=r"];
    t["TXT _dmarc.monmagasin.tld"] = ["v=DMARC1; p=quarantine; pct=50; adkim=r; aspf=r"];
  });
  assert.deepEqual(notOk(rs).sort(), [
    "CRITICAL aaaa:mx1",
    "CRITICAL dkim:entreprise.tld:e2026a",
    "CRITICAL dkim:monmagasin.tld:m2026a",
    "CRITICAL dmarc:entreprise.tld",
    "CRITICAL fcrdns:mx1:ipv6", // the AAAA no longer confirms the PTR
    "CRITICAL mx:entreprise.tld:mx2",
    "CRITICAL spf:monmagasin.tld",
    "WARNING dmarc:monmagasin.tld",
    "WARNING extra:aaaa:mx1.relais.tld",
    "WARNING extra:mx:entreprise.tld",
  ]);
  assert.match(byId(rs, "dkim:entreprise.tld:e2026a").note!, /revoked/);
  assert.match(byId(rs, "dkim:monmagasin.tld:m2026a").note!, /not the planned key|does not parse/);
  assert.equal(byId(rs, "spf:monmagasin.tld").expected, "v=spf1 include:_spf.relais.tld -all");
  const text = textReport(rs);
  assert.match(text.split("\n")[0]!, /^FACTEUR CRITICAL - 7 critical, 3 warning \| ok=\d+ warning=3 critical=7 unknown=0$/);
  assert.match(text, /CRITICAL mx:entreprise\.tld:mx2: MX entreprise\.tld: expected 20 mx2\.relais\.tld, found 10 mx1\.relais\.tld, 50 mx-backup\.fai\.tld, 5 mx\.attacker\.tld/);
});

test("DKIM: a plan without the public key checks presence and shape only", async () => {
  const noKeys = buildPlan(model, { addresses });
  const keyed = lookupTable(liveRecordsOf(plan, model));
  const rs = await runChecks(noKeys, { lookups: tableLookups(keyed), dnsbls: [] });
  assert.equal(byId(rs, "dkim:relais.tld:f2026a").state, "OK");
  assert.match(byId(rs, "dkim:relais.tld:f2026a").note!, /not compared/);
  assert.equal(dkimRecordProblem("k=rsa; v=DKIM1; p=QUJD"), "v= must be the first tag and be DKIM1");
  assert.equal(dkimRecordProblem("v=DKIM1; k=rsa"), "no p= tag");
  assert.match(dkimRecordProblem("v=DKIM1; p=QUJD")!, /does not parse/);
});

test("SPF lookup count flattens includes (RFC 7208 4.6.4) and flags >10, missing includes and loops", async () => {
  const deep = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`TXT i${i}.tld`, [`v=spf1 a mx include:i${i + 1}.tld -all`]]));
  deep["TXT i6.tld"] = ["v=spf1 ip4:192.0.2.1 -all"];
  const c = await countSpf("v=spf1 include:i0.tld -all", tableLookups(deep));
  assert.deepEqual([c.lookups, c.exceeded], [11, true], "a receiver stops at the 11th lookup");
  const within = await countSpf("v=spf1 include:i3.tld -all", tableLookups(deep));
  assert.deepEqual([within.lookups, within.exceeded], [1 + 3 * 3, false]);
  const missing = await countSpf("v=spf1 include:gone.tld include:down.tld mx -all", tableLookups({ "TXT down.tld": "!ESERVFAIL" }));
  assert.deepEqual([missing.lookups, missing.voidLookups, missing.problems, missing.unresolved], [3, 1, ["gone.tld has no SPF record (permerror)"], ["down.tld (ESERVFAIL)"]]);
  const loop = await countSpf("v=spf1 include:a.tld -all", tableLookups({ "TXT a.tld": ["v=spf1 include:a.tld -all"] }));
  assert.match(loop.problems[0]!, /loop/);

  const rs = await check((t) => {
    t["TXT _spf.fai.tld"] = ["v=spf1 include:i0.tld -all"];
    Object.assign(t, deep);
  });
  const r = byId(rs, "spf-pool:lookups");
  assert.equal(r.state, "CRITICAL");
  assert.equal(r.found, "more than 10 lookups (a receiver stops at the 11th: permerror), 0 void");
  assert.equal(byId(rs, "spf:entreprise.tld:lookups").state, "CRITICAL");
});

test("lookup failures are UNKNOWN, not OK and not CRITICAL", async () => {
  const rs = await check((t) => { t["TXT _dmarc.entreprise.tld"] = "!ETIMEOUT"; });
  assert.deepEqual(notOk(rs), ["UNKNOWN dmarc:entreprise.tld"]);
  assert.equal(EXIT[worst(rs)], 3);
});

test("flag parsing helpers: resolver forms and address books", () => {
  assert.equal(parseResolver("127.0.0.1"), "127.0.0.1");
  assert.equal(parseResolver("127.0.0.1:5353"), "127.0.0.1:5353");
  assert.equal(parseResolver("[::1]:5353"), "[::1]:5353");
  assert.equal(parseResolver("::1"), "::1");
  assert.throws(() => parseResolver("dns.example"), /expected IP/);
  assert.throws(() => parseResolver("127.0.0.1:99999"), /bad port/);
  assert.deepEqual(parseAddressBook('{"addresses": {"mx1": {"ipv4": "192.0.2.1", "ipv6": "2001:db8::1"}}}', "f", model), { mx1: { ipv4: "192.0.2.1", ipv6: "2001:db8::1" } });
  assert.deepEqual(parseAddressBook("mx1: {ipv4: 192.0.2.1}\n", "f", model), { mx1: { ipv4: "192.0.2.1" } });
  assert.throws(() => parseAddressBook("mx1: {ipv4: 2001:db8::1}\n", "f", model), /not an IPv4 address/);
});

test("check chooses its checks by a record's kind, not its id: renamed ids are checked the same", async () => {
  // Every record carries a kind (src/plan/dns.ts); here every id is replaced by a neutral one.
  assert.ok(plan.dns.every((r) => r.kind), "a record without a kind");
  const renamed = { ...plan, dns: plan.dns.map((r, i) => ({ ...r, id: `record-${i}` })) };
  const dkim = renamed.dns.find((r) => r.kind === "dkim" && !r.content.includes("<dkim:"))!;
  const dmarc = renamed.dns.find((r) => r.kind === "dmarc")!;
  const spf = renamed.dns.find((r) => r.kind === "spf")!;
  const rs = await check(
    (t) => {
      t[`TXT ${dkim.name}`] = ["v=DKIM1; k=rsa; p=MIIBotherkey"];
      t[`TXT ${dmarc.name}`] = ["v=DMARC1; p=none; adkim=r; aspf=r"];
    },
    goodSmtp,
    ["bl.lab.tld"],
    renamed,
  );
  assert.match(byId(rs, dkim.id).note ?? "", /RSA public key|not the planned key/, "the DKIM check ran");
  assert.match(byId(rs, dmarc.id).note ?? "", /differs in/, "the DMARC check ran");
  assert.ok(rs.some((r) => r.id === `${spf.id}:lookups`), "the SPF lookup count ran for a domain's SPF record");
});
