// The grammar's refusals in the words a spec author reads (src/spec/grammar.ts): each rule's
// exact message, its boundary (63-octet labels, 253-octet names, 64-octet local parts), and the
// values shown in errors cut to a readable length. The fast acceptance is compared with the full
// checks in test/spec-grammar.test.ts; here the full checks say why.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  cidrProblem,
  dayProblem,
  describeValue,
  dmarcReportAddressProblem,
  dnsNameProblem,
  domainProblem,
  emailProblem,
  hetznerNameProblem,
  hostLabelProblem,
  httpsUrlProblem,
  localPartChecks,
  nameChecks,
  saslUsernameProblem,
  secretNameProblem,
} from "../src/spec/grammar.ts";
import { SpecError } from "../src/spec/errors.ts";

const LABEL_CHARS = "with characters DNS host names do not allow (letters, digits and inner hyphens only";

test("grammar: a domain's refusals name the rule, and the fix where there is one", () => {
  const cases: [string, string][] = [
    ["", "expected a domain name such as entreprise.tld"],
    ["a\nb.tld", "may not contain a line break, tab or other control character (it would start a new line in the rendered files)"],
    ["a${x}.tld", 'may not contain "${": facteur reserves it for secret references, which only passwordSecret fields make'],
    ["café.tld", "write international domain names in punycode: xn--caf-dma.tld, as DNS carries them"],
    ["Café.tld", "write international domain names in punycode: xn--caf-dma.tld, as DNS carries them"],
    ["a\uFFFD.tld", "write international domain names in punycode (xn--...), as DNS carries them"],
    ["Entreprise.TLD", "write domain names in lower case: entreprise.tld"],
    ["entreprise.tld.", "write the name without the trailing dot: entreprise.tld"],
    ["entreprise.tld..", "write the name without the trailing dot: entreprise.tld"],
    ["localhost", "a domain needs at least two labels, such as entreprise.tld"],
    ["a..tld", "has an empty label (two dots in a row, or a leading dot)"],
    [`${"a".repeat(64)}.tld`, "has a label of 64 characters (aaaaaaaaaaaaaaaaaaaa...); DNS allows 63"],
    ["a_b.tld", `has a label "a_b" ${LABEL_CHARS})`],
    ["-abc.tld", 'has a label "-abc" that starts or ends with a hyphen'],
    ["abc-.tld", 'has a label "abc-" that starts or ends with a hyphen'],
    ["ab--cd.tld", 'has a label "ab--cd" with "--" in 3rd and 4th position, reserved for IDN (xn--)'],
    ["xn--a.tld", 'has a label "xn--a" that is not valid punycode'],
    ["xn--caf-dmb.tld", 'has a label "xn--caf-dmb" that is not valid punycode'],
    ["a.b.123", "the last label may not be all digits (that is an IP address, not a domain)"],
  ];
  for (const [name, message] of cases) assert.equal(domainProblem(name), message, JSON.stringify(name));
  for (const ok of ["xn--caf-dma.tld", "xn--80ak6aa92e.tld", "a.b.1x", "a-b.tld"]) assert.equal(domainProblem(ok), undefined, ok);
});

test("grammar: DNS owner names may have one leading underscore per label, nowhere else", () => {
  assert.equal(dnsNameProblem("_spf.fai.tld"), undefined);
  assert.equal(dnsNameProblem("_25._tcp.mx1.relais.tld"), undefined);
  assert.equal(dnsNameProblem(""), "expected a domain name such as _spf.fai.tld");
  assert.equal(dnsNameProblem("a_b.fai.tld"), `has a label "a_b" ${LABEL_CHARS}, a leading underscore for service names)`);
  assert.equal(dnsNameProblem("spf_.fai.tld"), `has a label "spf_" ${LABEL_CHARS}, a leading underscore for service names)`);
  assert.equal(dnsNameProblem("_-spf.fai.tld"), 'has a label "_-spf" that starts or ends with a hyphen');
  assert.equal(domainProblem("_spf.fai.tld"), `has a label "_spf" ${LABEL_CHARS})`, "mail domains take no underscore");
});

