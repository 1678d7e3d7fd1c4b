// The lab's DNS server: every record of the plan, every PTR, and the outside world's zones (the
// destinations' MX, the outside sender's SPF and DKIM key, the external relay provider's SPF
// include, an empty DNSBL zone), served by one authoritative Knot in its own namespace. The
// check tests run the same Knot set-up (prepareKnot) on loopback (test/support/check/knot.ts).
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import type { Model } from "../model/model.ts";
import type { Plan } from "../plan/plan.ts";
import { reverseName } from "../plan/addresses.ts";
import { knotConfig, planZoneRecords, reverseZoneOf, zoneFiles, zoneOf, type ZoneRecord } from "./zones.ts";
import { must, spawnDetached } from "./proc.ts";
import { readyBoundMs, runProbes, type LabProbe } from "./probes.ts";
import type { OutsideHost, Topology } from "./topology.ts";

export function labRecords(model: Model, plan: Plan, topo: Topology, senderDkimPublic: string): ZoneRecord[] {
  const recs: ZoneRecord[] = planZoneRecords(plan);
  const addHost = (o: OutsideHost) => {
    for (const n of o.names) {
      for (const a of o.ipv4) recs.push({ name: n, type: "A", value: a });
      for (const a of o.ipv6) recs.push({ name: n, type: "AAAA", value: a });
    }
    o.ipv4.forEach((a, i) => recs.push({ name: reverseName(a)!, type: "PTR", value: o.names[Math.min(i, o.names.length - 1)]! }));
    o.ipv6.forEach((a, i) => recs.push({ name: reverseName(a)!, type: "PTR", value: o.names[Math.min(i, o.names.length - 1)]! }));
  };
  for (const o of topo.outside) addHost(o);
  for (const o of topo.outside.filter((o) => o.kind === "sink")) {
    for (const d of o.domains) {
      // A provider with a backup MX name receives its own domain's mail there.
      const mx = o.names.find((n) => n.startsWith("mx")) ?? o.names[0]!;
      recs.push({ name: d, type: "MX", value: `10 ${mx}` });
      const terms = [...o.ipv4.map((a) => `ip4:${a}`), ...o.ipv6.map((a) => `ip6:${a}`)].join(" ");
      recs.push({ name: d, type: "TXT", value: `v=spf1 ${terms} -all` });
      recs.push({ name: `_spf.${d}`, type: "TXT", value: `v=spf1 ${terms} -all` });
    }
  }
  const s = topo.sender;
  const sd = topo.senderDomain;
  recs.push({ name: sd, type: "MX", value: `10 ${s.names[0]}` });
  recs.push({ name: sd, type: "TXT", value: `v=spf1 ${[...s.ipv4.map((a) => `ip4:${a}`), ...s.ipv6.map((a) => `ip6:${a}`)].join(" ")} -all` });
  recs.push({ name: `${topo.senderSelector}._domainkey.${sd}`, type: "TXT", value: `v=DKIM1; k=rsa; p=${senderDkimPublic}` });
  recs.push({ name: `_dmarc.${sd}`, type: "TXT", value: "v=DMARC1; p=reject" });
  return recs;
}

/** Records a test adds to the lab's DNS, and records that replace planned ones (same name and type). */
export interface LabRecordChanges {
  extraRecords?: ZoneRecord[];
  overrideRecords?: ZoneRecord[];
}

const recKey = (r: ZoneRecord) => `${r.name.toLowerCase().replace(/\.$/, "")} ${r.type}`;

/** The records with every (name, type) of `override` replaced by the override's records, then `extra` added. */
export function applyRecordChanges(recs: ZoneRecord[], changes: LabRecordChanges = {}): ZoneRecord[] {
  const over = changes.overrideRecords ?? [];
  const replaced = new Set(over.map(recKey));
  return [...recs.filter((r) => !replaced.has(recKey(r))), ...over, ...(changes.extraRecords ?? [])];
}

