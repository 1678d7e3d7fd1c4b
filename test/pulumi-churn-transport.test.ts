// Churn of the transport-security features (issue 14) under the strict Pulumi mocks: turning
// one on, rotating its key, turning it off touches only the resources it concerns (test/support/
// churn.ts computes what `pulumi up` would do, with the providers' own replace triggers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { parseSpec } from "../src/spec/load.ts";
import { isSecretValue, plain, runProgram, type ProgramRun, type RunOptions } from "../src/pulumi/mocks.ts";
import { publicKeyOfPrivate } from "../src/pulumi/sshKeys.ts";
import { churn } from "./support/churn.ts";
import { sharedRun } from "./support/programRuns.ts";
import { exampleText, exampleWith } from "./support/example.ts";
import { stagedFiles } from "./support/applyScript.ts";

const pair = generateKeyPairSync("ed25519");
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const OPTIONS: RunOptions = {
  config: {
    sshKeys: { ops: `${publicKeyOfPrivate(privateKey)} ops@relais.tld` },
    zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin", "relais.tld": "zone-relais" },
    cloudflareAccountId: "account-ops",
  },
  secrets: { sshPrivateKey: privateKey, faiRelayPassword: "fai-pw", johnSubmission: "john-pw" },
};
/** One run per distinct spec text (test/support/programRuns.ts): a churn step's "after" is often the next one's "before". */
const run = (text = exampleText()): Promise<ProgramRun> => sharedRun(text, OPTIONS);
const RELAYS = ["mx1", "mx2"];
const applies = (hosts: string[]) => Object.fromEntries(hosts.map((h) => [`apply:${h}`, ["create", "stdin"]]));

const OPERATOR_DKIM = "  dkim:\n    selectors: [f2026a]\n";
const withArc = (arc: string) => exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}  arc: ${arc}\n`);
const arc = {
  on: () => run(withArc("{ selectors: [arc2026a] }")),
  published: () => run(withArc("{ selectors: [arc2026a, arc2026b], active: arc2026a }")),
  switched: () => run(withArc("{ selectors: [arc2026a, arc2026b], active: arc2026b }")),
  retired: () => run(withArc("{ selectors: [arc2026b] }")),
};

const ENTREPRISE_DKIM = "    dkim:\n      selectors: [e2026a]\n";
const withSts = (yaml: string) => exampleWith(ENTREPRISE_DKIM, `${ENTREPRISE_DKIM}${yaml}`);
const sts = {
  testing: () => run(withSts("    mtaSts: { mode: testing }\n")),
  enforce: () => run(withSts("    mtaSts: { mode: enforce }\n")),
  reports: () => run(withSts("    tlsRpt: { rua: [tls@gestion.tld] }\n")),
};
/** What MTA-STS adds for one domain: its record, the Worker and the custom domain mta-sts.<domain>. */
const stsResources = (d: string) => [`mta-sts:${d}`, `mta-sts-worker:${d}`, `mta-sts-host:${d}`];

const SMARTHOSTS = ["out1", "out2", "spam1"];
const outbound = (yaml: string) => run(exampleWith("  dnsbl: [bl.lab.tld]\n", `  dnsbl: [bl.lab.tld]\n  outboundTls: ${yaml}\n`));

// DANE for our hosts (operator.dnssec, domains.<d>.dnssec, tlsKey).
const ENTREPRISE_ALIASES = "  entreprise.tld:\n    aliases:\n";
const signedOperator = (mx1Key = "") =>
  exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}  dnssec: true\n`).replace("  mx1: { location: fsn1, serverType: cx23, mxPriority: 10 }", `  mx1: { location: fsn1, serverType: cx23, mxPriority: 10${mx1Key} }`);
const dane = {
  domain: () => run(exampleWith(ENTREPRISE_ALIASES, `  entreprise.tld:\n    dnssec: true\n    aliases:\n`)),
  operator: () => run(signedOperator()),
  published: () => run(signedOperator(", tlsKey: { current: tls1, next: mx2026b }")),
  switched: () => run(signedOperator(", tlsKey: { current: mx2026b }")),
};
const OWN = [...RELAYS, "out1", "out2", "spam1"];
const tlsKeyName = (h: string, k = "tls1") => `tls-${h}.relais.tld-${k}`;
const tlsaOf = (h: string, k = "tls1") => (RELAYS.includes(h) ? [25] : [465, 587]).map((p) => `tlsa:${h}:${p}:${k}`);

