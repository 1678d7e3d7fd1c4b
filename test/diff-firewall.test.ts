// `facteur diff` shows what a change does to the firewalls, rule by rule (ids and reasons), on
// a temp clone of this repo whose second commit widens operator.sshSources and adds a relay
// (which the smarthosts' port 25 must then accept).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runDiff } from "../src/cli/diff.ts";
import { changes } from "../src/diff/markdown.ts";
import type { Rendered } from "../src/diff/render-ref.ts";

const ROOT = resolve(import.meta.dirname, "..");
const SPEC = "stacks/example.facteur.yaml";
let dir = "";
const git = (args: string[], cwd = dir) => {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), "facteur-diff-fw-"));
  git(["clone", "--quiet", "--no-local", ROOT, dir], tmpdir());
  git(["config", "user.email", "t@example.invalid"]);
  git(["config", "user.name", "test"]);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  const spec = readFileSync(join(dir, SPEC), "utf8");
  const next = spec
    .replace("sshSources: [203.0.113.250/32]", "sshSources: [203.0.113.250/32, 2001:db8:ffff::/48]")
    .replace(/(  mx2: \{[^\n]*\}\n)/, "$1  mx3: { location: hel1, serverType: cx23, mxPriority: 30 }\n");
  assert.notEqual(next, spec);
  writeFileSync(join(dir, SPEC), next);
  git(["commit", "--quiet", "-am", "wider SSH sources, a third relay"]);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("facteur diff lists the firewall rules a change touches, each with its id, before and after, and its reason", { timeout: 60000 }, async () => {
  const md = await runDiff(["--stack", "example", "--repo", dir, "HEAD~1", "HEAD"]);
  const section = md.slice(md.indexOf("### Firewall (inbound)"), md.indexOf("###", md.indexOf("### Firewall (inbound)") + 5));
  const rows = section.split("\n").filter((l) => l.startsWith("| ✏️") || l.startsWith("| ➕") || l.startsWith("| ➖"));
  assert.deepEqual(rows.map((l) => /`(fw:[^`]+)`/.exec(l)![1]).sort(), ["fw:relay:ssh", "fw:smarthost:smtp", "fw:smarthost:ssh"]);
  assert.match(section, /\| ✏️ changed \| `fw:relay:ssh` \| `tcp 22 from 203\.0\.113\.250\/32` → `tcp 22 from 203\.0\.113\.250\/32 2001:db8:ffff::\/48` \| SSH from the operator/);
  assert.match(
    section,
    /\| ✏️ changed \| `fw:smarthost:smtp` \| `tcp 25 from <mx1\.ipv4>\/32 <mx1\.ipv6>\/128 <mx2\.ipv4>\/32 <mx2\.ipv6>\/128` → `tcp 25 from <mx1\.ipv4>\/32 <mx1\.ipv6>\/128 <mx2\.ipv4>\/32 <mx2\.ipv6>\/128 <mx3\.ipv4>\/32 <mx3\.ipv6>\/128` \| SMTP from the relays only/,
  );
  assert.match(md, /\*\*3\*\* firewall rule/);
});

test("a revision from before firewalls were plan data shows every rule as added; none changed shows none", () => {
  const rule = { id: "fw:relay:smtp", firewall: "fw:relay", protocol: "tcp" as const, port: 25, sources: ["0.0.0.0/0"], reason: "r" };
  const empty: Rendered = { exists: true, records: [], ptrs: [], hosts: [], firewall: [], files: new Map() };
  assert.deepEqual(changes(empty, { ...empty, firewall: [rule] }).firewall.added.map((r) => r.id), ["fw:relay:smtp"]);
  const same = changes({ ...empty, firewall: [rule] }, { ...empty, firewall: [{ ...rule, sources: ["0.0.0.0/0"] }] }).firewall;
  assert.deepEqual([same.added, same.removed, same.changed], [[], [], []]);
  const moved = changes({ ...empty, firewall: [rule] }, { ...empty, firewall: [{ ...rule, port: 2525 }] }).firewall;
  assert.deepEqual(moved.changed.map((c) => [c.before.port, c.after.port]), [[25, 2525]]);
});
