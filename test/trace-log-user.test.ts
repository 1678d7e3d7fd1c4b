// The read-only log user that facteur trace logs in as on production hosts (src/trace/logUser.ts),
// run for real: its forced command under bash; the apply script's part that installs it; and,
// as root, the whole thing behind a real sshd (Debian's openssh-server) in private mount and
// network namespaces (a copy of /etc, so the real useradd runs without touching this machine),
// with `facteur trace --source ssh` reading two hosts through it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { READER_PATH, LOG_USER_HOME, authorizedKeyLines, checkLogReaderKey, logUserSetup, readerScript } from "../src/trace/logUser.ts";
import { parseAnswer } from "../src/trace/protocol.ts";
import { applyScript } from "../src/pulumi/apply.ts";
import { applySandbox } from "./support/applySandbox.ts";
import { FACTEUR } from "./support/facteurCli.ts";
import { sshdConfig } from "./support/labSshd.ts";
import { renderStack } from "../src/render/render.ts";
import type { Trace } from "../src/trace/types.ts";
import { examplePlan } from "./support/example.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = fileURLToPath(new URL("./fixtures/trace/", import.meta.url));

function keypair(dir: string, name: string): { priv: string; pub: string } {
  const priv = join(dir, name);
  const r = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${name}@laptop`, "-f", priv], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return { priv, pub: readFileSync(`${priv}.pub`, "utf8").trim() };
}

/** A host root with mail logs and the reader installed where the apply script puts it. */
function hostRoot(dir: string, logs: Record<string, string | Buffer>): string {
  const root = join(dir, "root");
  mkdirSync(join(root, "var/log"), { recursive: true });
  for (const [name, content] of Object.entries(logs)) writeFileSync(join(root, "var/log", name), content);
  mkdirSync(join(root, "usr/local/lib/facteur"), { recursive: true });
  writeFileSync(join(root, READER_PATH), readerScript());
  chmodSync(join(root, READER_PATH), 0o755);
  return root;
}

function reader(root: string, request: string | undefined) {
  const env: Record<string, string> = { PATH: "/usr/bin:/bin" };
  if (request !== undefined) env.SSH_ORIGINAL_COMMAND = request;
  // As sshd runs a forced command: the user's shell with -c and the command line of authorized_keys.
  return spawnSync("/bin/sh", ["-c", join(root, READER_PATH)], { env, encoding: "buffer" });
}

test("log reader keys: only real public keys, each named; nothing that could rewrite the forced command", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-logkeys-"));
  try {
    const { pub } = keypair(dir, "ops");
    const blob = pub.split(" ")[1]!;
    assert.equal(checkLogReaderKey("ops", pub), `ssh-ed25519 ${blob}`);
    assert.deepEqual(authorizedKeyLines({ ops: pub }), [`restrict,command="${READER_PATH}" ssh-ed25519 ${blob} facteur-logs:ops`]);
    const bad: [string, string, RegExp][] = [
      ["ops", "", /facteur:logReaders\.ops: not an SSH public key/],
      ["ops", `ssh-dss ${blob}`, /not an SSH public key/],
      ["ops", `ssh-ed25519 ${blob}" ,command="/bin/sh`, /not an SSH public key/],
      ["ops", `ssh-ed25519 ${blob}\nssh-ed25519 ${blob}`, /not an SSH public key/],
      ["ops", `ssh-rsa ${blob}`, /the key data does not hold a ssh-rsa key/],
      ["ops", "ssh-ed25519 AAAA", /the key data does not hold a ssh-ed25519 key/],
      ["o ps", pub, /facteur:logReaders\.o ps: a key name is 1-64 of/],
      ['x"', pub, /a key name is/],
    ];
    for (const [name, key, re] of bad) assert.throws(() => checkLogReaderKey(name, key), re, `${name}: ${key}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the forced command under bash: answers `maillog since T` with the logs written since T, refuses everything else", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-reader-"));
  try {
    const current = readFileSync(join(FIXTURES, "run1/mx1/postfix.log"));
    const rspamd = readFileSync(join(FIXTURES, "run1/mx1/rspamd.log"));
    const root = hostRoot(dir, { "postfix.log": current, "postfix.log.1": "Nov 22 23:59:59 mx1 postfix/qmgr[1]: ABCDEF123: removed\n", "rspamd.log": rspamd });
    const old = Date.now() / 1000 - 3 * 86400;
    utimesSync(join(root, "var/log/postfix.log.1"), old, old);
    const all = reader(root, "maillog since 0");
    assert.equal(all.status, 0, all.stderr.toString());
    const a = parseAnswer(all.stdout);
    assert.equal(a.complete, true);
    assert.match(all.stdout.toString(), /^#facteur-maillog v1 host=\S* now=\d+ tz=[+-]\d{4}\n/);
    assert.match(all.stdout.toString(), /#facteur-maillog source=postfix file=\/var\/log\/postfix\.log\.1\n[^]*#facteur-maillog source=postfix file=\/var\/log\/postfix\.log\n/, "rotations first, paths as on the host");
    assert.equal(a.postfix.toString().replace(/\n+/g, "\n"), `Nov 22 23:59:59 mx1 postfix/qmgr[1]: ABCDEF123: removed\n${current.toString()}`.replace(/\n+/g, "\n"));
    assert.equal(a.rspamd.toString().trim(), rspamd.toString().trim());
    assert.ok(Math.abs(a.nowMs - Date.now()) < 60_000);
    // A rotation last written before the window is not sent.
    const recent = parseAnswer(reader(root, `maillog since ${Math.floor(Date.now() / 1000) - 86400}`).stdout);
    assert.doesNotMatch(recent.postfix.toString(), /ABCDEF123/);
    assert.equal(recent.postfix.toString().trim(), current.toString().trim());
    // `delivery since T`: the queue section (postqueue's status and output: here no Postfix runs,
    // which is an answer too), then Postfix's log only.
    const d = reader(root, "delivery since 0");
    assert.equal(d.status, 0, d.stderr.toString());
    const delivery = parseAnswer(d.stdout);
    assert.equal(delivery.complete, true);
    assert.match(d.stdout.toString(), /\n#facteur-maillog source=queue status=\d+\n/);
    assert.equal(typeof delivery.queueStatus, "number");
    assert.equal(delivery.postfix.toString().replace(/\n+/g, "\n"), a.postfix.toString().replace(/\n+/g, "\n"));
    assert.equal(delivery.rspamd.length + delivery.journal.length, 0, "a delivery answer holds no other log");
    assert.equal(a.queueStatus, undefined, "a maillog answer holds no queue");
    for (const req of [undefined, "", "cat /etc/shadow", "maillog", "maillog since", "maillog since 1; cat /etc/shadow", "maillog since $(id)", "maillog since 1\ncat /etc/shadow", "maillog  since 1", "maillog since 123456789012", "maillog since -1", "bash -i", "delivery", "delivery since 1; postqueue -f", "postqueue -j"]) {
      const r = reader(root, req);
      assert.equal(r.status, 2, `${JSON.stringify(req)}: exit ${r.status}`);
      assert.equal(r.stdout.length, 0, `${JSON.stringify(req)} printed ${r.stdout.toString()}`);
      assert.match(r.stderr.toString(), /^facteur-logs: refused: this key only runs "maillog since <unix seconds>"/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the apply script installs the reader and exactly the configured keys (no key: nobody gets in); a bad key stops it before anything runs", () => {
  const { model, plan } = examplePlan();
  const mx1 = renderStack(model, plan, { root: "" }).find((b) => b.host === "mx1")!;
  const box = applySandbox({
    postfix: '[ "$3" = status ] && exit 1; exit 0',
    postmap: 'f="${3#hash:}"; cp "$f" "$f.db"',
    systemctl: "exit 0",
    hostnamectl: "exit 0",
    openssl: 'while [ $# -gt 0 ]; do case "$1" in -keyout) echo key >"$2"; shift;; -out) echo cert >"$2"; shift;; esac; shift; done',
    useradd: 'echo "useradd $*" >>"$LOG"',
    usermod: 'echo "usermod $*" >>"$LOG"',
  });
  const { dir, root, apply } = box;
  try {
    const { pub } = keypair(dir, "ops");
    const r = apply(applyScript(mx1, { faiRelayPassword: "x" }, {}, { packages: [], smtpProbeHosts: [], logReaders: { ops: pub } }));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /facteur mx1: log user facteur-logs: 1 key\(s\)/);
    assert.equal(readFileSync(join(root, READER_PATH), "utf8"), readerScript());
    assert.equal((statSync(join(root, READER_PATH)).mode & 0o777).toString(8), "755");
    assert.equal(
      readFileSync(join(root, LOG_USER_HOME, ".ssh/authorized_keys"), "utf8"),
      `restrict,command="${root}${READER_PATH}" ${pub.split(" ").slice(0, 2).join(" ")} facteur-logs:ops\n`,
    );
    assert.equal((statSync(join(root, LOG_USER_HOME, ".ssh/authorized_keys")).mode & 0o777).toString(8), "644");
    assert.equal((statSync(join(root, "var/log/rspamd.log")).mode & 0o777).toString(8), "640", "the relay's rspamd log is readable by adm");
    assert.equal(box.takeLog(), "", "accounts are left alone in a test directory (FACTEUR_NO_CHOWN)");
    // The key removed from the config: the next apply leaves no key at all.
    assert.equal(apply(applyScript(mx1, { faiRelayPassword: "x" }, {})).status, 0);
    assert.equal(readFileSync(join(root, LOG_USER_HOME, ".ssh/authorized_keys"), "utf8"), "");
    assert.throws(() => applyScript(mx1, { faiRelayPassword: "x" }, {}, { packages: [], smtpProbeHosts: [], logReaders: { ops: `${pub}\nrestrict ssh-ed25519 AAAA` } }), /facteur:logReaders\.ops: not an SSH public key/);
    const out1 = renderStack(model, plan, { root: "" }).find((b) => b.host === "out1")!;
    assert.deepEqual(logUserSetup(out1.daemons, {}).filter((l) => /rspamd/.test(l)), [], "smarthosts have no rspamd log");
  } finally {
    box.done();
  }
});

const sshdSkip =
  process.getuid?.() !== 0 ? "needs root (namespaces)" : !existsSync("/usr/sbin/sshd") ? "needs /usr/sbin/sshd (openssh-server: scripts/setup-system.sh)" : spawnSync("unshare", ["--version"]).status !== 0 ? "needs unshare" : undefined;

test("behind a real sshd: the key gets the logs whatever it asks, no shell, no pty, no forwarding; facteur trace --source ssh follows a message across two hosts", { skip: sshdSkip }, () => {
  // Not under /tmp: sshd's StrictModes refuses an authorized_keys below a world-writable directory
  // (outside the user's home), as it would on a host. The log user must reach the reader: 0755.
  const dir = mkdtempSync("/var/lib/facteur-sshd-test-");
  chmodSync(dir, 0o755);
  try {
    const { priv, pub } = keypair(dir, "ops");
    const hosts = { mx1: "127.0.0.11", out1: "127.0.0.13" };
    const setup: string[] = [];
    for (const h of Object.keys(hosts)) {
      const root = join(dir, h);
      mkdirSync(join(root, "var/log"), { recursive: true });
      copyFileSync(join(FIXTURES, "run1", h, "postfix.log"), join(root, "var/log/postfix.log"));
      if (existsSync(join(FIXTURES, "run1", h, "rspamd.log"))) copyFileSync(join(FIXTURES, "run1", h, "rspamd.log"), join(root, "var/log/rspamd.log"));
      // As the apply step leaves it: postfix:adm 0640 (the log user reads it through adm).
      setup.push(`chown postfix:adm ${join(root, "var/log/postfix.log")}; chmod 0640 ${join(root, "var/log/postfix.log")}`);
      const example = examplePlan();
      const { daemons } = renderStack(example.model, example.plan, { root: "" }).find((b) => b.host === h)!;
      const lines = ["set -euo pipefail", `R=${root}`, 'own() { chown "$@"; }', 'say() { echo "setup: $*" >&2; }', ...logUserSetup(daemons, { ops: pub })].join("\n");
      writeFileSync(join(dir, `setup-${h}.sh`), `${lines}\n`);
    }
    const spec = readFileSync(join(ROOT, "stacks/example.facteur.yaml"), "utf8")
      .replace(/\n {2}mx2: [^\n]*/, "")
      .replace(/\n {2}out2: [^\n]*/, "")
      .replace(/\n {2}# Mail the scanner[^\n]*\n {2}spam1: [^\n]*/, "")
      .replace(/\n {2}fai:\n(?: {4}.*\n)+/, "\n");
    mkdirSync(join(dir, "stacks"));
    writeFileSync(join(dir, "stacks/two.facteur.yaml"), spec);
    writeFileSync(join(dir, "addresses.json"), JSON.stringify({ mx1: { ipv4: hosts.mx1, ipv6: "2001:db8::11" }, out1: { ipv4: hosts.out1, ipv6: "2001:db8::13" } }));
    const conf = (h: string, ip: string) => sshdConfig({ listen: [ip], hostKey: `${dir}/hostkey`, pidFile: `${dir}/sshd-${h}.pid`, authorizedKeysFile: `${dir}/${h}${LOG_USER_HOME}/.ssh/authorized_keys` });
    for (const [h, ip] of Object.entries(hosts)) writeFileSync(join(dir, `sshd-${h}.conf`), conf(h, ip));
    const ssh = `ssh -i ${priv} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=${dir}/known_hosts -o LogLevel=ERROR facteur-logs@${hosts.mx1}`;
    const script = `
set -u
trap 'for h in mx1 out1; do [ -s ${dir}/sshd-$h.pid ] && kill $(cat ${dir}/sshd-$h.pid) 2>/dev/null; done' EXIT
cp -a /etc ${dir}/etc && mount --bind ${dir}/etc /etc
mount -t tmpfs tmpfs /run && mkdir -p /run/sshd
ip link set lo up
${setup.join("\n")}
bash ${dir}/setup-mx1.sh && bash ${dir}/setup-out1.sh || { echo "SETUP FAILED"; exit 1; }
getent passwd facteur-logs >${dir}/passwd.txt; id facteur-logs >${dir}/id.txt
ssh-keygen -q -t ed25519 -N "" -f ${dir}/hostkey
for h in mx1 out1; do /usr/sbin/sshd -f ${dir}/sshd-$h.conf -E ${dir}/sshd-$h.log || { echo "SSHD $h FAILED"; cat ${dir}/sshd-$h.log; exit 1; }; done
${ssh} "maillog since 0" >${dir}/answer.out 2>${dir}/answer.err; echo $? >${dir}/answer.rc
${ssh} "cat /etc/shadow" >${dir}/shadow.out 2>${dir}/shadow.err; echo $? >${dir}/shadow.rc
${ssh} >${dir}/shell.out 2>${dir}/shell.err </dev/null; echo $? >${dir}/shell.rc
${ssh} -tt "maillog since 0" >${dir}/pty.out 2>${dir}/pty.err </dev/null; echo $? >${dir}/pty.rc
timeout 20 ${ssh} -W ${hosts.out1}:22 >${dir}/fwd.out 2>${dir}/fwd.err </dev/null; echo $? >${dir}/fwd.rc
cd ${ROOT} && timeout 120 ${FACTEUR.join(" ")} trace --stacks ${dir}/stacks --stack two --source ssh --addresses ${dir}/addresses.json \\
  --identity ${priv} --ssh-option StrictHostKeyChecking=no --ssh-option UserKnownHostsFile=${dir}/known_hosts \\
  --message-id group-20625-75351@expediteur.tld --since 366d --json >${dir}/trace.json 2>${dir}/trace.err; echo $? >${dir}/trace.rc
exit 0
`;
    const r = spawnSync("unshare", ["--mount", "--net", "--fork", "bash", "-c", script], { encoding: "utf8", timeout: 300_000 });
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : `(no ${f})`);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}\n${read("sshd-mx1.log")}`);
    assert.doesNotMatch(readFileSync("/etc/passwd", "utf8"), /^facteur-logs:/m, "this machine's accounts are untouched");
    assert.match(read("passwd.txt"), new RegExp(`^facteur-logs:x:\\d+:\\d+:facteur trace log reader:${dir}/mx1${LOG_USER_HOME}:/bin/sh$`, "m"));
    assert.match(read("id.txt"), /\(adm\)/, "in adm, which reads /var/log/postfix.log");
    // What the key is for.
    assert.equal(read("answer.rc").trim(), "0", read("answer.err") + read("sshd-mx1.log"));
    const a = parseAnswer(readFileSync(join(dir, "answer.out")));
    assert.equal(a.postfix.toString().trim(), readFileSync(join(FIXTURES, "run1/mx1/postfix.log"), "utf8").trim());
    // Anything else gets the refusal, never a shell: the command, an interactive login, a pty.
    assert.equal(read("shadow.rc").trim(), "2");
    assert.equal(read("shadow.out"), "");
    assert.match(read("shadow.err"), /facteur-logs: refused/);
    assert.equal(read("shell.rc").trim(), "2");
    assert.doesNotMatch(read("shell.out"), /\$ |# /);
    assert.match(read("pty.err"), /PTY allocation request failed/);
    assert.ok(read("pty.rc").trim() !== "0" || /^#facteur-maillog v1 /.test(read("pty.out")), `a forced pty got something else than the reader: ${read("pty.out")}`);
    // No forwarding of any kind (restrict).
    assert.notEqual(read("fwd.rc").trim(), "0");
    assert.match(read("fwd.err"), /stdio forwarding failed|administratively prohibited|open failed/);
    assert.match(read("sshd-mx1.log"), /refused local port forward: originator \S+ port \d+, target 127\.0\.0\.13 port 22/, read("sshd-mx1.log"));
    // The trace through both hosts.
    assert.equal(read("trace.rc").trim(), "0", read("trace.err"));
    const t = JSON.parse(read("trace.json")) as Trace;
    assert.equal(t.messages.length, 1, read("trace.json"));
    const paths = t.messages[0]!.paths;
    assert.deepEqual(
      paths.map((p) => [p.to, p.hops.map((h) => `${h.host}:${h.queueId}`).join(" "), p.outcome.status]),
      [
        ["john@doe.tld", "mx1:31B7417C0D8 out1:A051217C0DB", "delivered"],
        ["tom@smit.tld", "mx1:31B7417C0D8 out1:A051217C0DB", "delivered"],
      ],
    );
    assert.equal(paths[0]!.hops[0]!.scan?.action, "no action", "rspamd's log came over SSH too");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
