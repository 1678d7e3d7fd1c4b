// A spec with a mistake is refused with the file, line, column and path of the mistake and
// what was expected, so an operator fixes it before anything is deployed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { exampleText, exampleWith } from "./support/example.ts";

const FILE = "stacks/example.facteur.yaml";

function errorOf(text: string): string {
  try {
    parseSpec(text, FILE);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${String(e)}`);
    return e.message;
  }
  assert.fail("the spec was accepted");
}

test("the example stack of the field notes is valid", () => {
  const spec = parseSpec(exampleText(), FILE);
  assert.deepEqual(Object.keys(spec.domains).sort(), ["entreprise.tld", "monmagasin.tld"]);
  assert.equal(spec.policy.dailyQuota, 300);
});

const cases: { name: string; from: string; to: string; error: string }[] = [
  {
    name: "a misspelt key points at the key itself",
    from: "mxPriority: 20",
    to: "mxPriorty: 20",
    error: `${FILE}:33:44: relays.mx2.mxPriorty: unknown key "mxPriorty"`,
  },
  {
    name: "a wrong type says what was expected and what was found",
    from: "mxPriority: 20",
    to: "mxPriority: twenty",
    error: `${FILE}:33:56: relays.mx2.mxPriority: expected a whole number, got the text "twenty"`,
  },
  {
    name: "an alias target that is not an address",
    from: "tom-smit: tom@smit.tld",
    to: "tom-smit: tom.smit.tld",
    error: `${FILE}:16:17: domains."entreprise.tld".aliases.tom-smit: expected an e-mail address such as john@doe.tld, got "tom.smit.tld"`,
  },
  {
    name: "an unknown smarthost kind",
    from: "out1: { kind: own",
    to: "out1: { kind: mine",
    error: `${FILE}:39:17: smarthosts.out1.kind: expected kind "own" (one of our servers) or "external" (an ISP or commercial relay)`,
  },
  {
    name: "an alias loop (the person who left, replaced by a loop)",
    from: "contact: john-doe@monmagasin.tld",
    to: "contact: boucle@monmagasin.tld\n      boucle: contact@monmagasin.tld",
    error: `${FILE}:27:16: domains."monmagasin.tld".aliases.contact: alias loop: contact@monmagasin.tld -> boucle@monmagasin.tld -> contact@monmagasin.tld`,
  },
  {
    name: "a dangling alias target in one of our domains (a typo would bounce mail)",
    from: "accueil: secretariat@entreprise.tld",
    to: "accueil: secretaria@entreprise.tld",
    error: `${FILE}:18:16: domains."entreprise.tld".aliases.accueil: dangling alias target secretaria@entreprise.tld: entreprise.tld is one of our domains and has no alias secretaria`,
  },
  {
    name: "a smarthost with a relay's name",
    from: "out2: { kind: own",
    to: "mx2: { kind: own",
    error: `${FILE}:40:8: smarthosts.mx2: duplicate host name mx2: already a relay; every host needs its own name`,
  },
  {
    name: "a domain served by an unknown relay",
    from: "      contact: john-doe@monmagasin.tld",
    to: "      contact: john-doe@monmagasin.tld\n    relays: [mx3]",
    error: `${FILE}:28:14: domains."monmagasin.tld".relays[0]: unknown relay mx3; known relays: mx1, mx2`,
  },
  {
    name: "SPF beyond 10 DNS lookups",
    from: "    dkim:\n      selectors: [m2026a]",
    to: "    dkim:\n      selectors: [m2026a]\n    spf:\n      extra: [include:a.tld, include:b.tld, include:c.tld, include:d.tld, include:e.tld, include:f.tld, include:g.tld, mx, a]",
    error: `${FILE}:31:14: domains."monmagasin.tld".spf.extra: SPF for monmagasin.tld needs 11 DNS lookups (pool 2, extra 9); receivers stop at 10 and fail the check`,
  },
  {
    name: "an unknown active DKIM selector",
    from: "selectors: [e2026a]",
    to: "selectors: [e2026a]\n      active: e2026b",
    error: `${FILE}:21:15: domains."entreprise.tld".dkim.active: unknown selector e2026b; listed: e2026a`,
  },
  {
    name: "broken YAML",
    from: "  mx1: {",
    to: "  mx1 {",
    error: `${FILE}:32:19: YAML: Nested mappings are not allowed in compact mappings\n${FILE}:32:37: YAML: Nested mappings are not allowed in compact mappings`,
  },
];

for (const c of cases) {
  test(`spec error: ${c.name}`, () => {
    assert.equal(errorOf(exampleWith(c.from, c.to)), c.error);
  });
}

test("spec error: draining every smarthost is refused", () => {
  const text = exampleWith(
    "  fai:\n    kind: external",
    "  fai:\n    drain: true\n    kind: external",
  )
    .replace("out1: { kind: own, location: fsn1, serverType: cx23 }", "out1: { kind: own, location: fsn1, serverType: cx23, drain: true }")
    .replace("out2: { kind: own, location: hel1, serverType: cx23 }", "out2: { kind: own, location: hel1, serverType: cx23, drain: true }");
  assert.equal(errorOf(text), `${FILE}:39:3: smarthosts: every clean-lane smarthost is drained: outbound mail would have nowhere to go`);
});

test("several problems are all reported at once, in file order of discovery", () => {
  const text = exampleWith("mxPriority: 20", "mxPriority: -5").replace("version: 1", "version: 2");
  const lines = errorOf(text).split("\n");
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /:3:10: version: expected one of 1$/);
  assert.match(lines[1]!, /:33:56: relays\.mx2\.mxPriority: must be at least 0$/);
});

test("a YAML warning is a refusal too (an unknown directive), and a key YAML reads as a number still locates its errors", () => {
  assert.equal(errorOf(`%FOO bar\n---\n${exampleText()}`), `${FILE}:1:1: YAML: Unknown directive %FOO`);
  // 010 and 0x1f are numbers to YAML (10 and 31): the error is found under the key as written.
  const MX2 = "mx2: { location: nbg1, serverType: cx23, mxPriority: 20 }";
  for (const [key, column] of [["010", 56], ["0x1f", 57]] as const)
    assert.equal(
      errorOf(exampleWith(MX2, `${key}: { location: nbg1, serverType: cx23, mxPriority: 99999 }`)),
      `${FILE}:33:${column}: relays."${key}".mxPriority: must be at most 65535 (a DNS MX preference is 16 bits)`,
    );
});
