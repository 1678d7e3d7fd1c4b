// The package as a newcomer gets it: `npm pack` builds dist/ (the prepare script, scripts/transpile-src.mjs then the bundles),
// the tarball installs into a fresh directory, and `npx facteur` runs the compiled JavaScript,
// with no TypeScript compiled at run time, finding its templates and its gate script from
// dist/, and the files its modules run from beside themselves (the gate script, the lab's MTA-STS
// server, the trace's verifier). Each command loads only what it needs: validate and plan load no Handlebars, no
// Pulumi, none of the check's DNS and SMTP code.
//
// The install is offline: this checkout's dependencies are linked into the fresh directory
// first, and npm keeps what already satisfies the package's dependencies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { EXAMPLE_FILE, exampleWith } from "./support/example.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { renderStack } from "../src/render/render.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MODULE_LOG = fileURLToPath(new URL("./support/module-log.mjs", import.meta.url));

let work: string;
let app: string;

function ok(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "facteur-package-"));
  ok(spawnSync("npm", ["pack", "--pack-destination", work], { cwd: ROOT, encoding: "utf8" }), "npm pack");
  const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
  assert.ok(tarball, "npm pack wrote no tarball");

  app = join(work, "app");
  mkdirSync(join(app, "node_modules"), { recursive: true });
  writeFileSync(join(app, "package.json"), `${JSON.stringify({ name: "newcomer", private: true })}\n`);
  for (const name of readdirSync(join(ROOT, "node_modules"))) {
    if (name.startsWith(".")) continue;
    if (name.startsWith("@")) {
      mkdirSync(join(app, "node_modules", name));
      for (const sub of readdirSync(join(ROOT, "node_modules", name))) symlinkSync(join(ROOT, "node_modules", name, sub), join(app, "node_modules", name, sub));
    } else symlinkSync(join(ROOT, "node_modules", name), join(app, "node_modules", name));
  }
  ok(spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, tarball)], { cwd: app, encoding: "utf8" }), "npm install of the tarball");

  mkdirSync(join(app, "stacks"));
  copyFileSync(EXAMPLE_FILE, join(app, "stacks", "example.facteur.yaml"));
  writeFileSync(join(app, "stacks", "bad.facteur.yaml"), exampleWith("accueil: secretariat@entreprise.tld", "accueil: secretaria@entreprise.tld"));
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function npx(args: string[]) {
  const r = spawnSync("npx", ["--no-install", "facteur", ...args], { cwd: app, encoding: "utf8" });
  // npm's own warnings (about this machine's npm configuration) are not facteur's output.
  return { code: r.status, out: r.stdout, err: r.stderr.replace(/^npm warn .*\n/gm, "") };
}

test("package: npx facteur --help and validate run the compiled CLI from a fresh install", () => {
  const installed = join(app, "node_modules", "facteur");
  assert.ok(readdirSync(join(installed, "dist", "cli")).includes("bin.js"));
  assert.ok(!readdirSync(installed).includes("src") || !readdirSync(join(installed, "src")).includes("cli"), "the CLI's TypeScript sources are not shipped");

  const help = npx(["--help"]);
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /^facteur: mail relays, smarthost pool, PTR and DNS from one spec per environment\n/);

  const valid = npx(["validate", "--stack", "example"]);
  assert.equal(valid.code, 0, valid.err);
  assert.equal(valid.out, "stacks/example.facteur.yaml: ok: 3 domains (with relais.tld), 15 addresses, 2 relays, 4 smarthosts\n");

  // A problem is still located (the yaml library, loaded only then, re-reads the text).
  const bad = npx(["validate", "--stack", "bad"]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^stacks\/bad\.facteur\.yaml:18:16: domains\."entreprise\.tld"\.aliases\.accueil: dangling alias target secretaria@entreprise\.tld/);
});

