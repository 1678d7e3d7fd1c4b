// The Pulumi program: from a stack's spec, Hetzner hosts (fixed primary IPs, rDNS, firewalls,
// SSH keys), their configuration (pushed over SSH), DKIM keys and every Cloudflare record.
//
// The resource SET (names, types, zones) comes from the placeholder plan, synchronously; each
// resource's CONTENT is computed from the plan rebuilt with the real addresses and keys it
// depends on, and only those (refsIn). Every name is a stable plan id, never a list position,
// so adding a smarthost creates its own resources and updates only the shared records.
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as cloudflare from "@pulumi/cloudflare";
import * as tls from "@pulumi/tls";
import * as command from "@pulumi/command";
import type { Spec } from "../spec/schema.ts";
import { buildModel, type Model } from "../model/model.ts";
import { buildPlan, type Plan, type PlannedHost } from "../plan/plan.ts";
import { dkimKeyId, type DkimPublicKeys } from "../plan/dns.ts";
import type { AddressBook, Family } from "../plan/addresses.ts";
import { renderStack } from "../render/render.ts";
import type { HostBundle } from "../render/bundle.ts";
import { applyCommand, applyScript, bundleHash, cloudInit, secretsNeeded } from "./apply.ts";
import { cloudflareContent, dkimPublicValue, hasPlaceholder, hostCidr, refsIn, serverIpv6, type Refs } from "./records.ts";

export const CONFIG_NAMESPACE = "facteur";
export const IMAGE = "debian-12";
const FAMILIES: Family[] = ["ipv4", "ipv6"];
const ANYWHERE = ["0.0.0.0/0", "::/0"];

export interface StackConfig {
  /** facteur:sshKeys: name -> public key; become hcloud.SshKey and the hosts' root keys. */
  sshKeys: Record<string, string>;
  /** facteur:zoneIds: zone name -> Cloudflare zone id; zones not listed are looked up by name. */
  zoneIds: Record<string, string>;
  /** facteur:sshPrivateKey (secret): how the apply commands log in as root. */
  sshPrivateKey: () => pulumi.Output<string>;
  /** A secret named by the spec (passwordSecret), e.g. facteur:faiRelayPassword. */
  secret: (name: string) => pulumi.Output<string>;
  /** facteur:logReaders: name -> public key that may read the mail logs (facteur trace; src/trace/logUser.ts). */
  logReaders?: Record<string, string>;
}

/** Reads the stack configuration lazily: a secret is required only by the hosts that use it. */
export function readStackConfig(): StackConfig {
  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  const secrets = new Map<string, pulumi.Output<string>>();
  let key: pulumi.Output<string> | undefined;
  return {
    sshKeys: cfg.getObject<Record<string, string>>("sshKeys") ?? {},
    zoneIds: cfg.getObject<Record<string, string>>("zoneIds") ?? {},
    logReaders: cfg.getObject<Record<string, string>>("logReaders") ?? {},
    sshPrivateKey: () => (key ??= cfg.requireSecret("sshPrivateKey")),
    secret: (name) => {
      let s = secrets.get(name);
      if (!s) secrets.set(name, (s = cfg.requireSecret(name)));
      return s;
    },
  };
}

export interface HostResources {
  ips: Record<Family, hcloud.PrimaryIp>;
  server: hcloud.Server;
  rdns: hcloud.Rdns[];
  apply: command.remote.Command;
  /** The script with secrets filled in: a Pulumi secret. */
  script: pulumi.Output<string>;
  /** Bundle fingerprint without secrets (shown in the apply command). */
  bundleHash: pulumi.Output<string>;
}

export interface StackOutputs {
  hosts: pulumi.Output<Record<string, { fqdn: string; role: string; ipv4: string; ipv6: string }>>;
  /** {host: {ipv4, ipv6}}: what `facteur check --addresses` and `plan --addresses` read. */
  addresses: pulumi.Output<AddressBook>;
  dns: pulumi.Output<{ id: string; zone: string; name: string; type: string; content: string; priority?: number; ttl: number }[]>;
}

