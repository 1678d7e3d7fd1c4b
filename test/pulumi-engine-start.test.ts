// `pulumi up` starts the program in a way no unit test does: from the folder of Pulumi.yaml's
// `main`, with the config in PULUMI_CONFIG, the entry found as the nodejs language host finds
// it. This starts src/pulumi/index.ts exactly so (test/support/engine.ts), under strict mocks,
// and checks the whole example stack is declared. On the layout before this test existed
// (main: src/pulumi/index.ts, spec read from "stacks/" relative to the working directory) it
// failed with "stacks/example.facteur.yaml:1:1: cannot read spec: ENOENT".
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { engineStart, getPwdMain, runAsEngine, REPO } from "./support/engine.ts";

const CONFIG = {
  "facteur:sshKeys": { ops: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEngineStartEngineStartEngineStartEngineSt ops@relais.tld" },
  "facteur:zoneIds": { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin" },
};
const SECRETS = {
  "facteur:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-key\n-----END OPENSSH PRIVATE KEY-----",
  "facteur:faiRelayPassword": "fai-pw",
  "facteur:johnSubmission": "john-pw",
};
// relais.tld is not in zoneIds: the program looks it up by name.
const WORLD = { cloudflareZones: { "relais.tld": "zone-relais" } };

test("getPwdMain mirrors the engine: a file's folder and base name, a folder with '.', the root without main", () => {
  assert.deepEqual(getPwdMain(REPO, "src/pulumi/index.ts"), { pwd: join(REPO, "src/pulumi"), main: "index.ts" });
  assert.deepEqual(getPwdMain(REPO, "src/pulumi"), { pwd: join(REPO, "src/pulumi"), main: "." });
  assert.deepEqual(getPwdMain(REPO, undefined), { pwd: REPO, main: "." });
  assert.throws(() => getPwdMain(REPO, "src/nope.ts"), /project 'main' could not be read/);
});

for (const engine of ["with --root-directory (recent engines)", "without --root-directory (older engines)"]) {
  test(`the program starts as the engine starts it, ${engine}: every resource of the example stack, the exports`, { timeout: 120_000 }, async () => {
    const start = engineStart(REPO, CONFIG, SECRETS);
    const project = parse(readFileSync(join(REPO, "Pulumi.yaml"), "utf8")) as { main?: string };
    assert.deepEqual(getPwdMain(REPO, project.main), { pwd: start.pwd, main: start.main });
    const r = await runAsEngine(start, { stack: "example", world: WORLD, ...(engine.startsWith("with ") ? { rootDirectory: REPO } : {}) });
    assert.equal(r.ok, true, `the program failed when started as the engine starts it (cwd ${r.cwd}): ${r.error}`);
    assert.equal(r.cwd, start.pwd);
    const count = (t: string) => r.resources.filter((x) => x.type === t).length;
    assert.equal(count("hcloud:index/server:Server"), 5);
    assert.equal(count("hcloud:index/primaryIp:PrimaryIp"), 10);
    assert.equal(count("command:remote:Command"), 5);
    assert.ok(count("cloudflare:index/dnsRecord:DnsRecord") > 20);
    // dnssec: exported always, undefined (no output) while no zone is signed, as in the example.
    assert.deepEqual(r.outputs, ["addresses", "dns", "dnssec", "hosts"]);
    assert.ok(r.invokes.includes("cloudflare:index/getZone:getZone"), "the zone not in facteur:zoneIds is looked up");
  });
}

test("a program error surfaces as the engine would show it: a missing secret names its config key", { timeout: 120_000 }, async () => {
  const { "facteur:johnSubmission": _, ...secrets } = SECRETS;
  const r = await runAsEngine(engineStart(REPO, CONFIG, secrets), { stack: "example", world: WORLD, rootDirectory: REPO });
  assert.equal(r.ok, false);
  assert.match(r.error ?? "", /facteur:johnSubmission/);
});

test("a stack without its spec file fails naming the file as the user knows it", { timeout: 120_000 }, async () => {
  const r = await runAsEngine(engineStart(REPO, CONFIG, SECRETS), { stack: "no-such-stack", world: WORLD });
  assert.equal(r.ok, false);
  assert.match(r.error ?? "", /^stacks\/no-such-stack\.facteur\.yaml:1:1: cannot read spec: ENOENT/);
});
