// The address book: which IPv4/IPv6 each own host has. Addresses that are not known yet
// (before the first `pulumi up`, in a review render) stay named placeholders such as
// <mx1.ipv4>, so a plan is always complete and readable.
import { isIP } from "node:net";
import { addressPlaceholder, isPlaceholder, placeholderFamily } from "./placeholders.ts";

export type Family = "ipv4" | "ipv6";
export type AddressBook = Record<string, Partial<Record<Family, string>>>;

export { addressPlaceholder as placeholder, isPlaceholder } from "./placeholders.ts";

export function addressOf(book: AddressBook, host: string, family: Family): string {
  return book[host]?.[family] ?? addressPlaceholder(host, family);
}

/**
 * A host address as a one-address CIDR: /32 for IPv4, /128 for IPv6. A placeholder keeps its
 * family (<mx1.ipv6>/128), so a plan filled in later says the same as one planned with addresses.
 */
export function hostCidr(address: string): string {
  return address.includes(":") || placeholderFamily(address) === "ipv6" ? `${address}/128` : `${address}/32`;
}

/** One canonical text form per address, so 2001:DB8::1 and 2001:db8:0::1 compare equal. */
export function canonicalIp(address: string): string {
  const kind = isIP(address);
  // An IPv4 text node accepts is canonical already: isIP refuses leading zeros (198.051.100.1).
  // A zone id (fe80::1%eth0) is valid for isIP but not in a URL; such an address stays as written.
  if (kind === 6 && !address.includes("%")) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  return address;
}

/** Reversed octets (IPv4) or nibbles (IPv6): the labels of in-addr.arpa / ip6.arpa names and of DNSBL queries. */
export function reversedLabels(address: string): string {
  const kind = isIP(address);
  if (kind === 4) return address.split(".").reverse().join(".");
  if (kind === 6) return expandIpv6(canonicalIp(address)).replace(/:/g, "").split("").reverse().join(".");
  throw new Error(`not an IP address: ${address}`);
}

/** Reverse-DNS owner name of an address (in-addr.arpa / ip6.arpa). */
export function ptrName(address: string): string {
  return `${reversedLabels(address)}.${isIP(address) === 4 ? "in-addr.arpa" : "ip6.arpa"}`;
}

/** ptrName of a planned address, or undefined while it is still a placeholder. */
export function reverseName(address: string): string | undefined {
  return isPlaceholder(address) ? undefined : ptrName(address);
}

/** Full 32-nibble form of an IPv6 address, groups separated by colons. */
export function expandIpv6(address: string): string {
  // Around "::", an empty side is one empty group ("" pads to 0000) and the gap fills the rest.
  const [head, tail] = address.split("::");
  const h = head!.split(":");
  const t = tail === undefined ? [] : tail.split(":");
  return [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) => g.padStart(4, "0")).join(":");
}
