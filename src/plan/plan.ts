// The plan: pure data saying what must exist. Hosts with their names and addresses, every DNS
// record (each with a stable id and a one-line reason), every PTR, how mail is routed, and
// which inbound traffic each host accepts.
// The Pulumi program, the lab and the CLI all apply or print this same structure.
import type { Model, TlsKey } from "../model/model.ts";
import { addressOf, type AddressBook, type Family } from "./addresses.ts";
import { dnsRecords, type DnsRecord, type DkimPublicKeys } from "./dns.ts";
import { firewallRules, type PlannedFirewall } from "./firewall.ts";
import { mtaStsPolicies, type MtaStsPolicy } from "./mtaSts.ts";
import { planQuotaStore, type PlannedQuotaStore } from "./quotaStore.ts";
import { planMetrics, type PlannedMetrics } from "./metrics.ts";
import { planWeightedPool, type WeightedPool } from "./weights.ts";

export interface PlannedHost {
  name: string;
  role: "relay" | "smarthost";
  fqdn: string;
  /** The name announced in HELO/EHLO and the banner: always the PTR name of its addresses. */
  helo: string;
  ipv4: string;
  ipv6: string;
  location: string;
  serverType: string;
  /** Relays: mail domains this host is MX for. */
  mxFor: string[];
  /** Smarthosts only. */
  lane?: "clean" | "spam";
  drain?: boolean;
  /** Own hosts with a managed TLS key (tlsKey): the key served, and the next one announced. */
  tlsKey?: TlsKey;
}

/** A zone to sign (DNSSEC on Cloudflare): the operator zone (operator.dnssec) or a mail domain's (domains.<d>.dnssec). */
export interface PlannedDnssec {
  zone: string;
  reason: string;
}

export interface Ptr {
  id: string;
  host: string;
  family: Family;
  address: string;
  name: string;
}

export interface Routing {
  /** Where relays hand every outbound message: an MX pool name, looked up by Postfix. */
  relayhost: string;
  /** Tried when the pool does not answer: external relays, by name and port. */
  fallbackRelays: string[];
  /** Where spam-tagged mail goes, when a spam lane exists. */
  spamRelayhost?: string;
  /** SASL credentials a relay presents to each external next hop (secret by reference). */
  saslCredentials: { nexthop: string; username: string; passwordSecret: string }[];
  srsDomain: string;
  /** Addresses smarthosts relay for without authentication: the relays' own. */
  relayClients: string[];
  poolName: string;
  spamPoolName: string;
  /** Smarthost weights (smarthosts.<n>.weight / warmup): the relays' proportional choice, the pool MX as fallback (src/plan/weights.ts). */
  weightedPool?: WeightedPool;
}

export interface Plan {
  operatorDomain: string;
  hosts: PlannedHost[];
  dns: DnsRecord[];
  ptrs: Ptr[];
  routing: Routing;
  /** Inbound rules per role, each with an id and a reason (src/plan/firewall.ts). */
  firewalls: PlannedFirewall[];
  /** MTA-STS policies to serve at mta-sts.<domain> (src/plan/mtaSts.ts); absent when no domain has one. */
  mtaSts?: MtaStsPolicy[];
  /** The shared daily-quota store, when policy.quotaStore names one (src/plan/quotaStore.ts). */
  quotaStore?: PlannedQuotaStore;
  /** Zones Cloudflare signs; absent when none is. */
  dnssec?: PlannedDnssec[];
  /** Postfix metrics for the operator's Prometheus (operator.monitoringSources; src/plan/metrics.ts). */
  metrics?: PlannedMetrics;
}

export interface PlanInputs {
  addresses?: AddressBook;
  dkimKeys?: DkimPublicKeys;
  /** The day (YYYY-MM-DD, UTC) warm-up schedules are read at: the applier's today, or the operator's --at. Needed only when a smarthost has one. */
  at?: string;
}