test("grammar: a DNS name has at most 253 octets, counted by the full checks too", () => {
  const n253 = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
  assert.equal(n253.length, 253);
  assert.equal(nameChecks(n253, false, "e.tld"), undefined);
  assert.equal(domainProblem(n253), undefined);
  assert.equal(nameChecks(`${n253}x`, false, "e.tld"), "is 254 characters long; a DNS name has at most 253");
  assert.equal(domainProblem(`${n253}x`), "is 254 characters long; a DNS name has at most 253");
});

test("grammar: a host label (host names, selectors) says what is wrong with it in its own words", () => {
  assert.equal(hostLabelProblem("mx1"), undefined);
  assert.equal(hostLabelProblem("MX1"), "write names in lower case: mx1");
  assert.equal(hostLabelProblem("mx.1"), "expected one label, without dots");
  assert.equal(hostLabelProblem("a".repeat(64)), "is 64 characters (aaaaaaaaaaaaaaaaaaaa...); DNS allows 63");
  // A host label's messages speak of the name itself: it is the label.
  assert.equal(hostLabelProblem("m_x"), "has characters DNS host names do not allow (letters, digits and inner hyphens only)");
  assert.equal(hostLabelProblem("-mx"), "starts or ends with a hyphen");
  assert.equal(hostLabelProblem("mx-"), "starts or ends with a hyphen");
  assert.equal(hostLabelProblem("mx--1"), 'has "--" in 3rd and 4th position, reserved for IDN (xn--)');
  assert.equal(hostLabelProblem("xn--a"), "is not valid punycode");
  assert.equal(hostLabelProblem(""), "has an empty label (two dots in a row, or a leading dot)");
  assert.equal(hostLabelProblem("mx\t1"), "may not contain a line break, tab or other control character (it would start a new line in the rendered files)");
});

test("grammar: a local part's refusals, one rule each", () => {
  const cases: [string, string][] = [
    ["", "a local part (before @) may not be empty"],
    ["a\tb", "a local part may not contain a line break, tab or other control character (it would start a new line in the rendered files)"],
    ["#x", "a local part may not start with '#': Postfix reads that line of the map as a comment and the address would silently not exist"],
    ["jöhn", "a local part must be ASCII (internationalised addresses, SMTPUTF8, are not supported)"],
    ["John", "write local parts in lower case (john): Postfix compares addresses case-insensitively"],
    ["a".repeat(65), "a local part has at most 64 octets (RFC 5321); this one has 65"],
    ["a b", "a local part may not contain spaces"],
    [".a", "a local part may not start or end with a dot, nor have two dots in a row"],
    ["a.", "a local part may not start or end with a dot, nor have two dots in a row"],
    ["a..b", "a local part may not start or end with a dot, nor have two dots in a row"],
    ["srs0=x", "a local part may not start with SRS0= or SRS1=: those are rewritten sender addresses, and postsrsd would rewrite this one too"],
    ["srs1+x", "a local part may not start with SRS0= or SRS1=: those are rewritten sender addresses, and postsrsd would rewrite this one too"],
    ['a"b', 'a local part may not contain "\\"" (quoted local parts are not supported: they do not survive Postfix maps)'],
    ["a.b(c", 'a local part may not contain "(" (quoted local parts are not supported: they do not survive Postfix maps)'],
  ];
  for (const [local, message] of cases) assert.equal(localPartChecks(local), message, JSON.stringify(local));
  assert.equal(localPartChecks("a".repeat(64)), undefined, "64 octets is the limit, not past it");
  assert.equal(localPartChecks("srs2=x"), undefined);
});

test("grammar: values shown in errors are cut to a readable length; describeValue names what was given", () => {
  assert.equal(emailProblem("x".repeat(80)), `expected an e-mail address such as john@doe.tld, got "${"x".repeat(80)}"`);
  assert.equal(emailProblem("x".repeat(81)), `expected an e-mail address such as john@doe.tld, got "${"x".repeat(77)}..."`);
  assert.equal(describeValue(null), "nothing (null)");
  assert.equal(describeValue([1]), "a list");
  assert.equal(describeValue({}), "a map");
  assert.equal(describeValue(3), "the number 3");
  assert.equal(describeValue(true), "boolean");
  assert.equal(describeValue("x".repeat(40)), `the text "${"x".repeat(40)}"`);
  assert.equal(describeValue("x".repeat(41)), `the text "${"x".repeat(37)}..."`);
});

