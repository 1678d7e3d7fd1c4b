// The apply script that pushes a bundle to a host, run for real under bash in a temporary
// root, with postfix/opendkim/systemctl/apt stubbed: packages, stage, swap, check, reload. Every
// failure after the swap is injected for real (a check, a command between the swap and the
// checks, a reload) and must leave the previous configuration in place, byte for byte; a
// blocked port 25 fails the apply loudly but keeps the (good) new configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { renderStack } from "../src/render/render.ts";
import type { BundleFile, HostBundle } from "../src/render/bundle.ts";
import { applyCommand, applyScript, bundleHash, cloudInit, secretsNeeded, EXIT_SMTP_BLOCKED, type ApplyOptions } from "../src/pulumi/apply.ts";
import { examplePlan, exampleWith } from "./support/example.ts";
import { applySandbox } from "./support/applySandbox.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { daemonFacts } from "../src/render/daemons/index.ts";
import { X509Certificate, createPublicKey, generateKeyPairSync } from "node:crypto";

const { model, plan } = examplePlan();
const bundles = renderStack(model, plan, { root: "" });
const bundle = (h: string) => bundles.find((b) => b.host === h)!;
const SECRETS = { faiRelayPassword: "fai-pw-Secret-1", johnSubmission: "john pw with 'quote'" };
const pem = (n: string) => `-----BEGIN RSA PRIVATE KEY-----\n${n}\n-----END RSA PRIVATE KEY-----\n`;
const keysOf = (b: HostBundle) => Object.fromEntries(b.dkimKeys.map((k) => [k.path, pem(k.domain)]));
const KEYS = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIApplyTestApplyTestApplyTestApplyTestApplyTe facteur:sshKeys.ops\n";
const OPTIONS = (b: HostBundle, extra: Partial<ApplyOptions> = {}): ApplyOptions => ({ packages: b.packages, authorizedKeys: KEYS, smtpProbeHosts: ["mx.probe.test"], ...extra });

const STUBS: Record<string, string> = {
  // postfix check fails when main.cf says BROKEN; postfix reload fails when it says BROKEN_RELOAD.
  postfix: [
    'if [ "$3" = check ] && grep -q "BROKEN\\b" "$2/main.cf"; then echo "fatal: main.cf is BROKEN"; exit 1; fi',
    '[ "$3" = status ] && exit 1',
    'echo "postfix $3" >>"$LOG"',
  ].join("\n"),
  postmap: `[ "$1" = -c ] && [ -f "$2/main.cf" ] || { echo "postmap: fatal: open $2/main.cf: no such file"; exit 1; }; f="\${3#hash:}"; [ -n "\${FAIL_POSTMAP:-}" ] && { echo "postmap: fatal: cannot write"; exit 1; }; cp "$f" "$f.db"`,
  opendkim: `echo "opendkim $*" >>"$LOG"`,
  saslpasswd2: `pw=$(cat); f=; while [ $# -gt 1 ]; do case "$1" in -f) f="$2"; shift;; -u) u="$2"; shift;; esac; shift; done; echo "$1@$u:$pw" >>"$f"`,
  // A (re)load reads the live configuration: it fails while that configuration says BROKEN_RELOAD.
  systemctl: `echo "systemctl $*" >>"$LOG"; if [ "$1" = restart ] && grep -q BROKEN_RELOAD "$FACTEUR_ROOT/etc/postfix/main.cf"; then echo "Job for postfix.service failed"; exit 1; fi`,
  hostnamectl: `echo "hostnamectl $*" >>"$LOG"`,
  openssl: `[ -n "\${FAIL_OPENSSL:-}" ] && { echo "openssl: out of entropy"; exit 1; }; while [ $# -gt 0 ]; do case "$1" in -keyout) echo key >"$2"; shift;; -out) echo cert >"$2"; shift;; esac; shift; done`,
  // Packages: installed are those listed in $INSTALLED. As dpkg-query -W -f='${Status} ${Package}\n':
  // a line per package it knows, exit 1 when one is unknown.
  "dpkg-query": `rc=0; for a in "$@"; do case "$a" in -*) continue;; esac; if [[ " $INSTALLED " == *" $a "* ]]; then echo "install ok installed $a"; else echo "dpkg-query: no packages found matching $a" >&2; rc=1; fi; done; exit $rc`,
  "apt-get": `echo "apt-get $*" >>"$LOG"`,
  "debconf-set-selections": `echo "debconf $(cat)" >>"$LOG"`,
  // The port 25 probe: connects unless SMTP_BLOCKED is set.
  timeout: `echo "timeout $*" >>"$LOG"; [ -z "\${SMTP_BLOCKED:-}" ]`,
};

