// What the lab builds for a stack: namespaces and addresses for the plan's own hosts, the lab
// DNS server, an outside sender, and outside destination MX hosts (one per external domain the
// aliases and the role mailbox point to, plus the external relay / backup MX provider).
// Addresses come only from documentation ranges.
import type { Model } from "../model/model.ts";
import type { AddressBook } from "../plan/addresses.ts";
import { mtaStsHost } from "../plan/mtaSts.ts";
import { labStackRoot } from "../paths.ts";



export interface OutsideHost {
  /** Short name, also the namespace suffix. */
  name: string;
  kind: "dns" | "sender" | "sink" | "client" | "web" | "acme";
  /** Names this host answers to (A/AAAA + PTR); the first is its HELO/PTR name. */
  names: string[];
  ipv4: string[];
  ipv6: string[];
  /** Sinks: mail domains whose mail it stores (MX target). */
  domains: string[];
  /**
   * External relays this provider runs: SMTP AUTH submission on their port (STARTTLS, Cyrus
   * sasldb holding the lab secret of each login), relaying by MX for authenticated clients.
   */
  submission?: { host: string; port: number; logins: { username: string; passwordSecret: string }[] }[];
  /** The sender: enforces MTA-STS (postfix-mta-sts-resolver) because some domain publishes a policy. */
  mtaStsResolver?: boolean;
  /** Sinks: offer STARTTLS (lab CA certificate), because the smarthosts verify TLS (policy.outboundTls). */
  tls?: boolean;
}

export interface Topology {
  stack: string;
  root: string;
  switchNs: string;
  nsPrefix: string;
  addresses: AddressBook;
  outside: OutsideHost[];
  dns: OutsideHost;
  sender: OutsideHost;
  /** A second outside client (no Postfix), the address tests list on the DNSBL. */
  spammer: OutsideHost;
  /** The outside sender's domain: it signs with its own DKIM key. */
  senderDomain: string;
  senderSelector: string;
  dnsblZones: string[];
}

/** Namespace names must stay short and predictable: fl-<stack>-<host>. */
export function nsName(stack: string, host: string): string {
  return `fl-${stack}-${host}`;
}

const v6own = (n: number) => `2001:db8:5100::${n.toString(16)}`;
const v6out = (n: number) => `2001:db8:113::${n.toString(16)}`;

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

export function buildTopology(model: Model, stack: string): Topology {
  const own = [...model.relays.map((r) => r.name), ...model.smarthosts.map((s) => s.name)];
  const addresses: AddressBook = Object.fromEntries(own.map((h, i) => [h, { ipv4: `198.51.100.${11 + i}`, ipv6: v6own(0x11 + i) }]));
  const ours = new Set(model.domains.map((d) => d.name));
  const external = new Set<string>();
  for (const d of model.domains) for (const a of d.aliases) for (const t of a.deliversTo) if (!ours.has(domainOf(t))) external.add(domainOf(t));
  external.add(domainOf(model.operator.roleMailbox));
  const dns: OutsideHost = { name: "dns", kind: "dns", names: ["ns.lab.tld"], ipv4: ["198.51.100.53"], ipv6: [v6own(0x53)], domains: [] };
  const senderDomain = "expediteur.tld";
  const sender: OutsideHost = { name: "sender", kind: "sender", names: [`mail.${senderDomain}`], ipv4: ["203.0.113.10"], ipv6: [v6out(0x10)], domains: [] };
  const spammer: OutsideHost = { name: "spammer", kind: "client", names: ["mail.spammer.tld"], ipv4: ["203.0.113.66"], ipv6: [v6out(0x66)], domains: [] };
  const sinkTls = model.policy.outboundTls.dane || model.policy.outboundTls.mtaSts;
  const sinks: OutsideHost[] = [...external].sort().map((d, i) => ({
    ...(sinkTls ? { tls: true } : {}),
    name: `mx-${d.split(".")[0]}`.slice(0, 12),
    kind: "sink" as const,
    names: [`mx.${d}`],
    ipv4: [`203.0.113.${21 + i}`],
    ipv6: [v6out(0x21 + i)],
    domains: [d],
  }));
  // External relays and third-party backup MX hosts: one outside provider host per parent domain.
  const thirdParty = new Map<string, string[]>();
  for (const e of model.externalRelays) (thirdParty.get(parent(e.host)) ?? thirdParty.set(parent(e.host), []).get(parent(e.host))!).push(e.host);
  for (const b of model.backupMx) (thirdParty.get(parent(b.host)) ?? thirdParty.set(parent(b.host), []).get(parent(b.host))!).push(b.host);
  let n = 60;
  const providers: OutsideHost[] = [...thirdParty].sort().map(([d, names]) => {
    const uniq = [...new Set(names)];
    const ipv4 = uniq.map(() => `203.0.113.${n++}`);
    const relays = model.externalRelays.filter((e) => parent(e.host) === d);
    const submission = [...new Set(relays.map((e) => `${e.host}:${e.port}`))].map((k) => {
      const same = relays.filter((e) => `${e.host}:${e.port}` === k);
      return { host: same[0]!.host, port: same[0]!.port, logins: same.flatMap((e) => (e.auth ? [{ ...e.auth }] : [])) };
    });
    return {
      name: `ext-${d.split(".")[0]}`.slice(0, 12),
      kind: "sink" as const,
      names: uniq,
      ipv4,
      ipv6: ipv4.map((a) => v6out(Number(a.split(".")[3]))),
      domains: [d],
      ...(submission.length ? { submission } : {}),
    };
  });
  // MTA-STS: one web host answers every mta-sts.<domain> name (Cloudflare's Workers in production),
  // and the outside sender enforces the policies.
  const stsNames = model.domains.filter((d) => d.mtaSts).map((d) => mtaStsHost(d.name));
  const web: OutsideHost[] = stsNames.length ? [{ name: "web", kind: "web", names: stsNames, ipv4: ["203.0.113.90"], ipv6: [v6out(0x90)], domains: [] }] : [];
  if (stsNames.length) sender.mtaStsResolver = true;
  // ACME: the CA (pebble in the lab) at the directory's host name.
  const acme: OutsideHost[] = model.acme ? [{ name: "acme", kind: "acme", names: [new URL(model.acme.directory).hostname], ipv4: ["203.0.113.91"], ipv6: [v6out(0x91)], domains: [] }] : [];
  return {
    stack,
    root: labStackRoot(stack),
    switchNs: nsName(stack, "sw"),
    nsPrefix: `fl-${stack}-`,
    addresses,
    outside: [dns, sender, spammer, ...sinks, ...providers, ...web, ...acme],
    dns,
    sender,
    spammer,
    senderDomain,
    senderSelector: "s2026",
    dnsblZones: model.policy.dnsbl,
  };
}

function parent(host: string): string {
  return host.split(".").slice(1).join(".");
}
