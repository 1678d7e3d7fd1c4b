// The placeholder syntax, in one place. A plan made before the servers and keys exist names
// what it waits for: <mx1.ipv4> for a host's address, <dkim:domain/selector> for a DKIM public
// key. The plan and render write them (addressPlaceholder, dkimPlaceholder); the Pulumi program
// reads which ones a text waits for (refsIn) and fills them (fillPlaceholders); check and
// render recognise them (isPlaceholder, isDkimPlaceholder, placeholderFamily).
import { createHash } from "node:crypto";
import type { Family } from "./addresses.ts";

const ADDRESS_PLACEHOLDER = /<([a-z0-9-]+)\.(ipv4|ipv6)>/g;
const DKIM_PLACEHOLDER = /<dkim:([^>]+)>/g;
const TLSA_PLACEHOLDER = /<tlsa:([^>]+)>/g;

/** The address of `host` in `family`, before it exists: <mx1.ipv4>. */
export function addressPlaceholder(host: string, family: Family): string {
  return `<${host}.${family}>`;
}

/** A DKIM public key (the p= value), before it exists: <dkim:domain/selector>. */
export function dkimPlaceholder(keyId: string): string {
  return `<dkim:${keyId}>`;
}

/** A TLSA 3 1 1 digest (SHA-256 of a key's SubjectPublicKeyInfo), before the key exists: <tlsa:tls:host/key>. */
export function tlsaPlaceholder(keyId: string): string {
  return `<tlsa:${keyId}>`;
}

/** The TLSA 3 1 1 data of a public key given as base64 DER SubjectPublicKeyInfo (the form DKIM keys travel in): SHA-256, hex. */
export function tlsaSha256(spkiBase64: string): string {
  return createHash("sha256").update(Buffer.from(spkiBase64, "base64")).digest("hex");
}

/** The whole value is a placeholder (an address or a key not known yet). */
export function isPlaceholder(value: string): boolean {
  return /^<[^>]+>$/.test(value);
}

export function isDkimPlaceholder(value: string): boolean {
  return /^<dkim:[^>]+>$/.test(value);
}

/** The family an address placeholder stands for, or undefined when the value is not one. */
export function placeholderFamily(value: string): Family | undefined {
  return /^<[a-z0-9-]+\.(ipv4|ipv6)>$/.exec(value)?.[1] as Family | undefined;
}

export interface Refs {
  /** Host addresses the text depends on, as "host.family". */
  addresses: { host: string; family: Family }[];
  /** DKIM public keys it depends on, as "domain/selector". */
  dkim: string[];
}

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
    // A TLSA digest waits for the same public key Output as a DKIM record does.
    for (const m of t.matchAll(TLSA_PLACEHOLDER)) dkim.add(m[1]!);
  }
  return { addresses: [...addresses.values()], dkim: [...dkim].sort() };
}

export function hasPlaceholder(text: string): boolean {
  const r = refsIn(text);
  return r.addresses.length > 0 || r.dkim.length > 0;
}

/** The values placeholders stand for: "host.family" -> address, "domain/selector" (and "tls:fqdn/key") -> base64 SPKI of the public key. */
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
    .replace(DKIM_PLACEHOLDER, (_, key: string) => values.dkim[key] ?? missing(`dkim:${key}`))
    .replace(TLSA_PLACEHOLDER, (_, key: string) => tlsaSha256(values.dkim[key] ?? missing(`tlsa:${key}`)));
}
