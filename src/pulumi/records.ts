// Pure helpers between the plan and the providers: which unknowns a piece of plan text waits
// for and how they are filled in, addresses as Hetzner reports them, and DNS content in the form
// Cloudflare stores.
import { quoteTxt, type DnsRecord } from "../plan/dns.ts";
import type { Family } from "../plan/addresses.ts";

export interface Refs {
  /** Host addresses the text depends on, as "host.family". */
  addresses: { host: string; family: Family }[];
  /** DKIM public keys it depends on, as "domain/selector". */
  dkim: string[];
}

const ADDRESS_PLACEHOLDER = /<([a-z0-9-]+)\.(ipv4|ipv6)>/g;
const DKIM_PLACEHOLDER = /<dkim:([^>]+)>/g;

/**
 * What a text built from the placeholder plan (no addresses, no keys) is waiting for. A record
 * or bundle then depends on exactly those Outputs, so adding a host does not make unrelated
 * records or bundles unknown during preview.
 */
export function refsIn(...texts: string[]): Refs {
  const addresses = new Map<string, { host: string; family: Family }>();
  const dkim = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(ADDRESS_PLACEHOLDER)) addresses.set(`${m[1]}.${m[2]}`, { host: m[1]!, family: m[2] as Family });
    for (const m of t.matchAll(DKIM_PLACEHOLDER)) dkim.add(m[1]!);
  }
  return { addresses: [...addresses.values()], dkim: [...dkim].sort() };
}

export function hasPlaceholder(text: string): boolean {
  const r = refsIn(text);
  return r.addresses.length > 0 || r.dkim.length > 0;
}

/** The values placeholders stand for: "host.family" -> address, "domain/selector" -> DKIM p= value. */
export interface PlaceholderValues {
  addresses: Record<string, string>;
  dkim: Record<string, string>;
}

/**
 * The text with every placeholder replaced by its value. The plan and the bundles are built
 * once, from placeholders; each resource then fills exactly the values it waits for, which
 * gives the same text as planning with the real addresses (test/pulumi-program.test.ts).
 */
export function fillPlaceholders(text: string, values: PlaceholderValues, where: string): string {
  const missing = (what: string) => {
    throw new Error(`${where}: no value for placeholder <${what}>`);
  };
  return text
    .replace(ADDRESS_PLACEHOLDER, (_, host: string, family: string) => values.addresses[`${host}.${family}`] ?? missing(`${host}.${family}`))
    .replace(DKIM_PLACEHOLDER, (_, key: string) => values.dkim[key] ?? missing(`dkim:${key}`));
}

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
