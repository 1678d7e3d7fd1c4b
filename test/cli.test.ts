// The CLI as an operator meets it: exit codes, messages that name what and where, and bad
// input that changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exampleText, exampleWith } from "./support/example.ts";
import { facteurBatch } from "./support/cliBatch.ts";
import { spawnFacteur } from "./support/facteurCli.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function facteur(args: string[], cwd = ROOT) {
  const r = spawnFacteur(args, { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tempStacks(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "facteur-cli-"));
  mkdirSync(join(dir, "stacks"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "stacks", name), text);
  return dir;
}

test("validate: the example stack is valid", () => {
  const r = facteur(["validate", "--stack", "example"]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "stacks/example.facteur.yaml: ok: 3 domains (with relais.tld), 15 addresses, 2 relays, 4 smarthosts\n");
});

test("validate: a bad spec exits 1 with file:line:col and path", () => {
  const dir = tempStacks({ "bad.facteur.yaml": exampleWith("accueil: secretariat@entreprise.tld", "accueil: secretaria@entreprise.tld") });
  try {
    const r = facteur(["validate", "--stack", "bad"], dir);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.match(r.err, /^stacks\/bad\.facteur\.yaml:18:16: domains\."entreprise\.tld"\.aliases\.accueil: dangling alias target secretaria@entreprise\.tld/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad flags and unknown stacks exit 2 and say what is wrong", () => {
  assert.deepEqual(
    facteurBatch([["validate", "--stak", "example"], ["plan", "--stack", "nope"], ["render", "--stack", "example"], ["frobnicate"]]).map(
      (r) => [r.code, r.err.split("\n")[0]!.replace(/\. To specify a positional.*$/, ".")],
    ),
    [
      [2, "facteur validate: Unknown option '--stak'."],
      [2, "facteur plan: no stack \"nope\": stacks/nope.facteur.yaml does not exist"],
      [2, "facteur render: --out DIR is required"],
      [2, 'facteur: unknown command "frobnicate"'],
    ],
  );
});

test("plan --json is the plan; the table shows every record with its reason", () => {
  const json = facteur(["plan", "--stack", "example", "--json"]);
  assert.equal(json.code, 0, json.err);
  const plan = JSON.parse(json.out);
  assert.equal(plan.dns.length, 37);
  const table = facteur(["plan", "--stack", "example"]);
  assert.match(table.out, /^spf-pool +_spf\.relais\.tld +TXT +3600 +v=spf1 ip4:<out1\.ipv4> .* -all +# every smarthost's addresses/m);
  assert.match(table.out, /^ptr:out1:ipv6 +<out1\.ipv6> +out1\.relais\.tld$/m);
});

test("render writes a reviewable tree; an address book fills the placeholders", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-render-"));
  try {
    writeFileSync(join(dir, "addr.yaml"), "out1: { ipv4: 203.0.113.21, ipv6: '2001:db8:113::21' }\n");
    const r = facteur(["render", "--stack", "example", "--out", join(dir, "out"), "--addresses", join(dir, "addr.yaml")]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(readdirSync(join(dir, "out")).sort(), [".facteur-render", "dns.txt", "hosts", "hosts.txt"]);
    assert.deepEqual(readdirSync(join(dir, "out", "hosts")).sort(), ["mx1", "mx2", "out1", "out2", "spam1"]);
    assert.match(readFileSync(join(dir, "out", "dns.txt"), "utf8"), /^a:out1 +out1\.relais\.tld +A +3600 +203\.0\.113\.21 /m);
    assert.match(readFileSync(join(dir, "out/hosts/mx1/etc/postfix/sasl_passwd"), "utf8"), /\$\{secret:faiRelayPassword\}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("render with a bad spec or a bad address book changes nothing in the output tree", () => {
  const dir = tempStacks({ "ok.facteur.yaml": exampleText(), "bad.facteur.yaml": exampleWith("version: 1", "version: 2") });
  try {
    const out = join(dir, "out");
    assert.equal(facteur(["render", "--stack", "ok", "--out", out], dir).code, 0);
    const before = readFileSync(join(out, "dns.txt"), "utf8");
    const bad = facteur(["render", "--stack", "bad", "--out", out], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^stacks\/bad\.facteur\.yaml:3:10: version: expected one of 1$/m);
    writeFileSync(join(dir, "addr.yaml"), "out9: { ipv4: 203.0.113.300 }\n");
    const badBook = facteur(["render", "--stack", "ok", "--out", out, "--addresses", join(dir, "addr.yaml")], dir);
    assert.equal(badBook.code, 1);
    assert.equal(
      badBook.err,
      `${join(dir, "addr.yaml")}:1:15: out9.ipv4: not an IPv4 address (expected one such as 198.51.100.10)\n`,
    );
    assert.equal(readFileSync(join(out, "dns.txt"), "utf8"), before);
    assert.ok(!readdirSync(dir).some((f) => f.includes("facteur-tmp")), "no staging directory left behind");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Usage only: these go through main() as bin.ts runs it, in one process (test/support/cli-batch.ts).
test("<command> --help prints that command's usage and exits 0, running nothing; lab, check and trace print their own", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-help-"));
  try {
    const [validate, diff, render, lab] = facteurBatch([
      ["validate", "--help"],
      ["diff", "--help"],
      // -h too, and before other options: render writes nothing. A stack that does not exist: had render run, it would have failed on it.
      ["render", "--stack", "no-such-stack", "--out", join(dir, "out"), "-h"],
      ["lab", "--help"],
    ]);
    for (const [command, r, line] of [
      ["validate", validate!, /^ {2}validate --stack NAME \| --file PATH {5}check a stack spec/m],
      ["diff", diff!, /^ {2}diff {5}--stack NAME \[--repo DIR\] BASE_REF \[HEAD_REF\]\n {42}markdown of what a change does/m],
    ] as const) {
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^usage: facteur ${command} \\[options\\]\\n`));
      assert.match(r.out, line);
      assert.doesNotMatch(r.out, /^ {2}(lab|check|trace|schema|plan) /m, "only that command's entry");
      assert.equal(r.err, "");
    }
    assert.equal(render!.code, 0, render!.err);
    assert.match(render!.out, /^ {2}render {3}--stack NAME --out DIR \[--addresses FILE\]\n {42}per-host config bundles/m);
    assert.deepEqual(readdirSync(dir), [], "nothing rendered");
    assert.match(lab!.out, /^usage: facteur lab up\|down\|status/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
