// The layering spec -> model -> plan -> render (+daemons) -> appliers (pulumi | lab | cli...),
// checked by dependency-cruiser with the project's rule set (.dependency-cruiser.cjs); the rules
// are shown to bite on a small tree that breaks them. Also: no applier reads a fact back out of a
// rendered file (they read the bundle's daemon facts), and the README's "How it fits together"
// names every folder of src.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DEPCRUISE = join(ROOT, "node_modules/.bin/depcruise");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(cwd: string): { violations: Violation[]; modules: number } {
  const r = spawnSync(DEPCRUISE, ["src", "--config", join(ROOT, ".dependency-cruiser.cjs"), "--output-type", "json"], { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  assert.ok(r.stdout, `depcruise gave no output (exit ${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: out.summary.violations, modules: out.summary.totalCruised };
}

test("dependency-cruiser: no import from a lower layer to a higher one, no Pulumi in the core, no cycle", () => {
  const { violations, modules } = cruise(ROOT);
  assert.ok(modules > 80, `only ${modules} modules cruised: the rule set is not looking at src`);
  assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
});

test("dependency-cruiser: the rules bite (a tree that breaks each one is refused, rule by rule)", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-layers-"));
  try {
    const files: Record<string, string> = {
      "src/paths.ts": 'import { x } from "./spec/a.ts";\nexport const p = x;\n',
      "src/spec/a.ts": 'import { b } from "../model/b.ts";\nexport const x = b;\n',
      "src/model/b.ts": "export const b = 1;\n",
      "src/render/r.ts": 'import { l } from "../lab/l.ts";\nexport const r = l;\n',
      "src/lab/l.ts": 'import { c } from "../cli/c.ts";\nexport const l = c;\n',
      "src/cli/c.ts": "export const c = 1;\n",
      "src/pulumi/p.ts": 'import { l } from "../lab/l.ts";\nimport { t } from "../trace/join.ts";\nimport { u } from "../trace/logUser.ts";\nexport const p = [l, t, u];\n',
      "src/trace/join.ts": "export const t = 1;\n",
      "src/trace/logUser.ts": "export const u = 1;\n",
      "src/check/k.ts": 'import { s } from "../../test/support/s.ts";\nimport { t } from "../trace/join.ts";\nimport { q } from "../trace/postfix.ts";\nexport const k = [s, t, q];\n',
      "src/trace/postfix.ts": "export const q = 1;\n",
      "test/support/s.ts": "export const s = 1;\n",
      "src/gate/g1.ts": 'import { g2 } from "./g2.ts";\nexport const g1 = () => g2;\n',
      "src/gate/g2.ts": 'import { g1 } from "./g1.ts";\nexport const g2 = () => g1;\n',
      "tsconfig.json": JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", allowImportingTsExtensions: true, noEmit: true } }),
    };
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(join(dir, f, ".."), { recursive: true });
      writeFileSync(join(dir, f), text);
    }
    const found = cruise(dir).violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
    const expect = [
      "paths-is-a-leaf: src/paths.ts -> src/spec/a.ts",
      "spec-is-the-bottom: src/spec/a.ts -> src/model/b.ts",
      "render-above-plan: src/render/r.ts -> src/lab/l.ts",
      "lab-is-an-applier: src/lab/l.ts -> src/cli/c.ts",
      "pulumi-is-an-applier: src/pulumi/p.ts -> src/lab/l.ts",
      "pulumi-takes-only-the-log-user-from-trace: src/pulumi/p.ts -> src/trace/join.ts",
      "src-never-imports-tests: src/check/k.ts -> test/support/s.ts",
      "check-takes-only-the-log-parser-from-trace: src/check/k.ts -> src/trace/join.ts",
    ];
    for (const e of expect) assert.ok(found.includes(e), `not refused: ${e}\nfound:\n${found.join("\n")}`);
    assert.ok(found.some((f) => f.startsWith("no-circular: src/gate/")), `the cycle g1 <-> g2 is not refused:\n${found.join("\n")}`);
    assert.ok(!found.some((f) => f.includes("src/trace/logUser.ts")), "the log user's setup is allowed to the apply script");
    assert.ok(!found.some((f) => f.includes("src/trace/postfix.ts")), "the Postfix log parser is allowed to check --delivery");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every .ts file under a directory of src. */
function sources(dir: string): string[] {
  const abs = join(ROOT, dir);
  return readdirSync(abs).flatMap((e) => (statSync(join(abs, e)).isDirectory() ? sources(join(dir, e)) : e.endsWith(".ts") ? [join(dir, e)] : []));
}

test("no applier reads a rendered file back: no path-suffix detection, no regex for a daemon's setting", () => {
  // The settings the daemons' facts carry; an applier that greps a rendered file for one of them
  // is keeping a second copy of what render knows.
  const settings = /SOCKET|bind_socket|PidFile|pidfile:|maillog_file|queue_directory|SRS_[A-Z]+|inet\s|postsrsd|opendkim\.conf|policyd-rate-limit/;
  // A regex literal followed by .exec( (the way a value is fished out of a file's text).
  const regexExec = new RegExp(String.raw`/((?:\\.|[^/\n])+)/[gimsuy]*\.exec\(`, "g");
  const offences: string[] = [];
  for (const file of ["src/lab", "src/pulumi", "src/gate", "src/trace", "src/check", "src/cli"].flatMap(sources)) {
    readFileSync(join(ROOT, file), "utf8")
      .split("\n")
      .forEach((line, i) => {
        const where = `${file}:${i + 1}: ${line.trim()}`;
        if (/\.files\.(find|some|filter)\(.*\.path\.(endsWith|startsWith)\(/.test(line)) offences.push(`path-suffix detection: ${where}`);
        if (/\.files\.(find|some|filter)\(.*\.test\(f\.path\)/.test(line)) offences.push(`path-regex detection: ${where}`);
        for (const m of line.matchAll(regexExec)) if (settings.test(m[1]!)) offences.push(`regex over a rendered setting: ${where}`);
        if (/parseMainCf|parseDefaults|inetListeners/.test(line)) offences.push(`config parser: ${where}`);
      });
  }
  assert.deepEqual(offences, []);
});

test("README: How it fits together names every folder of src, the daemons' modules and the test support", () => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = /## How it fits together\n([\s\S]*?)\n## /.exec(readme)?.[1];
  assert.ok(section, "README has no How it fits together section");
  const folders = readdirSync(join(ROOT, "src")).filter((e) => statSync(join(ROOT, "src", e)).isDirectory());
  for (const f of folders) assert.ok(section.includes(`src/${f}`), `README: How it fits together does not name src/${f}`);
  for (const must of ["src/render/daemons", "src/paths.ts", "test/support", ".dependency-cruiser.cjs"]) assert.ok(section.includes(must), `README: How it fits together does not name ${must}`);
  for (const named of section.matchAll(/\b(src\/[a-z]+(?:\/[a-z]+)?)\b/g)) {
    const p = join(ROOT, named[1]!);
    assert.ok(folders.includes(named[1]!.split("/")[1]!) || statSync(`${p}.ts`, { throwIfNoEntry: false }), `README names ${named[1]}, which does not exist`);
  }
});