const example = run();
const scriptOf = (r: ProgramRun, host: string) => {
  const s = r.resources.get(`apply:${host}`)!.inputs.stdin;
  assert.ok(isSecretValue(s), `apply:${host} stdin must be a secret`);
  return plain(s) as string;
};

interface Change {
  name: string;
  before: () => Promise<ProgramRun>;
  after: () => Promise<ProgramRun>;
  created?: string[];
  deleted?: string[];
  updated: Record<string, string[]>;
}

const CHANGES: Change[] = [
  {
    name: "turn ARC on: the operator's ARC key and its record, and the relays' configuration; no smarthost, no other domain",
    before: () => example,
    after: arc.on,
    created: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: applies(RELAYS),
  },
  {
    name: "ARC rotation, step 1: publish the next key beside the one sealing (nothing else moves)",
    before: arc.on,
    after: arc.published,
    created: ["arc-relais.tld-arc2026b", "arc:relais.tld:arc2026b"],
    updated: {},
  },
  {
    name: "ARC rotation, step 2: seal with the next key (the relays only)",
    before: arc.published,
    after: arc.switched,
    updated: applies(RELAYS),
  },
  {
    name: "ARC rotation, step 3: drop the old key",
    before: arc.switched,
    after: arc.retired,
    deleted: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: {},
  },
  {
    name: "turn ARC off: its key, its record and the relays' arc.conf go",
    before: arc.on,
    after: () => example,
    deleted: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: applies(RELAYS),
  },
  {
    name: "turn MTA-STS on for entreprise.tld: its record, its Worker and mta-sts.entreprise.tld; no host, no other domain",
    before: () => example,
    after: sts.testing,
    created: stsResources("entreprise.tld"),
    updated: {},
  },
  {
    name: "MTA-STS testing -> enforce: the policy (its Worker) and the record's id change, nothing else",
    before: sts.testing,
    after: sts.enforce,
    updated: { "mta-sts-worker:entreprise.tld": ["content"], "mta-sts:entreprise.tld": ["content"] },
  },
  {
    name: "add a relay: every MTA-STS policy lists it (Worker and id), besides the relay's own resources",
    before: sts.testing,
    after: () => run(withSts("    mtaSts: { mode: testing }\n").replace("  mx2: { location: nbg1, serverType: cx23, mxPriority: 20 }\n", "  mx2: { location: nbg1, serverType: cx23, mxPriority: 20 }\n  mx3: { location: hel1, serverType: cx23, mxPriority: 30 }\n")),
    created: ["a:mx3", "aaaa:mx3", "apply:mx3", "helo-spf:mx3", "ip:mx3:ipv4", "ip:mx3:ipv6", "mx3", "mx:entreprise.tld:mx3", "mx:monmagasin.tld:mx3", "mx:relais.tld:mx3", "ptr:mx3:ipv4", "ptr:mx3:ipv6", "server:mx3"],
    updated: { "mta-sts-worker:entreprise.tld": ["content"], "mta-sts:entreprise.tld": ["content"], "apply:out1": ["create", "stdin"], "apply:out2": ["create", "stdin"], "apply:spam1": ["create", "stdin"], "fw:smarthost": ["rules"] },
  },
  {
    name: "turn TLS-RPT on for entreprise.tld: one record",
    before: () => example,
    after: sts.reports,
    created: ["tlsrpt:entreprise.tld"],
    updated: {},
  },
  {
    name: "turn MTA-STS off: what it added goes",
    before: sts.enforce,
    after: () => example,
    deleted: stsResources("entreprise.tld"),
    updated: {},
  },
  {
    name: "turn ACME on: port 80 for the CA's HTTP-01 checks on both firewalls, every host's configuration (its certificate paths, script and timer); no record",
    before: () => example,
    after: () => run(exampleWith("backupMx:\n", "acme: { email: ops@gestion.tld }\nbackupMx:\n")),
    updated: { "fw:relay": ["rules"], "fw:smarthost": ["rules"], ...Object.fromEntries([...RELAYS, ...SMARTHOSTS].map((h) => [`apply:${h}`, ["create", "stdin"]])) },
  },
  {
    name: "turn DANE and MTA-STS on for outbound mail: the smarthosts' configuration only (no relay, no record)",
    before: () => example,
    after: () => outbound("{ dane: true, mtaSts: true }"),
    updated: Object.fromEntries(SMARTHOSTS.map((h) => [`apply:${h}`, ["create", "stdin"]])),
  },
  {
    name: "turn DNSSEC on for entreprise.tld: its zone's ZoneDnssec and nothing else (no record, no host, no other zone)",
    before: () => example,
    after: dane.domain,
    created: ["dnssec:entreprise.tld"],
    updated: {},
  },
  {
    name: "sign the operator zone: its ZoneDnssec, a managed TLS key per own host and its TLSA records, each own host's configuration (its key); no server replaced",
    before: () => example,
    after: dane.operator,
    created: ["dnssec:relais.tld", ...OWN.flatMap((h) => [tlsKeyName(h), ...tlsaOf(h)])],
    updated: applies(OWN),
  },
  {
    name: "TLS key rollover, step 1: publish mx1's next key (the key and its TLSA record; no host changes)",
    before: dane.operator,
    after: dane.published,
    created: [tlsKeyName("mx1", "mx2026b"), ...tlsaOf("mx1", "mx2026b")],
    updated: {},
  },
  {
    name: "TLS key rollover, step 2: mx1 serves the next key (its configuration only), the old key and its TLSA go; no server replaced",
    before: dane.published,
    after: dane.switched,
    deleted: [tlsKeyName("mx1"), ...tlsaOf("mx1")],
    updated: applies(["mx1"]),
  },
];

