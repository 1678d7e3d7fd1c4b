// Hetzner server types that can no longer be ordered (src/plan/serverTypes.ts): every applier
// warns, naming the type's family, its dates and what to order instead. The CLI's side (validate
// prints the warnings, exit 0): test/cli-server-types.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEPRECATED_SERVER_TYPES, serverTypeWarnings } from "../src/plan/serverTypes.ts";

const deprecated = new Set(DEPRECATED_SERVER_TYPES.flatMap((f) => Object.keys(f.replacements)));

test("the table: each family dated (announced before unavailable), each type replaced by one Hetzner still sells", () => {
  assert.deepEqual(DEPRECATED_SERVER_TYPES.map((f) => f.family), ["CX Gen 2", "CPX Gen 1", "CX Gen 1"]);
  for (const f of DEPRECATED_SERVER_TYPES) {
    assert.match(f.announced, /^\d{4}-\d{2}-\d{2}$/, f.family);
    assert.match(f.unavailableAfter, /^\d{4}-\d{2}-\d{2}$/, f.family);
    assert.ok(f.announced < f.unavailableAfter, f.family);
    for (const [old, current] of Object.entries(f.replacements)) {
      assert.match(current, /^c(p)?x\d3$|^cpx\d2$/, `${old} -> ${current}`);
      assert.ok(!deprecated.has(current), `${old} -> ${current}: the replacement is not deprecated itself`);
      assert.equal(current.replace(/\d+$/, ""), old.replace(/\d+$/, ""), `${old} -> ${current}: same line (CX or CPX)`);
    }
  }
  assert.deepEqual(Object.keys(DEPRECATED_SERVER_TYPES[0]!.replacements), ["cx22", "cx32", "cx42", "cx52"]);
});

test("one warning per host on a deprecated type, in any case, with its family, dates and replacement; none for current types", () => {
  const warnings = serverTypeWarnings([
    { name: "mx1", serverType: "CX22" },
    { name: "mx2", serverType: "cx23" },
    { name: "out1", serverType: "cpx11" },
    { name: "out2", serverType: "cx41" },
  ]);
  assert.deepEqual(
    warnings.map((w) => [w.host, w.serverType, w.replacement]),
    [
      ["mx1", "CX22", "cx23"],
      ["out1", "cpx11", "cpx12"],
      ["out2", "cx41", "cx43"],
    ],
  );
  assert.equal(
    warnings[0]!.message,
    "mx1: server type CX22 (Hetzner CX Gen 2) is deprecated since 2025-10-16 and cannot be ordered after 2025-12-31: creating this server will fail. " +
      "Use cx23 instead (an existing server keeps running; changing serverType resizes it in place, with a short stop).",
  );
  assert.match(warnings[1]!.message, /^out1: server type cpx11 \(Hetzner CPX Gen 1\) is deprecated since 2025-10-16 and cannot be ordered after 2025-12-31: .* Use cpx12 instead/);
  assert.match(warnings[2]!.message, /^out2: server type cx41 \(Hetzner CX Gen 1\) is deprecated since 2024-06-06 and cannot be ordered after 2024-09-06: .* Use cx43 instead/);
  assert.deepEqual(serverTypeWarnings([{ name: "mx1", serverType: "cx23" }]), []);
});
