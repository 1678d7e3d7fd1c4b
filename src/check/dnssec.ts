// The chain of trust of a signed zone (RFC 4034, 4509): the parent's DS record must match a
// key-signing key the zone publishes. Cloudflare signs the zone (cloudflare.ZoneDnssec) and
// gives the DS (the stack output `dnssec`); only the registrar can publish it at the parent,
// and nothing else can check that it did, so `facteur check` reads both sides and compares.
import { createHash } from "node:crypto";
import { nameWire } from "./dnsWire.ts";

/** A DNSKEY in presentation form ("257 3 13 base64"), as its wire rdata; undefined when malformed. */
export function dnskeyRdata(dnskey: string): Buffer | undefined {
  const m = /^(\d{1,5}) (\d{1,3}) (\d{1,3}) ([A-Za-z0-9+/=]+)$/.exec(dnskey.trim());
  if (!m || Number(m[1]) > 0xffff || Number(m[2]) > 255 || Number(m[3]) > 255) return undefined;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(Number(m[1]));
  head[2] = Number(m[2]);
  head[3] = Number(m[3]);
  return Buffer.concat([head, Buffer.from(m[4]!, "base64")]);
}

/** RFC 4034 appendix B: the key tag of a DNSKEY rdata (every algorithm but the retired RSA/MD5). */
export function keyTag(rdata: Buffer): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** A key-signing key: a zone key (flags bit 7) with the secure entry point bit (bit 15), flags 257. */
export function isKsk(rdata: Buffer): boolean {
  return (rdata.readUInt16BE(0) & 0x0101) === 0x0101;
}

/** The DS record (digest type 2, SHA-256, RFC 4509) of `zone`'s key: "TAG ALGORITHM 2 hex". */
export function dsOf(zone: string, rdata: Buffer): string {
  const digest = createHash("sha256").update(Buffer.concat([nameWire(zone.toLowerCase()), rdata])).digest("hex");
  return `${keyTag(rdata)} ${rdata[3]} 2 ${digest}`;
}

export interface ChainVerdict {
  state: "OK" | "WARNING" | "CRITICAL";
  found: string;
  expected?: string;
  note?: string;
}

/** Compares the parent's DS records with the zone's DNSKEYs (both in presentation form). */
export function chainOfTrust(zone: string, dnskeys: string[], dss: string[]): ChainVerdict {
  const keys = dnskeys.map(dnskeyRdata).filter((k): k is Buffer => k !== undefined);
  const ksks = keys.filter(isKsk);
  const wanted = ksks.map((k) => dsOf(zone, k));
  const found = dss.length ? dss.join(", ") : "no DS at the parent";
  const give = `give the registrar: ${wanted.map((d) => `${zone}. DS ${d}`).join(" | ")} (also the stack output dnssec)`;
  if (!ksks.length)
    return dss.length
      ? { state: "CRITICAL", found, note: "the parent has a DS but the zone publishes no key-signing key: validating resolvers reject every answer from it (mail to it stops); remove the DS at the registrar or turn DNSSEC back on" }
      : { state: "WARNING", found: "no DNSKEY", note: "the zone is not signed yet (Cloudflare activates DNSSEC after pulumi up): nothing to give the registrar so far" };
  if (!dss.length) return { state: "WARNING", found, expected: wanted.join(", "), note: `signed, but no chain of trust: resolvers treat the zone as unsigned and DANE is off; ${give}` };
  // Digest types other than SHA-256 (1: SHA-1, 4: SHA-384) are compared by key tag and algorithm only.
  const same = (ds: string, want: string) => {
    const [t, a, d, h] = ds.toLowerCase().split(" ");
    const [wt, wa, , wh] = want.split(" ");
    return t === wt && a === wa && (d !== "2" || h === wh);
  };
  const matching = dss.filter((ds) => wanted.some((w) => same(ds, w)));
  if (!matching.length) return { state: "CRITICAL", found, expected: wanted.join(", "), note: `no DS at the parent matches a key of the zone: validating resolvers reject every answer from it (mail to it stops); ${give}` };
  const stale = dss.filter((ds) => !matching.includes(ds));
  if (stale.length) return { state: "WARNING", found, expected: wanted.join(", "), note: `the parent also lists ${stale.join(", ")}, which matches no key of the zone: remove it at the registrar` };
  return { state: "OK", found: matching.join(", ") };
}
