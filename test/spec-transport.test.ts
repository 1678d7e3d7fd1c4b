// The spec options of transport security (issue 14): what they accept, what they refuse and why.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { buildModel } from "../src/model/model.ts";
import { exampleWith } from "./helpers/example.ts";

function refusal(text: string): string {
  try {
    parseSpec(text, "s.yaml");
  } catch (e) {
    assert.ok(e instanceof SpecError, String(e));
    return e.message;
  }
  assert.fail("accepted");
}

const OPERATOR_DKIM = "  dkim:\n    selectors: [f2026a]\n";
const withArc = (arc: string) => exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}  arc: ${arc}\n`);

test("ARC: off unless operator.arc is given; the active selector defaults to the last listed", () => {
  assert.equal(buildModel(parseSpec(exampleWith("", ""), "s.yaml")).operator.arc, undefined);
  assert.deepEqual(buildModel(parseSpec(withArc("{ selectors: [arc2026a, arc2026b] }"), "s.yaml")).operator.arc, { selectors: ["arc2026a", "arc2026b"], active: "arc2026b" });
});

const refused: [string, string, RegExp][] = [
  ["an ARC selector that is also the operator's DKIM selector (one record, one key)", "{ selectors: [f2026a] }", /^s\.yaml:10:22: operator\.arc\.selectors\[0\]: f2026a is also a DKIM selector of the operator: f2026a\._domainkey\.relais\.tld can publish only one key; give the ARC key its own selector$/],
  ["an unknown active ARC selector", "{ selectors: [arc2026a], active: arc2026b }", /^s\.yaml:10:41: operator\.arc\.active: unknown selector arc2026b; listed: arc2026a$/],
  ["no ARC selector", "{ selectors: [] }", /operator\.arc\.selectors: at least one DKIM selector is needed$/],
  ["an ARC selector listed twice", "{ selectors: [arc1, arc1] }", /operator\.arc\.selectors\[1\]: selector arc1 is listed twice/],
  ["an upper-case ARC selector", "{ selectors: [Arc1] }", /operator\.arc\.selectors\[0\]: write names in lower case: arc1$/],
];
for (const [name, arc, expected] of refused) test(`spec refused: ${name}`, () => assert.match(refusal(withArc(arc)), expected));
