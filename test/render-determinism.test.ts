// Rendering is deterministic across processes, time zones and locales: `facteur render` and
// `facteur plan --json`, run twice in separate processes with different TZ and locale, give
// byte-identical trees and plans (what keeps review diffs small and honest).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnFacteur } from "./support/facteurCli.ts";
import { exampleStacksDir } from "./support/example.ts";

test("rendering is deterministic across processes, time zones and locales (byte-identical trees and plans)", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const envs = [
    { TZ: "UTC", LANG: "C", LC_ALL: "C" },
    { TZ: "Pacific/Kiritimati", LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8" },
  ];
  const base = mkdtempSync(join(tmpdir(), "facteur-determinism-"));
  // The example under this test's own stack name, never the user's `example`.
  const stacks = exampleStacksDir("determinism");
  try {
    const outputs = envs.map((env, i) => {
      const e = { ...process.env, ...env };
      // The environment really differs where it could leak into output: time zone and default locale.
      const probe = spawnSync(process.execPath, ["-e", "const o = Intl.DateTimeFormat().resolvedOptions(); console.log(o.timeZone, o.locale)"], { env: e, encoding: "utf8" });
      const out = join(base, `out${i}`);
      const r = spawnFacteur(["render", "--stack", "determinism", "--stacks", stacks, "--out", out], { cwd: ROOT, env: e, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const p = spawnFacteur(["plan", "--stack", "determinism", "--stacks", stacks, "--json"], { cwd: ROOT, env: e, encoding: "utf8" });
      assert.equal(p.status, 0, p.stderr);
      return { seen: probe.stdout.trim(), tree: treeOf(out), plan: p.stdout };
    });
    assert.match(outputs[0]!.seen, /^UTC /);
    assert.equal(outputs[1]!.seen, "Pacific/Kiritimati tr-TR");
    assert.ok(Object.keys(outputs[0]!.tree).length > 50, "the tree holds every host's files");
    assert.deepEqual(outputs[1]!.tree, outputs[0]!.tree);
    assert.equal(outputs[1]!.plan, outputs[0]!.plan);
  } finally {
    rmSync(base, { recursive: true, force: true });
    rmSync(stacks, { recursive: true, force: true });
  }
});

/** Every file under dir: relative path -> content. */
function treeOf(dir: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = join(rel, e.name);
    if (e.isDirectory()) Object.assign(out, treeOf(dir, r));
    else out[r] = readFileSync(join(dir, r), "utf8");
  }
  return out;
}