test("grammar: SASL usernames, secret names, Hetzner names and calendar days, each refusal in its words", () => {
  const sasl: [string, string | undefined][] = [
    ["", "a SASL username may not be empty"],
    ["a\nb", "a SASL username may not contain a line break, tab or other control character (it would start a new line in the rendered files)"],
    ["jö", "a SASL username must be ASCII here"],
    ["a b", "a SASL username may not contain spaces (sasl_passwd separates fields with them)"],
    ["a:b", "a SASL username may not contain ':' (Postfix reads sasl_passwd as user:password and would cut it there)"],
    ["#a", "a SASL username may not start with '#'"],
    ["a".repeat(256), "a SASL username has at most 255 octets (RFC 4616)"],
    ["a".repeat(255), undefined],
    ["user@fai.tld", undefined],
  ];
  for (const [v, m] of sasl) assert.equal(saslUsernameProblem(v), m, JSON.stringify(v).slice(0, 40));
  const secrets: [string, string | undefined][] = [
    ["${secret:x}", "write the name of the secret only (faiRelayPassword), not a ${secret:...} reference"],
    ["x}", "write the name of the secret only (faiRelayPassword), not a ${secret:...} reference"],
    ["1abc", "expected the name of a secret (a Pulumi config key set with --secret, e.g. faiRelayPassword), not the secret itself"],
    ["my secret", "expected the name of a secret (a Pulumi config key set with --secret, e.g. faiRelayPassword), not the secret itself"],
    ["a".repeat(65), "a secret name has at most 64 characters"],
    ["a".repeat(64), undefined],
    ["sshKeys", "sshKeys is facteur's own configuration (facteur:sshKeys); a password field may not name it, or it would be sent to a third party"],
    ["zoneIds", "zoneIds is facteur's own configuration (facteur:zoneIds); a password field may not name it, or it would be sent to a third party"],
    ["fai_Relay-2", undefined],
  ];
  for (const [v, m] of secrets) assert.equal(secretNameProblem(v), m, v);
  assert.equal(hetznerNameProblem("fsn1", "location"), undefined);
  assert.equal(hetznerNameProblem("cpx22", "server type"), undefined);
  for (const v of ["FSN1", "f", "fsn1-", "1fsn", `f${"s".repeat(31)}1`])
    assert.equal(hetznerNameProblem(v, "location"), "expected a Hetzner location such as fsn1, nbg1, hel1, ash: lower-case letters, digits and hyphens", v);
  assert.equal(hetznerNameProblem(`f${"s".repeat(30)}1`, "location"), undefined, "32 characters");
  assert.equal(hetznerNameProblem("CX", "server type"), "expected a Hetzner server type such as cx23, cpx22, cax11: lower-case letters, digits and hyphens");
  assert.equal(hetznerNameProblem("a\tb", "location"), "a location may not contain a line break, tab or other control character (it would start a new line in the rendered files)");
  assert.equal(dayProblem("2026-03-02"), undefined);
  assert.equal(dayProblem("2028-02-29"), undefined);
  for (const v of ["2026-02-30", "2026-3-2", "2026-03-02T00:00:00Z", "x"]) assert.equal(dayProblem(v), `expected a calendar day YYYY-MM-DD (UTC), got ${JSON.stringify(v)}`);
});

