// Issue #15 part 4 at the fronts: `facteur diff` shows each pool member's share before and after
// with its reason, and --at (the day a warm-up schedule is read at) is a calendar day, else today.
// The plan's side of weights: test/plan-weights.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderTree } from "../src/diff/render-ref.ts";
import { markdown } from "../src/diff/markdown.ts";
import { planDay } from "../src/cli/commands.ts";
import { exampleSmarthosts, exampleText } from "./support/example.ts";

const spec = exampleSmarthosts;
test("--at is a calendar day, else today", () => {
  assert.equal(planDay("2026-03-09"), "2026-03-09");
  assert.match(planDay(undefined), /^\d{4}-\d{2}-\d{2}$/);
  assert.throws(() => planDay("2026-13-01"), /--at: expected a calendar day/);
});

test("facteur diff shows each member's share before and after, with the reason", { timeout: 60_000 }, async () => {
  const ROOT = resolve(import.meta.dirname, "..");
  const dir = mkdtempSync(join(tmpdir(), "facteur-diff-pool-"));
  try {
    for (const d of ["src", "templates", "node_modules"]) symlinkSync(join(ROOT, d), join(dir, d));
    mkdirSync(join(dir, "stacks"));
    const text = spec(", weight: 4", ", warmup: [{ from: 2026-03-02, weight: 1 }, { from: 2026-03-09, weight: 4 }]");
    writeFileSync(join(dir, "stacks", "base.facteur.yaml"), exampleText());
    writeFileSync(join(dir, "stacks", "head.facteur.yaml"), text);
    const base = await renderTree(dir, "base", "base", "2026-03-03");
    const head = await renderTree(dir, "head", "head", "2026-03-03");
    const md = markdown("pool", "base", "head", base, head);
    assert.match(md, /### Smarthost pool shares/);
    assert.match(md, /\| \*\*out1\*\* \| pool MX \(no weights\) \| 80% \| weight 4: 4 of 5 table entries/);
    assert.match(md, /\| \*\*out2\*\* \| pool MX \(no weights\) \| 20% \| warm-up step 1 of 2 \(from 2026-03-02, until 2026-03-09\): weight 1/);
    const later = await renderTree(dir, "head", "head", "2026-03-09");
    assert.match(markdown("pool", "03-03", "03-09", head, later), /\| \*\*out2\*\* \| 20% \| 50% \| warm-up step 2 of 2/);
    assert.doesNotMatch(markdown("pool", "a", "b", head, head), /pool shares/, "no change, no table");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
