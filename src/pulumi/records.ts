// Pure helpers between the plan and the providers: addresses as Hetzner reports them and DNS
// content in the form Cloudflare stores (which unknowns a text waits for, and how they are
// filled in, is the placeholder module's: src/plan/placeholders.ts).
import { quoteTxt, type DnsRecord } from "../plan/dns.ts";
export { fillPlaceholders, hasPlaceholder, refsIn, type PlaceholderValues, type Refs } from "../plan/placeholders.ts";

/**
 * The address a server answers on from its IPv6 primary IP. Hetzner gives the /64 (ipNetwork,
 * or ipAddress as its base "2a01:4f8:1c1f:c184::"); Debian's cloud image configures ::1 of it,
 * like hcloud.Server.ipv6Address. A full host address is kept as it is.
 */
export function serverIpv6(ipAddress: string, ipNetwork?: string): string {
  const base = (ipNetwork && ipNetwork.length > 0 ? ipNetwork : ipAddress).replace(/\/\d+$/, "");
  return base.endsWith("::") ? `${base}1` : base;
}

/** The p= value of a DKIM record: base64 of the DER SubjectPublicKeyInfo, PEM armour removed. */
export function dkimPublicValue(publicKeyPem: string): string {
  return publicKeyPem
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("-----"))
    .join("");
}

/**
 * Record content as Cloudflare (API v4, provider v6) takes and returns it. TXT content "must
 * consist of quoted character strings (RFC 1035), each up to 255 bytes", and the API hands
 * back the stored, quoted and split form: sending that same form (quoteTxt) keeps the state
 * equal to the zone and avoids a diff on every refresh. Other types go as they are.
 */
export function cloudflareContent(type: DnsRecord["type"], content: string): string {
  return type === "TXT" ? quoteTxt(content) : content;
}

/** A TLSA record's content ("3 1 1 <hex>") as the fields Cloudflare stores it in. */
export function tlsaData(content: string): { usage: number; selector: number; matchingType: number; certificate: string } {
  const m = /^(\d+) (\d+) (\d+) ([0-9a-fA-F]+)$/.exec(content.trim());
  if (!m) throw new Error(`not TLSA content: ${content}`);
  return { usage: Number(m[1]), selector: Number(m[2]), matchingType: Number(m[3]), certificate: m[4]!.toLowerCase() };
}