test("grammar: networks in CIDR notation, host bits and the whole Internet refused, the fix written out", () => {
  const cases: [string, string | undefined][] = [
    ["203.0.113.0/24", undefined],
    ["2001:db8::/48", undefined],
    ["203.0.113.7/32", undefined],
    ["203.0.113.7", "write a network in CIDR notation: 203.0.113.7/32"],
    ["2001:db8::1", "write a network in CIDR notation: 2001:db8::1/128"],
    ["bad", 'expected a network in CIDR notation such as 203.0.113.0/24 or 2001:db8::/48, got "bad"'],
    ["a\tb/24", "may not contain a line break, tab or other control character (it would start a new line in the rendered files)"],
    ["fe80::1%eth0/64", "a network may not carry an interface zone (%eth0)"],
    ["300.1.1.1/8", '"300.1.1.1" is not an IP address'],
    ["::ffff:1.2.3.4/120", "write IPv6 networks in hexadecimal groups, not with an embedded IPv4 address"],
    ["10.0.0.0/33", "a prefix length is 0 to 32 for IPv4"],
    ["10.0.0.0/08", "a prefix length is 0 to 32 for IPv4"],
    ["2001:db8::/129", "a prefix length is 0 to 128 for IPv6"],
    ["0.0.0.0/0", "0.0.0.0/0 is the whole Internet: list the networks that may reach SSH"],
    ["::/0", "::/0 is the whole Internet: list the networks that may reach SSH"],
    ["203.0.113.7/24", "203.0.113.7/24 has host bits set: write the network 203.0.113.0/24, or 203.0.113.7/32 for this one address"],
    ["203.0.113.128/25", undefined],
    ["203.0.113.129/25", "203.0.113.129/25 has host bits set: write the network 203.0.113.128/25, or 203.0.113.129/32 for this one address"],
    ["2001:db8::1/48", "2001:db8::1/48 has host bits set: write the network 2001:db8::/48, or 2001:db8::1/128 for this one address"],
    ["2001:db8:0:0:1::/64", "2001:db8:0:0:1::/64 has host bits set: write the network 2001:db8::/64, or 2001:db8:0:0:1::/128 for this one address"],
    ["2001:db8:ab::/40", "2001:db8:ab::/40 has host bits set: write the network 2001:db8::/40, or 2001:db8:ab::/128 for this one address"],
    ["::1/128", undefined],
  ];
  for (const [v, m] of cases) assert.equal(cidrProblem(v), m, v);
  assert.equal(cidrProblem("::/0", "the metrics"), "::/0 is the whole Internet: list the networks that may reach the metrics");
});

test("grammar: an ACME directory is an https:// URL of a valid host and port; a DMARC report address reads as one mailto:", () => {
  assert.equal(httpsUrlProblem("https://acme.lab.tld:14000/dir"), undefined);
  assert.equal(httpsUrlProblem("https://acme-v02.api.letsencrypt.org/directory"), undefined);
  for (const v of ["http://x.tld/", "https://Acme.tld/", "https://user@x.tld/", "https://x.tld/a b", 'https://x.tld/"'])
    assert.equal(httpsUrlProblem(v), `expected an https:// URL such as https://acme-v02.api.letsencrypt.org/directory, got ${JSON.stringify(v)}`, v);
  assert.equal(httpsUrlProblem("https://a..tld/dir"), 'in "https://a..tld/dir", the host: has an empty label (two dots in a row, or a leading dot)');
  assert.equal(httpsUrlProblem("https://x.tld:99999/dir"), 'in "https://x.tld:99999/dir", the port: a TCP port is 1 to 65535');
  assert.equal(httpsUrlProblem("https://x.tld:0/"), 'in "https://x.tld:0/", the port: a TCP port is 1 to 65535');
  assert.equal(httpsUrlProblem("https://x.tld:65535/"), undefined);
  assert.equal(dmarcReportAddressProblem("dmarc@x.tld"), undefined);
  assert.equal(dmarcReportAddressProblem("a!b@x.tld"), "a DMARC report address may not contain '!' or ',' (in rua= they start a size limit and separate addresses)");
  assert.equal(dmarcReportAddressProblem("a,b@x.tld"), 'a local part may not contain "," (quoted local parts are not supported: they do not survive Postfix maps)');
  assert.equal(emailProblem("john@Doe.tld"), 'in "john@Doe.tld", the domain part: write domain names in lower case: doe.tld');
  assert.equal(emailProblem("John@doe.tld"), "write local parts in lower case (john): Postfix compares addresses case-insensitively");
  assert.equal(emailProblem("@doe.tld"), "a local part (before @) may not be empty");
  assert.equal(emailProblem("a@b@doe.tld"), 'a local part may not contain "@" (quoted local parts are not supported: they do not survive Postfix maps)');
});

test("errors: a problem is one line whatever it quotes (control characters, NEL, line and paragraph separators escaped)", () => {
  const e = new SpecError("s.yaml", [
    { path: ["domains", "a.tld", "aliases", "x"], message: "bad \"x\ny\u0085z\u2028w\u2029v\u007f\"", line: 3, column: 5 },
    { path: [], message: "no path" },
  ]);
  assert.equal(e.message, 's.yaml:3:5: domains."a.tld".aliases.x: bad "x\\u000ay\\u0085z\\u2028w\\u2029v\\u007f"\ns.yaml:1:1: no path');
});
