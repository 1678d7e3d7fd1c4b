// `facteur validate` (and plan, render: they share the loader) warns about a Hetzner server
// type that can no longer be ordered, naming the host and the replacement, and still exits 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exampleText } from "./support/example.ts";
import { spawnFacteur } from "./support/facteurCli.ts";


test("validate warns about deprecated server types (exit 0); current types draw no warning", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-types-"));
  try {
    mkdirSync(join(dir, "stacks"));
    writeFileSync(join(dir, "stacks", "old.facteur.yaml"), exampleText().replace("mx1: { location: fsn1, serverType: cx23,", "mx1: { location: fsn1, serverType: cx22,").replace("serverType: cx23 }", "serverType: cpx11 }"));
    const run = (stack: string) => spawnFacteur(["validate", "--stack", stack], { cwd: dir, encoding: "utf8" });
    const r = run("old");
    assert.equal(r.status, 0, r.stderr);
    const warnings = r.stderr.trim().split("\n");
    assert.equal(warnings.length, 2, r.stderr);
    assert.match(warnings[0]!, /^stacks\/old\.facteur\.yaml: warning: mx1: server type cx22 \(Hetzner CX Gen 2\) is deprecated since 2025-10-16 .* Use cx23 instead/);
    assert.match(warnings[1]!, /warning: out1: server type cpx11 \(Hetzner CPX Gen 1\) .* Use cpx12 instead/);
    writeFileSync(join(dir, "stacks", "new.facteur.yaml"), exampleText());
    assert.equal(run("new").stderr, "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
