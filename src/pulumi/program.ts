// The Pulumi program: from a stack's spec, Hetzner hosts (fixed primary IPs, rDNS, firewalls,
// SSH keys), their configuration (pushed over SSH), DKIM keys and every Cloudflare record.
//
// Planning happens once, without Pulumi (stackPlan.ts). This file reads what the clouds
// already hold that the plan must not clash with (preflight), then declares the resource
// groups in dependency order; each group is a small function, each host a component
// (hosts.ts). Every name is a stable plan id, never a list position, so adding a smarthost
// creates its own resources and updates only the shared records.
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as cloudflare from "@pulumi/cloudflare";
import * as tls from "@pulumi/tls";
import type { Spec } from "../spec/schema.ts";
import type { AddressBook } from "../plan/addresses.ts";
import { readStackConfig, type StackConfig } from "./config.ts";
import { planStack, type StackPlan } from "./stackPlan.ts";
import { HostComponent, Relay, Smarthost, valuesFor, type DeliverArgs } from "./hosts.ts";
import { cloudflareContent, dkimPublicValue, fillPlaceholders, tlsaData } from "./records.ts";
import { authorizedKeys, planSshKeys, publicKeyOfPrivate, type HetznerSshKey, type PlannedSshKey } from "./sshKeys.ts";
import { conflictError, recordComment, zoneConflicts, type Conflict, type ExistingRecord } from "./zoneConflicts.ts";
import { mtaStsGroup, type MtaStsResources } from "./mtaSts.ts";

export { CONFIG_NAMESPACE, readStackConfig, type StackConfig } from "./config.ts";
export { IMAGE } from "./hosts.ts";

export interface StackOutputs {
  hosts: pulumi.Output<Record<string, { fqdn: string; role: string; ipv4: string; ipv6: string }>>;
  /** {host: {ipv4, ipv6}}: what `facteur check --addresses` and `plan --addresses` read. */
  addresses: pulumi.Output<AddressBook>;
  dns: pulumi.Output<{ id: string; zone: string; name: string; type: string; content: string; priority?: number; ttl: number }[]>;
  /** Signed zones -> the DS record to give the registrar (absent when no zone is signed). */
  dnssec?: pulumi.Output<Record<string, string>>;
}

export interface DeployedStack {
  planned: StackPlan;
  hosts: Record<string, HostComponent>;
  records: Record<string, cloudflare.DnsRecord>;
  /** DNSSEC of the signed zones, by zone. */
  dnssec: Record<string, cloudflare.ZoneDnssec>;
  dkimKeys: Record<string, tls.PrivateKey>;
  firewalls: Record<string, hcloud.Firewall>;
  sshKeys: hcloud.SshKey[];
  /** MTA-STS policy Workers and their mta-sts.<domain> custom domains, by domain. */
  mtaSts: MtaStsResources;
  /** Records taken over on facteur:adoptRecords, by plan id -> Cloudflare import id. */
  adopted: Record<string, string>;
  warnings: string[];
  outputs: StackOutputs;
  /** Every resource the program declared, components included. */
  all: pulumi.Resource[];
}

export interface DeployOptions {
  /** Defaults to the Pulumi stack configuration (readStackConfig). */
  config?: StackConfig;
}

// ---- preflight: what the clouds already hold --------------------------------------------

interface Preflight {
  sshKeys: PlannedSshKey[];
  zoneIds: Record<string, string>;
  conflicts: Conflict[];
}

async function preflight(planned: StackPlan, config: StackConfig, stack: string): Promise<Preflight> {
  const hosts = planned.plan.hosts.length > 0;
  let sshKeys: PlannedSshKey[] = [];
  if (hosts) {
    if (Object.keys(config.sshKeys).length === 0)
      // Hetzner mails a root password when a server has no key; refuse that.
      throw new Error("facteur:sshKeys is empty: set at least one, e.g. pulumi config set --path 'facteur:sshKeys.ops' \"$(cat ~/.ssh/id_ed25519.pub)\"");
    const existing = ((await hcloud.getSshKeys({})).sshKeys ?? []) as HetznerSshKey[];
    sshKeys = planSshKeys(config.sshKeys, existing, stack);
  }
  const zones = [...new Set(planned.plan.dns.map((r) => r.zone))].sort();
  const zoneIds: Record<string, string> = {};
  const conflicts: Conflict[] = [];
  for (const zone of zones) {
    zoneIds[zone] = config.zoneIds[zone] ?? (await cloudflare.getZone({ filter: { name: zone } })).id;
    const existing = ((await cloudflare.getDnsRecords({ zoneId: zoneIds[zone], maxItems: 5000 })).results ?? []) as ExistingRecord[];
    conflicts.push(...zoneConflicts(zone, planned.plan.dns, existing));
  }
  return { sshKeys, zoneIds, conflicts };
}

