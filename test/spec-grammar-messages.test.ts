// The grammar's refusals in the words a spec author reads (src/spec/grammar.ts): each rule's
// exact message, its boundary (63-octet labels, 253-octet names, 64-octet local parts), and the
// values shown in errors cut to a readable length. The fast acceptance is compared with the full
// checks in test/spec-grammar.test.ts; here the full checks say why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeValue, dnsNameProblem, domainProblem, emailProblem, hostLabelProblem, localPartChecks, nameChecks } from "../src/spec/grammar.ts";

const LABEL_CHARS = "with characters DNS host names do not allow (letters, digits and inner hyphens only";

test("grammar: a domain's refusals name the rule, and the fix where there is one", () => {
  const cases: [string, string][] = [
    ["", "expected a domain name such as entreprise.tld"],
    ["a\nb.tld", "may not contain a line break, tab or other control character (it would start a new line in the rendered files)"],
    ["a${x}.tld", 'may not contain "${": facteur reserves it for secret references, which only passwordSecret fields make'],
    ["café.tld", "write international domain names in punycode: xn--caf-dma.tld, as DNS carries them"],
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
  assert.equal(hostLabelProblem("m_x"), `${LABEL_CHARS})`);
  assert.equal(hostLabelProblem("-mx"), "that starts or ends with a hyphen");
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
