// Scenario golden tests (kops style): each test/scenarios/<name>/ holds a stack file and the
// tree facteur produces from it under expected/: the plan (plan.json), the tables a reviewer
// reads (dns.txt, hosts.txt), every rendered file of every host (hosts/<host>/etc/...) and what
// else each host's bundle tells its applier (bundles/<host>.json: modes, postmap, secrets by
// name, DKIM key paths, SASL logins, TLS and sasldb paths).
// A missing or stale golden file fails; UPDATE_SNAPSHOTS=1 npm test rewrites them for review.
// Beside the golden tree, each scenario states the few facts it exists for, so a reviewer who
// accepts a golden change by mistake still gets a failing test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel, type Model } from "../src/model/model.ts";
import { buildPlan, type Plan } from "../src/plan/plan.ts";
import { renderStack } from "../src/render/render.ts";
import type { AddressBook } from "../src/plan/addresses.ts";
import { plannedKeys } from "../src/plan/dns.ts";
import { createHash } from "node:crypto";
import { mtaStsWorker } from "../src/render/mtaSts.ts";
import { formatDnsTable, formatHostsTable, formatPtrTable } from "../src/cli/tables.ts";
import { bundleManifest } from "./support/bundles.ts";
import { matchTree } from "./support/snapshot.ts";

const DIR = fileURLToPath(new URL("./scenarios/", import.meta.url));

/** Documentation-range addresses by host order: relays 198.51.100.11.., smarthosts 203.0.113.21.. */
function addressesFor(model: Model): AddressBook {
  const book: AddressBook = {};
  model.relays.forEach((r, i) => (book[r.name] = { ipv4: `198.51.100.${11 + i}`, ipv6: `2001:db8:100::${11 + i}` }));
  model.smarthosts.forEach((s, i) => (book[s.name] = { ipv4: `203.0.113.${21 + i}`, ipv6: `2001:db8:113::${21 + i}` }));
  return book;
}

interface Scenario {
  model: Model;
  plan: Plan;
  tree: Record<string, string>;
}

function scenario(name: string): Scenario {
  const file = `test/scenarios/${name}/stack.yaml`;
  const model = buildModel(parseSpec(readFileSync(`${DIR}${name}/stack.yaml`, "utf8"), file));
  // A recognisable stand-in for each public key, so the DKIM records show which key is which.
  // TLS keys' stand-ins are base64 (their TLSA digest is the SHA-256 of the decoded stand-in).
  const dkimKeys = Object.fromEntries(
    plannedKeys(model).map((k) => [k.id, k.purpose === "tls" ? Buffer.from(`PUBLIC-KEY-OF-${k.domain}-${k.selector}`).toString("base64") : `PUBLIC-KEY-OF-${k.domain}-${k.selector}`]),
  );
  // The day warm-up schedules are read at, when the scenario has one (its `at` file): an applier gives today.
  const atFile = `${DIR}${name}/at`;
  const at = existsSync(atFile) ? readFileSync(atFile, "utf8").trim() : undefined;
  const plan = buildPlan(model, { addresses: addressesFor(model), dkimKeys, ...(at ? { at } : {}) });
  const tree: Record<string, string> = {
    "plan.json": `${JSON.stringify(plan, null, 2)}\n`,
    "dns.txt": `${formatDnsTable(plan)}\n`,
    "hosts.txt": `${formatHostsTable(plan)}\n\n${formatPtrTable(plan)}\n`,
  };
  for (const p of plan.mtaSts ?? []) {
    tree[`mta-sts/${p.domain}/mta-sts.txt`] = p.text;
    tree[`mta-sts/${p.domain}/worker.js`] = mtaStsWorker(p);
  }
  for (const b of renderStack(model, plan, { root: "" })) {
    for (const f of b.files) tree[`hosts/${b.host}${f.path}`] = f.content;
    tree[`bundles/${b.host}.json`] = bundleManifest(b);
  }
  return { model, plan, tree };
}