export interface DefinedStack {
  model: Model;
  /** The placeholder plan the resource set was made from. */
  skeleton: Plan;
  hosts: Record<string, HostResources>;
  records: Record<string, cloudflare.DnsRecord>;
  dkimKeys: Record<string, tls.PrivateKey>;
  firewalls: Partial<Record<PlannedHost["role"], hcloud.Firewall>>;
  sshKeys: hcloud.SshKey[];
  outputs: StackOutputs;
}

export interface DefineStackOptions {
  /** Defaults to the Pulumi stack configuration (readStackConfig). */
  config?: StackConfig;
}

export function defineStack(spec: Spec, opts: DefineStackOptions = {}): DefinedStack {
  const config = opts.config ?? readStackConfig();
  const model = buildModel(spec);
  const skeleton = buildPlan(model);
  const stack = pulumi.getStack();
  const labels = (extra: Record<string, string>) => ({ "managed-by": "facteur", "facteur-stack": stack, ...extra });

  // SSH keys: Hetzner mails a root password when a server has none; refuse that.
  const sshKeyNames = Object.keys(config.sshKeys).sort();
  if (skeleton.hosts.length > 0 && sshKeyNames.length === 0)
    throw new Error("facteur:sshKeys is empty: set at least one, e.g. pulumi config set --path 'facteur:sshKeys.ops' \"$(cat ~/.ssh/id_ed25519.pub)\"");
  const sshKeys = sshKeyNames.map((name) => new hcloud.SshKey(`ssh-key:${name}`, { name: `facteur-${stack}-${name}`, publicKey: config.sshKeys[name]!, labels: labels({}) }));

  // DKIM: one RSA 2048 key per (domain, selector); public halves feed the plan, private halves only the smarthosts.
  const dkimKeys: Record<string, tls.PrivateKey> = {};
  const dkimPublic: Record<string, pulumi.Output<string>> = {};
  for (const d of model.domains) {
    for (const sel of d.dkim?.selectors ?? []) {
      const id = dkimKeyId(d.name, sel);
      const key = new tls.PrivateKey(`dkim-${d.name}-${sel}`, { algorithm: "RSA", rsaBits: 2048 });
      dkimKeys[id] = key;
      dkimPublic[id] = key.publicKeyPem.apply(dkimPublicValue);
    }
  }

  // Fixed addresses: assets that outlive servers. autoDelete false (a deleted server leaves them),
  // Hetzner delete protection on, and retainOnDelete: removing a host from the spec drops them
  // from the state but keeps them at Hetzner, unassigned, to be imported again.
  const ips: Record<string, Record<Family, hcloud.PrimaryIp>> = {};
  const address: Record<string, Record<Family, pulumi.Output<string>>> = {};
  for (const h of skeleton.hosts) {
    const pair = {} as Record<Family, hcloud.PrimaryIp>;
    for (const family of FAMILIES) {
      pair[family] = new hcloud.PrimaryIp(
        `ip:${h.name}:${family}`,
        {
          name: `${h.fqdn}-${family}`,
          type: family,
          location: h.location,
          assigneeType: "server",
          autoDelete: false,
          deleteProtection: true,
          labels: labels({ host: h.name, family }),
        },
        { retainOnDelete: true },
      );
    }
    ips[h.name] = pair;
    address[h.name] = {
      ipv4: pair.ipv4.ipAddress,
      ipv6: pulumi.all([pair.ipv6.ipAddress, pair.ipv6.ipNetwork]).apply(([a, n]) => serverIpv6(a, n)),
    };
  }

  /** The plan with exactly the addresses and keys `refs` names; the rest stay placeholders. */
  const planWith = (refs: Refs): pulumi.Output<Plan> =>
    pulumi
      .all([pulumi.all(refs.addresses.map((r) => address[r.host]![r.family])), pulumi.all(refs.dkim.map((k) => dkimPublic[k]!))])
      .apply(([addrs, keys]) => {
        const book: AddressBook = {};
        refs.addresses.forEach((r, i) => ((book[r.host] ??= {})[r.family] = addrs[i]!));
        const dkim: DkimPublicKeys = {};
        refs.dkim.forEach((k, i) => (dkim[k] = keys[i]!));
        return buildPlan(model, { addresses: book, dkimKeys: dkim });
      });
  const allRefs: Refs = {
    addresses: skeleton.hosts.flatMap((h) => FAMILIES.map((family) => ({ host: h.name, family }))),
    dkim: Object.keys(dkimPublic).sort(),
  };

  // Firewalls, one per role. SSH only from the operator's sources (and the machine running
  // `pulumi up` must be one of them: the apply commands use SSH). ICMP stays open: IPv6 path
  // MTU discovery needs it.
  const sshRule = model.operator.sshSources.length
    ? [{ direction: "in", protocol: "tcp", port: "22", sourceIps: model.operator.sshSources, description: "SSH from the operator (operator.sshSources)" }]
    : [];
  if (!sshRule.length && skeleton.hosts.length)
    pulumi.log.warn("operator.sshSources is empty: SSH is closed on every host, so the configuration cannot be pushed (apply:<host> will fail to connect)");
  const icmpRule = { direction: "in", protocol: "icmp", sourceIps: ANYWHERE, description: "ICMP (ping, IPv6 path MTU)" };
  const relayHosts = skeleton.hosts.filter((h) => h.role === "relay");
  const firewalls: DefinedStack["firewalls"] = {};
  if (relayHosts.length)
    firewalls.relay = new hcloud.Firewall("fw:relay", {
      name: `facteur-${stack}-relay`,
      labels: labels({ role: "relay" }),
      rules: [{ direction: "in", protocol: "tcp", port: "25", sourceIps: ANYWHERE, description: "SMTP: the relays are MX for every domain" }, icmpRule, ...sshRule],
    });
  if (skeleton.hosts.some((h) => h.role === "smarthost")) {
    const relaySources = pulumi.all(relayHosts.flatMap((h) => FAMILIES.map((f) => address[h.name]![f]))).apply((a) => a.map(hostCidr));
    firewalls.smarthost = new hcloud.Firewall("fw:smarthost", {
      name: `facteur-${stack}-smarthost`,
      labels: labels({ role: "smarthost" }),
      rules: [
        { direction: "in", protocol: "tcp", port: "25", sourceIps: relaySources, description: "SMTP from the relays only: a smarthost is never an open relay" },
        { direction: "in", protocol: "tcp", port: "587", sourceIps: ANYWHERE, description: "submission (SASL over TLS)" },
        { direction: "in", protocol: "tcp", port: "465", sourceIps: ANYWHERE, description: "submissions (implicit TLS, SASL)" },
        icmpRule,
        ...sshRule,
      ],
    });
  }

  // The bundles as render makes them from the placeholder plan: what each host waits for.
  const skeletonBundles = new Map(renderStack(model, skeleton, { root: "" }).map((b) => [b.host, b]));

  const hosts: Record<string, HostResources> = {};
  for (const h of skeleton.hosts) {
    const pair = ips[h.name]!;
    const fw = firewalls[h.role]!;
    const server = new hcloud.Server(
      `server:${h.name}`,
      {
        name: h.fqdn,
        image: IMAGE,
        serverType: h.serverType,
        location: h.location,
        publicNets: [{ ipv4Enabled: true, ipv4: pair.ipv4.id.apply(Number), ipv6Enabled: true, ipv6: pair.ipv6.id.apply(Number) }],
        sshKeys: sshKeys.map((k) => k.id),
        firewallIds: [fw.id.apply(Number)],
        userData: cloudInit(h),
        labels: labels({ host: h.name, role: h.role }),
      },
      // userData runs on first boot only; later bundles go through the apply command, so a
      // change never rebuilds the server. The primary IPs can belong to one server at a time.
      { ignoreChanges: ["userData"], deleteBeforeReplace: true },
    );

    const rdns = skeleton.ptrs
      .filter((p) => p.host === h.name)
      .map(
        (p) =>
          new hcloud.Rdns(p.id, {
            primaryIpId: pair[p.family].id.apply(Number),
            ipAddress: address[h.name]![p.family],
            dnsPtr: p.name,
          }),
      );

    const sk = skeletonBundles.get(h.name);
    if (!sk) throw new Error(`render gave no bundle for ${h.name}`);
    const refs = refsIn(...sk.files.map((f) => f.content));
    const bundle: pulumi.Output<HostBundle> = planWith(refs).apply((plan) => {
      const b = renderStack(model, plan, { root: "" }).find((x) => x.host === h.name)!;
      for (const f of b.files)
        if (hasPlaceholder(f.content)) throw new Error(`${h.name}: ${f.path} still holds a placeholder after its addresses were filled in: ${JSON.stringify(refsIn(f.content))}`);
      return b;
    });
    const heldKeys = sk.dkimKeys.map((k) => ({ path: k.path, id: dkimKeyId(k.domain, k.selector) }));
    for (const k of heldKeys) if (!dkimKeys[k.id]) throw new Error(`${h.name}: bundle needs DKIM key ${k.id}, which the model does not declare`);
    const secretNames = secretsNeeded(sk);
    const secrets = pulumi.all(Object.fromEntries(secretNames.map((n) => [n, config.secret(n)])));
    const privateKeys = pulumi.all(Object.fromEntries(heldKeys.map((k) => [k.path, dkimKeys[k.id]!.privateKeyPem])));
    const publicKeys = pulumi.all(Object.fromEntries(heldKeys.map((k) => [k.id, dkimPublic[k.id]!])));
    const hash = pulumi.all([bundle, publicKeys]).apply(([b, pub]) => bundleHash(b, pub, config.logReaders));
    const script = pulumi.secret(pulumi.all([bundle, secrets, privateKeys]).apply(([b, s, k]) => applyScript(b, s, k, config.logReaders)));
    const apply = new command.remote.Command(
      `apply:${h.name}`,
      {
        connection: { host: address[h.name]!.ipv4, user: "root", privateKey: config.sshPrivateKey() },
        create: hash.apply(applyCommand),
        stdin: script,
        // A new server (rebuilt) gets the bundle again; a changed bundle is an update (create re-runs).
        triggers: [server.id],
      },
      { dependsOn: [server, ...rdns, fw] },
    );
    hosts[h.name] = { ips: pair, server, rdns, apply, script, bundleHash: hash };
  }

  // DNS. Zone ids from config, else looked up once per zone.
  const zoneIds = new Map<string, pulumi.Input<string>>();
  const zoneId = (zone: string): pulumi.Input<string> => {
    let id = zoneIds.get(zone);
    if (id === undefined) {
      id = config.zoneIds[zone] ?? cloudflare.getZoneOutput({ filter: { name: zone } }).apply((z) => z.id);
      zoneIds.set(zone, id);
    }
    return id;
  };
  const records: Record<string, cloudflare.DnsRecord> = {};
  for (const r of skeleton.dns) {
    const refs = refsIn(r.content);
    const content: pulumi.Input<string> =
      refs.addresses.length || refs.dkim.length
        ? planWith(refs).apply((p) => {
            const c = p.dns.find((x) => x.id === r.id)!.content;
            if (hasPlaceholder(c)) throw new Error(`record ${r.id} still holds a placeholder: ${c}`);
            return cloudflareContent(r.type, c);
          })
        : cloudflareContent(r.type, r.content);
    records[r.id] = new cloudflare.DnsRecord(r.id, {
      zoneId: zoneId(r.zone),
      name: r.name,
      type: r.type,
      content,
      ttl: r.ttl,
      ...(r.type === "MX" ? { priority: r.priority! } : {}),
      ...(r.type === "A" || r.type === "AAAA" ? { proxied: false } : {}),
      comment: `facteur ${r.id}`,
    });
  }

  const full = planWith(allRefs);
  const outputs: StackOutputs = {
    hosts: full.apply((p) => Object.fromEntries(p.hosts.map((h) => [h.name, { fqdn: h.fqdn, role: h.role, ipv4: h.ipv4, ipv6: h.ipv6 }]))),
    addresses: full.apply((p) => Object.fromEntries(p.hosts.map((h) => [h.name, { ipv4: h.ipv4, ipv6: h.ipv6 }]))),
    dns: full.apply((p) =>
      p.dns.map((r) => ({ id: r.id, zone: r.zone, name: r.name, type: r.type, content: r.content, ...(r.priority !== undefined ? { priority: r.priority } : {}), ttl: r.ttl })),
    ),
  };
  return { model, skeleton, hosts, records, dkimKeys, firewalls, sshKeys, outputs };
}
