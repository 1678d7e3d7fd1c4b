// The apply script that pushes a bundle to a host, run for real under bash in a temporary
// root, with postfix/opendkim/systemctl stubbed: stage, check, swap; a configuration that fails
// `postfix check` is rolled back and nothing is reloaded (the running mail flow is kept).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderStack } from "../src/render/render.ts";
import type { HostBundle } from "../src/render/bundle.ts";
import { applyCommand, applyScript, bundleHash, cloudInit, secretsNeeded } from "../src/pulumi/apply.ts";
import { examplePlan } from "./helpers/example.ts";

const { model, plan } = examplePlan();
const bundles = renderStack(model, plan, { root: "" });
const bundle = (h: string) => bundles.find((b) => b.host === h)!;
const SECRETS = { faiRelayPassword: "fai-pw", johnSubmission: "john pw with 'quote'" };
const pem = (n: string) => `-----BEGIN RSA PRIVATE KEY-----\n${n}\n-----END RSA PRIVATE KEY-----\n`;
const keysOf = (b: HostBundle) => Object.fromEntries(b.dkimKeys.map((k) => [k.path, pem(k.domain)]));

const STUBS: Record<string, string> = {
  // postfix check fails when main.cf says so; everything else is logged.
  postfix: `if [ "$3" = check ] && grep -q BROKEN "$2/main.cf"; then echo "fatal: main.cf is BROKEN"; exit 1; fi; [ "$3" = status ] && exit 1; echo "postfix $3" >>"$LOG"`,
  postmap: `f="\${1#hash:}"; cp "$f" "$f.db"`,
  opendkim: `echo "opendkim $*" >>"$LOG"`,
  saslpasswd2: `pw=$(cat); f=; while [ $# -gt 1 ]; do case "$1" in -f) f="$2"; shift;; -u) u="$2"; shift;; esac; shift; done; echo "$1@$u:$pw" >>"$f"`,
  systemctl: `echo "systemctl $*" >>"$LOG"`,
  hostnamectl: `echo "hostnamectl $*" >>"$LOG"`,
  openssl: `while [ $# -gt 0 ]; do case "$1" in -keyout) echo key >"$2"; shift;; -out) echo cert >"$2"; shift;; esac; shift; done`,
};

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "facteur-apply-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const root = join(dir, "root");
  mkdirSync(root);
  const log = join(dir, "log");
  writeFileSync(log, "");
  const apply = (script: string) =>
    spawnSync("bash", ["-c", applyCommand("0".repeat(64)).replace(/mktemp \/root\//, `mktemp ${dir}/`)], {
      input: script,
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env.PATH}`, FACTEUR_ROOT: root, FACTEUR_NO_CHOWN: "1", LOG: log },
    });
  const read = (p: string) => readFileSync(join(root, p), "utf8");
  const takeLog = () => {
    const l = readFileSync(log, "utf8");
    writeFileSync(log, "");
    return l;
  };
  return { dir, root, apply, read, takeLog, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("apply: stages, postmaps, writes DKIM keys and sasldb, checks, then reloads; leaves nothing behind", () => {
  const s = sandbox();
  try {
    const b = bundle("out1");
    const r = s.apply(applyScript(b, SECRETS, keysOf(b)));
    assert.equal(r.status, 0, r.stderr);
    for (const f of b.files) {
      assert.equal(s.read(f.path), f.content.replace(/\$\{secret:(\w+)\}/g, (_, n: string) => SECRETS[n as keyof typeof SECRETS]));
      assert.equal((statSync(join(s.root, f.path)).mode & 0o777).toString(8), f.mode.slice(1));
      if (f.postmap) assert.ok(existsSync(join(s.root, `${f.path}.db`)), `${f.path}.db`);
    }
    for (const k of b.dkimKeys) {
      assert.equal(s.read(k.path), pem(k.domain));
      assert.equal((statSync(join(s.root, k.path)).mode & 0o777).toString(8), "600");
    }
    assert.equal(s.read("/etc/sasldb2"), `john@entreprise.tld:${SECRETS.johnSubmission}\n`);
    // The maillog exists before any root-run postfix command could create it root-owned.
    assert.equal((statSync(join(s.root, "var/log/postfix.log")).mode & 0o777).toString(8), "640");
    const log = s.takeLog();
    assert.match(log, /opendkim -n -x .*\/etc\/opendkim\.conf/);
    assert.match(log, /systemctl reload-or-restart opendkim/);
    assert.match(log, /systemctl restart postfix/);
    assert.deepEqual(readdirSync(join(s.root, "var/lib/facteur")), [], "staging and backup (they hold secrets) are removed");
  } finally {
    s.done();
  }
});

test("apply: a configuration that fails `postfix check` is rolled back, nothing is reloaded", () => {
  const s = sandbox();
  try {
    const b = bundle("mx1");
    assert.equal(s.apply(applyScript(b, SECRETS, {})).status, 0);
    s.takeLog();
    const good = s.read("/etc/postfix/main.cf");
    const goodVirtual = s.read("/etc/postfix/virtual.db");
    const broken: HostBundle = {
      ...b,
      files: b.files.map((f) =>
        f.path === "/etc/postfix/main.cf" ? { ...f, content: `${f.content}\nBROKEN = yes\n` } : f.path === "/etc/postfix/virtual" ? { ...f, content: "new@entreprise.tld x@y.tld\n" } : f,
      ),
    };
    const r = s.apply(applyScript(broken, SECRETS, {}));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /REJECTED, previous configuration kept: postfix check: fatal: main.cf is BROKEN/);
    assert.equal(s.read("/etc/postfix/main.cf"), good);
    assert.equal(s.read("/etc/postfix/virtual.db"), goodVirtual, "tables are rolled back with their .db");
    assert.doesNotMatch(s.takeLog(), /reload|restart/);
  } finally {
    s.done();
  }
});

test("apply: a missing secret or DKIM key is an error naming it, before anything runs", () => {
  const b = bundle("out1");
  assert.throws(() => applyScript(b, { faiRelayPassword: "x" }, keysOf(b)), /johnSubmission/);
  assert.throws(() => applyScript(b, SECRETS, {}), /no DKIM private key for entreprise\.tld\/e2026a/);
  assert.deepEqual(secretsNeeded(bundle("mx1")), ["faiRelayPassword"]);
  assert.deepEqual(secretsNeeded(b), ["johnSubmission"]);
});

test("bundle hash: changes with content and keys, never carries or depends on secret values", () => {
  const b = bundle("mx1");
  const h = bundleHash(b, {});
  assert.equal(bundleHash(b, {}), h);
  assert.notEqual(bundleHash({ ...b, files: [...b.files, { path: "/etc/x", content: "", mode: "0644" }] }, {}), h);
  const o = bundle("out1");
  assert.notEqual(bundleHash(o, { "entreprise.tld/e2026a": "AAA" }), bundleHash(o, { "entreprise.tld/e2026a": "BBB" }));
  assert.match(applyCommand(h), new RegExp(`^: facteur-bundle ${h}; `));
});

test("cloud-init: host named by its PTR/HELO name, the packages its configs need, no configuration and no secret", () => {
  const relay = cloudInit({ name: "mx1", fqdn: "mx1.relais.tld", role: "relay" });
  assert.match(relay, /^fqdn: mx1\.relais\.tld$/m);
  assert.match(relay, /^packages: \[postfix, opendkim, opendkim-tools, postsrsd, sasl2-bin, libsasl2-modules, openssl, ca-certificates, rspamd\]$/m);
  assert.match(relay, /postfix postfix\/main_mailer_type select No configuration/);
  assert.match(cloudInit({ name: "out1", fqdn: "out1.relais.tld", role: "smarthost" }), /policyd-rate-limit\]$/m);
  assert.doesNotMatch(relay, /secret|password|PRIVATE/i);
});