function sandbox() {
  return applySandbox(STUBS, { INSTALLED: [...bundle("mx1").packages, ...bundle("out1").packages].join(" ") });
}

/** A bundle whose main.cf is changed (and whose virtual table is new), to tell new from old. */
function changed(b: HostBundle, mainCfExtra: string): HostBundle {
  return {
    ...b,
    files: b.files.map((f) =>
      f.path === "/etc/postfix/main.cf" ? { ...f, content: `${f.content}\n${mainCfExtra}\n` } : f.path === "/etc/postfix/virtual" ? { ...f, content: "new@entreprise.tld x@y.tld\n" } : f,
    ),
  };
}

/** out1's apply script with `extra` files staged beside its bundle's own. */
function out1ScriptWith(extra: BundleFile[]): string {
  const b = bundle("out1");
  return applyScript({ ...b, files: [...b.files, ...extra] }, SECRETS, keysOf(b), OPTIONS(b));
}

test("apply: each staged file gets its mode exactly, made at creation (0644, 0640, 0600) or set after it (execute and setgid bits)", () => {
  const s = sandbox();
  try {
    // Bundles hold 0644, 0640 and 0600 today; the others prove the script does not depend on it.
    const modes = ["0644", "0640", "0600", "0755", "0750", "2755"];
    const extra = modes.map((mode) => ({ path: `/usr/local/lib/facteur/mode-${mode}`, mode: mode as BundleFile["mode"], content: `#!/bin/sh\n# ${mode}\n` }));
    const r = s.apply(out1ScriptWith(extra));
    assert.equal(r.status, 0, r.stderr);
    for (const f of extra) {
      assert.equal(s.read(f.path), f.content);
      assert.equal((statSync(join(s.root, f.path)).mode & 0o7777).toString(8), f.mode.replace(/^0/, ""), f.path);
    }
  } finally {
    s.done();
  }
});

test("apply: a file's bytes go through as they are (quotes, backslashes, $( ), backticks, escapes, no final newline, UTF-8); a NUL byte is refused before anything runs", () => {
  const s = sandbox();
  try {
    const contents = [
      "it's a 'quoted' line\\n with \\\\ backslashes\\\\\n",
      "$(touch /tmp/facteur-pwned) `id` ${HOME} $'x' \\x41\\u00e9 \\0 \\\n",
      "no final newline; tab\there; CR\r; bell\u0007",
      "UTF-8: é ß 日本 🙂\n\n\n",
      "",
    ];
    const extra = contents.map((content, i) => ({ path: `/etc/facteur/bytes-${i}`, mode: "0644" as BundleFile["mode"], content }));
    const r = s.apply(out1ScriptWith(extra));
    assert.equal(r.status, 0, r.stderr);
    for (const f of extra) assert.equal(s.read(f.path), f.content, f.path);
    assert.equal(existsSync("/tmp/facteur-pwned"), false);
    const nul = { path: "/etc/facteur/nul", mode: "0644" as BundleFile["mode"], content: "a\0b" };
    assert.throws(() => out1ScriptWith([nul]), /\/etc\/facteur\/nul: a NUL byte cannot be written/);
  } finally {
    s.done();
  }
});

