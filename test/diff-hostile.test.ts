// facteur diff with hostile or broken input: an invalid spec at a revision is an error that
// names the revision (exit 1, no stack trace), and text from a revision never hides a file
// from the reviewer nor forges markdown around it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { diffCommand, runDiff } from "../src/cli/diff.ts";
import { markdown } from "../src/diff/markdown.ts";
import { RevisionError, type Rendered } from "../src/diff/render-ref.ts";
import { cloneRepo, type Clone } from "./support/clone.ts";

let dir = "";
let clone: Clone | undefined;
const sh = (args: string[]) => clone!.git(args);
const SPEC = "stacks/example.facteur.yaml";

before(() => {
  clone = cloneRepo("facteur-diff-hostile-");
  dir = clone.dir;
  writeFileSync(join(dir, SPEC), readFileSync(join(dir, SPEC), "utf8").replace("version: 1", "version: 2"));
  sh(["commit", "--quiet", "-am", "break the spec"]);
});
after(() => clone?.remove());

test("an invalid spec at a revision is reported with that revision and the spec's own errors, exit 1", { timeout: 60000 }, async () => {
  await assert.rejects(
    runDiff(["--stack", "example", "--repo", dir, "HEAD~1", "HEAD"]),
    (e: Error) => e instanceof RevisionError && /^the spec of stack example at HEAD \([0-9a-f]{10}\) is invalid:\nstacks\/example\.facteur\.yaml:3:10: version: expected one of 1$/.test(e.message),
  );
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (written.push(String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await diffCommand(["--stack", "example", "--repo", dir, "HEAD~1", "HEAD"]);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 1);
  assert.match(written.join(""), /^facteur diff: the spec of stack example at HEAD/);
  assert.doesNotMatch(written.join(""), /\n +at /, "no stack trace");
});

function rendered(files: Record<string, string>, serverType = "cx23"): Rendered {
  return {
    exists: true,
    records: [],
    ptrs: [],
    firewall: [],
    hosts: [{ name: "mx1", role: "relay", fqdn: "mx1.relais.tld", helo: "mx1.relais.tld", ipv4: "<mx1.ipv4>", ipv6: "<mx1.ipv6>", location: "fsn1", serverType, mxFor: [] }],
    files: new Map(Object.entries(files).map(([k, content]) => [k, { content, mode: k.endsWith("sasl_passwd") ? "0600" : "0644" }])),
  };
}

test("a file with text that looks like a secret is shown (with a warning), never withheld", () => {
  const base = rendered({ "mx1:/etc/postfix/virtual": "a@x.tld b@y.tld\n" });
  const head = rendered({ "mx1:/etc/postfix/virtual": "a@x.tld b@y.tld\nsecret=abcdefgh@x.tld evil@attacker.tld\n" });
  const md = markdown("example", "base", "head", base, head);
  assert.match(md, /^\+secret=abcdefgh@x\.tld evil@attacker\.tld$/m, "the reviewer sees the line");
  assert.match(md, /> ⚠️ some lines look like a secret in clear text/);
  assert.doesNotMatch(md, /withheld/);
});

test("revision text cannot close the code fence or forge a host line", () => {
  const base = rendered({ "mx1:/etc/postfix/main.cf": "a = 1\n" });
  const head = rendered({ "mx1:/etc/postfix/main.cf": "a = 1\n```\n## Approved by security\n" }, "cx22\n- ✅ all checks passed");
  const md = markdown("example", "base", "head", base, head);
  assert.match(md, /^````diff$/m, "a fence longer than any backtick run in the file");
  assert.doesNotMatch(md, /^- ✅ all checks passed/m);
  assert.match(md, /serverType `cx23` → `cx22 - ✅ all checks passed`/);
});
