// Every DNS record the operator publishes. Ids come from spec keys (host, domain, selector),
// so adding a smarthost adds its own records and touches only the shared pool SPF record.
import type { Model } from "../model/model.ts";
import type { PlannedHost } from "./plan.ts";
import { mtaStsPolicies, tlsRptRecord } from "./mtaSts.ts";
import { dkimPlaceholder, tlsaPlaceholder, tlsaSha256 } from "./placeholders.ts";
import { byText } from "../order.ts";

export type RecordType = "A" | "AAAA" | "MX" | "TXT" | "TLSA";

/**
 * What a record is for; consumers (check, diff, the lab) choose by kind, never by id prefix.
 * - host-address: a host's A or AAAA, named back by its PTR
 * - helo-spf: the SPF of a host's HELO name ("v=spf1 a -all")
 * - pool-mx: a smarthost's place in the clean or spam outbound pool (an MX name relays use)
 * - spf-pool: the shared SPF record listing every sending address
 * - mx: a relay receiving a mail domain; backup-mx: a third party holding its mail
 * - spf, dkim, dmarc: a mail domain's policy records
 * - arc: the operator's ARC sealing key (a DomainKeys record, checked like DKIM's)
 * - mta-sts: a domain's MTA-STS policy id (_mta-sts); tls-rpt: where TLS failures are reported (_smtp._tls)
 * - tlsa: DANE-EE 3 1 1 for a host's port, the SHA-256 of one of its managed TLS keys (current or next)
 */
export type RecordKind = "host-address" | "helo-spf" | "pool-mx" | "spf-pool" | "mx" | "backup-mx" | "spf" | "dkim" | "dmarc" | "arc" | "mta-sts" | "tls-rpt" | "tlsa";

export interface DnsRecord {
  /** Stable identity: becomes the Pulumi resource name and the key of review diffs. */
  id: string;
  kind: RecordKind;
  zone: string;
  name: string;
  type: RecordType;
  content: string;
  priority?: number;
  ttl: number;
  reason: string;
}

/** Public halves of DKIM keys: "domain/selector" -> base64 of the key (the p= value). */
export type DkimPublicKeys = Record<string, string>;

export function dkimKeyId(domain: string, selector: string): string {
  return `${domain}/${selector}`;
}

/**
 * A host's managed TLS key, by host name (fqdn) and key name: its own id space ("tls:" prefix),
 * so no mail domain's DKIM selector can ever name the same key.
 */
export function tlsKeyId(fqdn: string, key: string): string {
  return `tls:${fqdn}/${key}`;
}

/** A host's managed TLS key as a bundle holds it: the current one (served) or the next one (for ACME). */
export function isTlsKey(k: { purpose?: "tls" | "tls-next" }): boolean {
  return k.purpose === "tls" || k.purpose === "tls-next";
}

/** The id of a key a bundle holds (bundle.dkimKeys): DKIM/ARC by domain and selector, TLS by host and key name. */
export function heldKeyId(k: { domain: string; selector: string; purpose?: "tls" | "tls-next" }): string {
  return isTlsKey(k) ? tlsKeyId(k.domain, k.selector) : dkimKeyId(k.domain, k.selector);
}

/**
 * Every key pair the model needs: each domain's DKIM selectors, the operator's ARC selectors
 * (RSA, DomainKeys records) and each own host's managed TLS keys, current and next (ECDSA P-256,
 * pinned by TLSA 3 1 1; domain is the host's fqdn, selector the key's name).
 */
export interface PlannedKey {
  id: string;
  domain: string;
  selector: string;
  purpose: "dkim" | "arc" | "tls";
  /** tls: the host (spec key) the key belongs to. */
  host?: string;
}

export function plannedKeys(model: Model): PlannedKey[] {
  const of = (domain: string, selectors: string[], purpose: "dkim" | "arc") => selectors.map((selector) => ({ id: dkimKeyId(domain, selector), domain, selector, purpose }));
  return [
    ...model.domains.flatMap((d) => (d.dkim ? of(d.name, d.dkim.selectors, "dkim") : [])),
    ...(model.operator.arc ? of(model.operator.domain, model.operator.arc.selectors, "arc") : []),
    ...[...model.relays, ...model.smarthosts].flatMap((h) =>
      h.tlsKey
        ? [h.tlsKey.current, ...(h.tlsKey.next ? [h.tlsKey.next] : [])].map((key) => ({ id: tlsKeyId(h.fqdn, key), domain: h.fqdn, selector: key, purpose: "tls" as const, host: h.name }))
        : [],
    ),
  ];
}

