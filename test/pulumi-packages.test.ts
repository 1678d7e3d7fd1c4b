// The provider packages are real releases of their projects: the version npm installed is the
// version the package asks the engine for as its plugin (package.json "pulumi" field and install
// script). @pulumi/command 4.5.0, npm's "latest", failed this: "version": "v4.5.0", a plugin
// "command v4.5.0" that pulumi/pulumi-command never released (its releases are 0.x to 1.2.1).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

const pkg = (name: string) => JSON.parse(readFileSync(new URL(`../node_modules/@pulumi/${name}/package.json`, import.meta.url), "utf8"));

for (const name of ["hcloud", "cloudflare", "tls", "command"]) {
  test(`@pulumi/${name}: a release whose plugin is its own version`, () => {
    const p = pkg(name);
    assert.match(p.version, /^\d+\.\d+\.\d+$/, "a plain semver, no 'v' prefix");
    assert.deepEqual([p.pulumi?.resource, p.pulumi?.name, p.pulumi?.version], [true, name, p.version], "the plugin the engine is asked for");
    const install = p.scripts?.install as string | undefined;
    if (install) assert.equal(install, `node scripts/install-pulumi-plugin.js resource ${name} ${p.version}`);
  });
}

test("@pulumi/command is on its 1.x line (the one with dialErrorLimit, perDialTimeout and logging)", () => {
  assert.match(pkg("command").version, /^1\./);
  const range = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).dependencies["@pulumi/command"];
  assert.equal(range, "^1.2.1");
});