test("apply: stages, postmaps, writes DKIM keys, sasldb and authorized_keys, checks, then reloads; leaves nothing behind", () => {
  const s = sandbox();
  try {
    const b = bundle("out1");
    const r = s.apply(applyScript(b, SECRETS, keysOf(b), OPTIONS(b)));
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
    // Dated back (src/gate/postfix.ts, cool): Postfix reads the new main.cf without waiting up to 2 s for it to cool down.
    const mainCf = b.files.find((f) => f.path.endsWith("/postfix/main.cf"))!.path;
    assert.ok(statSync(join(s.root, mainCf)).mtimeMs < Date.now() - 3000, `${mainCf} is dated back`);
    assert.equal(s.read("/etc/sasldb2"), `john@entreprise.tld:${SECRETS.johnSubmission}\n`);
    assert.equal(s.read("/root/.ssh/authorized_keys"), KEYS);
    assert.equal((statSync(join(s.root, "root/.ssh/authorized_keys")).mode & 0o777).toString(8), "600");
    assert.equal((statSync(join(s.root, "root/.ssh")).mode & 0o777).toString(8), "700");
    // The maillog exists before any root-run postfix command could create it root-owned.
    assert.equal((statSync(join(s.root, "var/log/postfix.log")).mode & 0o777).toString(8), "640");
    const log = s.takeLog();
    assert.match(log, /opendkim -n -x .*\/etc\/opendkim\.conf/);
    assert.match(log, /systemctl reload-or-restart opendkim/);
    assert.match(log, /systemctl restart postfix/);
    assert.match(log, /^timeout 10 bash -c .* _ mx\.probe\.test$/m, "outbound port 25 is probed");
    assert.doesNotMatch(log, /apt-get/, "every package is there: nothing installed");
    assert.deepEqual(s.leftovers(), [], "staging and backup (they hold secrets) are removed");
    // Only the script's own lines reach stderr (the one stream the apply command logs), and no secret.
    for (const line of r.stderr.trim().split("\n")) assert.match(line, /^facteur out1: /);
    for (const v of Object.values(SECRETS)) assert.ok(!r.stderr.includes(v) && !r.stdout.includes(v));
  } finally {
    s.done();
  }
});

test("apply: a package the role needs and the host lacks is installed, non-interactively, before anything is staged", () => {
  const s = sandbox();
  try {
    const b = bundle("mx1");
    const r = s.apply(applyScript(b, SECRETS, {}, OPTIONS(b)), { INSTALLED: bundle("mx1").packages.filter((p) => p !== "rspamd").join(" ") });
    assert.equal(r.status, 0, r.stderr);
    const log = s.takeLog();
    assert.match(log, /^debconf postfix postfix\/main_mailer_type select No configuration$/m);
    assert.match(log, /^apt-get install -y -qq --no-install-recommends rspamd$/m);
    assert.ok(log.indexOf("apt-get install") < log.indexOf("postfix check"), "installed before the checks that need it");
    assert.match(r.stderr, /facteur mx1: installing rspamd/);
  } finally {
    s.done();
  }
});

