// The normalised model: defaults applied, role addresses added, everything sorted by its
// spec key so that every later stage is deterministic.
import type { Spec, PacingSpec } from "../spec/schema.ts";
import { aliasTable } from "../spec/aliasGraph.ts";
import { pacingTransportName, postfixSeconds } from "../spec/limits.ts";
import { aliasExpansions } from "./aliases.ts";
import { byText, compareText } from "../order.ts";

export interface Dkim {
  selectors: string[];
  active: string;
}

export interface Alias {
  address: string;
  /** As written (the spec's own list, shared with the alias table: read only). */
  targets: readonly string[];
  /** Final destinations after following chains: what actually receives a copy (shared between aliases: read only). */
  deliversTo: readonly string[];
  /** Added by facteur (postmaster@, abuse@, hostmaster@ to the role mailbox). */
  role: boolean;
}

export interface MailDomain {
  name: string;
  /** The operator's own domain: host names, SRS addresses and role addresses only. */
  operator: boolean;
  aliases: Alias[];
  dkim?: Dkim;
  dmarc: { policy: "none" | "quarantine" | "reject"; rua?: string; pct: number };
  spfExtra: string[];
  relays: string[];
  /** MTA-STS policy settings (domains.<d>.mtaSts), absent when the domain publishes none. */
  mtaSts?: { mode: "testing" | "enforce" | "none"; maxAge: number };
  /** TLS-RPT report addresses (domains.<d>.tlsRpt.rua). */
  tlsRpt?: { rua: string[] };
  /** The zone is DNSSEC-signed (domains.<d>.dnssec; operator.dnssec for the operator domain). */
  dnssec?: true;
}

/** A host's managed TLS key (tlsKey): the key it serves, and the one announced to replace it. */
export interface TlsKey {
  current: string;
  next?: string;
}

export interface RelayHost {
  name: string;
  fqdn: string;
  location: string;
  serverType: string;
  mxPriority: number;
  tlsKey?: TlsKey;
}

export interface OwnSmarthost {
  name: string;
  fqdn: string;
  location: string;
  serverType: string;
  preference: number;
  drain: boolean;
  lane: "clean" | "spam";
  tlsKey?: TlsKey;
  /** Its share of the clean pool among the members of the best preference (smarthosts.<n>.weight); absent: 1, or the warm-up's step. */
  weight?: number;
  /** Warm-up steps by day (YYYY-MM-DD), in date order: the plan picks the step active at its date. */
  warmup?: { from: string; weight: number }[];
}

export interface ExternalRelay {
  name: string;
  host: string;
  port: number;
  tls: "starttls";
  auth?: { username: string; passwordSecret: string };
  spfInclude?: string;
  preference: number;
  drain: boolean;
  lane: "clean" | "spam";
  /** How Postfix names this next hop: [host]:port, never an MX lookup. */
  nexthop: string;
}

export interface Model {
  /** arc: the key relays seal forwarded mail with (operator.arc), absent when ARC is off. */
  /** dnssec: the operator zone is signed, so every own host's TLSA records are published there. */
  operator: { domain: string; roleMailbox: string; dkim: Dkim; arc?: Dkim; sshSources: string[]; monitoringSources: string[]; dnssec: boolean };
  domains: MailDomain[];
  relays: RelayHost[];
  backupMx: { host: string; priority: number }[];
  smarthosts: OwnSmarthost[];
  externalRelays: ExternalRelay[];
  submissionUsers: { login: string; passwordSecret: string; dailyQuota: number }[];
  /** ACME certificates for every host (spec acme), absent when hosts make their own self-signed ones. */
  acme?: { email: string; directory: string; renewDays: number };
  policy: {
    dailyQuota: number;
    /** Per destination: its own Postfix transport (a master.cf service), named by pacingTransportName. */
    pacing: { default: PacingSpec; domains: { domain: string; rateDelay: string; concurrency: number; transport: string }[] };
    dnsbl: string[];
    inbound: Spec["policy"]["inbound"];
    spam: Spec["policy"]["spam"];
    ttl: number;
    outboundTls: Spec["policy"]["outboundTls"];
    /** Thresholds of `facteur check --delivery` (ages in seconds). */
    deliveryHealth: { queued: { warning: number; critical: number }; oldestSeconds: { warning: number; critical: number }; pushback: { warning: number; critical: number } };
    /** The shared quota counter store (policy.quotaStore); absent: each smarthost counts alone. */
    quotaStore?: { host: string; fqdn: string; role: "relay" | "smarthost"; passwordSecret: string; whenUnreachable: "defer" | "accept" };
  };
}

const byName = byText((x: { name: string }) => x.name);
const sortedEntries = <V>(r: Record<string, V>): [string, V][] => Object.entries(r).sort(byText(([key]) => key));

function dkimOf(d: { selectors: string[]; active?: string | undefined }): Dkim {
  return { selectors: [...d.selectors], active: d.active ?? d.selectors[d.selectors.length - 1]! };
}

function secondsOf(duration: string): number {
  const r = postfixSeconds(duration);
  if (!("seconds" in r)) throw new Error(`not a duration: ${duration}`);
  return r.seconds;
}