for (const c of CHANGES) {
  test(`churn: ${c.name}`, async () => {
    const got = churn(await c.before(), await c.after());
    assert.deepEqual(got.created, [...(c.created ?? [])].sort(), "created");
    assert.deepEqual(got.deleted, [...(c.deleted ?? [])].sort(), "deleted");
    assert.deepEqual(got.replaced, {}, "nothing is replaced");
    assert.deepEqual(got.updated, c.updated, "updated, with the inputs that change");
  });
}

test("ARC: the relay's apply script writes the ARC private key for rspamd (owned _rspamd), and its record carries that key's public half", async () => {
  const on = await arc.on();
  const script = scriptOf(on, "mx1");
  const put = stagedFiles(script).get("/var/lib/rspamd/arc/relais.tld.arc2026a.key");
  assert.ok(put, "the key is staged for rspamd");
  assert.deepEqual([put.mode, put.owner], ["0600", "_rspamd:_rspamd"]);
  const pem = put.content;
  const key = on.resources.get("arc-relais.tld-arc2026a")!;
  assert.equal(pem, plain(key.state.privateKeyPem));
  assert.match(script, /chmod 0700 "\$R"'\/var\/lib\/rspamd\/arc'; own _rspamd:_rspamd/);
  const record = plain(on.resources.get("arc:relais.tld:arc2026a")!.inputs.content) as string;
  const der = (plain(key.state.publicKeyPem) as string).replace(/-----[A-Z ]+-----|\s/g, "");
  assert.equal(record.replace(/" "|"/g, ""), `v=DKIM1; k=rsa; p=${der}`);
  // The smarthosts never hold it.
  for (const h of ["out1", "out2", "spam1"]) assert.doesNotMatch(scriptOf(on, h), /rspamd\/arc/);
});

test("MTA-STS: the Worker serves the planned policy at mta-sts.<domain> of that domain's zone, in the configured account", async () => {
  const on = await sts.enforce();
  const worker = plain(on.resources.get("mta-sts-worker:entreprise.tld")!.inputs) as Record<string, string>;
  const host = plain(on.resources.get("mta-sts-host:entreprise.tld")!.inputs) as Record<string, string>;
  const policy = on.stack.planned.plan.mtaSts![0]!;
  assert.equal(worker.accountId, "account-ops");
  assert.equal(worker.scriptName, "facteur-mta-sts-entreprise-tld");
  assert.equal(worker.mainModule, "worker.js");
  assert.ok(worker.content!.includes(JSON.stringify(policy.text)));
  assert.match(policy.text, /^version: STSv1\r\nmode: enforce\r\nmx: mx1\.relais\.tld\r\nmx: mx2\.relais\.tld\r\nmx: mx-backup\.fai\.tld\r\nmax_age: 604800\r\n$/);
  assert.deepEqual(host, { accountId: "account-ops", zoneId: "zone-entreprise", hostname: "mta-sts.entreprise.tld", service: "facteur-mta-sts-entreprise-tld" });
  const record = plain(on.resources.get("mta-sts:entreprise.tld")!.inputs) as Record<string, string>;
  assert.equal(record.content, `"v=STSv1; id=${policy.id}"`);
});

test("MTA-STS without facteur:cloudflareAccountId stops the program, naming the config key", async () => {
  const text = withSts("    mtaSts: { mode: testing }\n");
  const { cloudflareAccountId: _, ...config } = OPTIONS.config as Record<string, unknown>;
  await assert.rejects(runProgram(parseSpec(text, "s.yaml"), { ...OPTIONS, config }), /facteur:cloudflareAccountId is not set: MTA-STS policies \(entreprise\.tld\)/);
});

test("outbound DANE: the smarthosts' apply installs unbound and postfix-mta-sts-resolver, checks unbound's configuration, reloads both", async () => {
  const on = await outbound("{ dane: true, mtaSts: true }");
  for (const h of SMARTHOSTS) {
    const script = scriptOf(on, h);
    assert.match(script, /unbound-checkconf/);
    assert.match(script, /systemctl reload-or-restart unbound/);
    assert.match(script, /systemctl reload-or-restart postfix-mta-sts-resolver/);
    assert.match(plain(on.resources.get(`apply:${h}`)!.inputs.create) as string, /^: facteur-bundle [0-9a-f]{64};/);
    assert.ok(on.stack.planned.hosts.find((x) => x.host.name === h)!.packages.includes("unbound"));
  }
  for (const h of RELAYS) {
    assert.doesNotMatch(scriptOf(on, h), /unbound/);
    assert.ok(!on.stack.planned.hosts.find((x) => x.host.name === h)!.packages.includes("unbound"));
  }
});

test("DANE: the TLSA record carries the SHA-256 of the managed key's public half (as Cloudflare fields), and the host's apply stages that key for root with a certificate for it", async () => {
  const on = await dane.published();
  for (const [record, key] of [["tlsa:mx1:25:tls1", "tls-mx1.relais.tld-tls1"], ["tlsa:mx1:25:mx2026b", "tls-mx1.relais.tld-mx2026b"], ["tlsa:out1:587:tls1", "tls-out1.relais.tld-tls1"]] as const) {
    const pub = plain(on.resources.get(key)!.state.publicKeyPem) as string;
    const digest = createHash("sha256").update(createPublicKey(pub).export({ type: "spki", format: "der" })).digest("hex");
    const inputs = plain(on.resources.get(record)!.inputs) as Record<string, unknown>;
    assert.deepEqual(inputs.data, { usage: 3, selector: 1, matchingType: 1, certificate: digest }, record);
    assert.equal(inputs.type, "TLSA");
    assert.equal(inputs.content, undefined, "Cloudflare computes a TLSA record's content from its fields");
  }
  assert.deepEqual(plain(on.resources.get("tls-mx1.relais.tld-mx2026b")!.inputs), { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const script = scriptOf(on, "mx1");
  const put = stagedFiles(script).get("/etc/facteur/tls/key.pem");
  assert.ok(put, "the current key is staged");
  assert.deepEqual([put.mode, put.owner], ["0600", "root:root"]);
  assert.equal(put.content, plain(on.resources.get("tls-mx1.relais.tld-tls1")!.state.privateKeyPem), "the current key, not the next");
  assert.match(script, /openssl req -x509 -new -key "\$STAGE"'\/etc\/facteur\/tls\/key\.pem'/);
  assert.doesNotMatch(script, /-newkey rsa/, "no key made on the host");
  assert.equal(JSON.stringify(on.stack.planned.plan.dnssec?.map((d) => d.zone)), '["relais.tld"]');
  assert.deepEqual(plain(on.resources.get("dnssec:relais.tld")!.inputs), { zoneId: "zone-relais", status: "active" });
});
