// The Pulumi program under strict mocks (src/pulumi/mocks.ts): the resource graph of the
// example stack, secrets kept secret, PTR = A/AAAA name = HELO name (field notes 5), and churn:
// adding, draining or removing a smarthost touches only what it must (field notes 1 and 5).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { parseSpec } from "../src/spec/load.ts";
import { quoteTxt, txtStrings } from "../src/plan/dns.ts";
import { isSecretValue, mockId, plain, runProgram, type ProgramRun, type RecordedResource, type RunOptions } from "../src/pulumi/mocks.ts";
import { exampleText, exampleWith } from "./helpers/example.ts";

const SECRETS = {
  sshPrivateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nc3NoLXByaXZhdGUta2V5LXZhbHVl\n-----END OPENSSH PRIVATE KEY-----",
  faiRelayPassword: "fai-Relay-pw-7Qx",
  johnSubmission: "john-Submission-pw-9Kz",
};
const OPTIONS: RunOptions = {
  config: { sshKeys: { ops: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOpsKey ops@relais.tld" }, zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin" } },
  secrets: SECRETS,
  // relais.tld is not in zoneIds: looked up by name.
  cloudflareZones: { "relais.tld": "zone-relais" },
};
const spec = (text = exampleText()) => parseSpec(text, "stacks/example.facteur.yaml");
const run = (text?: string, opts: RunOptions = OPTIONS) => runProgram(spec(text), opts);

const byType = (r: ProgramRun, type: string) => [...r.resources.values()].filter((x) => x.type === `${type}`);
const res = (r: ProgramRun, name: string): RecordedResource => {
  const x = r.resources.get(name);
  assert.ok(x, `no resource ${name}`);
  return x;
};
const inp = (r: ProgramRun, name: string) => plain(res(r, name).inputs) as Record<string, any>;

/** Files a host's apply script stages, decoded from its heredocs. */
function stagedFiles(script: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of script.matchAll(/^put '([^']+)' \d{4} \S+ <<'FACTEUR_EOF'\n([\s\S]*?)\nFACTEUR_EOF$/gm)) out.set(m[1]!, Buffer.from(m[2]!.replace(/\n/g, ""), "base64").toString("utf8"));
  return out;
}
const scriptOf = (r: ProgramRun, host: string) => {
  const s = res(r, `apply:${host}`).inputs.stdin;
  assert.ok(isSecretValue(s), `apply:${host} stdin must be a secret`);
  return plain(s) as string;
};

const example = run();

