// The Pulumi program under strict mocks (src/pulumi/mocks.ts): the resource graph of the
// example stack, secrets kept secret, PTR = A/AAAA name = HELO name (field notes 5), the hosts
// as components whose resources keep the URNs of stacks deployed before (aliases), and what
// a routine change does: never a server or a primary IP replaced or deleted (field notes 1, 5).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { buildPlan } from "../src/plan/plan.ts";
import { parseSpec } from "../src/spec/load.ts";
import { quoteTxt, txtStrings } from "../src/plan/dns.ts";
import { renderStack } from "../src/render/render.ts";
import { fillSecrets } from "../src/render/bundle.ts";
import { serverTypeWarnings } from "../src/plan/serverTypes.ts";
import { isSecretValue, mockId, plain, runProgram, type ProgramRun, type RecordedResource, type RunOptions } from "../src/pulumi/mocks.ts";
import { publicKeyOfPrivate } from "../src/pulumi/sshKeys.ts";
import { SSH_DIAL } from "../src/pulumi/hosts.ts";
import { DEFAULT_SMTP_PROBE_HOSTS } from "../src/pulumi/config.ts";
import { churn, urnOf, aliasUrnsOf, REPLACE_TRIGGERS } from "./support/churn.ts";
import { sharedRun } from "./support/programRuns.ts";
import { exampleText, exampleWith } from "./support/example.ts";
import { stagedFiles as stagedBy } from "./support/applyScript.ts";

/** A real key pair, as `ssh-keygen -t ed25519` would give (PKCS#8 PEM private half). */
function sshKeyPair(comment: string) {
  const pair = generateKeyPairSync("ed25519");
  const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  return { privateKey, publicKey: `${publicKeyOfPrivate(privateKey)} ${comment}` };
}
const OPS = sshKeyPair("ops@relais.tld");
const OPS2 = sshKeyPair("ops2@relais.tld");