test("apply with metrics (operator.monitoringSources): the exporter is installed, its arguments written, enabled and restarted, then only when they change", () => {
  const s = sandbox();
  try {
    const { model, plan } = examplePlan(exampleWith("  sshSources: [203.0.113.250/32]\n", "  sshSources: [203.0.113.250/32]\n  monitoringSources: [192.0.2.0/28]\n"));
    const b = renderStack(model, plan, { root: "" }).find((x) => x.host === "mx1")!;
    const installed = bundle("mx1").packages.join(" ");
    const r = s.apply(applyScript(b, SECRETS, {}, OPTIONS(b)), { INSTALLED: installed });
    assert.equal(r.status, 0, r.stderr);
    assert.match(s.read("/etc/default/prometheus-postfix-exporter"), /^ARGS="--web\.listen-address=:9154 .*--postfix\.logfile_path=\/var\/log\/postfix\.log /m);
    let log = s.takeLog();
    assert.match(log, /^apt-get install -y -qq --no-install-recommends prometheus-postfix-exporter$/m);
    assert.match(log, /^systemctl enable --quiet prometheus-postfix-exporter$/m);
    assert.match(log, /^systemctl restart prometheus-postfix-exporter$/m, "new arguments: restarted (it has no reload)");
    assert.equal(s.apply(applyScript(b, SECRETS, {}, OPTIONS(b)), { INSTALLED: `${installed} prometheus-postfix-exporter` }).status, 0);
    log = s.takeLog();
    assert.doesNotMatch(log, /restart prometheus-postfix-exporter/, "same arguments: not restarted (reload-or-restart would restart it too: it has no reload)");
    assert.match(log, /^systemctl start prometheus-postfix-exporter$/m, "started, should it be down");
  } finally {
    s.done();
  }
});

/**
 * Applies a host's bundle, then a changed one (main.cf + `extra`) under `env`: what the second
 * apply did, and the live tree just before it. `between` runs after the first apply.
 */
function applyThenChange(host: string, extra: string, env: Record<string, string> = {}, between?: (s: ReturnType<typeof sandbox>, b: HostBundle) => void) {
  const s = sandbox();
  try {
    const b = bundle(host);
    assert.equal(s.apply(applyScript(b, SECRETS, keysOf(b), OPTIONS(b))).status, 0);
    between?.(s, b);
    s.takeLog();
    const before = s.tree();
    const r = s.apply(applyScript(changed(b, extra), SECRETS, keysOf(b), OPTIONS(b)), env);
    return { r, before, after: s.tree(), log: s.takeLog(), leftovers: s.leftovers() };
  } finally {
    s.done();
  }
}

test("apply: a configuration that fails `postfix check` is rolled back, nothing is reloaded", () => {
  const { r, before, after, log, leftovers } = applyThenChange("mx1", "BROKEN = yes");
  assert.equal(r.status, 1);
  assert.match(r.stderr, /REJECTED, previous configuration kept: postfix check: fatal: main.cf is BROKEN/);
  assert.deepEqual(after, before, "every file back as it was, tables with their .db");
  assert.doesNotMatch(log, /reload|restart|timeout/);
  assert.deepEqual(leftovers, []);
});

test("apply: a command failing between the swap and the checks restores the previous configuration (no longer lost to set -e)", () => {
  // The TLS key pair is made again (it is gone), by an openssl that fails.
  const { r, before, after, log, leftovers } = applyThenChange("out1", "# a new setting", { FAIL_OPENSSL: "1" }, (s, b) => unlinkSync(join(s.root, b.tls.key.slice(1))));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /facteur out1: FAILED after the swap \(line \d+: +openssl req .*\): previous configuration restored/);
  assert.deepEqual(after, before);
  assert.doesNotMatch(log, /postfix check|reload|restart/, "nothing checked or reloaded");
  assert.deepEqual(leftovers, []);
});

test("apply: a reload that fails restores the previous files and reloads them", () => {
  const { r, before, after, log, leftovers } = applyThenChange("mx1", "# BROKEN_RELOAD");
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /FAILED after the swap \(line \d+: .*systemctl restart postfix.*\): previous configuration restored/);
  assert.deepEqual(after, before);
  // The failed restart, then the previous configuration restarted successfully.
  assert.equal(log.match(/systemctl restart postfix/g)?.length, 2, log);
  assert.doesNotMatch(r.stderr, /failed too/);
  assert.doesNotMatch(log, /^timeout/m, "no probe on a failed apply");
  assert.deepEqual(leftovers, []);
});

test("apply: a failure while staging touches nothing live", () => {
  const { r, before, after, leftovers } = applyThenChange("mx1", "# new", { FAIL_POSTMAP: "1" });
  assert.notEqual(r.status, 0);
  assert.doesNotMatch(r.stderr, /after the swap/);
  assert.deepEqual(after, before);
  assert.deepEqual(leftovers, []);
});

