// The grammar's fast acceptance (one regular expression for the common valid name or local
// part, src/spec/grammar.ts) against its full checks: for every text, the same verdict and the
// same reason. Texts are built from the characters and pieces the rules are about.
//   FACTEUR_PROPERTY_RUNS (default 3000) texts per property.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { dnsNameProblem, domainProblem, localPartChecks, localPartProblem, nameChecks } from "../src/spec/grammar.ts";

const RUNS = Number(process.env.FACTEUR_PROPERTY_RUNS ?? 3000);
const SEED = process.env.FACTEUR_PROPERTY_SEED ? Number(process.env.FACTEUR_PROPERTY_SEED) : undefined;

const PIECES = ["a", "z", "0", "9", "-", "--", ".", "..", "_", "#", "$", "{", "${", "}", "srs0=", "srs1+", "SRS0=", "xn--", "xn--bcher-kva", "A", " ", "\t", "\n", "é", "@", "!", "'", "`", "~", "|", "=", "+", "/", "?", "^", "1", "tld", "x".repeat(30), "x".repeat(62), "x".repeat(63)];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => parts.join(""));
/** Dotted names whose labels mix the pieces a label rule is about (hyphens, punycode, digits, case). */
const LABEL_PIECES = ["a", "ab", "z9", "0", "42", "-", "--", "xn--", "xn--bcher-kva", "xn--a", "_", "A", "x".repeat(30), "x".repeat(61), "tld"];
const dotted = fc.array(fc.array(fc.constantFrom(...LABEL_PIECES), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }).map((labels) => labels.map((l) => l.join("")).join("."));
/** Long names near the 253-octet and local parts near the 64-octet limits. */
const long = fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 6 })).map(([n, labels]) => Array.from({ length: labels }, () => "a".repeat(n)).join("."));

test("grammar: the fast acceptance of local parts says exactly what the full checks say", () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(text, dotted, long), (s) => {
      const fast = localPartProblem(s);
      assert.equal(fast, localPartChecks(s), JSON.stringify(s));
      if (fast === undefined) accepted++;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  assert.ok(accepted > 0, "no generated local part was valid");
});

test("grammar: the fast acceptance of domain and DNS names says exactly what the full checks say", () => {
  let accepted = 0;
  fc.assert(
    fc.property(fc.oneof(text, dotted, long), (s) => {
      const fast = domainProblem(s);
      assert.equal(fast, nameChecks(s, false, "entreprise.tld"), JSON.stringify(s));
      assert.equal(dnsNameProblem(s), nameChecks(s, true, "_spf.fai.tld"), JSON.stringify(s));
      if (fast === undefined) accepted++;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  assert.ok(accepted > 0, "no generated name was valid");
});
