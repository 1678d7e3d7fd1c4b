// Zones for an authoritative DNS: the record type every zone is written from (ZoneRecord, also
// what a lookup returns), the plan's records and PTRs as such records, zone files, and the Knot
// configuration that serves them as written. The Knot server itself is src/lab/knot.ts; the lab
// runs it in its own namespace, the check tests on loopback (test/support/check/knot.ts).
import { isIP } from "node:net";
import { quoteTxt } from "../plan/dns.ts";
import { expandIpv6, ptrName, reversedLabels } from "../plan/addresses.ts";
import type { Plan } from "../plan/plan.ts";

export interface ZoneRecord {
  name: string;
  type: "A" | "AAAA" | "MX" | "TXT" | "PTR" | "TLSA";
  /** As a lookup returns it: "10 mx1.relais.tld" for MX, names without trailing dot. */
  value: string;
}

/** Every DNS record and every PTR of a plan whose addresses are known, as zone records. */
export function planZoneRecords(plan: Pick<Plan, "dns" | "ptrs">): ZoneRecord[] {
  return [
    ...plan.dns.map((r): ZoneRecord => ({ name: r.name, type: r.type, value: r.type === "MX" ? `${r.priority ?? 10} ${r.content}` : r.content })),
    ...plan.ptrs.map((p): ZoneRecord => ({ name: ptrName(p.address), type: "PTR", value: p.name })),
  ];
}

/** The zone a name belongs to: the longest zone that is a suffix of it. */
export function zoneOf(name: string, zones: string[]): string | undefined {
  return zones.filter((z) => name === z || name.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0];
}

/** A record's data as a zone file (and knotc zone-set) reads it: quoted TXT, absolute names. */
export function rdata(r: ZoneRecord): string {
  if (r.type === "TXT") return quoteTxt(r.value);
  if (r.type === "MX") {
    const [prio, host] = r.value.split(" ");
    return `${prio} ${host}.`;
  }
  if (r.type === "PTR") return `${r.value}.`;
  return r.value;
}

/** Zone file text per zone; every record must fall inside one of `zones`. Each zone's NS is ns.<zone> at nsAddress. */
export function zoneFiles(records: ZoneRecord[], zones: string[], options: { nsAddress?: string; ttl?: number } = {}): Map<string, string> {
  const ttl = options.ttl ?? 60;
  const ns = options.nsAddress ?? "127.0.0.1";
  const nsType = isIP(ns) === 6 ? "AAAA" : "A";
  const files = new Map(
    zones.map((z) => [z, [`$ORIGIN ${z}.`, `$TTL ${ttl}`, `@ SOA ns.${z}. hostmaster.${z}. 1 3600 600 86400 ${ttl}`, `@ NS ns.${z}.`, `ns.${z}. ${nsType} ${ns}`]]),
  );
  for (const r of records) {
    const name = r.name.toLowerCase().replace(/\.$/, "");
    const z = zoneOf(name, zones);
    if (!z) throw new Error(`no zone for ${name}`);
    files.get(z)!.push(`${name}. ${ttl} IN ${r.type} ${rdata(r)}`);
  }
  return new Map([...files].map(([z, lines]) => [z, lines.join("\n") + "\n"]));
}

/** Reverse zone holding an address's PTR: the /24 for IPv4, the /64 for IPv6. */
export function reverseZoneOf(address: string): string {
  if (isIP(address) === 4) return `${address.split(".").slice(0, 3).reverse().join(".")}.in-addr.arpa`;
  const nibbles = expandIpv6(address).replace(/:/g, "").slice(0, 16).split("");
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

export interface KnotConfigOptions {
  /** "ADDR@PORT" entries. */
  listen: string[];
  /** Holds zones/, db/ and run/. */
  dir: string;
  zones: string[];
  /** Run as knot:knot (when root). */
  user?: boolean;
  logTarget?: string;
  /** Zones Knot signs (DNSSEC, ECDSA P-256, keys kept in its KASP database under dir/db). */
  signed?: string[];
}

/** A Knot configuration that serves zone files exactly as written (no journal, no sync back). */
export function knotConfig(o: KnotConfigOptions): string {
  return [
    "server:",
    ...o.listen.map((l) => `  listen: ${l}`),
    `  rundir: ${o.dir}/run`,
    ...(o.user ? ["  user: knot:knot"] : []),
    "log:",
    `  - target: ${o.logTarget ?? "stderr"}`,
    "    any: warning",
    "database:",
    `  storage: ${o.dir}/db`,
    "control:",
    `  listen: ${o.dir}/run/knot.sock`,
    ...(o.signed?.length
      ? ["policy:", "  - id: lab", "    algorithm: ecdsap256sha256", "    ksk-lifetime: 0", "    zsk-lifetime: 0", "    single-type-signing: on"]
      : []),
    "template:",
    "  - id: default",
    `    storage: ${o.dir}/zones`,
    "    file: %s.zone",
    "    zonefile-sync: -1",
    "    zonefile-load: whole",
    "    journal-content: none",
    "    semantic-checks: off",
    "zone:",
    ...o.zones.flatMap((z) => (o.signed?.includes(z) ? [`  - domain: ${z}`, "    dnssec-signing: on", "    dnssec-policy: lab"] : [`  - domain: ${z}`])),
    "",
  ].join("\n");
}

/** kdig argv asking `server` (port optional) for the SOA of zone over TCP. */
export function soaQuery(server: string, port: number, zone: string): string[] {
  return ["kdig", "+tcp", "+timeout=1", "+retry=0", `@${server}`, "-p", String(port), "SOA", `${zone}.`];
}

/** Whether kdig output is an authoritative, non-empty answer. */
export function isAuthoritativeAnswer(kdigOut: string): boolean {
  return /status: NOERROR/.test(kdigOut) && /flags: qr aa/i.test(kdigOut) && /ANSWER: [1-9]/.test(kdigOut);
}

/** DNSBL listing records for an address in a blocklist zone: `<reversed>.<zone> A 127.0.0.2` and a TXT reason. */
export function dnsblListing(address: string, zone: string, reason = "listed by the facteur lab"): ZoneRecord[] {
  const rev = reversedLabels(address);
  return [
    { name: `${rev}.${zone}`, type: "A", value: "127.0.0.2" },
    { name: `${rev}.${zone}`, type: "TXT", value: reason },
  ];
}