test("apply: outbound port 25 blocked (a new Hetzner project) fails loudly, naming the cause; the good configuration stays live", () => {
  const s = sandbox();
  try {
    const b = bundle("out1");
    const r = s.apply(applyScript(b, SECRETS, keysOf(b), OPTIONS(b, { smtpProbeHosts: ["gmail-smtp-in.l.google.com", "mta5.am0.yahoodns.net"] })), { SMTP_BLOCKED: "1" });
    assert.equal(r.status, EXIT_SMTP_BLOCKED);
    assert.match(r.stderr, /OUTBOUND SMTP BLOCKED: none of gmail-smtp-in\.l\.google\.com mta5\.am0\.yahoodns\.net accepted a connection on port 25 .*Hetzner.*ports 25 and 465.*The configuration is applied/);
    assert.doesNotMatch(r.stderr, /restored/);
    assert.equal(s.read("/etc/postfix/main.cf"), b.files.find((f) => f.path === "/etc/postfix/main.cf")!.content, "the configuration is live");
    const log = s.takeLog();
    assert.match(log, /systemctl restart postfix/);
    assert.equal(log.match(/^timeout /gm)?.length, 2, "every probe host tried");
    // An empty probe list turns it off.
    assert.equal(s.apply(applyScript(b, SECRETS, keysOf(b), OPTIONS(b, { smtpProbeHosts: [] })), { SMTP_BLOCKED: "1" }).status, 0);
  } finally {
    s.done();
  }
});

test("apply: the checks live in one function, a line per check (where a deploy gate hooks in)", () => {
  const script = applyScript(bundle("out1"), SECRETS, keysOf(bundle("out1")), OPTIONS(bundle("out1")));
  const body = /^checks\(\) \{\n([\s\S]*?)\n\}$/m.exec(script)?.[1];
  assert.ok(body, "a checks() function");
  assert.deepEqual(
    body.split("\n").map((l) => /^ {2}check "([^"]+)"/.exec(l)?.[1]),
    ["postfix check", "deploy gate", "opendkim -n"],
  );
  assert.equal(script.match(/^if ! checks; then$/gm)?.length, 1);
  assert.doesNotMatch(applyScript(bundle("mx1"), SECRETS, {}, OPTIONS(bundle("mx1"))), /opendkim -n/, "relays run no OpenDKIM");
});

test("apply: a missing secret or DKIM key is an error naming it, before anything runs; an empty authorized_keys is refused", () => {
  const b = bundle("out1");
  assert.throws(() => applyScript(b, { faiRelayPassword: "x" }, keysOf(b)), /johnSubmission/);
  assert.throws(() => applyScript(b, SECRETS, {}), /no DKIM private key for entreprise\.tld\/e2026a/);
  assert.throws(() => applyScript(b, SECRETS, keysOf(b), OPTIONS(b, { authorizedKeys: " \n" })), /lock everyone out/);
  assert.deepEqual(secretsNeeded(bundle("mx1")), ["faiRelayPassword"]);
  assert.deepEqual(secretsNeeded(b), ["johnSubmission"]);
});

test("bundle hash: changes with content, keys and apply options, never carries or depends on secret values", () => {
  const b = bundle("mx1");
  const h = bundleHash(b, {}, OPTIONS(b));
  assert.equal(bundleHash(b, {}, OPTIONS(b)), h);
  assert.notEqual(bundleHash({ ...b, files: [...b.files, { path: "/etc/x", content: "", mode: "0644" }] }, {}, OPTIONS(b)), h);
  assert.notEqual(bundleHash(b, {}, OPTIONS(b, { authorizedKeys: KEYS + KEYS })), h, "a new SSH key reaches every host");
  assert.notEqual(bundleHash(b, {}, OPTIONS(b, { packages: [...bundle("mx1").packages, "x"] })), h, "a new package reaches every host");
  const o = bundle("out1");
  assert.notEqual(bundleHash(o, { "entreprise.tld/e2026a": "AAA" }), bundleHash(o, { "entreprise.tld/e2026a": "BBB" }));
  assert.match(applyCommand(h), new RegExp(`^: facteur-bundle ${h}; `));
});

test("cloud-init: host named by its PTR/HELO name, the packages its configs need, no configuration and no secret", () => {
  const relay = cloudInit(bundle("mx1"));
  assert.match(relay, /^fqdn: mx1\.relais\.tld$/m);
  assert.match(relay, /^packages: \[postfix, opendkim, opendkim-tools, postsrsd, sasl2-bin, libsasl2-modules, openssl, ca-certificates, rspamd\]$/m);
  assert.match(relay, /postfix postfix\/main_mailer_type select No configuration/);
  assert.match(cloudInit(bundle("out1")), /policyd-rate-limit\]$/m);
  assert.doesNotMatch(relay, /secret|password|PRIVATE/i);
});