export function buildModel(spec: Spec): Model {
  // A signed operator zone publishes every own host's TLSA: each host then needs a managed key.
  const tlsKeyOf = (k: { current: string; next?: string | undefined } | undefined): { tlsKey?: TlsKey } => {
    const key = k ?? (spec.operator.dnssec ? { current: "tls1" } : undefined);
    return key ? { tlsKey: { current: key.current, ...(key.next ? { next: key.next } : {}) } } : {};
  };
  const fqdn = (name: string) => `${name}.${spec.operator.domain}`;
  const allRelays = Object.keys(spec.relays);
  // One alias table, role addresses included, shared with the spec rules (aliasGraph.ts).
  const table = aliasTable(spec);
  // Each alias expanded once (chains share what they lead to), in the table's order.
  const expanded = aliasExpansions(table);
  const byDomain = new Map<string, { local: string; alias: Alias }[]>();
  let i = 0;
  for (const [address, node] of table) {
    let list = byDomain.get(node.domain);
    if (!list) byDomain.set(node.domain, (list = []));
    list.push({ local: node.local, alias: { address, targets: node.targets, deliversTo: expanded[i++]!, role: node.role } });
  }
  const sortedAliases = (domain: string) =>
    // Every domain has aliases: its role addresses at least (aliasTable).
    byDomain.get(domain)!.sort(byText((x) => x.local)).map((x) => x.alias);
  const specDomains = new Map(Object.entries(spec.domains));

  const domains: MailDomain[] = [...[...specDomains.keys()].map((name) => ({ name, operator: false })), { name: spec.operator.domain, operator: true }]
    .map(({ name, operator }) => {
      const d = specDomains.get(name);
      return {
        name,
        operator,
        aliases: sortedAliases(name),
        ...(operator ? { dkim: dkimOf(spec.operator.dkim) } : d?.dkim ? { dkim: dkimOf(d.dkim) } : {}),
        dmarc: { ...(d?.dmarc ?? spec.policy.dmarc) },
        spfExtra: [...(d?.spf?.extra ?? [])],
        relays: [...(d?.relays ?? allRelays)].sort(),
        ...(d?.mtaSts ? { mtaSts: { ...d.mtaSts } } : {}),
        ...(d?.tlsRpt ? { tlsRpt: { rua: [...d.tlsRpt.rua] } } : {}),
        ...((operator ? spec.operator.dnssec : d?.dnssec) ? { dnssec: true as const } : {}),
      };
    })
    .sort(byName);

  return {
    operator: {
      domain: spec.operator.domain,
      roleMailbox: spec.operator.roleMailbox,
      dkim: dkimOf(spec.operator.dkim),
      ...(spec.operator.arc ? { arc: dkimOf(spec.operator.arc) } : {}),
      sshSources: [...spec.operator.sshSources],
      dnssec: spec.operator.dnssec,
      monitoringSources: [...spec.operator.monitoringSources],
    },
    domains,
    relays: sortedEntries(spec.relays).map(([name, r]) => ({ name, fqdn: fqdn(name), location: r.location, serverType: r.serverType, mxPriority: r.mxPriority, ...tlsKeyOf(r.tlsKey) })),
    backupMx: [...spec.backupMx].sort((a, b) => a.priority - b.priority || compareText(a.host, b.host)),
    smarthosts: sortedEntries(spec.smarthosts).flatMap(([name, s]) =>
      s.kind === "own"
        ? [
            {
              name,
              fqdn: fqdn(name),
              location: s.location,
              serverType: s.serverType,
              preference: s.preference,
              drain: s.drain,
              lane: s.lane,
              ...tlsKeyOf(s.tlsKey),
              ...(s.weight !== undefined ? { weight: s.weight } : {}),
              ...(s.warmup ? { warmup: s.warmup.map((w) => ({ ...w })) } : {}),
            },
          ]
        : [],
    ),
    externalRelays: sortedEntries(spec.smarthosts)
      .flatMap(([name, s]) =>
        s.kind === "external"
          ? [
              {
                name,
                host: s.host,
                port: s.port,
                tls: s.tls,
                ...(s.auth ? { auth: { ...s.auth } } : {}),
                ...(s.spfInclude ? { spfInclude: s.spfInclude } : {}),
                preference: s.preference,
                drain: s.drain,
                lane: s.lane,
                nexthop: `[${s.host}]:${s.port}`,
              },
            ]
          : [],
      )
      .sort((a, b) => a.preference - b.preference || byName(a, b)),
    submissionUsers: sortedEntries(spec.submission.users).map(([login, u]) => ({
      login,
      passwordSecret: u.passwordSecret,
      dailyQuota: u.dailyQuota ?? spec.policy.dailyQuota,
    })),
    ...(spec.acme ? { acme: { ...spec.acme } } : {}),
    policy: {
      dailyQuota: spec.policy.dailyQuota,
      pacing: {
        default: { ...spec.policy.pacing.default },
        domains: sortedEntries(spec.policy.pacing.domains).map(([domain, p]) => ({ domain, ...p, transport: pacingTransportName(domain) })),
      },
      dnsbl: [...spec.policy.dnsbl],
      inbound: { ...spec.policy.inbound },
      spam: { ...spec.policy.spam },
      ttl: spec.policy.ttl,
      outboundTls: { ...spec.policy.outboundTls },
      deliveryHealth: {
        queued: { ...spec.policy.deliveryHealth.queued },
        oldestSeconds: { warning: secondsOf(spec.policy.deliveryHealth.oldest.warning), critical: secondsOf(spec.policy.deliveryHealth.oldest.critical) },
        pushback: { ...spec.policy.deliveryHealth.pushback },
      },
      ...(spec.policy.quotaStore
        ? {
            quotaStore: {
              host: spec.policy.quotaStore.host,
              fqdn: fqdn(spec.policy.quotaStore.host),
              role: Object.hasOwn(spec.relays, spec.policy.quotaStore.host) ? ("relay" as const) : ("smarthost" as const),
              passwordSecret: spec.policy.quotaStore.passwordSecret,
              whenUnreachable: spec.policy.quotaStore.whenUnreachable,
            },
          }
        : {}),
    },
  };
}