export function buildPlan(model: Model, inputs: PlanInputs = {}): Plan {
  const book = inputs.addresses ?? {};
  const hosts: PlannedHost[] = [
    ...model.relays.map((r) => ({
      name: r.name,
      role: "relay" as const,
      fqdn: r.fqdn,
      helo: r.fqdn,
      ipv4: addressOf(book, r.name, "ipv4"),
      ipv6: addressOf(book, r.name, "ipv6"),
      location: r.location,
      serverType: r.serverType,
      mxFor: model.domains.filter((d) => d.relays.includes(r.name)).map((d) => d.name),
      ...(r.tlsKey ? { tlsKey: r.tlsKey } : {}),
    })),
    ...model.smarthosts.map((s) => ({
      name: s.name,
      role: "smarthost" as const,
      fqdn: s.fqdn,
      helo: s.fqdn,
      ipv4: addressOf(book, s.name, "ipv4"),
      ipv6: addressOf(book, s.name, "ipv6"),
      location: s.location,
      serverType: s.serverType,
      mxFor: [],
      lane: s.lane,
      drain: s.drain,
      ...(s.tlsKey ? { tlsKey: s.tlsKey } : {}),
    })),
  ];
  const ptrs: Ptr[] = hosts.flatMap((h) =>
    (["ipv4", "ipv6"] as const).map((family) => ({ id: `ptr:${h.name}:${family}`, host: h.name, family, address: h[family], name: h.fqdn })),
  );
  const poolName = `pool.${model.operator.domain}`;
  const spamPoolName = `spam-pool.${model.operator.domain}`;
  const lanePool = (lane: "clean" | "spam", name: string): string | undefined => {
    const own = model.smarthosts.some((s) => s.lane === lane && !s.drain);
    return own ? name : model.externalRelays.find((e) => e.lane === lane && !e.drain)?.nexthop;
  };
  const relayhost = lanePool("clean", poolName)!;
  const spamRelayhost = lanePool("spam", spamPoolName);
  const weightedPool = planWeightedPool(model, inputs.at);
  const routing: Routing = {
    relayhost,
    fallbackRelays: model.externalRelays.filter((e) => e.lane === "clean" && !e.drain && e.nexthop !== relayhost).map((e) => e.nexthop),
    ...(spamRelayhost ? { spamRelayhost } : {}),
    saslCredentials: model.externalRelays.flatMap((e) =>
      e.auth ? [{ nexthop: e.nexthop, username: e.auth.username, passwordSecret: e.auth.passwordSecret }] : [],
    ),
    srsDomain: model.operator.domain,
    relayClients: hosts.filter((h) => h.role === "relay").flatMap((h) => [h.ipv4, h.ipv6]),
    poolName,
    spamPoolName,
    ...(weightedPool ? { weightedPool } : {}),
  };
  const mtaSts = mtaStsPolicies(model);
  const quotaStore = planQuotaStore(model, hosts);
  const dnssec: PlannedDnssec[] = model.domains
    .filter((d) => d.dnssec)
    .map((d) => ({
      zone: d.name,
      reason: d.operator
        ? `the operator zone holds our hosts' names and TLSA records: signed, DANE senders verify the relays and submission against the pinned keys`
        : `${d.name}'s MX records signed: DANE senders look up the relays' TLSA and insist on verified TLS`,
    }));
  const metrics = planMetrics(model);
  return {
    operatorDomain: model.operator.domain,
    hosts,
    dns: dnsRecords(model, hosts, { poolName, spamPoolName }, inputs.dkimKeys ?? {}),
    ptrs,
    routing,
    firewalls: firewallRules(model, hosts, quotaStore, metrics),
    ...(quotaStore ? { quotaStore } : {}),
    ...(metrics ? { metrics } : {}),
    ...(mtaSts.length ? { mtaSts } : {}),
    ...(dnssec.length ? { dnssec } : {}),
  };
}