const names = readdirSync(DIR, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const get = (s: Scenario, path: string) => {
  const c = s.tree[path];
  assert.ok(c !== undefined, `no ${path}`);
  return c;
};
const records = (s: Scenario, pred: (r: Plan["dns"][number]) => boolean) => s.plan.dns.filter(pred).map((r) => `${r.id} ${r.priority ?? ""} ${r.content}`.replace("  ", " "));

/** What each scenario is about, checked beside its golden tree. */
const STORIES: Record<string, (s: Scenario) => void> = {
  "subset-relays": (s) => {
    assert.deepEqual(records(s, (r) => r.type === "MX" && r.name === "cabinet.tld"), ["mx:cabinet.tld:mx3 30 mx3.relais.tld"]);
    assert.deepEqual(records(s, (r) => r.type === "MX" && r.name === "entreprise.tld").length, 3);
    for (const h of ["mx1", "mx2"]) assert.doesNotMatch(get(s, `hosts/${h}/etc/postfix/main.cf`), /cabinet\.tld/, `${h} must not accept cabinet.tld`);
    assert.match(get(s, "hosts/mx3/etc/postfix/main.cf"), /^virtual_alias_domains = cabinet\.tld entreprise\.tld relais\.tld$/m);
    assert.match(get(s, "hosts/mx3/etc/postfix/virtual"), /^accueil@cabinet\.tld avocat@ailleurs\.tld$/m);
    assert.equal(s.plan.dns.find((r) => r.id === "dmarc:cabinet.tld")!.content, "v=DMARC1; p=reject; pct=25; rua=mailto:ops@gestion.tld; adkim=r; aspf=r");
  },
  "per-login-quotas": (s) => {
    for (const h of ["out1", "out2"]) {
      const y = get(s, `hosts/${h}/etc/policyd-rate-limit.yaml`);
      assert.match(y, /^limits:\n {2}- \[150, 86400\]$/m, "the default quota");
      assert.match(y, /"john@entreprise\.tld":\n {4}- \[150, 86400\]/);
      assert.match(y, /"marie@entreprise\.tld":\n {4}- \[1000, 86400\]/);
      assert.match(y, /"stagiaire@entreprise\.tld":\n {4}- \[20, 86400\]/);
    }
  },
  "shared-quota": (s) => {
    for (const h of ["out1", "out2"]) {
      const y = get(s, `hosts/${h}/etc/policyd-rate-limit.yaml`);
      assert.match(y, /^backend: 2$/m, "PostgreSQL, not each smarthost's sqlite");
      assert.match(y, /^ {2}host: "mx1\.relais\.tld"$/m);
      assert.match(y, /^ {2}password: '\$\{secret:quotaStorePassword\}'$/m);
      assert.match(y, /^db_error_action: "defer_if_permit 4\.3\.0 /m, "fail closed by default");
      assert.doesNotMatch(get(s, `hosts/${h}/etc/postfix/main.cf`), /smtpd_policy_service_default_action/, "Postfix's own default (451 4.3.5) is fail closed");
    }
    assert.match(get(s, "hosts/mx1/etc/facteur/quota-store/pg_hba.conf"), /^hostssl facteur_quota +facteur_quota +203\.0\.113\.21\/32 +scram-sha-256$/m);
    assert.ok(!("hosts/mx2/etc/facteur/quota-store/pg_hba.conf" in s.tree), "only mx1 runs the store");
    const rule = s.plan.firewalls.find((f) => f.role === "relay")!.rules.find((r) => r.id === "fw:relay:quota-store")!;
    assert.deepEqual([rule.port, rule.sources], [5432, ["203.0.113.21/32", "2001:db8:113::21/128", "203.0.113.22/32", "2001:db8:113::22/128"]]);
  },
  "weighted-pool": (s) => {
    const pool = s.plan.routing.weightedPool!;
    assert.equal(pool.at, "2026-03-10");
    assert.deepEqual(
      pool.members.map((m) => [m.host, m.weight, m.entries, m.percent]),
      [["out1", 1, 1, 14.3], ["out2", 4, 4, 57.1], ["out3", 2, 2, 28.6]],
      "1:4, and out3 at its second warm-up step (weight 2) on 2026-03-10",
    );
    assert.deepEqual(pool.excluded.map((x) => x.host), ["out4"], "the drained member takes no share");
    const main = get(s, "hosts/mx1/etc/postfix/main.cf");
    assert.match(main, /^sender_dependent_relayhost_maps = randmap:\{\[out1\.relais\.tld\]:25, (\[out2\.relais\.tld\]:25, ){4}(\[out3\.relais\.tld\]:25, )\[out3\.relais\.tld\]:25\}$/m);
    assert.doesNotMatch(main, /out4\.relais\.tld/);
    assert.match(main, /^relayhost = pool\.relais\.tld$/m);
    assert.match(main, /^smtp_fallback_relay = pool\.relais\.tld \[smtp\.fai\.tld\]:587$/m, "the pool MX, then the external relay");
    assert.deepEqual(records(s, (r) => r.name === "pool.relais.tld").length, 3, "the pool MX still lists every active member");
    assert.match(get(s, "hosts.txt"), /^out2 .* clean lane, 57\.1% of clean mail \(weight 4\)$/m, "facteur plan shows the shares");
    assert.match(get(s, "hosts.txt"), /^out4 .* DRAINING, no weighted share$/m);
  },
  metrics: (s) => {
    for (const role of ["relay", "smarthost"] as const) {
      const rule = s.plan.firewalls.find((f) => f.role === role)!.rules.find((r) => r.id === `fw:${role}:metrics`)!;
      assert.deepEqual([rule.port, rule.sources], [9154, ["192.0.2.0/28", "2001:db8:feed::/48"]]);
    }
    for (const h of ["mx1", "out1"]) {
      const args = get(s, `hosts/${h}/etc/default/prometheus-postfix-exporter`);
      assert.match(args, /^ARGS="--web\.listen-address=:9154 --web\.telemetry-path=\/metrics --postfix\.logfile_path=\/var\/log\/postfix\.log --postfix\.showq_path=\/var\/spool\/postfix\/public\/showq"$/m);
      assert.match(get(s, `bundles/${h}.json`), /prometheus-postfix-exporter/);
    }
  },
  preferences: (s) => {
    assert.deepEqual(records(s, (r) => r.name === "pool.relais.tld"), ["pool-mx:out1 10 out1.relais.tld", "pool-mx:out2 10 out2.relais.tld", "pool-mx:out3 20 out3.relais.tld"]);
    assert.deepEqual(records(s, (r) => r.name === "spam-pool.relais.tld"), ["spam-pool-mx:spam1 15 spam1.relais.tld", "spam-pool-mx:spam2 5 spam2.relais.tld"]);
  },
  "several-external-relays": (s) => {
    assert.equal(s.plan.routing.relayhost, "pool.relais.tld");
    assert.deepEqual(s.plan.routing.fallbackRelays, ["[smtp.relaisb.tld]:2525", "[smtp.fai.tld]:587", "[mail.secours.tld]:25"]);
    assert.match(get(s, "hosts/mx1/etc/postfix/main.cf"), /^smtp_fallback_relay = \[smtp\.relaisb\.tld\]:2525 \[smtp\.fai\.tld\]:587 \[mail\.secours\.tld\]:25$/m);
    assert.equal(
      get(s, "hosts/mx1/etc/postfix/sasl_passwd").split("\n").filter((l) => l && !l.startsWith("#")).join("\n"),
      "[smtp.relaisb.tld]:2525 relais-tld:${secret:relaisbPassword}\n[smtp.fai.tld]:587 relais@fai.tld:${secret:faiRelayPassword}",
    );
    assert.doesNotMatch(get(s, "hosts/mx1/etc/postfix/tls_policy"), /secours/, "no credentials go to secours: no TLS policy needed for them");
    assert.match(s.plan.dns.find((r) => r.id === "spf-pool")!.content, / include:spf\.relaisb\.tld include:_spf\.fai\.tld include:_spf\.secours\.tld -all$/);
  },
  "no-spam-lane": (s) => {
    assert.equal(s.plan.routing.spamRelayhost, undefined);
    assert.ok(!("hosts/mx1/etc/postfix/spam_lane" in s.tree));
    assert.doesNotMatch(get(s, "hosts/mx1/etc/postfix/main.cf"), /milter_header_checks/);
    assert.deepEqual(records(s, (r) => r.name.startsWith("spam-pool.")), []);
    assert.match(get(s, "hosts/mx1/etc/rspamd/local.d/actions.conf"), /^reject = 20;\nadd_header = 5;$/m);
  },
  "dane-rollover-1-publish": (s) => {
    const digest = (key: string) => createHash("sha256").update(`PUBLIC-KEY-OF-${key}`).digest("hex");
    assert.deepEqual(records(s, (r) => r.kind === "tlsa"), [
      `tlsa:mx1:25:mx2026a 3 1 1 ${digest("mx1.relais.tld-mx2026a")}`,
      `tlsa:mx1:25:mx2026b 3 1 1 ${digest("mx1.relais.tld-mx2026b")}`,
      `tlsa:out1:465:out2026a 3 1 1 ${digest("out1.relais.tld-out2026a")}`,
      `tlsa:out1:587:out2026a 3 1 1 ${digest("out1.relais.tld-out2026a")}`,
    ]);
    assert.ok(s.plan.dns.filter((r) => r.kind === "tlsa").every((r) => r.zone === "relais.tld" && r.type === "TLSA"));
    assert.notEqual(digest("mx1.relais.tld-mx2026a"), digest("mx1.relais.tld-mx2026b"));
    assert.equal(s.plan.dns.find((r) => r.id === "tlsa:mx1:25:mx2026a")!.name, "_25._tcp.mx1.relais.tld");
    assert.deepEqual(s.plan.dnssec?.map((d) => d.zone), ["entreprise.tld", "relais.tld"], "monmagasin.tld stays unsigned");
    const mx1 = JSON.parse(get(s, "bundles/mx1.json"));
    assert.deepEqual(
      mx1.dkimKeys.filter((k: { purpose?: string }) => k.purpose?.startsWith("tls")),
      [
        { domain: "mx1.relais.tld", selector: "mx2026a", path: "/etc/facteur/tls/key.pem", owner: { owner: "root", group: "root" }, purpose: "tls" },
        { domain: "mx1.relais.tld", selector: "mx2026b", path: "/etc/facteur/tls/next.pem", owner: { owner: "root", group: "root" }, purpose: "tls-next" },
      ],
      "the current key is the one main.cf serves; the next one is held apart, for the ACME client",
    );
    assert.match(get(s, "hosts/mx1/etc/postfix/main.cf"), /^smtpd_tls_key_file = \/etc\/facteur\/tls\/key\.pem$/m);
    assert.match(get(s, "hosts/mx1/etc/postfix/main.cf"), /^smtpd_tls_cert_file = \/etc\/facteur\/acme\/certificates\/mx1\.relais\.tld\.crt$/m);
    const renew = get(s, "hosts/mx1/etc/facteur/acme/renew.sh");
    assert.match(renew, /--csr "\$CSR"/);
    assert.match(renew, /openssl req -new -key "\$KEY" -subj \/CN=mx1\.relais\.tld/);
    assert.doesNotMatch(renew, /--key-type/, "lego never makes a key of its own");
    // The next key's certificate is pre-issued in its own lego tree, from a CSR of the next key;
    // the served certificate and Postfix are left alone by that part.
    const pre = renew.slice(renew.indexOf("NEXT_KEY="));
    assert.match(pre, /^NEXT_KEY=\/etc\/facteur\/tls\/next\.pem$/m);
    assert.match(pre, /openssl req -new -key "\$NEXT_KEY" -subj \/CN=mx1\.relais\.tld -addext subjectAltName=DNS:mx1\.relais\.tld -out "\$NEXT_CSR\.new"/);
    assert.match(pre, /--path \/etc\/facteur\/acme\/next \\\n {2}--http --http\.port :80 --csr "\$NEXT_CSR"/);
    assert.doesNotMatch(pre, /postfix|\$CERT\b/, "pre-issuing touches nothing Postfix serves");
    assert.doesNotMatch(get(s, "hosts/out1/etc/facteur/acme/renew.sh"), /NEXT_KEY/, "out1 announces no next key");
    assert.deepEqual(JSON.parse(get(s, "bundles/out1.json")).dkimKeys.filter((k: { purpose?: string }) => k.purpose === "tls-next"), []);
  },
  "dane-rollover-2-switch": (s) => {
    const before = scenario("dane-rollover-1-publish");
    const changed = Object.keys(s.tree).filter((f) => s.tree[f] !== before.tree[f]);
    assert.deepEqual(changed, ["plan.json", "dns.txt", "hosts/mx1/etc/facteur/acme/renew.sh", "bundles/mx1.json"], "only mx1's keys, its renewal script and the records change");
    assert.doesNotMatch(get(s, "hosts/mx1/etc/facteur/acme/renew.sh"), /NEXT_KEY/, "no next key: nothing to pre-issue");
    const acme = JSON.parse(get(s, "bundles/mx1.json")).daemons.find((d: { name: string }) => d.name === "acme");
    assert.equal(acme.preIssued.cert, "/etc/facteur/acme/next/certificates/mx1.relais.tld.crt", "the apply step still knows where the pre-issued certificate waits");
    assert.deepEqual(JSON.parse(get(s, "bundles/mx1.json")).dkimKeys.filter((k: { purpose?: string }) => k.purpose === "tls-next"), []);
    const tlsa = (p: Plan) => p.dns.filter((r) => r.id.startsWith("tlsa:mx1:")).map((r) => `${r.id} ${r.content}`);
    assert.deepEqual(tlsa(s.plan), [tlsa(before.plan)[1]], "the switched-to key's TLSA is the one step 1 published, unchanged");
    assert.match(JSON.stringify(JSON.parse(get(s, "bundles/mx1.json")).dkimKeys), /"selector":"mx2026b","path":"\/etc\/facteur\/tls\/key\.pem"/);
  },
  "dane-inbound": (s) => {
    assert.deepEqual(s.plan.dns.filter((r) => r.kind === "tlsa").map((r) => r.name), ["_25._tcp.mx1.relais.tld", "_25._tcp.mx1.relais.tld", "_465._tcp.out1.relais.tld", "_587._tcp.out1.relais.tld"]);
    assert.match(get(s, "hosts/out1/etc/postfix/main.cf"), /^smtp_tls_security_level = dane$/m, "out1 is the DANE-enforcing sender of the lab proof");
    assert.match(get(s, "hosts/mx1/etc/facteur/acme/renew.sh"), /--server https:\/\/acme\.lab\.tld:14000\/dir --path \/etc\/facteur\/acme \\\n {2}--http --http\.port :80 --csr "\$CSR"/);
  },
  "dkim-rotation-1-publish": (s) => {
    assert.deepEqual(records(s, (r) => r.id.startsWith("dkim:entreprise.tld:")), [
      "dkim:entreprise.tld:e2026a v=DKIM1; k=rsa; p=PUBLIC-KEY-OF-entreprise.tld-e2026a",
      "dkim:entreprise.tld:e2026b v=DKIM1; k=rsa; p=PUBLIC-KEY-OF-entreprise.tld-e2026b",
    ]);
    assert.match(get(s, "hosts/out1/etc/opendkim/KeyTable"), /^entreprise\.tld entreprise\.tld:e2026a:\/etc\/opendkim\/keys\/entreprise\.tld\/e2026a\.private$/m);
  },
  "dkim-rotation-2-switch": (s) => {
    const before = scenario("dkim-rotation-1-publish");
    const changed = Object.keys(s.tree).filter((f) => s.tree[f] !== before.tree[f]);
    assert.deepEqual(changed, ["plan.json", "dns.txt", "hosts/out1/etc/opendkim/KeyTable", "bundles/out1.json"], "only the signer's key choice (and the records' reasons) change");
    assert.deepEqual(s.plan.dns.map((r) => r.content), before.plan.dns.map((r) => r.content), "no DNS content changes while switching");
    assert.match(get(s, "hosts/out1/etc/opendkim/KeyTable"), /^entreprise\.tld entreprise\.tld:e2026b:/m);
  },
  "dkim-rotation-3-retire": (s) => {
    const before = scenario("dkim-rotation-2-switch");
    assert.deepEqual(records(s, (r) => r.id.startsWith("dkim:entreprise.tld:")), ["dkim:entreprise.tld:e2026b v=DKIM1; k=rsa; p=PUBLIC-KEY-OF-entreprise.tld-e2026b"]);
    const gone = before.plan.dns.filter((r) => !s.plan.dns.some((x) => x.id === r.id)).map((r) => r.id);
    assert.deepEqual(gone, ["dkim:entreprise.tld:e2026a"]);
    assert.equal(s.tree["hosts/out1/etc/opendkim/KeyTable"], before.tree["hosts/out1/etc/opendkim/KeyTable"], "signing already used e2026b");
  },
  "drained-smarthost": (s) => {
    assert.deepEqual(records(s, (r) => r.name === "pool.relais.tld"), ["pool-mx:out1 10 out1.relais.tld"]);
    assert.ok(s.plan.dns.some((r) => r.id === "a:out2") && s.plan.ptrs.some((p) => p.id === "ptr:out2:ipv6"));
    assert.match(s.plan.dns.find((r) => r.id === "spf-pool")!.content, /ip4:203\.0\.113\.22 ip6:2001:db8:113::22/);
    assert.match(get(s, "hosts.txt"), /^out2 +smarthost .* clean lane, DRAINING$/m);
  },
  "transport-security": (s) => {
    // ARC: the operator's key, published beside its DKIM key, held by the relay only, in rspamd's arc module.
    assert.deepEqual(records(s, (r) => r.id.startsWith("arc:")), ["arc:relais.tld:arc2026a v=DKIM1; k=rsa; p=PUBLIC-KEY-OF-relais.tld-arc2026a"]);
    assert.equal(s.plan.dns.find((r) => r.id === "arc:relais.tld:arc2026a")!.name, "arc2026a._domainkey.relais.tld");
    const arc = get(s, "hosts/mx1/etc/rspamd/local.d/arc.conf");
    assert.match(arc, /^use_domain = "relais\.tld";$/m);
    assert.match(arc, /^ {4}selector = "arc2026a";\n {4}path = "\/var\/lib\/rspamd\/arc\/relais\.tld\.arc2026a\.key";$/m);
    assert.deepEqual(JSON.parse(get(s, "bundles/mx1.json")).dkimKeys, [{ domain: "relais.tld", selector: "arc2026a", path: "/var/lib/rspamd/arc/relais.tld.arc2026a.key", owner: { owner: "_rspamd", group: "_rspamd" } }]);
    assert.ok(!("hosts/out1/etc/rspamd/local.d/arc.conf" in s.tree), "smarthosts do not seal");
    assert.ok(!JSON.parse(get(s, "bundles/out1.json")).dkimKeys.some((k: { selector: string }) => k.selector === "arc2026a"), "the ARC key stays on the relays");
    // MTA-STS and TLS-RPT for entreprise.tld only: the policy names its MX, the record's id is the policy's.
    assert.equal(get(s, "mta-sts/entreprise.tld/mta-sts.txt"), "version: STSv1\r\nmode: enforce\r\nmx: mx1.relais.tld\r\nmax_age: 86400\r\n");
    const sts = s.plan.dns.find((r) => r.id === "mta-sts:entreprise.tld")!;
    assert.equal(sts.name, "_mta-sts.entreprise.tld");
    assert.equal(sts.content, `v=STSv1; id=${s.plan.mtaSts![0]!.id}`);
    assert.match(s.plan.mtaSts![0]!.id, /^[0-9a-f]{20}$/);
    assert.ok(get(s, "mta-sts/entreprise.tld/worker.js").includes(JSON.stringify(get(s, "mta-sts/entreprise.tld/mta-sts.txt"))), "the Worker serves that exact text");
    assert.deepEqual(records(s, (r) => r.id.startsWith("tlsrpt:")), ["tlsrpt:entreprise.tld v=TLSRPTv1; rua=mailto:tls-reports@gestion.tld"]);
    assert.deepEqual(records(s, (r) => /^(mta-sts|tlsrpt):monmagasin/.test(r.id)), []);
    assert.deepEqual(Object.keys(s.tree).filter((f) => f.startsWith("mta-sts/")), ["mta-sts/entreprise.tld/mta-sts.txt", "mta-sts/entreprise.tld/worker.js"]);
    // Outbound: the smarthost delivers with DANE behind its unbound and asks postfix-mta-sts-resolver; the relay does neither.
    const main = get(s, "hosts/out1/etc/postfix/main.cf");
    assert.match(main, /^smtp_tls_security_level = dane$/m);
    assert.match(main, /^smtp_dns_support_level = dnssec$/m);
    assert.match(main, /^smtp_tls_policy_maps = socketmap:inet:127\.0\.0\.1:8461:postfix$/m);
    assert.match(get(s, "hosts/out1/etc/resolv.conf"), /^nameserver 127\.0\.0\.1$/m);
    assert.match(get(s, "hosts/out1/etc/resolv.conf"), /^options trust-ad/m);
    assert.match(get(s, "hosts/out1/etc/unbound/unbound.conf.d/facteur.conf"), /^ {4}harden-dnssec-stripped: yes$/m);
    assert.match(get(s, "hosts/out1/etc/mta-sts-daemon.yml"), /^port: 8461$/m);
    const out1 = JSON.parse(get(s, "bundles/out1.json"));
    assert.ok(out1.packages.includes("unbound") && out1.packages.includes("postfix-mta-sts-resolver"), "unbound and the MTA-STS resolver are installed");
    assert.deepEqual(
      out1.daemons.filter((d: { name: string }) => d.name === "unbound" || d.name === "mta-sts-resolver").map((d: { service: string }) => d.service),
      ["unbound", "postfix-mta-sts-resolver"],
    );
    assert.match(get(s, "hosts/mx1/etc/postfix/main.cf"), /^smtp_tls_security_level = may$/m);
    assert.ok(!("hosts/mx1/etc/resolv.conf" in s.tree));
  },
  "acme-certificates": (s) => {
    for (const [h, fqdn] of [["mx1", "mx1.relais.tld"], ["out1", "out1.relais.tld"]] as const) {
      const b = JSON.parse(get(s, `bundles/${h}.json`));
      assert.deepEqual(b.tls, { cert: `/etc/facteur/acme/certificates/${fqdn}.crt`, key: `/etc/facteur/acme/certificates/${fqdn}.key` });
      const acme = b.daemons.find((d: { name: string }) => d.name === "acme");
      assert.equal(acme?.script, "/etc/facteur/acme/renew.sh");
      assert.ok(b.packages.includes("lego") && acme?.service === "facteur-acme.timer");
      assert.match(get(s, `hosts/${h}/etc/postfix/main.cf`), new RegExp(`^smtpd_tls_cert_file = /etc/facteur/acme/certificates/${fqdn.replace(/\./g, "\\.")}\\.crt$`, "m"));
      const script = get(s, `hosts/${h}/etc/facteur/acme/renew.sh`);
      assert.match(script, new RegExp(`--server https://acme\\.lab\\.tld:14000/dir --path /etc/facteur/acme`));
      assert.match(script, new RegExp(`--domains ${fqdn.replace(/\./g, "\\.")}$`, "m"));
      assert.match(script, /renew --days 3650/);
      assert.match(get(s, `hosts/${h}/etc/systemd/system/facteur-acme.timer`), /^OnCalendar=\*-\*-\* 00,12:00:00$/m);
    }
    // HTTP-01: port 80 opens on both roles, for the CA only to fetch its challenge.
    for (const fw of s.plan.firewalls) assert.ok(fw.rules.some((r) => r.port === 80 && r.id === `fw:${fw.role}:acme-http`), fw.id);
  },
  "ipv6-only-ssh": (s) => {
    // Valid, and kept as written, in order: the firewall is built from these (SSH only from them).
    assert.deepEqual(s.model.operator.sshSources, ["2001:db8:ff00::/48", "2001:db8:ff01::10/128"]);
  },
};

test("the scenarios the issue lists are all here, and every scenario states its story", () => {
  const wanted = ["subset-relays", "per-login-quotas", "shared-quota", "preferences", "several-external-relays", "no-spam-lane", "dkim-rotation-1-publish", "dkim-rotation-2-switch", "dkim-rotation-3-retire", "drained-smarthost", "ipv6-only-ssh"];
  assert.deepEqual(wanted.filter((n) => !names.includes(n)), []);
  assert.deepEqual(names.filter((n) => !STORIES[n]), [], "a scenario without its story");
});

for (const name of names) {
  test(`scenario ${name}: the golden plan, tables and rendered tree`, () => {
    const s = scenario(name);
    matchTree(`${DIR}${name}/expected`, s.tree);
    STORIES[name]?.(s);
  });
}
