// The address book: which IPv4/IPv6 each own host has. Addresses that are not known yet
// (before the first `pulumi up`, in a review render) stay named placeholders such as
// <mx1.ipv4>, so a plan is always complete and readable.

export type Family = "ipv4" | "ipv6";
export type AddressBook = Record<string, Partial<Record<Family, string>>>;

export function placeholder(host: string, family: Family): string {
  return `<${host}.${family}>`;
}

export function isPlaceholder(value: string): boolean {
  return /^<[^>]+>$/.test(value);
}

export function addressOf(book: AddressBook, host: string, family: Family): string {
  return book[host]?.[family] ?? placeholder(host, family);
}

/** Reverse-DNS owner name of an address (in-addr.arpa / ip6.arpa), or undefined for a placeholder. */
export function reverseName(address: string): string | undefined {
  if (isPlaceholder(address)) return undefined;
  if (address.includes(":")) return `${expandIpv6(address).replace(/:/g, "").split("").reverse().join(".")}.ip6.arpa`;
  return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
}

/** Full 32-nibble form of an IPv6 address, groups separated by colons. */
export function expandIpv6(address: string): string {
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const missing = 8 - h.length - t.length;
  const groups = tail === undefined ? h : [...h, ...Array(missing).fill("0"), ...t];
  return groups.map((g) => g.padStart(4, "0")).join(":");
}