/** The ports whose TLSA a host publishes: a relay's SMTP (MX), an own smarthost's submission (587, and 465's implicit TLS). */
export function tlsaPorts(role: "relay" | "smarthost"): number[] {
  return role === "relay" ? [25] : [465, 587];
}

export function spfPoolName(operatorDomain: string): string {
  return `_spf.${operatorDomain}`;
}

export function dnsRecords(
  model: Model,
  hosts: PlannedHost[],
  pools: { poolName: string; spamPoolName: string },
  keys: DkimPublicKeys,
): DnsRecord[] {
  const ttl = model.policy.ttl;
  const op = model.operator.domain;
  const out: DnsRecord[] = [];
  const add = (r: Omit<DnsRecord, "ttl">) => out.push({ ...r, ttl });

  for (const h of hosts) {
    const what = h.role === "relay" ? `relay ${h.name} (MX host)` : `smarthost ${h.name}`;
    add({ id: `a:${h.name}`, kind: "host-address", zone: op, name: h.fqdn, type: "A", content: h.ipv4, reason: `${what}: IPv4; its PTR names ${h.fqdn} back` });
    add({ id: `aaaa:${h.name}`, kind: "host-address", zone: op, name: h.fqdn, type: "AAAA", content: h.ipv6, reason: `${what}: IPv6; its PTR names ${h.fqdn} back` });
    add({
      id: `helo-spf:${h.name}`,
      kind: "helo-spf",
      zone: op,
      name: h.fqdn,
      type: "TXT",
      content: "v=spf1 a -all",
      reason: `SPF for the HELO name ${h.fqdn}: only its own address may use it`,
    });
  }

  // DANE-EE (RFC 7672): 3 1 1 pins the key, not the certificate, so ACME renewals (issued for
  // the same managed key) keep it valid. Published only in a signed operator zone: an unsigned
  // TLSA is ignored by every DANE sender.
  if (model.operator.dnssec)
    for (const h of hosts) {
      const k = h.tlsKey;
      if (!k) continue;
      for (const port of tlsaPorts(h.role))
        for (const key of [k.current, ...(k.next ? [k.next] : [])]) {
          const id = tlsKeyId(h.fqdn, key);
          const what = h.role === "relay" ? `relay ${h.name}'s SMTP (MX)` : `smarthost ${h.name}'s ${port === 465 ? "implicit-TLS submission" : "submission"}`;
          add({
            id: `tlsa:${h.name}:${port}:${key}`,
            kind: "tlsa",
            zone: op,
            name: `_${port}._tcp.${h.fqdn}`,
            type: "TLSA",
            content: `3 1 1 ${keys[id] !== undefined ? tlsaSha256(keys[id]) : tlsaPlaceholder(id)}`,
            reason:
              key === k.current
                ? `DANE for ${what}: SHA-256 of its current TLS key ${key}, which its certificates are issued for`
                : `DANE for ${what}: its next TLS key ${key}, published before the switch so senders' cached TLSA sets still match after it`,
          });
        }
    }

  for (const h of hosts.filter((h) => h.role === "smarthost" && !h.drain)) {
    const pool = h.lane === "spam" ? pools.spamPoolName : pools.poolName;
    const sh = model.smarthosts.find((s) => s.name === h.name)!;
    add({
      id: `${h.lane === "spam" ? "spam-pool-mx" : "pool-mx"}:${h.name}`,
      kind: "pool-mx",
      zone: op,
      name: pool,
      type: "MX",
      content: h.fqdn,
      priority: sh.preference,
      reason: `${h.lane} outbound pool member ${h.name}: relays hand mail to ${pool}`,
    });
  }

  // One shared record lists every sending address; every domain includes it, so the pool can
  // change without touching any domain's record.
  const senders = hosts.filter((h) => h.role === "smarthost");
  const poolTerms = [
    ...senders.flatMap((h) => [`ip4:${h.ipv4}`, `ip6:${h.ipv6}`]),
    ...model.externalRelays.flatMap((e) => (e.spfInclude ? [`include:${e.spfInclude}`] : [])),
  ];
  add({
    id: "spf-pool",
    kind: "spf-pool",
    zone: op,
    name: spfPoolName(op),
    type: "TXT",
    content: ["v=spf1", ...poolTerms, "-all"].join(" "),
    reason: "every smarthost's addresses and external relays: the only places our mail leaves from",
  });

  // Each domain's MTA-STS policy, made once (not once per domain: 1,000 domains made a million).
  const stsOf = new Map(mtaStsPolicies(model).map((p) => [p.domain, p]));
  for (const d of model.domains) {
    const mx = model.relays.filter((r) => d.relays.includes(r.name));
    for (const r of mx)
      add({ id: `mx:${d.name}:${r.name}`, kind: "mx", zone: d.name, name: d.name, type: "MX", content: r.fqdn, priority: r.mxPriority, reason: `relay ${r.name} receives mail for ${d.name}` });
    for (const b of model.backupMx)
      add({ id: `mx:${d.name}:backup:${b.host}`, kind: "backup-mx", zone: d.name, name: d.name, type: "MX", content: b.host, priority: b.priority, reason: `backup MX ${b.host} holds mail for ${d.name} while the relays are down` });
    add({
      id: `spf:${d.name}`,
      kind: "spf",
      zone: d.name,
      name: d.name,
      type: "TXT",
      content: ["v=spf1", `include:${spfPoolName(op)}`, ...d.spfExtra, "-all"].join(" "),
      reason: d.operator
        ? `SPF of the SRS domain: forwarded mail's rewritten senders pass at the destination`
        : `SPF for ${d.name}: only the smarthost pool sends for it, strict -all`,
    });
    if (d.dkim) {
      for (const sel of d.dkim.selectors) {
        const key = keys[dkimKeyId(d.name, sel)] ?? dkimPlaceholder(dkimKeyId(d.name, sel));
        add({
          id: `dkim:${d.name}:${sel}`,
          kind: "dkim",
          zone: d.name,
          name: `${sel}._domainkey.${d.name}`,
          type: "TXT",
          content: `v=DKIM1; k=rsa; p=${key}`,
          reason:
            sel === d.dkim.active
              ? `DKIM public key that smarthosts sign ${d.operator ? "forwarded mail" : `mail from ${d.name}`} with`
              : `DKIM key ${sel}, kept published while signatures made with it may still be checked`,
        });
      }
    }
    if (d.operator && model.operator.arc) {
      const arc = model.operator.arc;
      for (const sel of arc.selectors)
        add({
          id: `arc:${d.name}:${sel}`,
          kind: "arc",
          zone: d.name,
          name: `${sel}._domainkey.${d.name}`,
          type: "TXT",
          content: `v=DKIM1; k=rsa; p=${keys[dkimKeyId(d.name, sel)] ?? dkimPlaceholder(dkimKeyId(d.name, sel))}`,
          reason:
            sel === arc.active
              ? "ARC key the relays seal forwarded mail with (ARC-Seal and ARC-Message-Signature d=" + d.name + ")"
              : `ARC key ${sel}, kept published while seals made with it may still be checked`,
        });
    }
    const sts = stsOf.get(d.name);
    if (sts)
      add({
        id: `mta-sts:${d.name}`,
        kind: "mta-sts",
        zone: d.name,
        name: `_mta-sts.${d.name}`,
        type: "TXT",
        content: `v=STSv1; id=${sts.id}`,
        reason: `MTA-STS for ${d.name} (${sts.mode}): senders fetch the policy at ${sts.url}; the id follows the policy's content`,
      });
    if (d.tlsRpt)
      add({
        id: `tlsrpt:${d.name}`,
        kind: "tls-rpt",
        zone: d.name,
        name: `_smtp._tls.${d.name}`,
        type: "TXT",
        content: tlsRptRecord(d.tlsRpt.rua),
        reason: `TLS-RPT for ${d.name}: senders report TLS failures delivering to it`,
      });
    const dm = d.dmarc;
    add({
      id: `dmarc:${d.name}`,
      kind: "dmarc",
      zone: d.name,
      name: `_dmarc.${d.name}`,
      type: "TXT",
      content: ["v=DMARC1", `p=${dm.policy}`, ...(dm.pct !== 100 ? [`pct=${dm.pct}`] : []), ...(dm.rua ? [`rua=mailto:${dm.rua}`] : []), "adkim=r", "aspf=r"].join("; "),
      reason: `DMARC policy for ${d.name}: receivers ${dm.policy === "none" ? "only report" : dm.policy} mail that fails SPF and DKIM alignment`,
    });
  }
  return out.sort(byText((r) => r.id));
}

/**
 * TXT data as DNS carries it: character-strings of at most 255 bytes (RFC 1035 3.3: a length
 * octet). Counted in UTF-8 bytes, never cutting a character in two; the spec keeps published
 * text ASCII, this keeps the limit right whatever arrives.
 */
export function txtStrings(content: string): string[] {
  const parts: string[] = [];
  let current = "";
  let bytes = 0;
  for (const ch of content) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 255) {
      parts.push(current);
      current = "";
      bytes = 0;
    }
    current += ch;
    bytes += n;
  }
  // The last string: never empty after a character, and "" alone for empty content.
  parts.push(current);
  return parts;
}

export function quoteTxt(content: string): string {
  return txtStrings(content)
    .map((p) => `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(" ");
}