// ---- resource groups --------------------------------------------------------------------

type Labels = (extra: Record<string, string>) => Record<string, string>;

/**
 * DKIM and ARC: one RSA-2048 key per (domain, selector); host TLS keys (tlsKey): one per (host,
 * key name). The public halves feed the plan (DKIM p= values, TLSA digests), the private ones the
 * hosts. Rolling a TLS key adds one key and, after the switch, deletes the old: no server changes.
 */
function dkimKeyGroup(planned: StackPlan) {
  const keys: Record<string, tls.PrivateKey> = {};
  const publicValues: Record<string, pulumi.Output<string>> = {};
  for (const k of planned.dkimKeys) {
    // Host TLS keys: ECDSA P-256 (what lego made before, and what every TLS client takes); DKIM and ARC: RSA-2048.
    keys[k.id] = new tls.PrivateKey(`${k.purpose}-${k.domain}-${k.selector}`, k.purpose === "tls" ? { algorithm: "ECDSA", ecdsaCurve: "P256" } : { algorithm: "RSA", rsaBits: 2048 });
    publicValues[k.id] = keys[k.id]!.publicKeyPem.apply(dkimPublicValue);
  }
  return { keys, publicValues };
}

/** Hetzner SSH keys: created unless Hetzner already holds the same key (then reused by id). */
function sshKeyGroup(keys: PlannedSshKey[], labels: Labels) {
  const resources: hcloud.SshKey[] = [];
  const ids: pulumi.Input<string>[] = [];
  for (const k of keys) {
    if (k.reuse) {
      pulumi.log.info(`facteur:sshKeys.${k.name}: Hetzner already holds this key as "${k.reuse.name}" (id ${k.reuse.id}); reusing it`);
      ids.push(String(k.reuse.id));
      continue;
    }
    const r = new hcloud.SshKey(`ssh-key:${k.name}`, { name: k.hetznerName, publicKey: k.publicKey, labels: labels({ key: k.name }) });
    resources.push(r);
    ids.push(r.id);
  }
  return { resources, ids };
}

function firewall(planned: StackPlan, id: string, stack: string, labels: Labels, values: DeliverArgs["values"]): hcloud.Firewall {
  const fw = planned.firewalls.find((f) => f.firewall.id === id)!;
  const filled = valuesFor(fw.refs, values).apply((v) => fw.firewall.rules.map((r) => ({ ...r, sources: r.sources.map((s) => fillPlaceholders(s, v, r.id)) })));
  return new hcloud.Firewall(id, {
    name: `facteur-${stack}-${fw.firewall.role}`,
    labels: labels({ role: fw.firewall.role }),
    rules: filled.apply((rules) =>
      rules.map((r) => ({ direction: "in", protocol: r.protocol, ...(r.port !== undefined ? { port: String(r.port) } : {}), sourceIps: r.sources, description: r.reason.slice(0, 255) })),
    ),
  });
}

function dnsGroup(planned: StackPlan, zoneIds: Record<string, string>, values: DeliverArgs["values"], adopt: Record<string, string>): Record<string, cloudflare.DnsRecord> {
  const records: Record<string, cloudflare.DnsRecord> = {};
  for (const { record: r, refs } of planned.records) {
    const content: pulumi.Input<string> =
      refs.addresses.length || refs.dkim.length ? valuesFor(refs, values).apply((v) => cloudflareContent(r.type, fillPlaceholders(r.content, v, `record ${r.id}`))) : cloudflareContent(r.type, r.content);
    records[r.id] = new cloudflare.DnsRecord(
      r.id,
      {
        zoneId: zoneIds[r.zone]!,
        name: r.name,
        type: r.type,
        // Cloudflare takes a TLSA record as its fields (data), and computes content from them.
        ...(r.type === "TLSA" ? { data: pulumi.output(content).apply(tlsaData) } : { content }),
        ttl: r.ttl,
        ...(r.type === "MX" ? { priority: r.priority! } : {}),
        ...(r.type === "A" || r.type === "AAAA" ? { proxied: false } : {}),
        comment: recordComment(r.id),
      },
      adopt[r.id] ? { import: adopt[r.id] } : {},
    );
  }
  return records;
}