const SECRETS = { sshPrivateKey: OPS.privateKey, faiRelayPassword: "fai-Relay-pw-7Qx", johnSubmission: "john-Submission-pw-9Kz" };
const OPTIONS: RunOptions = {
  config: { sshKeys: { ops: OPS.publicKey }, zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin" } },
  secrets: SECRETS,
  // relais.tld is not in zoneIds: looked up by name.
  cloudflareZones: { "relais.tld": "zone-relais" },
};
/** One run per distinct input (test/support/programRuns.ts): a churn step's "after" is often the next one's "before". */
const run = (text = exampleText(), opts: RunOptions = OPTIONS) => sharedRun(text, opts);

const byType = (r: ProgramRun, type: string) => [...r.resources.values()].filter((x) => x.type === type);
const res = (r: ProgramRun, name: string): RecordedResource => {
  const x = r.resources.get(name);
  assert.ok(x, `no resource ${name}`);
  return x;
};
const inp = (r: ProgramRun, name: string) => plain(res(r, name).inputs) as Record<string, any>;

/** Files a host's apply script stages: path -> content. */
const stagedFiles = (script: string) => new Map([...stagedBy(script)].map(([p, f]) => [p, f.content]));
const scriptOf = (r: ProgramRun, host: string) => {
  const s = res(r, `apply:${host}`).inputs.stdin;
  assert.ok(isSecretValue(s), `apply:${host} stdin must be a secret`);
  return plain(s) as string;
};

const example = run();

test("resource graph of the example stack: types, names, key inputs", async () => {
  const r = await example;
  const { model, plan } = r.stack.planned;
  assert.deepEqual(plan.hosts.map((h) => h.name), ["mx1", "mx2", "out1", "out2", "spam1"]);
  const count = (t: string) => byType(r, t).length;
  assert.equal(count("hcloud:index/primaryIp:PrimaryIp"), 10);
  assert.equal(count("hcloud:index/server:Server"), 5);
  assert.equal(count("hcloud:index/rdns:Rdns"), 10);
  assert.equal(count("hcloud:index/firewall:Firewall"), 2);
  assert.equal(count("hcloud:index/sshKey:SshKey"), 1);
  assert.equal(count("command:remote:Command"), 5);
  assert.equal(count("facteur:host:Relay"), 2);
  assert.equal(count("facteur:host:Smarthost"), 3);
  assert.deepEqual(byType(r, "tls:index/privateKey:PrivateKey").map((x) => x.name).sort(), ["dkim-entreprise.tld-e2026a", "dkim-monmagasin.tld-m2026a", "dkim-relais.tld-f2026a"]);
  for (const k of byType(r, "tls:index/privateKey:PrivateKey")) assert.deepEqual(plain(k.inputs), { algorithm: "RSA", rsaBits: 2048 });
  // One Cloudflare record per plan record, named by its plan id.
  assert.deepEqual(byType(r, "cloudflare:index/dnsRecord:DnsRecord").map((x) => x.name).sort(), plan.dns.map((d) => d.id).sort());
  assert.match(inp(r, "ssh-key:ops").name, /^facteur-example-ops-[0-9a-f]{8}$/, "the Hetzner name carries the fingerprint: a rotated key never clashes with the one it replaces");

  for (const h of plan.hosts) {
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
    assert.deepEqual(server.options.ignoreChanges, ["userData", "sshKeys"], "neither a new bundle nor a new SSH key rebuilds a server");
    assert.equal(server.options.deleteBeforeReplace, true);
    assert.match(s.userData, /^#cloud-config\n/);
    for (const p of ["postfix", "opendkim", "opendkim-tools", "postsrsd", "sasl2-bin", "libsasl2-modules"]) assert.match(s.userData, new RegExp(`[ \\[]${p}[,\\]]`));
    assert.match(s.userData, new RegExp(`^fqdn: ${h.fqdn.replace(/\./g, "\\.")}$`, "m"));

    const apply = res(r, `apply:${h.name}`);
    const a = plain(apply.inputs) as Record<string, any>;
    assert.deepEqual(a.connection, { host: r.outputs.addresses[h.name]!.ipv4, port: 22, user: "root", privateKey: SECRETS.sshPrivateKey, ...SSH_DIAL });
    assert.ok(SSH_DIAL.dialErrorLimit > 10 && SSH_DIAL.perDialTimeout >= 15, "more patient than the provider's defaults (10 dials, 15 s): a new server boots slowly");
    assert.equal(a.logging, "stderr", "only the script's own progress lines reach the logs");
    assert.equal(a.addPreviousOutputInEnv, false);
    for (const o of ["stdout", "stderr", "connection"]) assert.ok(apply.options.additionalSecretOutputs?.includes(o), `${o} is kept encrypted in the state`);
    assert.match(a.create, /^: facteur-bundle [0-9a-f]{64}; /);
    assert.deepEqual(a.triggers, [mockId(`server:${h.name}`)], "a rebuilt server gets its bundle again");
    const host = r.stack.hosts[h.name]!;
    assert.deepEqual(new Set(apply.options.dependsOn as pulumi.Resource[]), new Set([host.server, ...host.rdns, r.stack.firewalls[`fw:${h.role}`]!]), "the bundle goes to a server whose PTRs and firewall exist");
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
  // The firewalls are the plan's, rule for rule, with its reasons.
  for (const fw of plan.firewalls)
    assert.deepEqual(
      (inp(r, fw.id).rules as any[]).map((x) => [x.protocol, x.port, x.description]),
      fw.rules.map((x) => [x.protocol, x.port === undefined ? undefined : String(x.port), x.reason]),
    );

  // DNS: zones from config, else one lookup per zone; MX priorities; A/AAAA not proxied.
  for (const d of r.outputs.dns) {
    const rec = inp(r, d.id);
    const zone = plan.dns.find((x) => x.id === d.id)!.zone;
    assert.equal(rec.zoneId, { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin", "relais.tld": "zone-relais" }[zone]);
    assert.equal(rec.name, d.name);
    assert.equal(rec.type, d.type);
    assert.equal(rec.ttl, 3600);
    assert.equal(rec.comment, `facteur ${d.id}`);
    if (d.type === "MX") assert.equal(rec.priority, (d as { priority?: number }).priority);
    else assert.equal(rec.priority, undefined);
    if (d.type === "A" || d.type === "AAAA") assert.equal(rec.proxied, false);
  }
  // Looked up before anything is declared: the project's SSH keys, the zone not in zoneIds, each zone's records.
  assert.deepEqual(
    r.invokes.map((i) => [i.token, (i.inputs as any).filter?.name ?? (i.inputs as any).zoneId ?? ""]),
    [
      ["hcloud:index/getSshKeys:getSshKeys", ""],
      ["cloudflare:index/getDnsRecords:getDnsRecords", "zone-entreprise"],
      ["cloudflare:index/getDnsRecords:getDnsRecords", "zone-monmagasin"],
      ["cloudflare:index/getZone:getZone", "relais.tld"],
      ["cloudflare:index/getDnsRecords:getDnsRecords", "zone-relais"],
    ],
  );
  assert.equal(inp(r, "pool-mx:out1").content, "out1.relais.tld");
  assert.equal(inp(r, "a:out1").content, r.outputs.addresses.out1!.ipv4);
  assert.match(r.outputs.addresses.out1!.ipv6, /^2001:db8:[0-9a-f]+::1$/, "the server's address is ::1 of its /64");
});

test("the plan is built once, from placeholders; what each host and record gets equals planning with the real addresses and keys", async () => {
  const r = await example;
  const { model } = r.stack.planned;
  const dkim = Object.fromEntries(r.outputs.dns.filter((d) => d.id.startsWith("dkim:")).map((d) => [d.id.slice(5).replace(/:([^:]+)$/, "/$1"), /p=(\S+)$/.exec(d.content)![1]!]));
  const real = buildPlan(model, { addresses: r.outputs.addresses, dkimKeys: dkim });
  assert.deepEqual(
    r.outputs.dns.map((d) => [d.id, d.content]),
    real.dns.map((d) => [d.id, d.content]),
  );
  for (const b of renderStack(model, real, { root: "" })) {
    const staged = stagedFiles(scriptOf(r, b.host));
    for (const f of b.files) assert.equal(staged.get(f.path), fillSecrets(f.content, SECRETS, f.path, f.secretRefs ?? []), `${b.host}: ${f.path}`);
  }
  // The IPv6 CIDRs the smarthosts trust stay /128 once filled (a placeholder once became /32).
  assert.match(stagedFiles(scriptOf(r, "out1")).get("/etc/postfix/relay_clients")!, new RegExp(`^${r.outputs.addresses.mx1!.ipv6.replace(/\./g, "\\.")}/128 OK$`, "m"));
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
  const forbidden = [...Object.values(SECRETS).map((s) => (s.includes("PRIVATE KEY") ? s.split("\n")[1]! : s)), ...dkimPems.map((p) => p.split("\n")[1]!)];
  const walkPlain = (v: unknown, where: string): void => {
    if (isSecretValue(v)) return;
    if (typeof v === "string") for (const f of forbidden) assert.ok(!v.includes(f), `${where} holds a secret in plain text`);
    else if (Array.isArray(v)) v.forEach((x, i) => walkPlain(x, `${where}[${i}]`));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walkPlain(x, `${where}.${k}`);
  };
  for (const x of r.resources.values()) walkPlain(x.inputs, x.name);
  walkPlain(r.outputs, "stack outputs");
  for (const o of Object.values(r.stack.outputs)) assert.equal(await pulumi.isSecret(o), false, "stack outputs are plain: they hold no secret");

  for (const h of r.stack.planned.plan.hosts) {
    assert.equal(await pulumi.isSecret(r.stack.hosts[h.name]!.script!), true);
    const inputs = res(r, `apply:${h.name}`).inputs;
    assert.ok(isSecretValue(inputs.stdin), "the script (it holds every secret of the host) is a secret input");
    // @pulumi/command 1.x marks the whole connection secret: the SSH private key never shows in a diff.
    assert.ok(isSecretValue(inputs.connection), "the connection, SSH private key included, is a secret input");
  }
  // Filled where they are needed, and only there.
  const mx1 = scriptOf(r, "mx1");
  assert.ok(stagedFiles(mx1).get("/etc/postfix/sasl_passwd")!.includes(`relais@fai.tld:${SECRETS.faiRelayPassword}`));
  assert.ok(!mx1.includes("${secret:"), "every reference is filled");
  assert.ok(![...stagedFiles(mx1).keys()].some((p) => p.startsWith("/etc/opendkim/keys/")), "relays hold no DKIM private key");
  const out1 = scriptOf(r, "out1");
  assert.ok(out1.includes(`printf %s $'${SECRETS.johnSubmission}' | saslpasswd2 -p -c -f "$STAGE/etc/sasldb2" -u 'entreprise.tld' 'john'`), "the submission password goes into sasldb, on saslpasswd2's standard input");
  assert.match(out1, /saslpasswd2 -p -c -f "\$STAGE\/etc\/sasldb2" -u 'entreprise\.tld' 'john'/);
  assert.ok(!out1.includes(Buffer.from(SECRETS.faiRelayPassword).toString("base64")) && !out1.includes(SECRETS.faiRelayPassword));
  assert.deepEqual([...stagedFiles(out1).keys()].filter((p) => p.startsWith("/etc/opendkim/keys/")).sort(), [
    "/etc/opendkim/keys/entreprise.tld/e2026a.private",
    "/etc/opendkim/keys/monmagasin.tld/m2026a.private",
    "/etc/opendkim/keys/relais.tld/f2026a.private",
  ]);
});

test("the apply step is given root's authorized_keys (exactly facteur:sshKeys), the role's packages and the port 25 probe", async () => {
  const r = await example;
  for (const h of r.stack.planned.plan.hosts) {
    const script = scriptOf(r, h.name);
    assert.equal(stagedFiles(script).get("/root/.ssh/authorized_keys"), `${OPS.publicKey.split(" ").slice(0, 2).join(" ")} facteur:sshKeys.ops\n`);
    assert.match(script, new RegExp(`^PACKAGES=\\(.*'${h.role === "relay" ? "rspamd" : "policyd-rate-limit"}'\\)$`, "m"));
    assert.match(script, new RegExp(`^PROBE=\\(${DEFAULT_SMTP_PROBE_HOSTS.map((p) => `'${p.replace(/\./g, "\\.")}'`).join(" ")}\\)$`, "m"));
  }
});

test("a secret named by the spec but not set stops the program, naming the config key", async () => {
  const { johnSubmission: _, ...rest } = SECRETS;
  await assert.rejects(run(undefined, { ...OPTIONS, secrets: rest }), /facteur:johnSubmission/);
});

test("an SSH private key whose public half is not in facteur:sshKeys stops the update before it locks facteur out", async () => {
  await assert.rejects(run(undefined, { ...OPTIONS, secrets: { ...SECRETS, sshPrivateKey: OPS2.privateKey } }), /facteur:sshPrivateKey is not the private half of any facteur:sshKeys entry.*Rotate in two updates/s);
});

test("runs asked for at once take turns (one Pulumi runtime per process): each gets its own resources, a failing one fails alone", async () => {
  const { johnSubmission: _, ...rest } = SECRETS;
  const spec = parseSpec(exampleText(), "stacks/example.facteur.yaml");
  const withOut3 = parseSpec(exampleWith("  out2: { kind: own", "  out3: { kind: own, location: hel1, serverType: cx23 }\n  out2: { kind: own"), "stacks/example.facteur.yaml");
  const [a, failed, b] = await Promise.allSettled([runProgram(spec, OPTIONS), runProgram(spec, { ...OPTIONS, secrets: rest }), runProgram(withOut3, OPTIONS)]);
  assert.equal(a.status, "fulfilled", a.status === "rejected" ? String(a.reason) : "");
  assert.equal(b.status, "fulfilled", b.status === "rejected" ? String(b.reason) : "");
  assert.equal(failed.status, "rejected");
  assert.match(String((failed as PromiseRejectedResult).reason), /facteur:johnSubmission/);
  const servers = (r: ProgramRun) => [...r.resources.values()].filter((x) => x.type === "hcloud:index/server:Server").map((x) => x.name).sort();
  assert.deepEqual(servers(a.value), ["server:mx1", "server:mx2", "server:out1", "server:out2", "server:spam1"]);
  assert.deepEqual(servers(b.value), ["server:mx1", "server:mx2", "server:out1", "server:out2", "server:out3", "server:spam1"]);
});

test("PTR names are the A/AAAA names and the HELO name, for every address", async () => {
  const r = await example;
  for (const h of r.stack.planned.plan.hosts) {
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

// ---- hosts as components, and the URNs of stacks deployed before them ----------------------

const BEFORE = JSON.parse(readFileSync(new URL("./fixtures/pulumi-urns-before-components.json", import.meta.url), "utf8")) as { urns: string[] };

test("each host is a component (Relay or Smarthost) holding its IPs, server, PTRs and apply command", async () => {
  const r = await example;
  for (const h of r.stack.planned.plan.hosts) {
    const comp = res(r, h.name);
    assert.equal(comp.type, h.role === "relay" ? "facteur:host:Relay" : "facteur:host:Smarthost");
    assert.equal(comp.parent, undefined);
    const children = [...r.resources.values()].filter((x) => x.parent === h.name).map((x) => x.name).sort();
    assert.deepEqual(children, [`apply:${h.name}`, `ip:${h.name}:ipv4`, `ip:${h.name}:ipv6`, `ptr:${h.name}:ipv4`, `ptr:${h.name}:ipv6`, `server:${h.name}`]);
    assert.equal(urnOf(r, res(r, `server:${h.name}`)), `urn:pulumi:example::facteur::${comp.type}$hcloud:index/server:Server::server:${h.name}`);
  }
});

test("aliases: every resource of a stack deployed before hosts were components keeps its identity (nothing replaced or deleted)", async () => {
  const r = await example;
  const before = new Set(BEFORE.urns);
  const claims = new Map<string, string[]>();
  for (const x of r.resources.values()) {
    for (const u of [urnOf(r, x), ...aliasUrnsOf(r, x)]) if (before.has(u)) claims.set(u, [...(claims.get(u) ?? []), x.name]);
  }
  for (const u of BEFORE.urns) {
    const who = claims.get(u) ?? [];
    assert.equal(who.length, 1, `${u} must be claimed by exactly one resource (the engine moves it instead of deleting it), got ${JSON.stringify(who)}`);
    assert.equal(u.split("::")[2], res(r, who[0]!).type, `${u}: same type`);
  }
  // What is new is the components only: no resource is created in place of an old one.
  const unclaimed = [...r.resources.values()].filter((x) => ![urnOf(r, x), ...aliasUrnsOf(r, x)].some((u) => before.has(u)));
  assert.deepEqual(unclaimed.map((x) => x.type).sort(), ["facteur:host:Relay", "facteur:host:Relay", "facteur:host:Smarthost", "facteur:host:Smarthost", "facteur:host:Smarthost"]);
  // Without the aliases the engine would delete and recreate every host resource: the test would see it.
  const moved = [...r.resources.values()].filter((x) => x.parent && !before.has(urnOf(r, x)));
  assert.equal(moved.length, 30, "30 host resources changed URN and are matched only through their alias");
});

// ---- churn ------------------------------------------------------------------------------

test("the replace table is the providers' own (derived from their sources) and matches the SDKs installed here", () => {
  const required = ["hcloud:index/server:Server", "hcloud:index/primaryIp:PrimaryIp", "hcloud:index/rdns:Rdns", "hcloud:index/firewall:Firewall", "hcloud:index/sshKey:SshKey", "cloudflare:index/dnsRecord:DnsRecord", "tls:index/privateKey:PrivateKey", "command:remote:Command", "cloudflare:index/workersScript:WorkersScript", "cloudflare:index/workersCustomDomain:WorkersCustomDomain", "cloudflare:index/zoneDnssec:ZoneDnssec"];
  assert.deepEqual(Object.keys(REPLACE_TRIGGERS.types).sort(), [...required].sort());
  const props = (t: string) => REPLACE_TRIGGERS.types[t]!.map((x) => x.property);
  assert.deepEqual(props("hcloud:index/server:Server").sort(), ["datacenter", "image", "location", "sshKeys", "userData"]);
  assert.deepEqual(props("hcloud:index/primaryIp:PrimaryIp").sort(), ["datacenter", "location", "type"]);
  assert.deepEqual(props("cloudflare:index/dnsRecord:DnsRecord").sort(), ["type", "zoneId"]);
  assert.deepEqual(props("cloudflare:index/zoneDnssec:ZoneDnssec"), ["zoneId"], "signing a zone is never replaced by a status change");
  for (const t of required) for (const x of REPLACE_TRIGGERS.types[t]!) assert.match(x.source, /^[\w-]+\/[\w-]+@\S+ \S+$/, `${t}.${x.property} names its source`);
  // Each property exists in the installed SDK's Args for that type (the TF -> Pulumi name mapping is right).
  const sdkFile: Record<string, string> = {
    "hcloud:index/server:Server": "@pulumi/hcloud/server.d.ts",
    "hcloud:index/primaryIp:PrimaryIp": "@pulumi/hcloud/primaryIp.d.ts",
    "hcloud:index/rdns:Rdns": "@pulumi/hcloud/rdns.d.ts",
    "hcloud:index/sshKey:SshKey": "@pulumi/hcloud/sshKey.d.ts",
    "cloudflare:index/dnsRecord:DnsRecord": "@pulumi/cloudflare/dnsRecord.d.ts",
    "tls:index/privateKey:PrivateKey": "@pulumi/tls/privateKey.d.ts",
    "command:remote:Command": "@pulumi/command/remote/command.d.ts",
    "cloudflare:index/workersScript:WorkersScript": "@pulumi/cloudflare/workersScript.d.ts",
    "cloudflare:index/workersCustomDomain:WorkersCustomDomain": "@pulumi/cloudflare/workersCustomDomain.d.ts",
    "cloudflare:index/zoneDnssec:ZoneDnssec": "@pulumi/cloudflare/zoneDnssec.d.ts",
  };
  for (const [t, f] of Object.entries(sdkFile)) {
    const dts = readFileSync(new URL(`../node_modules/${f}`, import.meta.url), "utf8");
    const args = dts.slice(dts.indexOf("Args {"));
    for (const p of props(t)) assert.match(args, new RegExp(`\\n\\s+${p}\\??:`), `${t}: ${p} is an input of the installed SDK`);
  }
});

const HOSTS = ["mx1", "mx2", "out1", "out2", "spam1"];
const SMARTHOSTS = ["out1", "out2", "spam1"];
const applies = (hosts: string[], keys: string[]) => Object.fromEntries(hosts.map((h) => [`apply:${h}`, keys]));
const hostResources = (h: string, pool = "pool-mx") =>
  [h, `a:${h}`, `aaaa:${h}`, `apply:${h}`, `helo-spf:${h}`, `ip:${h}:ipv4`, `ip:${h}:ipv6`, `${pool}:${h}`, `ptr:${h}:ipv4`, `ptr:${h}:ipv6`, `server:${h}`].sort();
const fixedAssets = (r: ProgramRun) => [...r.resources.values()].filter((x) => x.type === "hcloud:index/server:Server" || x.type === "hcloud:index/primaryIp:PrimaryIp").map((x) => x.name);

/** The invariant of every routine change: no server or primary IP replaced, none deleted except by removing its host (and then its IPs are retained). */
function assertNoHostLost(before: ProgramRun, c: ReturnType<typeof churn>, removedHosts: string[] = []) {
  const assets = fixedAssets(before);
  assert.deepEqual(Object.keys(c.replaced).filter((n) => assets.includes(n)), [], "no server or primary IP is replaced");
  for (const n of c.deleted.filter((n) => assets.includes(n))) {
    const host = n.split(":")[1]!;
    assert.ok(removedHosts.includes(host), `${n} deleted although ${host} stays in the spec`);
    if (n.startsWith("ip:")) assert.equal(res(before, n).options.retainOnDelete, true, `${n} is retained at Hetzner`);
  }
}

interface Change {
  name: string;
  before?: () => Promise<ProgramRun>;
  after: () => Promise<ProgramRun>;
  created?: string[];
  deleted?: string[];
  replaced?: Record<string, string[]>;
  updated: Record<string, string[]>;
  removedHosts?: string[];
}

const sshKeysOf = (keys: Record<string, string>, privateKey = OPS.privateKey): RunOptions => ({ ...OPTIONS, config: { ...OPTIONS.config, sshKeys: keys }, secrets: { ...SECRETS, sshPrivateKey: privateKey } });
const rotation = {
  added: () => run(undefined, sshKeysOf({ ops: OPS.publicKey, ops2: OPS2.publicKey })),
  switched: () => run(undefined, sshKeysOf({ ops2: OPS2.publicKey }, OPS2.privateKey)),
};
const dkimStep = (selectors: string) => exampleWith("    dkim:\n      selectors: [e2026a]\n", `    dkim:\n      ${selectors}\n`);
const dkim = {
  published: () => run(dkimStep("selectors: [e2026a, e2026b]\n      active: e2026a")),
  switched: () => run(dkimStep("selectors: [e2026a, e2026b]\n      active: e2026b")),
  dropped: () => run(dkimStep("selectors: [e2026b]")),
};

const CHANGES: Change[] = [
  {
    name: "add a smarthost: its own resources, and the pool SPF record",
    after: () => run(exampleWith("  out2: { kind: own, location: hel1, serverType: cx23 }\n", "  out2: { kind: own, location: hel1, serverType: cx23 }\n  out3: { kind: own, location: nbg1, serverType: cx23 }\n")),
    created: hostResources("out3"),
    updated: { "spf-pool": ["content"] },
  },
  {
    name: "drain a smarthost: only its pool MX record goes",
    after: () => run(exampleWith("out2: { kind: own, location: hel1, serverType: cx23 }", "out2: { kind: own, location: hel1, serverType: cx23, drain: true }")),
    deleted: ["pool-mx:out2"],
    updated: {},
  },
  {
    name: "remove a smarthost: its resources go (its IPs stay at Hetzner), the pool SPF record shrinks",
    after: () => run(exampleWith("  out2: { kind: own, location: hel1, serverType: cx23 }\n", "")),
    deleted: hostResources("out2"),
    updated: { "spf-pool": ["content"] },
    removedHosts: ["out2"],
  },
  {
    name: "SSH key rotation, step 1: add the new key; every host's authorized_keys gets it",
    after: rotation.added,
    created: ["ssh-key:ops2"],
    updated: applies(HOSTS, ["create", "stdin"]),
  },
  {
    name: "SSH key rotation, step 2: log in with the new key, drop the old one",
    before: rotation.added,
    after: rotation.switched,
    deleted: ["ssh-key:ops"],
    updated: applies(HOSTS, ["connection", "create", "stdin"]),
  },
  {
    name: "a key's value changed in place: the Hetzner key is replaced, no server",
    after: () => run(undefined, sshKeysOf({ ops: OPS2.publicKey }, OPS2.privateKey)),
    replaced: { "ssh-key:ops": ["publicKey"] },
    updated: { "ssh-key:ops": ["name", "publicKey"], ...applies(HOSTS, ["connection", "create", "stdin"]) },
  },
  {
    name: "change operator.sshSources: both firewalls, nothing else",
    after: () => run(exampleWith("sshSources: [203.0.113.250/32]", "sshSources: [203.0.113.250/32, 2001:db8:ffff::/48]")),
    updated: { "fw:relay": ["rules"], "fw:smarthost": ["rules"] },
  },
  {
    // Only smarthosts deliver to destinations: the relays' master.cf declares no paced transport.
    name: "change pacing: the smarthosts' configuration only",
    after: () => run(exampleWith("grosfai.tld: { rateDelay: 5s, concurrency: 1 }", "grosfai.tld: { rateDelay: 10s, concurrency: 1 }")),
    updated: applies(SMARTHOSTS, ["create", "stdin"]),
  },
  {
    name: "change the daily quota: the smarthosts' configuration only",
    after: () => run(exampleWith("dailyQuota: 300", "dailyQuota: 500")),
    updated: applies(SMARTHOSTS, ["create", "stdin"]),
  },
  {
    name: "DKIM rotation, step 1: publish the new key beside the old one (still signing with the old)",
    after: dkim.published,
    created: ["dkim-entreprise.tld-e2026b", "dkim:entreprise.tld:e2026b"],
    updated: {},
  },
  {
    name: "DKIM rotation, step 2: sign with the new key (the smarthosts' OpenDKIM files)",
    before: dkim.published,
    after: dkim.switched,
    updated: applies(SMARTHOSTS, ["create", "stdin"]),
  },
  {
    name: "DKIM rotation, step 3: drop the old key",
    before: dkim.switched,
    after: dkim.dropped,
    deleted: ["dkim-entreprise.tld-e2026a", "dkim:entreprise.tld:e2026a"],
    updated: {},
  },
  {
    name: "move off a deprecated server type: resized in place",
    before: () => run(exampleWith("mx1: { location: fsn1, serverType: cx23,", "mx1: { location: fsn1, serverType: cx22,")),
    after: () => example,
    updated: { "server:mx1": ["serverType"] },
  },
];

for (const c of CHANGES) {
  test(`churn: ${c.name}`, async () => {
    const before = await (c.before ? c.before() : example);
    const after = await c.after();
    const got = churn(before, after);
    assertNoHostLost(before, got, c.removedHosts);
    assert.deepEqual(got.created, [...(c.created ?? [])].sort(), "created");
    assert.deepEqual(got.deleted, [...(c.deleted ?? [])].sort(), "deleted");
    assert.deepEqual(got.replaced, c.replaced ?? {}, "replaced");
    assert.deepEqual(got.updated, c.updated, "updated, with the inputs that change");
  });
}

test("churn: the relays' bundles are byte-identical when a smarthost is added (they send to the pool name)", async () => {
  const before = await example;
  const after = await CHANGES[0]!.after();
  for (const h of ["mx1", "mx2"]) assert.equal(scriptOf(after, h), scriptOf(before, h));
  const spf = inp(after, "spf-pool").content as string;
  assert.ok(spf.includes(`ip4:${after.outputs.addresses.out3!.ipv4}`) && spf.includes(`ip6:${after.outputs.addresses.out3!.ipv6}`));
});

test("churn detector is not vacuous: moving a relay to another location replaces its server and IPs, and so would an SSH key without ignoreChanges", async () => {
  const before = await example;
  const after = await run(exampleWith("mx1: { location: fsn1,", "mx1: { location: hel1,"));
  const c = churn(before, after);
  assert.deepEqual(c.replaced, { "ip:mx1:ipv4": ["location"], "ip:mx1:ipv6": ["location"], "server:mx1": ["location"] });
  assert.deepEqual(c.created, []);
  assert.deepEqual(c.deleted, []);
  // Take away the servers' ignoreChanges and dropping an SSH key replaces every server at once: what the program prevents.
  const [added, shared] = [await rotation.added(), await rotation.switched()];
  // A copy: the run itself is shared with the rotation's churn step.
  const switched = { ...shared, resources: new Map([...shared.resources].map(([n, x]) => [n, x.type === "hcloud:index/server:Server" ? { ...x, options: { ...x.options, ignoreChanges: [] } } : x])) };
  const c2 = churn(added, switched);
  assert.deepEqual(Object.keys(c2.replaced).filter((n) => n.startsWith("server:")).sort(), HOSTS.map((h) => `server:${h}`));
  assert.deepEqual(c2.replaced["server:mx1"], ["sshKeys"]);
});

// ---- Hetzner server types ---------------------------------------------------------------

test("a deprecated Hetzner server type is warned about, naming the host and its replacement; current types are not", async () => {
  assert.deepEqual((await example).stack.warnings, [], "the example names current types");
  const old = await run(exampleText().replace(/serverType: cx23/g, "serverType: cx22"));
  assert.equal(old.stack.warnings.length, 5);
  assert.match(old.stack.warnings[0]!, /^mx1: server type cx22 \(Hetzner CX Gen 2\) is deprecated since 2025-10-16 and cannot be ordered after 2025-12-31: creating this server will fail\. Use cx23 instead/);
  assert.deepEqual(serverTypeWarnings([{ name: "a", serverType: "cpx11" }, { name: "b", serverType: "cpx22" }, { name: "c", serverType: "CX32" }]).map((w) => [w.host, w.replacement]), [
    ["a", "cpx12"],
    ["c", "cx33"],
  ]);
});