test("apply: a managed TLS key (tlsKey) is written for root with a certificate for it (real openssl); the certificate is kept while the key stays, remade when it changes, and put back with the key when the apply is rejected", () => {
  const signed = examplePlan(exampleWith("    selectors: [f2026a]\n", "    selectors: [f2026a]\n  dnssec: true\n"));
  const b = renderStack(signed.model, signed.plan, { root: "" }).find((x) => x.host === "mx1")!;
  const managed = b.dkimKeys.find((k) => k.purpose === "tls")!;
  assert.deepEqual([managed.path, managed.selector], [b.tls.key, "tls1"]);
  const ec = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
  const withKey = (key: string) => ({ ...keysOf(b), [managed.path]: key });
  const certKey = (s: ReturnType<typeof sandbox>) => new X509Certificate(s.read(b.tls.cert)).publicKey.export({ type: "spki", format: "der" }).toString("hex");
  const spki = (key: string) => createPublicKey(key).export({ type: "spki", format: "der" }).toString("hex");
  const s = sandbox();
  try {
    writeFileSync(join(s.dir, "bin/openssl"), "#!/bin/bash\nexec /usr/bin/openssl \"$@\"\n");
    const [a, next, rejected] = [ec(), ec(), ec()];
    assert.equal(s.apply(applyScript(b, SECRETS, withKey(a), OPTIONS(b))).status, 0);
    assert.equal(s.read(b.tls.key), a);
    assert.equal((statSync(join(s.root, b.tls.key)).mode & 0o777).toString(8), "600");
    assert.equal(certKey(s), spki(a), "the certificate is for the managed key");
    const first = s.read(b.tls.cert);
    assert.equal(s.apply(applyScript(b, SECRETS, withKey(a), OPTIONS(b))).status, 0);
    assert.equal(s.read(b.tls.cert), first, "same key: the certificate (an ACME one, on a host) is left alone");
    assert.equal(s.apply(applyScript(b, SECRETS, withKey(next), OPTIONS(b))).status, 0);
    assert.equal(certKey(s), spki(next), "a key switch brings a certificate for the new key at once");
    const before = [s.read(b.tls.key), s.read(b.tls.cert)];
    const r = s.apply(applyScript(changed(b, "BROKEN = yes"), SECRETS, withKey(rejected), OPTIONS(b)));
    assert.equal(r.status, 1);
    assert.deepEqual([s.read(b.tls.key), s.read(b.tls.cert)], before, "key and certificate go back together");
  } finally {
    s.done();
  }
});

/** mx1's bundle at a step of the DANE rollover scenario (test/scenarios/dane-rollover-*), with ACME and a managed key. */
function rolloverBundle(step: "1-publish" | "2-switch"): HostBundle {
  const file = `test/scenarios/dane-rollover-${step}/stack.yaml`;
  const m = buildModel(parseSpec(readFileSync(file, "utf8"), file));
  const addresses = { mx1: { ipv4: "198.51.100.11", ipv6: "2001:db8:100::11" }, out1: { ipv4: "203.0.113.21", ipv6: "2001:db8:113::21" } };
  return renderStack(m, buildPlan(m, { addresses }), { root: "" }).find((x) => x.host === "mx1")!;
}

