// The templates as the build precompiles them (dist/render/templates.precompiled.cjs) against
// the templates compiled at run time: the same output, and a template edited since the build
// is compiled from its new text, never rendered from the stale build. (test/package.test.ts
// compares a whole render of the installed package with the sources' render.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { precompiledModule } from "../src/render/precompile.ts";
import { templateEngine } from "../src/render/render.ts";
import { templateFiles, type Precompiled } from "../src/render/templates.ts";

function built(files = templateFiles()): Precompiled {
  const dir = mkdtempSync(join(tmpdir(), "facteur-precompiled-"));
  try {
    const file = join(dir, "templates.precompiled.cjs");
    writeFileSync(file, precompiledModule(files));
    return createRequire(import.meta.url)(file) as Precompiled;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const clientsContext = {
  host: { fqdn: "out1.relais.tld" },
  relayClients: ["198.51.100.11", "2001:db8:5100::11"],
};

test("templates: the build's precompiled templates render what compiling the sources renders", () => {
  const files = templateFiles();
  const fromBuild = templateEngine(files, built(files));
  const fromSources = templateEngine(files, {});
  assert.deepEqual([fromBuild.precompiled, fromBuild.compiled], [files.length, 0]);
  assert.deepEqual([fromSources.precompiled, fromSources.compiled], [0, files.length]);
  const out = fromBuild.render("postfix/relay_clients", clientsContext);
  assert.deepEqual(out, fromSources.render("postfix/relay_clients", clientsContext));
  assert.match(out.content, /^2001:db8:5100::11\/128 OK$/m);
});

test("templates: a template edited after the build is compiled from its new text, the others still come from the build", () => {
  const files = templateFiles();
  const build = built(files);
  const edited = files.map((f) => (f.file === "postfix/relay_clients.hbs" ? { ...f, source: `# edited after the build\n${f.source}` } : f));
  const engine = templateEngine(edited, build);
  assert.deepEqual([engine.precompiled, engine.compiled], [files.length - 1, 1]);
  assert.match(engine.render("postfix/relay_clients", clientsContext).content, /^# edited after the build\n# out1\.relais\.tld: /);
});
