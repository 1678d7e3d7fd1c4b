// The grammar of every text value of a spec, each rule with the reason a reader needs.
// A function returns why a value is refused, or undefined when it is fine. The zod schema
// (schema.ts) calls these, so an error reads "a local part may not start with '#' ...", not
// "Invalid input". The limits come from what reads the value: Postfix maps, DNS, SASL, Hetzner.
import { isIP } from "node:net";
import { domainToASCII, domainToUnicode } from "node:url";

const CONTROL = /[\u0000-\u001f\u007f]/;
const NON_ASCII = /[^\u0000-\u007f]/;

function shown(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);
}

/** What a value is, in the words of an error message ("got a list", "got the number 3"). */
export function describeValue(input: unknown): string {
  if (Array.isArray(input)) return "a list";
  if (input === null) return "nothing (null)";
  if (typeof input === "object") return "a map";
  if (typeof input === "string") return `the text ${JSON.stringify(input.length > 40 ? `${input.slice(0, 37)}...` : input)}`;
  if (typeof input === "number") return `the number ${input}`;
  return typeof input;
}

/** Characters and text a config line cannot carry, said in words. */
function textProblem(s: string): string | undefined {
  if (CONTROL.test(s)) return "may not contain a line break, tab or other control character (it would start a new line in the rendered files)";
  if (s.includes("${")) return "may not contain \"${\": facteur reserves it for secret references, which only passwordSecret fields make";
  return undefined;
}

// ---------------------------------------------------------------- DNS names

/** Why `label` is not a host-name label (LDH, RFC 1123; IDN only as a valid A-label, RFC 5891). */
function labelProblem(label: string, allowUnderscore: boolean): string | undefined {
  if (label === "") return "has an empty label (two dots in a row, or a leading dot)";
  if (label.length > 63) return `has a label of ${label.length} characters (${label.slice(0, 20)}...); DNS allows 63`;
  const chars = allowUnderscore ? /^_?[a-z0-9-]+$/ : /^[a-z0-9-]+$/;
  if (!chars.test(label))
    return `has a label "${label}" with characters DNS host names do not allow (letters, digits and inner hyphens only${allowUnderscore ? ", a leading underscore for service names" : ""})`;
  const body = label.replace(/^_/, "");
  if (body.startsWith("-") || body.endsWith("-")) return `has a label "${label}" that starts or ends with a hyphen`;
  if (body.slice(2, 4) === "--") {
    if (!body.startsWith("xn--")) return `has a label "${label}" with "--" in 3rd and 4th position, reserved for IDN (xn--)`;
    const unicode = domainToUnicode(body);
    // A valid A-label decodes to non-ASCII (an undecodable one to "") and encodes back to itself.
    if (!NON_ASCII.test(unicode) || domainToASCII(unicode) !== body) return `has a label "${label}" that is not valid punycode`;
  }
  return undefined;
}

