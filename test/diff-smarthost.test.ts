// `facteur diff` on a temp clone of this repo: the second commit adds a smarthost. The markdown
// must list exactly its records, the changed pool SPF, its PTRs and files, and no relay change.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runDiff } from "../src/cli/diff.ts";
import { unifiedDiff } from "../src/diff/unified.ts";
import { secretLeak } from "../src/diff/markdown.ts";
import { renderTree } from "../src/diff/render-ref.ts";
import { ROOT, cloneRepo, type Clone } from "./support/clone.ts";

let dir = "";
let clone: Clone | undefined;
const sh = (args: string[]) => clone!.git(args);
const SPEC = "stacks/example.facteur.yaml";

before(() => {
  clone = cloneRepo("facteur-diff-test-");
  dir = clone.dir;
  const spec = readFileSync(join(dir, SPEC), "utf8");
  assert.ok(spec.includes("  out2: { kind: own, location: hel1, serverType: cx23 }\n"));
  writeFileSync(join(dir, SPEC), spec.replace("  out2: { kind: own, location: hel1, serverType: cx23 }\n", "$&  out3: { kind: own, location: nbg1, serverType: cx23 }\n"));
  sh(["commit", "--quiet", "-am", "add smarthost out3"]);
});
after(() => clone?.remove());

test("adding a smarthost: exactly its records, the pool SPF, its PTRs and files; relays untouched", { timeout: 60000 }, async () => {
  const md = await runDiff(["--stack", "example", "--repo", dir, "HEAD~1", "HEAD"]);
  const rows = md.split("\n").filter((l) => /^\| (➕|➖|✏️)/.test(l));
  const ids = rows.map((l) => `${l.split("|")[1]!.trim().split(" ")[1]} ${/`([^`]+)`/.exec(l.split("|")[2]!)![1]}`);
  assert.deepEqual(ids.sort(), ["added a:out3", "added aaaa:out3", "added helo-spf:out3", "added pool-mx:out3", "changed spf-pool"]);
  assert.match(md, /\| ✏️ changed \| `spf-pool` \| `_spf\.relais\.tld 3600 TXT v=spf1 ip4:<out1\.ipv4> ip6:<out1\.ipv6> ip4:<out2\.ipv4> ip6:<out2\.ipv6> ip4:<spam1\.ipv4> ip6:<spam1\.ipv6> include:_spf\.fai\.tld -all` → `_spf\.relais\.tld 3600 TXT v=spf1 .*ip4:<out3\.ipv4> ip6:<out3\.ipv6> ip4:<spam1\.ipv4> ip6:<spam1\.ipv6> include:_spf\.fai\.tld -all` \|/);
  assert.match(md, /\| ➕ added \| `pool-mx:out3` \| `pool\.relais\.tld 3600 MX 10 out3\.relais\.tld` \| clean outbound pool member out3/);
  assert.match(md, /- ➕ `ptr:out3:ipv4`: `<out3\.ipv4> PTR out3\.relais\.tld`/);
  assert.match(md, /- ➕ `ptr:out3:ipv6`/);
  assert.match(md, /- ➕ \*\*out3\*\*: new smarthost \(clean lane\) `out3\.relais\.tld`, cx23 in nbg1/);
  assert.match(md, /<summary>New host <b>out3<\/b>: \d+ new files \(.*\/etc\/postfix\/main\.cf/);
  const fileHeads = [...md.matchAll(/^#### (\w+): `([^`]+)`/gm)].map((m) => m[1]);
  assert.ok(fileHeads.length > 5);
  assert.deepEqual([...new Set(fileHeads)], ["out3"], "only the new host's files change: no relay (or other smarthost) file");
  assert.match(md, /\+myhostname = out3\.relais\.tld/);
  assert.doesNotMatch(md, /^#### mx\d/m);
  assert.doesNotMatch(md, /➖/);
  // Secrets appear only as references.
  assert.doesNotMatch(md, /\$\{secret:[^}]*\}[^\n]*\$\{secret/, "sanity");
  assert.doesNotMatch(md, /withheld/);
});

test("HEAD_REF defaults to the working tree; no change says so", { timeout: 60000 }, async () => {
  assert.match(await runDiff(["--stack", "example", "--repo", dir, "HEAD"]), /No change to DNS records, PTRs, hosts, firewall rules or rendered configuration/);
  const spec = readFileSync(join(dir, SPEC), "utf8");
  writeFileSync(join(dir, SPEC), spec.replace("  out3: { kind: own, location: nbg1, serverType: cx23 }\n", "  out3: { kind: own, location: nbg1, serverType: cx23, drain: true }\n"));
  try {
    const md = await runDiff(["--stack", "example", "--repo", dir, "HEAD"]);
    assert.match(md, /working tree/);
    assert.match(md, /\| ➖ removed \| `pool-mx:out3` \|/); // drained: out of the pool MX, keeps its A/AAAA/PTR and SPF
    assert.match(md, /- ✏️ \*\*out3\*\*: drain `false` → `true`/);
    assert.doesNotMatch(md, /a:out3|ptr:out3/);
  } finally {
    writeFileSync(join(dir, SPEC), spec);
  }
});

test("unified diff and the secret guard", () => {
  assert.equal(unifiedDiff("a\nb\nc\n", "a\nb\nc\n"), "");
  assert.equal(unifiedDiff("a\nb\nc\n", "a\nB\nc\n"), "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c");
  assert.equal(unifiedDiff("", "x\n"), "@@ -0,0 +1,1 @@\n+x");
  assert.equal(secretLeak("relay:/etc/postfix/sasl_passwd", "[smtp.fai.tld]:587 relais@fai.tld:${secret:faiRelayPassword}\n", "0600"), undefined);
  assert.match(secretLeak("relay:/etc/postfix/sasl_passwd", "[smtp.fai.tld]:587 relais@fai.tld:hunter2hunter2\n", "0600")!, /secret in clear text/);
  assert.match(secretLeak("x", "password = s3cr3tvalue\n", "0644")!, /secret in clear text/);
});

test("the real stack renders with no secret filled in any file", async () => {
  const r = await renderTree(ROOT, "example");
  for (const [k, f] of r.files) assert.equal(secretLeak(k, f.content, f.mode), undefined, k);
  // The loop above looked at files that do carry secrets (as references), and would have caught them filled in.
  const withRefs = [...r.files].filter(([, f]) => /\$\{secret:[^}]+\}/.test(f.content));
  assert.ok(withRefs.length > 0, "no rendered file references a secret: the check above proved nothing");
  for (const [k, f] of withRefs) assert.match(secretLeak(k, f.content.replace(/\$\{secret:[^}]+\}/g, "hunter2hunter2"), f.mode) ?? "", /secret in clear text/, k);
});
