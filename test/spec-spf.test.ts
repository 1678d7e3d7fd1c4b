// The grammar of one spf.extra item (src/spec/spf.ts, RFC 7208): each term an operator may add
// before facteur's own -all, and each refusal in full, with its boundary. A domain's receivers
// evaluate these terms; one they cannot parse is a permerror, and the domain's mail fails SPF.
import { test } from "node:test";
import assert from "node:assert/strict";
import { countSpfLookups, spfTermProblem } from "../src/spec/spf.ts";

const MECHANISMS = "(include:, a, mx, ip4:, ip6:, exists:)";

test("spf.extra: the mechanisms RFC 7208 defines, with qualifiers, macros and prefix lengths, are accepted", () => {
  const accepted = [
    "include:_spf.other.tld", "INCLUDE:_SPF.OTHER.TLD", "~include:other.tld", "include:other.tld.",
    "a", "mx", "+Mx", "-a", "?mx", "a:mail.other.tld", "a/0", "a/24", "a/32", "a//0", "a//128", "mx//64", "mx:other.tld/24//64",
    "ip4:192.0.2.1", "ip4:192.0.2.0/0", "ip4:192.0.2.0/24", "ip4:192.0.2.0/32", "ip6:2001:db8::1", "ip6:2001:db8::/32", "ip6:2001:db8::/128",
    "exists:%{i}._spf.other.tld", "exists:%{ir}.%{v}._spf.other.tld", "exists:%{I}.other.tld", "exists:%{d2r+-}.other.tld",
    "exists:%{l1}.%{o}.%{s}.%{h}.%{p}.other.tld", "include:%{i}", "include:other.%{d}", "include:%%.other.tld", "include:%_x.%-y.tld",
    "include:%{i}.other.tld.", "include:x.%{i}.1a", "include:%{i}.1-a", "exists:%{i}.x-.other.tld",
    // a toplabel with digits before its letter, or hyphenated; a macro in upper case at the end
    "exists:%{i}.x.12ab", "exists:%{i}.x.12-34", "exists:%{i}.x.a1-b2-c3", "include:other.%{D}",
    // 253 characters is the longest name
    `exists:%{i}.${"a".repeat(244)}.tld`,
  ];
  for (const term of accepted) assert.equal(spfTermProblem(term), undefined, term);
});