// Fast acceptance: the common valid name or local part passes one regular expression; anything
// else takes the full checks, which say why it is refused (and accept the rarer valid forms,
// such as punycode labels). At 100,000 aliases this is most of the time spent validating them.
const LDH_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const PLAIN_NAME = new RegExp(`^${LDH_LABEL}(?:\\.${LDH_LABEL})+$`);
const PLAIN_LOCAL_PART = /^(?!#|srs[01][=+-])[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** A name every rule of nameProblem accepts: LDH labels of 1 to 63, no "--" (punycode is checked in full), last label not all digits. */
function plainName(s: string): boolean {
  return s.length <= 253 && PLAIN_NAME.test(s) && !s.includes("--") && !/\.[0-9]+$/.test(s);
}

/** A local part every rule of localPartChecks accepts. */
function plainLocalPart(s: string): boolean {
  return s.length <= 64 && PLAIN_LOCAL_PART.test(s) && !s.includes("${");
}

function nameProblem(s: string, allowUnderscore: boolean, example: string): string | undefined {
  return plainName(s) ? undefined : nameChecks(s, allowUnderscore, example);
}

/** nameProblem without the fast acceptance (test/spec-grammar.test.ts compares them). */
export function nameChecks(s: string, allowUnderscore: boolean, example: string): string | undefined {
  if (s === "") return `expected a domain name such as ${example}`;
  const t = textProblem(s);
  if (t) return t;
  if (NON_ASCII.test(s)) {
    const ascii = domainToASCII(s.toLowerCase());
    return `write international domain names in punycode${ascii ? `: ${ascii}` : " (xn--...)"}, as DNS carries them`;
  }
  if (/[A-Z]/.test(s)) return `write domain names in lower case: ${s.toLowerCase()}`;
  if (s.endsWith(".")) return `write the name without the trailing dot: ${s.replace(/\.+$/, "")}`;
  if (Buffer.byteLength(s) > 253) return `is ${Buffer.byteLength(s)} characters long; a DNS name has at most 253`;
  const labels = s.split(".");
  if (labels.length < 2) return `a domain needs at least two labels, such as ${example}`;
  for (const l of labels) {
    const p = labelProblem(l, allowUnderscore);
    if (p) return p;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return "the last label may not be all digits (that is an IP address, not a domain)";
  return undefined;
}

/** A mail or host domain: LDH labels, IDN as punycode (xn-- TLDs too), at most 253 octets. */
export function domainProblem(s: string): string | undefined {
  return nameProblem(s, false, "entreprise.tld");
}

/** A DNS owner name that may have service labels (_spf.fai.tld). */
export function dnsNameProblem(s: string): string | undefined {
  return nameProblem(s, true, "_spf.fai.tld");
}

/** A single host label: a host name under the operator domain, or a DKIM selector. */
export function hostLabelProblem(s: string): string | undefined {
  const t = textProblem(s);
  if (t) return t;
  if (/[A-Z]/.test(s)) return `write names in lower case: ${s.toLowerCase()}`;
  if (s.includes(".")) return "expected one label, without dots";
  const p = labelProblem(s, false);
  // The name is the label: "has a label "-mx" that starts..." reads "starts...".
  return p ? p.replace(/^has a label "[^"]*" that /, "").replace(/^has a label "[^"]*" with /, "has ").replace(/^has a label of /, "is ") : undefined;
}

// ---------------------------------------------------------------- addresses

// RFC 5322 atext, lower case: what a Postfix hash map key or result carries without quoting.
const ATEXT = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+$/;

/**
 * A local part as facteur writes it into Postfix maps (virtual, sender_logins): a dot-atom of
 * at most 64 octets (RFC 5321 4.5.3.1.1), lower case (Postfix compares case-insensitively, so
 * John and john would be the same address), never starting with '#' (a comment in a map).
 */
export function localPartProblem(s: string): string | undefined {
  return plainLocalPart(s) ? undefined : localPartChecks(s);
}

/** localPartProblem without the fast acceptance (test/spec-grammar.test.ts compares them). */
export function localPartChecks(s: string): string | undefined {
  if (s === "") return "a local part (before @) may not be empty";
  const t = textProblem(s);
  if (t) return `a local part ${t}`;
  if (s.startsWith("#")) return "a local part may not start with '#': Postfix reads that line of the map as a comment and the address would silently not exist";
  if (NON_ASCII.test(s)) return "a local part must be ASCII (internationalised addresses, SMTPUTF8, are not supported)";
  if (/[A-Z]/.test(s)) return `write local parts in lower case (${s.toLowerCase()}): Postfix compares addresses case-insensitively`;
  if (Buffer.byteLength(s) > 64) return `a local part has at most 64 octets (RFC 5321); this one has ${Buffer.byteLength(s)}`;
  if (/\s/.test(s)) return "a local part may not contain spaces";
  if (s.startsWith(".") || s.endsWith(".") || s.includes("..")) return "a local part may not start or end with a dot, nor have two dots in a row";
  if (/^srs[01][=+-]/.test(s)) return "a local part may not start with SRS0= or SRS1=: those are rewritten sender addresses, and postsrsd would rewrite this one too";
  for (const atom of s.split(".")) {
    if (!ATEXT.test(atom)) {
      const bad = [...atom].find((c) => !ATEXT.test(c))!;
      return `a local part may not contain ${shown(bad)} (quoted local parts are not supported: they do not survive Postfix maps)`;
    }
  }
  return undefined;
}

export function emailProblem(s: string): string | undefined {
  const at = s.lastIndexOf("@");
  if (at < 0) return `expected an e-mail address such as john@doe.tld, got ${shown(s)}`;
  const local = localPartProblem(s.slice(0, at));
  if (local) return local;
  const domain = domainProblem(s.slice(at + 1));
  return domain ? `in ${shown(s)}, the domain part: ${domain}` : undefined;
}

/** A DMARC rua address: an e-mail address that also reads as one mailto: URI in a rua= list. */
export function dmarcReportAddressProblem(s: string): string | undefined {
  const p = emailProblem(s);
  if (p) return p;
  if (/[!,]/.test(s)) return "a DMARC report address may not contain '!' or ',' (in rua= they start a size limit and separate addresses)";
  return undefined;
}

// ---------------------------------------------------------------- credentials

/**
 * A SASL login sent to an external relay. Postfix splits the sasl_passwd value at the first
 * ':' (user:password), SASL PLAIN carries at most 255 octets per field (RFC 4616).
 */
export function saslUsernameProblem(s: string): string | undefined {
  if (s === "") return "a SASL username may not be empty";
  const t = textProblem(s);
  if (t) return `a SASL username ${t}`;
  if (NON_ASCII.test(s)) return "a SASL username must be ASCII here";
  if (/\s/.test(s)) return "a SASL username may not contain spaces (sasl_passwd separates fields with them)";
  if (s.includes(":")) return "a SASL username may not contain ':' (Postfix reads sasl_passwd as user:password and would cut it there)";
  if (s.startsWith("#")) return "a SASL username may not start with '#'";
  if (Buffer.byteLength(s) > 255) return "a SASL username has at most 255 octets (RFC 4616)";
  return undefined;
}

/** facteur's own configuration keys: a passwordSecret naming one would hand it to a relay. */
export const RESERVED_SECRET_NAMES = ["sshPrivateKey", "sshKeys", "zoneIds"];

export function secretNameProblem(s: string): string | undefined {
  if (s.includes("${") || s.includes("}")) return "write the name of the secret only (faiRelayPassword), not a ${secret:...} reference";
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(s)) return "expected the name of a secret (a Pulumi config key set with --secret, e.g. faiRelayPassword), not the secret itself";
  if (s.length > 64) return "a secret name has at most 64 characters";
  if (RESERVED_SECRET_NAMES.includes(s)) return `${s} is facteur's own configuration (facteur:${s}); a password field may not name it, or it would be sent to a third party`;
  return undefined;
}

// ---------------------------------------------------------------- Hetzner, networks

/** Hetzner location and server type names: fsn1, ash, cx23, cpx22, cax11. */
export function hetznerNameProblem(s: string, what: string): string | undefined {
  const t = textProblem(s);
  if (t) return `a ${what} ${t}`;
  if (!/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(s)) return `expected a Hetzner ${what} such as ${what === "location" ? "fsn1, nbg1, hel1, ash" : "cx23, cpx22, cax11"}: lower-case letters, digits and hyphens`;
  return undefined;
}

function ipv4Bits(a: string): bigint {
  return a.split(".").reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
}

function ipv6Bits(a: string): bigint {
  const [head, tail] = a.includes("::") ? a.split("::") : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function formatBits(bits: bigint, family: 4 | 6): string {
  if (family === 4) return [24, 16, 8, 0].map((sh) => String((bits >> BigInt(sh)) & 255n)).join(".");
  const groups = [112, 96, 80, 64, 48, 32, 16, 0].map((sh) => ((bits >> BigInt(sh)) & 0xffffn).toString(16)).join(":");
  return new URL(`http://[${groups}]/`).hostname.slice(1, -1);
}

/** A calendar day, YYYY-MM-DD (UTC): warm-up steps and the day a plan reads them at. */
export function dayProblem(s: string): string | undefined {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(s) ? new Date(`${s}T00:00:00Z`) : undefined;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s) return `expected a calendar day YYYY-MM-DD (UTC), got ${shown(s)}`;
  return undefined;
}

/** An IPv4 or IPv6 network in CIDR notation with its host bits zero, never the whole Internet. */
export function cidrProblem(s: string, reaches = "SSH"): string | undefined {
  const t = textProblem(s);
  if (t) return t;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return isIP(s) ? `write a network in CIDR notation: ${s}/${isIP(s) === 4 ? 32 : 128}` : `expected a network in CIDR notation such as 203.0.113.0/24 or 2001:db8::/48, got ${shown(s)}`;
  const [, addr, lenText] = m as unknown as [string, string, string];
  if (addr.includes("%")) return "a network may not carry an interface zone (%eth0)";
  const family = isIP(addr) as 0 | 4 | 6;
  if (family === 0) return `${shown(addr)} is not an IP address`;
  if (family === 6 && addr.includes(".")) return "write IPv6 networks in hexadecimal groups, not with an embedded IPv4 address";
  const len = Number(lenText);
  const max = family === 4 ? 32 : 128;
  if (lenText !== String(len) || len > max) return `a prefix length is 0 to ${max} for IPv${family}`;
  if (len === 0) return `${s} is the whole Internet: list the networks that may reach ${reaches}`;
  const bits = family === 4 ? ipv4Bits(addr) : ipv6Bits(addr);
  const hostMask = (1n << BigInt(max - len)) - 1n;
  if ((bits & hostMask) !== 0n) return `${s} has host bits set: write the network ${formatBits(bits & ~hostMask, family)}/${len}, or ${addr}/${max} for this one address`;
  return undefined;
}

/** An https:// URL of a host name (an ACME directory), without spaces, quotes or credentials. */
export function httpsUrlProblem(s: string): string | undefined {
  const m = /^https:\/\/([a-z0-9.-]+)(:\d{1,5})?(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/.exec(s);
  if (!m) return `expected an https:// URL such as https://acme-v02.api.letsencrypt.org/directory, got ${JSON.stringify(s)}`;
  const port = m[2] === undefined ? 443 : Number(m[2].slice(1));
  if (port < 1 || port > 65535) return `in ${JSON.stringify(s)}, the port: a TCP port is 1 to 65535`;
  return domainProblem(m[1]!) ? `in ${JSON.stringify(s)}, the host: ${domainProblem(m[1]!)}` : undefined;
}