test("apply: at a TLS key switch the certificate ACME pre-issued for the next key goes live with it (real openssl), never one expiring or for another key; the next key leaves the host after the switch", () => {
  const [publish, switched] = [rolloverBundle("1-publish"), rolloverBundle("2-switch")];
  const pre = daemonFacts(switched.daemons, "acme")!.preIssued!;
  const meta = daemonFacts(switched.daemons, "acme")!.meta;
  const nextKey = publish.dkimKeys.find((k) => k.purpose === "tls-next")!;
  assert.equal(nextKey.path, pre.key, "step 1 holds the next key where the ACME client reads it");
  const ec = () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
  const [a, b, c, d, e] = [ec(), ec(), ec(), ec(), ec()];
  const keys1 = { ...keysOf(publish), [publish.tls.key]: a, [nextKey.path]: b };
  // Step 2 with `key` as the key switched to (each switch below is to a new key: the live certificate is never for it).
  const keys2 = (key: string) => ({ ...keysOf(switched), [switched.tls.key]: key });
  const spki = (key: string) => createPublicKey(key).export({ type: "spki", format: "der" }).toString("hex");
  const s = applySandbox(STUBS, { INSTALLED: [...publish.packages, ...bundle("out1").packages].join(" ") });
  const served = () => new X509Certificate(s.read(switched.tls.cert));
  const certKey = () => served().publicKey.export({ type: "spki", format: "der" }).toString("hex");
  /** What lego leaves after pre-issuing for `key`: a certificate signed by a CA (not self-signed), valid `days`, and its record. */
  const preIssue = (key: string, days: number) => {
    const work = join(s.dir, "ca");
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, "next.pem"), key);
    const sh = (cmd: string) => assert.equal(spawnSync("bash", ["-c", cmd], { cwd: work, encoding: "utf8" }).status, 0, cmd);
    sh("[ -s ca.key ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 30 -subj /CN=Pebble-Like-CA 2>/dev/null");
    sh(`openssl req -new -key next.pem -subj /CN=mx1.relais.tld -out next.csr && openssl x509 -req -in next.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days ${days} -out next.crt 2>/dev/null`);
    mkdirSync(join(s.root, dirname(pre.cert)), { recursive: true });
    writeFileSync(join(s.root, pre.cert), readFileSync(join(work, "next.crt")));
    writeFileSync(join(s.root, pre.meta), `{"domain":"mx1.relais.tld","days":${days}}\n`);
    return readFileSync(join(work, "next.crt"), "utf8");
  };
  const apply = (bundle: HostBundle, keys: Record<string, string>) => s.apply(applyScript(bundle, SECRETS, keys, OPTIONS(bundle)));
  try {
    writeFileSync(join(s.dir, "bin/openssl"), "#!/bin/bash\nexec /usr/bin/openssl \"$@\"\n");
    assert.equal(apply(publish, keys1).status, 0);
    assert.deepEqual([s.read(publish.tls.key), s.read(pre.key)], [a, b], "step 1: the current key is served, the next one held");
    assert.equal((statSync(join(s.root, pre.key)).mode & 0o777).toString(8), "600");
    assert.equal(certKey(), spki(a));
    // A pre-issued certificate for another key than the one switched to is never served: a bootstrap one.
    preIssue(c, 60);
    let r = apply(switched, keys2(b));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(certKey(), spki(b));
    assert.match(served().issuer, /CN=mx1\.relais\.tld/, "self-signed bootstrap");
    assert.doesNotMatch(r.stderr, /pre-issued/);
    assert.ok(!existsSync(join(s.root, pre.key)), "the next key left the host with the switch");
    // One valid for less than a day more would lapse: a bootstrap one too.
    preIssue(c, 1);
    assert.equal(apply(switched, keys2(c)).status, 0);
    assert.equal(certKey(), spki(c));
    assert.match(served().issuer, /CN=mx1\.relais\.tld/, "a lapsing certificate: a bootstrap one");
    // One for the very key, valid: served from the switch on, with lego's record of it.
    const good = preIssue(d, 60);
    r = apply(switched, keys2(d));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(s.read(switched.tls.cert), good, "the pre-issued certificate is served from the switch on");
    assert.equal(s.read(meta), s.read(pre.meta), "with lego's record of it, so the timer renews it in place");
    assert.match(r.stderr, /installing the certificate pre-issued for key mx2026b/);
    assert.equal(s.read(switched.tls.key), d);
    // A rejected switch puts back key, certificate and lego's record together.
    preIssue(e, 60);
    const before = [switched.tls.key, switched.tls.cert, meta].map((p) => s.read(p));
    r = apply(changed(switched, "BROKEN = yes"), keys2(e));
    assert.equal(r.status, 1);
    assert.deepEqual([switched.tls.key, switched.tls.cert, meta].map((p) => s.read(p)), before, "key, certificate and record go back together");
  } finally {
    s.done();
  }
});