/**
 * DNSSEC on the zones the plan signs (operator.dnssec, domains.<d>.dnssec): one resource per zone,
 * named by the zone, so signing one domain creates exactly one resource. Its ds output is the
 * record the registrar must publish before validating resolvers trust the zone.
 */
function dnssecGroup(planned: StackPlan, zoneIds: Record<string, string>): Record<string, cloudflare.ZoneDnssec> {
  return Object.fromEntries((planned.plan.dnssec ?? []).map((d) => [d.zone, new cloudflare.ZoneDnssec(`dnssec:${d.zone}`, { zoneId: zoneIds[d.zone]!, status: "active" })]));
}

/** The outputs, from the same placeholder plan, every value filled in. */
function stackOutputs(planned: StackPlan, values: DeliverArgs["values"]): StackOutputs {
  const all = valuesFor(planned.allRefs, values);
  const fill = (t: string) => all.apply((v) => fillPlaceholders(t, v, "stack outputs"));
  const hostList = pulumi.all(
    planned.plan.hosts.map((h) => pulumi.all([fill(h.ipv4), fill(h.ipv6)]).apply(([ipv4, ipv6]) => ({ name: h.name, fqdn: h.fqdn, role: h.role as string, ipv4, ipv6 }))),
  );
  return {
    hosts: hostList.apply((hs) => Object.fromEntries(hs.map(({ name, ...h }) => [name, h]))),
    addresses: hostList.apply((hs) => Object.fromEntries(hs.map((h) => [h.name, { ipv4: h.ipv4, ipv6: h.ipv6 }]))),
    dns: pulumi.all(
      planned.plan.dns.map((r) =>
        fill(r.content).apply((content) => ({ id: r.id, zone: r.zone, name: r.name, type: r.type, content, ...(r.priority !== undefined ? { priority: r.priority } : {}), ttl: r.ttl })),
      ),
    ),
  };
}

/** A value the program already knows (config, secret or not): awaited, never left unknown. */
const known = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => (resolve(v), v)));

/** Stops the update before facteur:sshKeys rewrites authorized_keys without the key facteur logs in with. */
async function lockoutGuard(privateKey: pulumi.Output<string>, keys: PlannedSshKey[]): Promise<void> {
  const pub = publicKeyOfPrivate(await known(privateKey));
  if (pub === undefined) {
    pulumi.log.warn("facteur:sshPrivateKey: cannot tell its public half (not an OpenSSH or unencrypted PEM key); make sure facteur:sshKeys lists it, or the next apply locks facteur out");
    return;
  }
  if (!keys.some((k) => k.canonical === pub))
    throw new Error(
      "facteur:sshPrivateKey is not the private half of any facteur:sshKeys entry: the apply step would replace root's authorized_keys and lock facteur out. " +
        "Rotate in two updates: add the new public key to facteur:sshKeys (pulumi up), then switch facteur:sshPrivateKey and remove the old key (pulumi up).",
    );
}

// ---- the stack --------------------------------------------------------------------------