test("spf.extra: a term receivers would not parse, or that weakens the record, is refused with why", () => {
  const refused: [string, string][] = [
    // one term per item, printable, no secret reference
    ["a b", "one SPF term per item (a list item holds one mechanism, such as include:_spf.other.tld)"],
    ["a/ 24", "one SPF term per item (a list item holds one mechanism, such as include:_spf.other.tld)"],
    [" a", "an SPF term may not start or end with spaces"],
    ["a ", "an SPF term may not start or end with spaces"],
    ["a\tb", "an SPF term may not contain a line break or control character"],
    ["a\nb", "an SPF term may not contain a line break or control character"],
    ["a\u007f", "an SPF term may not contain a line break or control character"],
    ["include:${x}", 'may not contain "${": facteur reserves it for secret references'],
    ["", `"" is not an SPF mechanism ${MECHANISMS}`],
    ["!a", `"!a" is not an SPF mechanism ${MECHANISMS}`],
    ["includex.tld", `includex.tld: unknown SPF mechanism "includex" ${MECHANISMS}`],
    ["foo:x.tld", `foo:x.tld: unknown SPF mechanism "foo" ${MECHANISMS}`],
    // facteur writes the ending; all and modifiers would change it, ptr is deprecated
    ["+all", "+all: facteur ends every SPF record with -all itself; an all that passes or is neutral would let anyone send as the domain"],
    ["all", "all: facteur ends every SPF record with -all itself; an all that passes or is neutral would let anyone send as the domain"],
    ["?all", "?all: facteur ends every SPF record with -all itself; an all that passes or is neutral would let anyone send as the domain"],
    ["-all", "-all: facteur ends every SPF record with -all itself"],
    ["~all", "~all: facteur ends every SPF record with -all itself"],
    ["redirect=x.tld", "redirect=x.tld: modifiers are not accepted in spf.extra (facteur writes the record's ending itself)"],
    ["exp=x.tld", "exp=x.tld: modifiers are not accepted in spf.extra (facteur writes the record's ending itself)"],
    ["ptr", "ptr: RFC 7208 section 5.5 says ptr should not be used (slow and unreliable; many receivers ignore it)"],
    ["-ptr:x.tld", "-ptr:x.tld: RFC 7208 section 5.5 says ptr should not be used (slow and unreliable; many receivers ignore it)"],
    // include and exists take a domain
    ["include", "include: expected include:<domain>"],
    ["exists", "exists: expected exists:<domain>"],
    ["include=x.tld", "include=x.tld: expected include:<domain>"],
    ["include:", "include:: the domain is missing"],
    ["include:a..tld", "include:a..tld: the domain has an empty label (two dots in a row, or a leading dot)"],
    ["include:-x.tld", 'include:-x.tld: the domain has a label "-x" that starts or ends with a hyphen'],
    ["include:x", "include:x: a domain needs at least two labels, such as _spf.fai.tld"],
    ["include:x.123", "include:x.123: the last label may not be all digits (that is an IP address, not a domain)"],
    ["include:é.tld", "include:é.tld: the domain may contain only visible ASCII characters"],
    [`include:${"a".repeat(250)}.tld`, `include:${"a".repeat(250)}.tld: the domain is longer than 253 characters`],
    // macros: %{letter [nonzero digits] [r] [delimiters]}, %%, %_, %-; c, r and t belong to exp= text
    ["include:100%.x.tld", 'include:100%.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["include:x.%{i", 'include:x.%{i: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["include:%{z}.x.tld", 'include:%{z}.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["exists:%{c}.x.tld", 'exists:%{c}.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["exists:%{r}.x.tld", 'exists:%{r}.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["exists:%{t}.x.tld", 'exists:%{t}.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["exists:%{d0}.x.tld", 'exists:%{d0}.x.tld: "%" starts a macro such as %{i}; write %% for a literal percent sign'],
    ["exists:%{i}.x.123", 'exists:%{i}.x.123: "%{i}.x.123" ends neither in a domain name (such as .tld) nor in a macro'],
    ["exists:%{i}.x-", 'exists:%{i}.x-: "%{i}.x-" ends neither in a domain name (such as .tld) nor in a macro'],
    ["exists:%{i}.é.tld", "exists:%{i}.é.tld: the domain may contain only visible ASCII characters"],
    [`exists:%{i}.${"a".repeat(245)}.tld`, `exists:%{i}.${"a".repeat(245)}.tld: the domain is longer than 253 characters`],
    // a and mx: optional domain, optional /ipv4 length, optional //ipv6 length
    ["a:", "a:: the domain is missing"],
    ["a:x/", "a:x/: a domain needs at least two labels, such as _spf.fai.tld"],
    ["a:x.tld/", "a:x.tld/: the prefix length must be 0 to 32"],
    ["a/33", "a/33: the prefix length must be 0 to 32"],
    ["a/01", "a/01: the prefix length must be 0 to 32"],
    ["a/x", "a/x: the prefix length must be 0 to 32"],
    ["a//129", "a//129: the prefix length must be 0 to 128"],
    ["mx//", "mx//: the prefix length must be 0 to 128"],
    ["mx///1", "mx///1: the prefix length must be 0 to 32"],
    ["a/24/", "a/24/: expected a, a:<domain>, with optional /<ipv4 length>//<ipv6 length>"],
    ["mx/24/1", "mx/24/1: expected mx, mx:<domain>, with optional /<ipv4 length>//<ipv6 length>"],
    ["ax", `ax: unknown SPF mechanism "ax" ${MECHANISMS}`],
    // ip4 and ip6: an address of that family, optional prefix length
    ["ip4", "ip4: expected ip4:<address>[/<length>]"],
    ["ip4:", "ip4:: expected ip4:<address>[/<length>]"],
    ["ip6:/64", "ip6:/64: expected ip6:<address>[/<length>]"],
    ["ip4:x", 'ip4:x: "x" is not an IPv4 address'],
    ["ip4:2001:db8::1", 'ip4:2001:db8::1: "2001:db8::1" is not an IPv4 address'],
    ["ip6:192.0.2.1", 'ip6:192.0.2.1: "192.0.2.1" is not an IPv6 address'],
    ["ip6:fe80::1%eth0", 'ip6:fe80::1%eth0: "fe80::1%eth0" is not an IPv6 address'],
    ["ip4:192.0.2.0/33", "ip4:192.0.2.0/33: the prefix length must be 0 to 32"],
    ["ip4:192.0.2.1/", "ip4:192.0.2.1/: the prefix length must be 0 to 32"],
    ["ip4:192.0.2.1/-1", "ip4:192.0.2.1/-1: the prefix length must be 0 to 32"],
    ["ip6:2001:db8::/129", "ip6:2001:db8::/129: the prefix length must be 0 to 128"],
    ["ip6:2001:db8::/032", "ip6:2001:db8::/032: the prefix length must be 0 to 128"],
  ];
  for (const [term, why] of refused) assert.equal(spfTermProblem(term), why, JSON.stringify(term));
});

test("spf lookups: each include, a, mx, ptr, exists and redirect costs one of the ten; addresses and all cost none", () => {
  assert.equal(countSpfLookups(["include:a.tld", "+include:b.tld", "?mx", "~a", "-ptr", "exists:%{i}.x.tld", "redirect=_spf.x.tld", "a/24", "mx:x.tld/24", "a//64"]), 10);
  assert.equal(countSpfLookups(["ip4:192.0.2.1", "ip6:2001:db8::1", "all", "-all", "exp=explain.x.tld", "includes:x", "mxx", "aa", "a-", "ptrx"]), 0);
  assert.equal(countSpfLookups([" MX ", "Include:x.tld", "A"]), 3);
  assert.equal(countSpfLookups([]), 0);
});