/** Every zone the lab serves and its zone file. */
export function labZones(
  model: Model,
  plan: Plan,
  topo: Topology,
  senderDkimPublic: string,
  changes: LabRecordChanges = {},
): { zones: string[]; files: Map<string, string> } {
  const recs = applyRecordChanges(labRecords(model, plan, topo, senderDkimPublic), changes);
  const zones = new Set<string>(plan.dns.map((r) => r.zone));
  for (const o of topo.outside) {
    for (const n of o.names) zones.add(n.split(".").slice(1).join("."));
    for (const d of o.domains) zones.add(d);
  }
  zones.add(topo.senderDomain);
  for (const z of topo.dnsblZones) zones.add(z);
  const addrs = [...plan.hosts.flatMap((h) => [h.ipv4, h.ipv6]), ...topo.outside.flatMap((o) => [...o.ipv4, ...o.ipv6])];
  for (const a of addrs) zones.add(reverseZoneOf(a));
  // A name with no zone of its own (e.g. a deeper host name) falls into its parent domain.
  for (const r of recs) if (!zoneOf(r.name, [...zones])) zones.add(r.name.split(".").slice(-2).join("."));
  const list = [...zones].sort();
  return { zones: list, files: zoneFiles(recs, list, { nsAddress: topo.dns.ipv4[0]!, ttl: 60 }) };
}

/** The knot system user, when this process may hand Knot its directories (root); otherwise Knot runs as the caller. */
export function knotUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    return {
      uid: Number(execFileSync("id", ["-u", "knot"], { encoding: "utf8" }).trim()),
      gid: Number(execFileSync("id", ["-g", "knot"], { encoding: "utf8" }).trim()),
    };
  } catch {
    return undefined;
  }
}

/**
 * A Knot server's directory: zones/<zone>.zone from `files`, db/ and run/ (owned by knot when
 * root), and knot.conf listening on `listen` ("address@port"), checked by `knotc conf-check`.
 * Returns the configuration's path, for `knotd -c`.
 */
export async function prepareKnot(dir: string, listen: string[], files: Map<string, string>, user = knotUser(), signed: string[] = []): Promise<string> {
  for (const sub of ["zones", "db", "run"]) {
    mkdirSync(`${dir}/${sub}`, { recursive: true });
    if (user) chownSync(`${dir}/${sub}`, user.uid, user.gid);
  }
  for (const [z, text] of files) writeFileSync(`${dir}/zones/${z}.zone`, text);
  const conf = `${dir}/knot.conf`;
  writeFileSync(conf, knotConfig({ listen, dir, zones: [...files.keys()], user: !!user, signed }));
  await must(`knotc conf-check (${conf})`, ["knotc", "-c", conf, "conf-check"]);
  return conf;
}

/** Knot in the DNS namespace on port 53 of its addresses; resolves (with its probe) once every zone answers its SOA. */
export async function startKnot(dir: string, ns: string, host: OutsideHost, files: Map<string, string>, signed: string[] = []): Promise<LabProbe> {
  const user = knotUser();
  if (!user) throw new Error("lab DNS: Knot needs the knot system user and root (scripts/setup-system.sh)");
  const conf = await prepareKnot(dir, [...host.ipv4.map((a) => `${a}@53`), ...host.ipv6.map((a) => `${a}@53`)], files, user, signed);
  spawnDetached(["knotd", "-c", conf], `${dir}/knot.log`, { ns });
  // A query for every zone, not only the server's: Knot starts even when it refuses a zone file.
  const probe: LabProbe = {
    host: host.name,
    ns,
    daemon: "Knot",
    what: `authoritative SOA of every lab zone on ${host.ipv4[0]}:53`,
    check: { kind: "dns", address: host.ipv4[0]!, zones: [...files.keys()] },
    logs: [`${dir}/knot.log`],
  };
  const [r] = await runProbes([probe], { waitMs: readyBoundMs() });
  if (!r!.ok) throw new Error(`lab DNS: Knot does not serve every zone: ${r!.detail} (zone files in ${dir}/zones, log ${dir}/knot.log)`);
  return probe;
}

/**
 * The key-signing keys of the zones Knot signs, as unbound trust anchors ("doe.tld. DNSKEY 257 3 13
 * ..."): each signed lab zone is an island of trust (the lab has no root to chain from).
 */
export async function trustAnchors(ns: string, address: string, zones: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const z of zones) {
    const r = await must(`lab DNS: DNSKEY of ${z}`, ["kdig", "+short", "+tcp", "+timeout=2", `@${address}`, "DNSKEY", `${z}.`], { ns });
    const ksk = r.stdout.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("257 "));
    if (!ksk.length) throw new Error(`lab DNS: ${z} is to be signed but Knot publishes no key-signing DNSKEY for it (log ${address})`);
    out.push(...ksk.map((k) => `${z}. DNSKEY ${k}`));
  }
  return out;
}