test("resource graph of the example stack: types, names, key inputs", async () => {
  const r = await example;
  const { model, skeleton } = r.stack;
  const hosts = skeleton.hosts.map((h) => h.name);
  assert.deepEqual(hosts, ["mx1", "mx2", "out1", "out2", "spam1"]);
  const count = (t: string) => byType(r, t).length;
  assert.equal(count("hcloud:index/primaryIp:PrimaryIp"), 10);
  assert.equal(count("hcloud:index/server:Server"), 5);
  assert.equal(count("hcloud:index/rdns:Rdns"), 10);
  assert.equal(count("hcloud:index/firewall:Firewall"), 2);
  assert.equal(count("hcloud:index/sshKey:SshKey"), 1);
  assert.equal(count("command:remote:Command"), 5);
  assert.deepEqual(byType(r, "tls:index/privateKey:PrivateKey").map((x) => x.name).sort(), ["dkim-entreprise.tld-e2026a", "dkim-monmagasin.tld-m2026a", "dkim-relais.tld-f2026a"]);
  for (const k of byType(r, "tls:index/privateKey:PrivateKey")) assert.deepEqual(plain(k.inputs), { algorithm: "RSA", rsaBits: 2048 });
  // One Cloudflare record per plan record, named by its plan id.
  assert.deepEqual(byType(r, "cloudflare:index/dnsRecord:DnsRecord").map((x) => x.name).sort(), skeleton.dns.map((d) => d.id).sort());

  for (const h of skeleton.hosts) {
    for (const family of ["ipv4", "ipv6"] as const) {
      const ip = res(r, `ip:${h.name}:${family}`);
      assert.deepEqual(
        { ...(plain(ip.inputs) as object), labels: undefined },
        { name: `${h.fqdn}-${family}`, type: family, location: h.location, assigneeType: "server", autoDelete: false, deleteProtection: true, labels: undefined },
      );
      assert.equal(ip.options.retainOnDelete, true, "a fixed IP outlives its server and its place in the spec");
      const ptr = inp(r, `ptr:${h.name}:${family}`);
      assert.deepEqual(ptr, { primaryIpId: Number(mockId(`ip:${h.name}:${family}`)), ipAddress: r.outputs.addresses[h.name]![family], dnsPtr: h.fqdn });
    }
    const server = res(r, `server:${h.name}`);
    const s = plain(server.inputs) as Record<string, any>;
    assert.equal(s.name, h.fqdn);
    assert.equal(s.image, "debian-12");
    assert.equal(s.serverType, h.serverType);
    assert.equal(s.location, h.location);
    assert.deepEqual(s.publicNets, [{ ipv4Enabled: true, ipv4: Number(mockId(`ip:${h.name}:ipv4`)), ipv6Enabled: true, ipv6: Number(mockId(`ip:${h.name}:ipv6`)) }]);
    assert.deepEqual(s.sshKeys, [mockId("ssh-key:ops")]);
    assert.deepEqual(s.firewallIds, [Number(mockId(`fw:${h.role}`))]);
    assert.deepEqual(server.options.ignoreChanges, ["userData"], "a new bundle never rebuilds a server");
    assert.equal(server.options.deleteBeforeReplace, true);
    assert.match(s.userData, /^#cloud-config\n/);
    for (const p of ["postfix", "opendkim", "opendkim-tools", "postsrsd", "sasl2-bin", "libsasl2-modules"]) assert.match(s.userData, new RegExp(`[ \\[]${p}[,\\]]`));
    assert.match(s.userData, new RegExp(`^fqdn: ${h.fqdn.replace(/\./g, "\\.")}$`, "m"));

    const apply = res(r, `apply:${h.name}`);
    const a = plain(apply.inputs) as Record<string, any>;
    assert.deepEqual(a.connection, { host: r.outputs.addresses[h.name]!.ipv4, port: 22, user: "root", privateKey: SECRETS.sshPrivateKey });
    assert.match(a.create, /^: facteur-bundle [0-9a-f]{64}; /);
    assert.deepEqual(a.triggers, [mockId(`server:${h.name}`)], "a rebuilt server gets its bundle again");
    const deps = (apply.options.dependsOn as pulumi.Resource[]).map((d) => d);
    assert.ok(deps.includes(r.stack.hosts[h.name]!.server));
  }

  const fwRelay = inp(r, "fw:relay").rules as any[];
  const fwSmart = inp(r, "fw:smarthost").rules as any[];
  const rule = (rules: any[], port: string) => rules.find((x) => x.port === port);
  const anywhere = ["0.0.0.0/0", "::/0"];
  assert.deepEqual(rule(fwRelay, "25").sourceIps, anywhere);
  assert.equal(rule(fwRelay, "587"), undefined);
  const relayCidrs = ["mx1", "mx2"].flatMap((h) => [`${r.outputs.addresses[h]!.ipv4}/32`, `${r.outputs.addresses[h]!.ipv6}/128`]);
  assert.deepEqual(rule(fwSmart, "25").sourceIps, relayCidrs, "smarthosts take port 25 from the relays only");
  assert.deepEqual(rule(fwSmart, "587").sourceIps, anywhere);
  assert.deepEqual(rule(fwSmart, "465").sourceIps, anywhere);
  for (const rules of [fwRelay, fwSmart]) {
    assert.deepEqual(rule(rules, "22").sourceIps, model.operator.sshSources);
    for (const x of rules) assert.equal(x.direction, "in");
  }

  // DNS: zones from config, else one lookup per zone; MX priorities; A/AAAA not proxied.
  for (const d of r.outputs.dns) {
    const rec = inp(r, d.id);
    const zone = skeleton.dns.find((x) => x.id === d.id)!.zone;
    assert.equal(rec.zoneId, { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin", "relais.tld": "zone-relais" }[zone]);
    assert.equal(rec.name, d.name);
    assert.equal(rec.type, d.type);
    assert.equal(rec.ttl, 3600);
    if (d.type === "MX") assert.equal(rec.priority, (d as { priority?: number }).priority);
    else assert.equal(rec.priority, undefined);
    if (d.type === "A" || d.type === "AAAA") assert.equal(rec.proxied, false);
  }
  assert.deepEqual(r.invokes.map((i) => [i.token, (i.inputs as any).filter.name]), [["cloudflare:index/getZone:getZone", "relais.tld"]]);
  assert.equal(inp(r, "pool-mx:out1").content, "out1.relais.tld");
  assert.equal(inp(r, "a:out1").content, r.outputs.addresses.out1!.ipv4);
  assert.match(r.outputs.addresses.out1!.ipv6, /^2001:db8:[0-9a-f]+::1$/, "the server's address is ::1 of its /64");
});

test("TXT records go to Cloudflare as quoted strings of at most 255 bytes; DKIM p= is the key the smarthosts sign with", async () => {
  const r = await example;
  for (const d of r.outputs.dns.filter((x) => x.type === "TXT")) {
    const sent = inp(r, d.id).content as string;
    assert.equal(sent, quoteTxt(d.content));
    const chunks = [...sent.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    for (const c of chunks) assert.ok(Buffer.byteLength(c) <= 255);
    assert.equal(chunks.join(""), d.content);
  }
  const dkim = r.outputs.dns.find((x) => x.id === "dkim:entreprise.tld:e2026a")!;
  assert.ok(dkim.content.length > 255 && txtStrings(dkim.content).length === 2, "a 2048-bit key needs two strings");
  const p = /p=([A-Za-z0-9+/=]+)$/.exec(dkim.content)![1]!;
  const published = createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" });
  // The private key out1 is given for entreprise.tld is the other half of the published one.
  const pem = stagedFiles(scriptOf(r, "out1")).get("/etc/opendkim/keys/entreprise.tld/e2026a.private")!;
  assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(createPublicKey(pem).export({ type: "spki", format: "der" }).toString("base64"), published.export({ type: "spki", format: "der" }).toString("base64"));
});

test("secrets: filled bundles are secret outputs, and no secret value reaches a plain input or a stack output", async () => {
  const r = await example;
  const dkimPems = byType(r, "tls:index/privateKey:PrivateKey").map((k) => String(k.state.privateKeyPem));
  const forbidden = [...Object.values(SECRETS), ...dkimPems.map((p) => p.split("\n")[1]!)];
  const walkPlain = (v: unknown, where: string): void => {
    if (isSecretValue(v)) return;
    if (typeof v === "string") for (const f of forbidden) assert.ok(!v.includes(f), `${where} holds a secret in plain text`);
    else if (Array.isArray(v)) v.forEach((x, i) => walkPlain(x, `${where}[${i}]`));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walkPlain(x, `${where}.${k}`);
  };
  for (const x of r.resources.values()) walkPlain(x.inputs, x.name);
  walkPlain(r.outputs, "stack outputs");
  for (const o of Object.values(r.stack.outputs)) assert.equal(await pulumi.isSecret(o), false, "stack outputs are plain: they hold no secret");

  for (const h of r.stack.skeleton.hosts) {
    assert.equal(await pulumi.isSecret(r.stack.hosts[h.name]!.script), true);
    assert.ok(isSecretValue(res(r, `apply:${h.name}`).inputs.stdin));
    assert.ok(isSecretValue((res(r, `apply:${h.name}`).inputs.connection as any).privateKey) || isSecretValue(res(r, `apply:${h.name}`).inputs.connection));
  }
  // Filled where they are needed, and only there.
  const mx1 = scriptOf(r, "mx1");
  assert.ok(stagedFiles(mx1).get("/etc/postfix/sasl_passwd")!.includes(`relais@fai.tld:${SECRETS.faiRelayPassword}`));
  assert.ok(!mx1.includes("${secret:"), "every reference is filled");
  assert.ok(![...stagedFiles(mx1).keys()].some((p) => p.startsWith("/etc/opendkim/keys/")), "relays hold no DKIM private key");
  const out1 = scriptOf(r, "out1");
  assert.ok(out1.includes(Buffer.from(SECRETS.johnSubmission).toString("base64")), "the submission password goes into sasldb");
  assert.match(out1, /saslpasswd2 -p -c -f "\$STAGE\/etc\/sasldb2" -u 'entreprise\.tld' 'john'/);
  assert.ok(!out1.includes(Buffer.from(SECRETS.faiRelayPassword).toString("base64")) && !out1.includes(SECRETS.faiRelayPassword));
  assert.deepEqual([...stagedFiles(out1).keys()].filter((p) => p.startsWith("/etc/opendkim/keys/")).sort(), [
    "/etc/opendkim/keys/entreprise.tld/e2026a.private",
    "/etc/opendkim/keys/monmagasin.tld/m2026a.private",
    "/etc/opendkim/keys/relais.tld/f2026a.private",
  ]);
});

test("a secret named by the spec but not set stops the program, naming the config key", async () => {
  const { johnSubmission: _, ...rest } = SECRETS;
  await assert.rejects(run(undefined, { ...OPTIONS, secrets: rest }), /facteur:johnSubmission/);
});

test("PTR names are the A/AAAA names and the HELO name, for every address", async () => {
  const r = await example;
  for (const h of r.stack.skeleton.hosts) {
    const files = stagedFiles(scriptOf(r, h.name));
    const helo = /^myhostname = (.+)$/m.exec(files.get("/etc/postfix/main.cf")!)![1];
    assert.equal(helo, h.fqdn);
    assert.equal(files.get("/etc/hostname")!.trim(), h.fqdn);
    assert.equal(files.get("/etc/mailname")!.trim(), h.fqdn);
    for (const [family, rtype] of [["ipv4", "a"], ["ipv6", "aaaa"]] as const) {
      const ptr = inp(r, `ptr:${h.name}:${family}`);
      const fwd = inp(r, `${rtype}:${h.name}`);
      assert.equal(ptr.dnsPtr, fwd.name, `${h.name} ${family}: PTR name = ${rtype.toUpperCase()} name`);
      assert.equal(ptr.ipAddress, fwd.content, `${h.name} ${family}: the PTR is on the address the ${rtype.toUpperCase()} record gives`);
      assert.equal(ptr.dnsPtr, helo, `${h.name} ${family}: PTR name = HELO name`);
    }
    assert.equal(inp(r, `apply:${h.name}`).connection.host, inp(r, `a:${h.name}`).content);
  }
});

// ---- churn ------------------------------------------------------------------------------

/** Inputs whose change makes the provider replace the resource (ForceNew), per type. */
const REPLACE_ON: Record<string, string[]> = {
  "hcloud:index/server:Server": ["image", "location", "datacenter"], // userData is ignored (ignoreChanges); serverType resizes in place
  "hcloud:index/primaryIp:PrimaryIp": ["type", "location", "datacenter"],
  "hcloud:index/rdns:Rdns": ["primaryIpId", "ipAddress"],
  "hcloud:index/sshKey:SshKey": ["publicKey"],
  "tls:index/privateKey:PrivateKey": ["algorithm", "rsaBits"],
  "cloudflare:index/dnsRecord:DnsRecord": ["zoneId"],
  "command:remote:Command": ["triggers"],
};

interface Churn {
  created: string[];
  deleted: string[];
  updated: Record<string, string[]>;
  replaced: string[];
}

function churn(a: ProgramRun, b: ProgramRun): Churn {
  const created = [...b.resources.keys()].filter((n) => !a.resources.has(n)).sort();
  const deleted = [...a.resources.keys()].filter((n) => !b.resources.has(n)).sort();
  const updated: Record<string, string[]> = {};
  const replaced: string[] = [];
  for (const [name, ra] of a.resources) {
    const rb = b.resources.get(name);
    if (!rb) continue;
    assert.equal(ra.type, rb.type);
    const ia = plain(ra.inputs) as Record<string, unknown>;
    const ib = plain(rb.inputs) as Record<string, unknown>;
    const ignored = new Set((rb.options.ignoreChanges as string[] | undefined) ?? []);
    const keys = [...new Set([...Object.keys(ia), ...Object.keys(ib)])].filter((k) => !ignored.has(k));
    const changed = keys.filter((k) => JSON.stringify(ia[k]) !== JSON.stringify(ib[k])).sort();
    if (changed.length) updated[name] = changed;
    if (changed.some((k) => (REPLACE_ON[ra.type] ?? []).includes(k))) replaced.push(name);
  }
  return { created, deleted, updated, replaced };
}

const hostResources = (h: string, pool = "pool-mx") =>
  [`a:${h}`, `aaaa:${h}`, `apply:${h}`, `helo-spf:${h}`, `ip:${h}:ipv4`, `ip:${h}:ipv6`, `${pool}:${h}`, `ptr:${h}:ipv4`, `ptr:${h}:ipv6`, `server:${h}`].sort();

test("churn: adding one smarthost creates its resources and updates only the pool SPF record", async () => {
  const before = await example;
  const after = await run(exampleWith("  out2: { kind: own, location: hel1, serverType: cx22 }\n", "  out2: { kind: own, location: hel1, serverType: cx22 }\n  out3: { kind: own, location: nbg1, serverType: cx22 }\n"));
  const c = churn(before, after);
  assert.deepEqual(c.created, hostResources("out3"));
  assert.deepEqual(c.deleted, []);
  assert.deepEqual(c.replaced, []);
  assert.deepEqual(c.updated, { "spf-pool": ["content"] });
  // The relays' bundles are byte-identical (they send to the pool name, not to hosts).
  for (const h of ["mx1", "mx2"]) assert.equal(scriptOf(after, h), scriptOf(before, h));
  const spf = inp(after, "spf-pool").content as string;
  assert.ok(spf.includes(`ip4:${after.outputs.addresses.out3!.ipv4}`) && spf.includes(`ip6:${after.outputs.addresses.out3!.ipv6}`));
});

test("churn: draining a smarthost only removes it from the pool MX", async () => {
  const before = await example;
  const after = await run(exampleWith("out2: { kind: own, location: hel1, serverType: cx22 }", "out2: { kind: own, location: hel1, serverType: cx22, drain: true }"));
  const c = churn(before, after);
  assert.deepEqual(c.created, []);
  assert.deepEqual(c.deleted, ["pool-mx:out2"]);
  assert.deepEqual(c.replaced, []);
  for (const h of ["mx1", "mx2"]) assert.equal(c.updated[`apply:${h}`], undefined, `${h} unchanged`);
  assert.deepEqual(Object.keys(c.updated).filter((n) => !n.startsWith("apply:")), [], "no record, server or IP changes");
});

test("churn: removing a smarthost deletes its resources (its IPs are retained at Hetzner) and updates only the pool SPF record", async () => {
  const before = await example;
  const after = await run(exampleWith("  out2: { kind: own, location: hel1, serverType: cx22 }\n", ""));
  const c = churn(before, after);
  assert.deepEqual(c.created, []);
  assert.deepEqual(c.deleted, hostResources("out2"));
  assert.deepEqual(c.replaced, []);
  assert.deepEqual(c.updated, { "spf-pool": ["content"] });
  for (const f of ["ipv4", "ipv6"]) assert.equal(res(before, `ip:out2:${f}`).options.retainOnDelete, true);
});

test("churn detector is not vacuous: moving a relay to another location replaces its server and IPs", async () => {
  const before = await example;
  const after = await run(exampleWith("mx1: { location: fsn1,", "mx1: { location: hel1,"));
  const c = churn(before, after);
  assert.deepEqual(c.replaced, ["ip:mx1:ipv4", "ip:mx1:ipv6", "server:mx1"]);
  assert.deepEqual(c.created, []);
  assert.deepEqual(c.deleted, []);
});