test("package: the installed render finds its templates and writes what the sources render; the gate script ships beside its module", async () => {
  const r = npx(["render", "--stack", "example", "--out", "out"]);
  assert.equal(r.code, 0, r.err);
  const model = buildModel(parseSpec(readFileSync(EXAMPLE_FILE, "utf8"), "stacks/example.facteur.yaml"));
  const bundles = renderStack(model, buildPlan(model, { addresses: {} }), { root: "" });
  let files = 0;
  for (const b of bundles)
    for (const f of b.files) {
      assert.equal(readFileSync(join(app, "out", "hosts", b.host, f.path), "utf8"), f.content, `${b.host}${f.path}`);
      files++;
    }
  assert.ok(files > 50, `only ${files} files rendered`);

  const gate = (await import(pathToFileURL(join(app, "node_modules", "facteur", "dist", "gate", "postfix.js")).href)) as { gateFunctions: () => string };
  assert.match(gate.gateFunctions(), /^facteur_gate\(\) \{/m);
});

test("package: every file a module runs from beside itself (a script, a server, the trace's verifier) ships beside its compiled module", () => {
  // What the sources open through new URL("./<file>", import.meta.url), other than modules the build compiles.
  const besides: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${dir}/${e.name}`);
      else if (e.name.endsWith(".ts"))
        for (const m of readFileSync(join(ROOT, dir, e.name), "utf8").matchAll(/new URL\("\.\/([^"/]+)", import\.meta\.url\)/g))
          if (!m[1]!.endsWith(".ts") && !m[1]!.endsWith(".js")) besides.push(`${dir.slice("src/".length)}/${m[1]}`);
    }
  };
  walk("src");
  assert.deepEqual(besides.sort(), ["gate/postfix-gate.sh", "lab/mta-sts-server.mjs", "trace/verify-stored.mjs"]);
  const installed = join(app, "node_modules", "facteur", "dist");
  assert.deepEqual(besides.filter((f) => !existsSync(join(installed, f))), [], "missing from the installed package");
  for (const f of besides) assert.equal(readFileSync(join(installed, f), "utf8"), readFileSync(join(ROOT, "src", f), "utf8"), f);
});

/** The modules `facteur <args>` resolved, as URLs (node's loader hooks log them). */
function loadedBy(args: string[]): string[] {
  const log = join(work, `modules-${args[0]}.log`);
  writeFileSync(log, "");
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(MODULE_LOG).href, join(app, "node_modules", ".bin", "facteur"), ...args], {
    cwd: app,
    encoding: "utf8",
    env: { ...process.env, FACTEUR_MODULE_LOG: log },
  });
  assert.equal(r.status, 0, r.stderr);
  // The CLI is bundled (scripts/bundle-cli.mjs): each bundle file loaded stands for the compiled
  // modules it holds, as the build recorded them, so what a command loads is still checked by module.
  const cli = pathToFileURL(join(app, "node_modules", "facteur", "dist", "cli")).href;
  const held = JSON.parse(readFileSync(join(app, "node_modules", "facteur", "dist", "cli", "bin.modules.json"), "utf8")) as Record<string, string[]>;
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((u) => {
      const file = u.startsWith(`${cli}/`) ? u.slice(cli.length + 1) : undefined;
      if (file === undefined || !(file in held)) return [u];
      return held[file]!.map((m) => `${cli.slice(0, -"/cli".length)}/${m}`);
    });
}

const HEAVY: [string, RegExp][] = [
  ["Handlebars", /\/node_modules\/handlebars\/|\/dist\/vendor\/handlebars/],
  ["the renderer", /\/dist\/render\/render\.js$/],
  ["Pulumi", /\/node_modules\/@pulumi\/|\/dist\/pulumi\//],
  ["the check's DNS and SMTP code", /\/dist\/check\/|^node:dns$|\/node_modules\/mailauth\//],
  ["the lab", /\/dist\/lab\//],
  ["diff and trace", /\/dist\/(diff|trace)\//],
];

test("package: validate and plan load no Handlebars, Pulumi, nor the check's DNS/SMTP code; render loads Handlebars' runtime only", () => {
  for (const command of [["validate", "--stack", "example"], ["plan", "--stack", "example"]]) {
    const loaded = loadedBy(command);
    // The log does see the command's own modules and packages (not a vacuous check).
    assert.ok(loaded.some((u) => u.endsWith("/dist/spec/load.js")) && loaded.some((u) => u.endsWith("/dist/vendor/zod.js")), loaded.join("\n"));
    // zod comes as the build bundled it (scripts/bundle-vendor.mjs), one module, not node_modules' 260.
    assert.deepEqual(loaded.filter((u) => /\/node_modules\/zod\//.test(u)), [], `${command[0]} loaded zod from node_modules`);
    for (const [what, pattern] of HEAVY) assert.deepEqual(loaded.filter((u) => pattern.test(u)), [], `${command[0]} loaded ${what}`);
    // The example takes the fast parse path: the yaml library is not even loaded.
    assert.deepEqual(loaded.filter((u) => /\/node_modules\/yaml\//.test(u)), [], `${command[0]} loaded yaml`);
  }
  const render = loadedBy(["render", "--stack", "example", "--out", "out-logged"]);
  // Handlebars' runtime as the build bundled it (scripts/bundle-vendor.mjs), none of node_modules' handlebars.
  assert.ok(render.some((u) => u.endsWith("/dist/vendor/handlebars.runtime.cjs")), "render loads Handlebars' runtime (and the log sees it)");
  assert.deepEqual(render.filter((u) => /\/node_modules\/(handlebars|zod)\//.test(u)), [], "render loads Handlebars and zod as the build bundled them");
  // The templates come precompiled by the build: Handlebars' runtime, not its compiler.
  assert.ok(render.some((u) => u.endsWith("/dist/render/templates.precompiled.cjs")), "render uses the precompiled templates");
  assert.deepEqual(render.filter((u) => /\/node_modules\/handlebars\/dist\/cjs\/handlebars\/compiler\//.test(u)), [], "render compiles no template");
  assert.deepEqual(render.filter((u) => /\/node_modules\/@pulumi\/|\/dist\/check\//.test(u)), [], "render loads no Pulumi nor check code");
});

test("package: the bundled zod has every member the sources call (scripts/bundle-vendor.mjs ZOD_MEMBERS)", async () => {
  const { ZOD_MEMBERS } = (await import(pathToFileURL(join(ROOT, "scripts", "bundle-vendor.mjs")).href)) as { ZOD_MEMBERS: string[] };
  // Types only, erased by tsc: never looked up at run time.
  const TYPES = new Set(["infer", "input", "output", "core", "ZodType", "ZodSafeParseResult"]);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
  const used = new Set<string>();
  for (const file of walk(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    if (!/^import \{[^}]*\bz\b[^}]*\} from "zod";/m.test(text)) continue;
    for (const m of text.matchAll(/\bz\s*\.\s*([A-Za-z_$][\w$]*)/g)) if (!TYPES.has(m[1]!)) used.add(m[1]!);
  }
  assert.ok(used.has("object") && used.has("string"), `the scan finds the schema's calls: ${[...used].join(", ")}`);
  assert.deepEqual([...used].filter((m) => !ZOD_MEMBERS.includes(m)), [], "members the sources call that the bundle lacks");
  // And the build's bundle exports exactly those.
  const bundled = (await import(pathToFileURL(join(app, "node_modules", "facteur", "dist", "vendor", "zod.js")).href)) as { z: Record<string, unknown> };
  assert.deepEqual(Object.keys(bundled.z).sort(), [...ZOD_MEMBERS].sort());
});