export async function deployStack(spec: Spec, opts: DeployOptions = {}): Promise<DeployedStack> {
  const config = opts.config ?? readStackConfig();
  const stack = pulumi.getStack();
  const planned = config.at ? planStack(spec, config.at) : planStack(spec);
  const labels: Labels = (extra) => ({ "managed-by": "facteur", "facteur-stack": stack, ...extra });
  for (const w of planned.warnings) pulumi.log.warn(w);

  const pre = await preflight(planned, config, stack);
  if (planned.hosts.length) await lockoutGuard(config.sshPrivateKey(), pre.sshKeys);
  const adopted: Record<string, string> = {};
  if (pre.conflicts.length) {
    const orphans = pre.conflicts.filter((c) => !c.planned);
    if (!config.adoptRecords || orphans.length) throw new Error(conflictError(config.adoptRecords ? orphans : pre.conflicts, config.adoptRecords));
    for (const c of pre.conflicts) {
      adopted[c.planned!.id] = `${pre.zoneIds[c.zone]}/${c.existing.id}`;
      pulumi.log.info(`adopting ${c.existing.name} ${c.existing.type} ${c.existing.content} (Cloudflare id ${c.existing.id}) as ${c.planned!.id}: it is updated to the plan`);
    }
  }

  const dkim = dkimKeyGroup(planned);
  const ssh = sshKeyGroup(pre.sshKeys, labels);
  const addresses: Record<string, pulumi.Output<string>> = {};
  const values: DeliverArgs["values"] = { addresses, dkim: dkim.publicValues };

  // Relays first: the smarthosts' firewall and bundles name their addresses. A relay firewall
  // rule may name smarthosts too (the quota store's, policy.quotaStore): those addresses are
  // promised to it here and kept once each smarthost exists.
  const hosts: Record<string, HostComponent> = {};
  const firewalls: Record<string, hcloud.Firewall> = {};
  const promised = new Map<string, (a: pulumi.Output<string>) => void>();
  const laterAddresses: DeliverArgs["values"] = {
    ...values,
    addresses: new Proxy(addresses, {
      get: (known, key: string) => known[key] ?? pulumi.output(new Promise<pulumi.Output<string>>((keep) => promised.set(key, keep))),
    }),
  };
  for (const role of ["relay", "smarthost"] as const) {
    const members = planned.hosts.filter((h) => h.host.role === role);
    if (!members.length) continue;
    const fw = (firewalls[`fw:${role}`] = firewall(planned, `fw:${role}`, stack, labels, laterAddresses));
    for (const hp of members) {
      const args = { plan: hp, sshKeyIds: ssh.ids, firewallId: fw.id.apply(Number), labels: labels({}) };
      const host = role === "relay" ? new Relay(args) : new Smarthost(args);
      hosts[hp.host.name] = host;
      for (const f of ["ipv4", "ipv6"] as const) {
        addresses[`${hp.host.name}.${f}`] = host.addresses[f];
        promised.get(`${hp.host.name}.${f}`)?.(host.addresses[f]);
      }
    }
  }

  const keysFile = authorizedKeys(pre.sshKeys);
  for (const hp of planned.hosts) {
    const host = hosts[hp.host.name]!;
    host.deliver({
      values,
      secret: config.secret,
      dkimPrivateKeys: Object.fromEntries(Object.entries(dkim.keys).map(([id, k]) => [id, k.privateKeyPem])),
      sshPrivateKey: config.sshPrivateKey(),
      options: { packages: hp.packages, authorizedKeys: keysFile, smtpProbeHosts: config.smtpProbeHosts, ...(Object.keys(config.logReaders).length ? { logReaders: config.logReaders } : {}) },
      dependsOn: [firewalls[`fw:${hp.host.role}`]!],
    });
  }

  const records = dnsGroup(planned, pre.zoneIds, values, adopted);
  const dnssec = dnssecGroup(planned, pre.zoneIds);
  const mtaSts = mtaStsGroup(planned.plan.mtaSts ?? [], pre.zoneIds, config.cloudflareAccountId);
  const all: pulumi.Resource[] = [
    ...ssh.resources,
    ...Object.values(mtaSts.scripts),
    ...Object.values(mtaSts.domains),
    ...Object.values(dkim.keys),
    ...Object.values(firewalls),
    ...Object.values(hosts).flatMap((h) => [h, ...h.children()]),
    ...Object.values(records),
    ...Object.values(dnssec),
  ];
  const outputs = stackOutputs(planned, values);
  if (Object.keys(dnssec).length) outputs.dnssec = pulumi.all(Object.fromEntries(Object.entries(dnssec).map(([zone, z]) => [zone, z.ds])));
  return { planned, hosts, records, dnssec, dkimKeys: dkim.keys, firewalls, sshKeys: ssh.resources, mtaSts, adopted, warnings: planned.warnings, outputs, all };
}
