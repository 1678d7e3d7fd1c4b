// SPF terms (RFC 7208): the grammar of one `spf.extra` item, and lookup accounting.
// These mechanisms and modifiers each cost one DNS lookup (section 4.6.4); beyond 10 a
// receiver returns permerror and the mail fails SPF.
import { isIPv4, isIPv6 } from "node:net";
import { dnsNameProblem } from "./grammar.ts";

const LOOKUP_TERMS = /^[+?~-]?(include|a|mx|ptr|exists|redirect)([:/=]|$)/i;

export function countSpfLookups(terms: string[]): number {
  return terms.filter((t) => LOOKUP_TERMS.test(t.trim())).length;
}

// domain-spec = macro-string domain-end (section 7.1); a macro is %{letter digits r delimiters}, %%, %_ or %-.
// Letters are case-insensitive (upper case asks for URL escaping, 7.3); c, r and t are for exp= text
// only, and a digit count is nonzero. The domain ends in a toplabel or in a macro.
const MACRO_EXPAND = String.raw`%\{[slodiphv](?:[1-9][0-9]*)?r?[.\-+,/_=]*\}|%%|%_|%-`;
const MACRO = new RegExp(MACRO_EXPAND, "gi");
const ENDS_IN_MACRO = new RegExp(`(?:${MACRO_EXPAND})$`, "i");
const TOPLABEL = /\.([a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9])\.?$/i;

function domainSpecProblem(spec: string, term: string): string | undefined {
  if (spec === "") return `${term}: the domain is missing`;
  const literal = spec.replace(MACRO, "x");
  if (literal.includes("%")) return `${term}: "%" starts a macro such as %{i}; write %% for a literal percent sign`;
  if (!/^[\x21-\x7e]+$/.test(literal)) return `${term}: the domain may contain only visible ASCII characters`;
  if (spec.length > 253) return `${term}: the domain is longer than 253 characters`;
  if (!spec.includes("%")) {
    const p = dnsNameProblem(spec.toLowerCase().replace(/\.$/, ""));
    // dnsNameProblem speaks of "the domain" in some messages and not in others.
    return p ? `${term}: ${/^(has|is) /.test(p) ? `the domain ${p}` : p}` : undefined;
  }
  if (!ENDS_IN_MACRO.test(spec) && !TOPLABEL.test(spec)) return `${term}: "${spec}" ends neither in a domain name (such as .tld) nor in a macro`;
  return undefined;
}

function cidrLengthProblem(text: string | undefined, max: number, term: string): string | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^(0|[1-9][0-9]*)$/.test(text) || n > max) return `${term}: the prefix length must be 0 to ${max}`;
  return undefined;
}

/**
 * Why `item` is not one SPF mechanism facteur can add before its closing -all, or undefined.
 * All-mechanisms and redirect= are refused (facteur ends every record with -all itself; +all or
 * ?all would let anyone send), and so is ptr (section 5.5: slow, unreliable, do not use).
 */
export function spfTermProblem(item: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(item)) return "an SPF term may not contain a line break or control character";
  if (/\s/.test(item.trim())) return "one SPF term per item (a list item holds one mechanism, such as include:_spf.other.tld)";
  if (item !== item.trim()) return "an SPF term may not start or end with spaces";
  if (item.includes("${")) return 'may not contain "${": facteur reserves it for secret references';
  const t = item;
  const m = /^([+?~-]?)([a-z0-9]+)(.*)$/i.exec(t);
  if (!m) return `"${t}" is not an SPF mechanism (include:, a, mx, ip4:, ip6:, exists:)`;
  const [, qualifier, name, rest] = m as unknown as [string, string, string, string];
  switch (name.toLowerCase()) {
    case "all":
      return `${t}: facteur ends every SPF record with -all itself${qualifier === "+" || qualifier === "" || qualifier === "?" ? "; an all that passes or is neutral would let anyone send as the domain" : ""}`;
    case "redirect":
    case "exp":
      return `${t}: modifiers are not accepted in spf.extra (facteur writes the record's ending itself)`;
    case "ptr":
      return `${t}: RFC 7208 section 5.5 says ptr should not be used (slow and unreliable; many receivers ignore it)`;
    case "include":
    case "exists": {
      if (!rest.startsWith(":")) return `${t}: expected ${name.toLowerCase()}:<domain>`;
      return domainSpecProblem(rest.slice(1), t);
    }
    case "a":
    case "mx": {
      const mm = /^(?::([^/]*))?(?:\/([^/]*))?(?:\/\/(.*))?$/.exec(rest);
      if (!mm) return `${t}: expected ${name.toLowerCase()}, ${name.toLowerCase()}:<domain>, with optional /<ipv4 length>//<ipv6 length>`;
      if (mm[1] !== undefined) {
        const p = domainSpecProblem(mm[1], t);
        if (p) return p;
      }
      return cidrLengthProblem(mm[2], 32, t) ?? cidrLengthProblem(mm[3], 128, t);
    }
    case "ip4":
    case "ip6": {
      const mm = /^:([^/]+)(?:\/(.*))?$/.exec(rest);
      if (!mm) return `${t}: expected ${name.toLowerCase()}:<address>[/<length>]`;
      const ok = name.toLowerCase() === "ip4" ? isIPv4(mm[1]!) : isIPv6(mm[1]!) && !mm[1]!.includes("%");
      if (!ok) return `${t}: ${JSON.stringify(mm[1])} is not an IPv${name.slice(2)} address`;
      return cidrLengthProblem(mm[2], name.toLowerCase() === "ip4" ? 32 : 128, t);
    }
    default:
      return `${t}: unknown SPF mechanism "${name}" (include:, a, mx, ip4:, ip6:, exists:)`;
  }
}
