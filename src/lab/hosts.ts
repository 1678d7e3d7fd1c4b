// Bringing up one host of the lab: the plan's own hosts run exactly their rendered bundle
// (files, postmap, secrets, SASL users, DKIM keys, TLS cert, then the daemons the bundle names,
// Postfix last), each as its runtime facts say (src/render/daemons: directories, owners, config
// check, foreground command, readiness probes): nothing is read back out of a rendered file.
// Outside hosts run a small stock Postfix that stores what it receives in maildirs (sinks) or
// sends directly by MX (the outside sender).
//
// A host is up when every one of its daemons answers a live probe (src/lab/probes.ts), within a
// generous bound; otherwise bring-up fails naming the daemon and the log to read. There is no
// "up with warnings".
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fillSecrets, secretValue, type HostBundle } from "../render/bundle.ts";
import { heldKeyId, isTlsKey } from "../plan/dns.ts";
import { daemonFacts, type DaemonFacts, type OwnedPath, type PostfixFacts } from "../render/daemons/index.ts";
import { cool, daemonFailures } from "../gate/postfix.ts";
import { must, run, sleep, spawnDetached, waitFor } from "./proc.ts";
import { describeDown, readyBoundMs, runProbes, type LabProbe, type ProbeCheck } from "./probes.ts";
import type { OutsideHost } from "./topology.ts";
import { LAB_CACHE } from "../paths.ts";
import { labCacheDir } from "./cache.ts";
import { prepareLabCluster, runSetup } from "./quotaStore.ts";
import { issueLabCert, type LabCa } from "./ca.ts";
import { startMtaStsResolver } from "./mtaSts.ts";
import { startOutboundTls } from "./outboundTls.ts";
import { startAcmeTimer } from "./acme.ts";
import { SINK_LMTP_PY } from "./sink.ts";

/** /etc/passwd and /etc/group, read once: an `id` process per lookup blocked the event loop of every host's bring-up. */
const accounts = (() => {
  let users: Map<string, { uid: number; gid: number }> | undefined;
  let groups: Map<string, number> | undefined;
  const table = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => l.split(":"));
  return {
    user(name: string) {
      users ??= new Map(table("/etc/passwd").map((f) => [f[0]!, { uid: Number(f[2]), gid: Number(f[3]) }]));
      const u = users.get(name);
      if (!u) throw new Error(`the lab needs the system user ${name}: run scripts/setup-system.sh`);
      return u;
    },
    group(name: string) {
      groups ??= new Map(table("/etc/group").map((f) => [f[0]!, Number(f[2])]));
      const g = groups.get(name);
      if (g === undefined) throw new Error(`the lab needs the system group ${name}: run scripts/setup-system.sh`);
      return g;
    },
  };
})();

function ids(name: string): { uid: number; gid: number } {
  return accounts.user(name);
}
function gidOf(group: string): number {
  return accounts.group(group);
}

function mkdirOwned(path: string, user?: string, group?: string, mode = 0o755): void {
  mkdirSync(path, { recursive: true });
  if (user) chownSync(path, ids(user).uid, group ? gidOf(group) : ids(user).gid);
  chmodSync(path, mode);
}

/** A directory a daemon's facts name, with its owner and mode. */
function makeDir(d: OwnedPath): void {
  mkdirOwned(d.path, d.owner, d.group, parseInt(d.mode, 8));
}

/** A log file a daemon's facts name, created (empty) with its owner and mode when missing. */
function makeLog(l: OwnedPath): void {
  mkdirSync(dirname(l.path), { recursive: true });
  writeFileSync(l.path, "", { flag: "a" });
  chownSync(l.path, ids(l.owner).uid, gidOf(l.group));
  chmodSync(l.path, parseInt(l.mode, 8));
}

/** Opens a TCP connection inside ns and returns the first line the server says (a banner). */
export async function bannerIn(ns: string, address: string, port: number): Promise<string> {
  const r = await run(["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}; head -1 <&3`], { ns, timeoutMs: 5000 });
  return r.stdout.trim();
}

/**
 * A self-signed certificate for the lab (lab-only: production hosts make their own). ECDSA P-256:
 * an RSA key for every host of every stack coming up at once was the slowest, and under load a
 * timed-out, step of bring-up.
 */
async function selfSignedCert(cert: string, key: string, cn: string, existingKey = false): Promise<void> {
  mkdirSync(dirname(cert), { recursive: true });
  mkdirSync(dirname(key), { recursive: true });
  await must(`TLS certificate for ${cn}`, [
    "openssl", "req", "-x509", ...(existingKey ? ["-new", "-key", key] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key]), "-days", "30",
    "-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn}`, "-out", cert,
  ]);
  chmodSync(key, 0o600);
}

export interface HostContext {
  /** Lab host name (the probes report it). */
  name: string;
  ns: string;
  resolv: string;
  /** The host's root directory in the lab. */
  root: string;
  logDir: string;
  /** The stack's lab CA: own hosts' certificates are issued by it, MTA-STS senders trust it. */
  ca?: LabCa;
  /** The lab's DNS server (Knot), and the trust anchors of the zones it signs: for validating resolvers. */
  dnsServer?: string;
  trustAnchors?: string[];
}

export interface HostReport {
  checks: string[];
  /** Things that do not stop the host (a `postfix check` warning); a daemon that does not answer is an error. */
  warnings: string[];
  logs: string[];
  /** What answers when the host is up; `lab status` asks again. */
  probes: LabProbe[];
  /** Seconds from the start of the host's bring-up until all its daemons answered. */
  seconds: number;
  /** Where those seconds went, e.g. "postfix check 1.2". */
  steps: string[];
  /** Postfix's log, once Postfix runs. */
  maillog?: string;
  /** The syslog listener's file (OpenDKIM, postsrsd, policyd-rate-limit), when the host has one. */
  syslog?: string;
}

/** Records how long each step of a host's bring-up took, in report.steps. */
function stopwatch(report: HostReport): (step: string) => void {
  let mark = Date.now();
  return (step) => {
    const now = Date.now();
    report.steps.push(`${step} ${((now - mark) / 1000).toFixed(1)}`);
    mark = now;
  };
}

/**
 * RSA-2048 key for (domain, selector), kept across runs under keyDir; public half as base64 DER.
 * Keys are lab-only and shared by every lab stack on the machine (LAB_CACHE, src/paths.ts), so a
 * fresh stack does not spend its bring-up searching for primes.
 */
export async function generateDkimKey(keyDir: string, domain: string, selector: string): Promise<{ domain: string; selector: string; pem: string; publicB64: string }> {
  const file = `${keyDir}/${domain}.${selector}.pem`;
  const shared = `${LAB_CACHE}/dkim/${domain}.${selector}.pem`;
  if (!existsSync(file)) {
    if (!existsSync(shared)) {
      labCacheDir("dkim", 0o700);
      const tmp = `${shared}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      await must(`DKIM key ${domain}/${selector}`, ["openssl", "genrsa", "-traditional", "-out", tmp, "2048"]);
      await must(`DKIM key ${domain}/${selector}`, ["mv", "-f", tmp, shared]);
    }
    copyFileSync(shared, file);
  }
  chmodSync(file, 0o600);
  const der = await must(`DKIM public key ${domain}/${selector}`, ["sh", "-c", 'openssl rsa -in "$0" -pubout -outform DER 2>/dev/null | base64 -w0', file]);
  return { domain, selector, pem: readFileSync(file, "utf8"), publicB64: der.stdout.trim() };
}

/**
 * A host's managed TLS key (tlsKey) in the lab: ECDSA P-256 like the tls provider's, kept under
 * keyDir across runs of the stack; public half as base64 DER (SubjectPublicKeyInfo), the form the
 * plan turns into TLSA digests.
 */
export async function generateTlsKey(keyDir: string, fqdn: string, key: string): Promise<{ file: string; pem: string; publicB64: string }> {
  const file = `${keyDir}/tls.${fqdn}.${key}.pem`;
  if (!existsSync(file)) await must(`TLS key ${fqdn}/${key}`, ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file]);
  chmodSync(file, 0o600);
  const der = await must(`TLS public key ${fqdn}/${key}`, ["sh", "-c", 'openssl pkey -in "$0" -pubout -outform DER | base64 -w0', file]);
  return { file, pem: readFileSync(file, "utf8"), publicB64: der.stdout.trim() };
}

/**
 * Daemons that log only to syslog (OpenDKIM, postsrsd, policyd-rate-limit) get a private /dev
 * in their mount namespace: the real null/zero/random/urandom bound in, and /dev/log a socket
 * of a tiny syslog listener writing to <logDir>/syslog.log. Nothing outside the lab changes.
 */
const DEV_WRAP = 'R=$0; for d in null zero random urandom full; do [ -e "$R/$d" ] || : >"$R/$d"; mount --bind "/dev/$d" "$R/$d" || exit 1; done; mount --bind "$R" /dev && exec "$@"';
const SYSLOG_PY = [
  "import socket, sys, os, time",
  "path, log = sys.argv[1], sys.argv[2]",
  "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
  "try: os.unlink(path)",
  "except FileNotFoundError: pass",
  "s.bind(path); os.chmod(path, 0o666)",
  "f = open(log, 'a', buffering=1)",
  "while True:",
  "    d = s.recv(65536).decode('utf-8', 'replace').rstrip('\\n\\0')",
  "    f.write(time.strftime('%H:%M:%S ') + d + '\\n')",
].join("\n");

async function startSyslog(h: HostContext, report: HostReport): Promise<string> {
  const dev = `${h.root}/dev`;
  mkdirSync(dev, { recursive: true });
  const log = `${h.logDir}/syslog.log`;
  spawnDetached(["/usr/bin/python3", "-c", SYSLOG_PY, `${dev}/log`, log], `${h.logDir}/syslog-listener.log`, { ns: h.ns });
  if (!(await waitFor(async () => existsSync(`${dev}/log`), readyBoundMs())))
    throw new Error(`${h.name}: the syslog listener did not create ${dev}/log (see ${h.logDir}/syslog-listener.log):\n${tail(`${h.logDir}/syslog-listener.log`)}`);
  probe(report, h, "syslog listener", `datagram to ${dev}/log`, { kind: "syslog", socket: `${dev}/log` }, [`${h.logDir}/syslog-listener.log`]);
  return log;
}

function withSyslog(h: HostContext, argv: string[]): string[] {
  return ["sh", "-c", DEV_WRAP, `${h.root}/dev`, ...argv];
}

function probe(report: HostReport, h: HostContext, daemon: string, what: string, check: ProbeCheck, logs: string[]): LabProbe {
  const p: LabProbe = { host: h.name, ns: h.ns, daemon, what, check, logs };
  report.probes.push(p);
  return p;
}

/** Waits until every probe answers; throws naming each daemon that does not, with its logs' last lines. */
async function answerAll(probes: LabProbe[], who: string): Promise<void> {
  if (!probes.length) return;
  const results = await runProbes(probes, { waitMs: readyBoundMs() });
  const down = results.filter((r) => !r.ok);
  if (down.length)
    throw new Error(
      `${who}: not up after ${readyBoundMs() / 1000} s:\n` +
        down.map((r) => `  ${describeDown(r)}\n${r.probe.logs.map((l) => tail(l, 6).replace(/^/gm, "    | ")).join("\n")}`).join("\n"),
    );
}

/**
 * The queue and data directories Postfix's own postfix-files lists, with their owners and
 * modes: what `postfix post-install create-missing` makes, without its processes (a mkdir, a
 * chown, a find and a chmod per directory: some 50 per instance, 8 ms each on a VM). On a host
 * the Debian package has made them; `postfix check` then finds them there and checks them.
 */
function createPostfixDirs(pf: PostfixRun): void {
  const vars: Record<string, string> = { $queue_directory: pf.queueDirectory, $data_directory: pf.dataDirectory, $mail_owner: "postfix", $setgid_group: "postdrop" };
  for (const line of readFileSync("/etc/postfix/postfix-files", "utf8").split("\n")) {
    const [path, type, owner, group, mode] = line.trim().split(":");
    if (type !== "d" || !/^\$(queue|data)_directory(\/|$)/.test(path ?? "")) continue;
    const dir = path!.replace(/^\$\w+/, (v) => vars[v]!);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, ids(vars[owner!] ?? owner!).uid, group === "-" ? 0 : gidOf(vars[group!] ?? group!));
    chmodSync(dir, parseInt(mode!, 8));
  }
}

/** What the lab needs to run a Postfix: a rendered host's facts, or what the lab wrote for an outside host. */
type PostfixRun = Pick<PostfixFacts, "configDir" | "queueDirectory" | "dataDirectory" | "maillog" | "dirs" | "logs" | "readiness">;

/**
 * Postfix queue/data/log directories (createPostfixDirs), `postfix check` (the rendered
 * configuration must pass it before it runs, and it checks those directories' owners and modes),
 * `postfix start`; its listeners become probes. `checked: false` is for the lab's own stock
 * outside hosts: the integrity checks skipped. No `postfix set-permissions`: it re-chowns every
 * file Postfix installed (over 300 processes per host) and the lab needs none of it.
 */
async function startPostfix(h: HostContext, pf: PostfixRun, who: string, report: HostReport, checked = true): Promise<() => void> {
  const pfDir = pf.configDir;
  for (const d of pf.dirs) makeDir(d);
  for (const l of pf.logs) makeLog(l);
  mkdirSync(dirname(pf.maillog), { recursive: true });
  report.logs.push(pf.maillog);
  report.maillog = pf.maillog;
  const logTail = () => tail(pf.maillog);
  createPostfixDirs(pf);
  if (checked) {
    const check = await run(["postfix", "-c", pfDir, "check"], { ns: h.ns, resolv: h.resolv });
    if (check.code !== 0 || /fatal|error/i.test(check.stderr)) {
      throw new Error(`${who}: postfix -c ${pfDir} check failed (${check.timedOut ? "timed out" : `exit ${check.code}`}) on ${pfDir}/main.cf or master.cf:\n${(check.stderr + check.stdout).trim()}\n${logTail()}`);
    }
    report.checks.push(`${who}: postfix -c ${pfDir} check`);
    if (/warning/i.test(check.stderr)) report.warnings.push(`${who}: postfix -c ${pfDir} check warned: ${check.stderr.trim().split("\n").join("; ")}`);
  }
  // `postfix start` would run the very same integrity checks again (postfix-script check-fatal
  // and check-warn); its own quick-start marker skips them once, as after `postfix quick-stop`.
  writeFileSync(`${pf.queueDirectory}/quick-start`, "");
  const logFrom = existsSync(pf.maillog) ? statSync(pf.maillog).size : 0;
  const start = await run(["postfix", "-c", pfDir, "start"], { ns: h.ns, resolv: h.resolv });
  if (start.code !== 0) throw new Error(`${who}: postfix -c ${pfDir} start failed (${start.timedOut ? "timed out" : `exit ${start.code}`}):\n${(start.stderr + start.stdout).trim()}\n${logTail()}`);
  // Every listener of master.cf; loopback is in mynetworks, so postscreen lets it straight through to the banner.
  for (const r of pf.readiness) probe(report, h, "Postfix", r.what, r.check, [pf.maillog]);
  // The deploy gate's reading of the log (src/gate): a daemon that refused its parameters fails the
  // host. Asked once every listener answers, when the daemons have read their configuration.
  return () => {
    const refused = existsSync(pf.maillog) ? daemonFailures(readFileSync(pf.maillog).subarray(logFrom).toString("utf8")) : [];
    if (refused.length) throw new Error(`${who}: Postfix daemons refused the configuration (log ${pf.maillog}):\n${refused.join("\n")}`);
  };
}

/**
 * Lab-only rspamd settings, written to override.d beside the rendered local.d (never part of a
 * production bundle): GTUBE test patterns, so tests can make rspamd tag or reject on purpose; and
 * one hyperscan cache for every lab relay of every stack (compiling rspamd's 9,600 TLD suffixes
 * and its regexps takes 15-40 s per start, loading them takes about a second). And no normal or
 * controller worker: Postfix talks to the proxy, which scans in-process (self_scan), so those
 * workers never see a message; each cost its own start (about 0.7 s of CPU per relay, issue 11).
 */
export function labRspamdOverlay(rspamdDir: string, hsCacheDir = RSPAMD_HS_CACHE): { path: string; content: string }[] {
  return [
    {
      path: `${rspamdDir}/override.d/options.inc`,
      content: [
        "# facteur lab only (src/lab/hosts.ts): not rendered, never deployed.",
        "# GTUBE test patterns (XJS* reject, YJS* add header): the lab's spam-lane tests use them.",
        "# rspamd 3.4 (Debian 12) calls this enable_test_patterns.",
        "enable_test_patterns = true;",
        "# One compiled hyperscan cache shared by every lab relay.",
        `hs_cache_dir = "${hsCacheDir}/";`,
        "",
      ].join("\n"),
    },
    { path: `${rspamdDir}/override.d/worker-normal.inc`, content: "enabled = false;\n" },
    { path: `${rspamdDir}/override.d/worker-controller.inc`, content: "enabled = false;\n" },
  ];
}

export const RSPAMD_HS_CACHE = `${LAB_CACHE}/rspamd-hs`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `start` (rspamd started and answering) so that only one rspamd on the machine compiles the
 * shared hyperscan cache while it is cold; the others wait for it and then load the result. The
 * cache holds content-addressed files written atomically by rspamd, so a wrong guess here costs
 * time, never correctness.
 */
async function withWarmRspamdCache(start: () => Promise<void>): Promise<void> {
  const r = ids("_rspamd");
  labCacheDir("rspamd-hs");
  chownSync(RSPAMD_HS_CACHE, r.uid, r.gid);
  const version = (await must("rspamd --version", ["rspamd", "--version"])).stdout.trim().split("\n")[0]!.replace(/[^A-Za-z0-9.]+/g, "_");
  const marker = `${RSPAMD_HS_CACHE}/.warm-${version}`;
  const lock = `${RSPAMD_HS_CACHE}/.warming`;
  const end = Date.now() + 2 * readyBoundMs();
  while (!existsSync(marker) && Date.now() < end) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is warming it: wait, unless the lock outlived its owner.
      const pid = Number(existsSync(`${lock}/pid`) ? readFileSync(`${lock}/pid`, "utf8") : 0);
      const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
      if ((pid && !alive(pid)) || (!pid && age > 10_000)) rmSync(lock, { recursive: true, force: true });
      await sleep(250);
      continue;
    }
    writeFileSync(`${lock}/pid`, String(process.pid));
    try {
      await start();
      writeFileSync(marker, `${new Date().toISOString()}\n`);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
    return;
  }
  await start();
}

/** Applies a rendered bundle to the host's root and starts its daemons; resolves once every one answers. */
export async function startOwnHost(
  bundle: HostBundle,
  h: HostContext,
  secrets: Record<string, string>,
  dkimPrivate: Map<string, string>,
  _address: { ipv4: string; ipv6: string },
): Promise<HostReport> {
  const t0 = Date.now();
  const who = bundle.host;
  const report: HostReport = { checks: [], warnings: [], logs: [], probes: [], seconds: 0, steps: [] };
  const step = stopwatch(report);
  mkdirSync(h.logDir, { recursive: true });
  // 1. Every file of the bundle, secrets filled in at the last moment.
  for (const f of bundle.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, fillSecrets(f.content, secrets, `${bundle.host}:${f.path}`, f.secretRefs ?? []));
    chmodSync(f.path, parseInt(f.mode, 8));
  }
  const postfix = daemonFacts(bundle.daemons, "postfix");
  if (!postfix) throw new Error(`${who}: the bundle runs no Postfix`);
  // Whole files: dated back, Postfix reads main.cf at once instead of waiting for it to cool down.
  cool(`${postfix.configDir}/main.cf`);
  await Promise.all(bundle.files.filter((f) => f.postmap).map((f) => must(`${who}: postmap ${f.path}`, ["postmap", "-c", postfix.configDir, `hash:${f.path}`])));
  step("files and postmap");
  // 2. The TLS key pair main.cf names: from the lab CA, so verifying senders can check it. A
  // managed key (tlsKey) is written first and the certificate made for it, as the apply step does.
  // The next key (tlsKey.next) is written too, for the ACME client to pre-issue its certificate.
  const managed = bundle.dkimKeys.find((k) => k.purpose === "tls");
  for (const k of bundle.dkimKeys.filter(isTlsKey)) {
    const pem = dkimPrivate.get(heldKeyId(k));
    if (!pem) throw new Error(`${who}: no TLS key generated for ${heldKeyId(k)}`);
    mkdirSync(dirname(k.path), { recursive: true });
    writeFileSync(k.path, pem, { mode: 0o600 });
  }
  if (h.ca) await issueLabCert(h.ca, bundle.tls.cert, bundle.tls.key, [bundle.fqdn], { existingKey: !!managed });
  else await selfSignedCert(bundle.tls.cert, bundle.tls.key, bundle.fqdn, !!managed);
  step("TLS certificate");
  // 3. SASL users for submission (Cyrus sasldb, readable by postfix).
  if (bundle.saslUsers.length) {
    const db = bundle.saslDb;
    if (!db) throw new Error(`${who}: the bundle has SASL users but names no sasldb`);
    mkdirSync(dirname(db), { recursive: true });
    for (const u of bundle.saslUsers) {
      const [local, realm] = u.login.split("@");
      const pw = secretValue(u.passwordSecret, secrets, `${bundle.host}: SASL user ${u.login}`);
      await must(`${who}: saslpasswd2 ${u.login} (${db})`, ["saslpasswd2", "-p", "-c", "-f", db, ...(realm ? ["-u", realm] : []), local!], { input: pw });
    }
    chownSync(db, 0, gidOf("postfix"));
    chmodSync(db, 0o640);
  }
  // 4. DKIM (and ARC) private keys where the bundle says, owned by the daemon that signs with them.
  const keyOwner = daemonFacts(bundle.daemons, "opendkim")?.keyOwner;
  for (const k of bundle.dkimKeys.filter((k) => !isTlsKey(k))) {
    const pem = dkimPrivate.get(`${k.domain}/${k.selector}`);
    if (!pem) throw new Error(`${who}: no DKIM key generated for ${k.domain}/${k.selector}`);
    const owner = k.owner ?? keyOwner;
    if (!owner) throw new Error(`${who}: the bundle holds DKIM keys but runs no OpenDKIM`);
    if (!k.owner) mkdirOwned(dirname(dirname(k.path)), owner.owner, owner.group, 0o750);
    mkdirOwned(dirname(k.path), owner.owner, owner.group, 0o750);
    writeFileSync(k.path, pem);
    chownSync(k.path, ids(owner.owner).uid, gidOf(owner.group));
    chmodSync(k.path, 0o600);
  }
  step("SASL users and DKIM keys");
  const daemons = bundle.daemons;
  // Smarthosts' validating resolver and MTA-STS resolver (policy.outboundTls): every daemon below
  // then resolves through the resolv.conf the bundle renders.
  h = { ...h, resolv: startOutboundTls(bundle, h, report) };
  const needsSyslog = daemons.some((d) => d.syslog);
  const syslogLog = needsSyslog ? await startSyslog(h, report) : `${h.logDir}/syslog.log`;
  if (needsSyslog) {
    report.logs.push(syslogLog);
    report.syslog = syslogLog;
  }
  step("syslog listener");
  // 5. Every daemon but Postfix, in the bundle's order, as its facts say. rspamd starts in the
  //    background (the others and Postfix come up meanwhile); the rest answer with Postfix.
  let rspamdReady: Promise<void> = Promise.resolve();
  // The quota store (PostgreSQL) also comes up in the background, then runs its set-up.
  let storeReady: Promise<void> = Promise.resolve();
  for (const d of daemons) {
    // Postfix comes last; the outbound TLS daemons are up already; the ACME timer runs once Postfix is.
    if (d.name === "postfix" || d.name === "unbound" || d.name === "mta-sts-resolver" || d.name === "acme" || d.name === "postfix-exporter") continue;
    for (const dir of d.dirs) makeDir(dir);
    for (const l of d.logs) makeLog(l);
    const out = `${h.logDir}/${d.name}.out`;
    const logs = [...d.logs.map((l) => l.path), ...(d.syslog ? [syslogLog] : []), out];
    report.logs.push(...d.logs.map((l) => l.path), out);
    const argv = (a: string[]) => (d.syslog ? withSyslog(h, a) : a);
    if (d.name === "postsrsd") {
      // On a host Debian's package makes the secret; the lab keeps its own in its secrets.
      mkdirSync(dirname(d.secretFile), { recursive: true });
      writeFileSync(d.secretFile, `${secrets.srs ?? "lab-srs-secret"}\n`);
      chmodSync(d.secretFile, 0o600);
    }
    if (d.configCheck) {
      const n = await run(argv(d.configCheck), { ns: h.ns, resolv: h.resolv });
      if (n.code !== 0) throw new Error(`${who}: ${d.configCheck.join(" ")} rejects ${d.config} (exit ${n.code}):\n${(n.stderr + n.stdout).trim()}\n${d.syslog ? tail(syslogLog) : ""}`);
      report.checks.push(`${who}: ${d.configCheck.join(" ")}`);
    }
    const spawn = () => spawnDaemon(h, d);
    const probes = d.readiness.map((r) => probe(report, h, d.label, r.what, r.check, logs));
    if (d.name === "rspamd") {
      // The rendered local.d over Debian's stock configuration, plus the lab's own override.d
      // (test patterns, shared cache).
      for (const o of labRspamdOverlay(d.confDir)) {
        if (bundle.files.some((f) => f.path === o.path)) throw new Error(`${who}: the lab's rspamd overlay ${o.path} would replace a rendered file`);
        mkdirSync(dirname(o.path), { recursive: true });
        writeFileSync(o.path, o.content);
      }
      rspamdReady = withWarmRspamdCache(async () => {
        spawn();
        const t = Date.now();
        await answerAll(probes, who);
        report.checks.push(`${who}: rspamd ${probes.map((p) => p.what).join(", ")} answers`);
        report.steps.push(`(rspamd: ${((Date.now() - t) / 1000).toFixed(1)} from its start)`);
      });
      // Reported by the Promise.all below; never an unhandled rejection meanwhile.
      rspamdReady.catch(() => {});
      continue;
    }
    if (d.name === "postgresql") {
      await prepareLabCluster(d, bundle.tls);
      storeReady = (async () => {
        spawn();
        await answerAll(probes, who);
        await runSetup(h.ns, d);
        report.checks.push(`${who}: ${d.label} ${probes.map((p) => p.what).join(", ")} answers; set-up ${d.setup?.stdin ?? "none"} applied`);
      })();
      storeReady.catch(() => {});
      continue;
    }
    spawn();
    report.checks.push(`${who}: ${d.label} started (${d.config})`);
  }
  step(`${daemons.filter((d) => !["postfix", "rspamd", "postgresql", "unbound", "mta-sts-resolver", "acme", "postfix-exporter"].includes(d.name)).map((d) => d.label).join(", ")} started`);
  // 6. Postfix, while the others get ready (milters and lookup tables are only asked per message).
  const postfixRefusals = await startPostfix(h, postfix, who, report);
  step("postfix check and start");
  // Metrics (operator.monitoringSources): the exporter tails Postfix's log, which Postfix's start made.
  const exporter = daemonFacts(daemons, "postfix-exporter");
  if (exporter) {
    const out = `${h.logDir}/${exporter.name}.out`;
    report.logs.push(out);
    for (const r of exporter.readiness) probe(report, h, exporter.label, r.what, r.check, [out]);
    spawnDaemon(h, exporter);
    report.checks.push(`${who}: ${exporter.label} started (${exporter.config})`);
  }
  // 7. Up means every daemon answers.
  const background = new Set(daemons.filter((d) => d.name === "rspamd" || d.name === "postgresql").map((d) => d.label));
  const rspamdProbes = new Set(report.probes.filter((p) => p.daemon === "rspamd"));
  await answerAll(report.probes.filter((p) => !background.has(p.daemon)), who);
  postfixRefusals();
  step("daemons answering");
  await storeReady;
  if (daemons.some((d) => d.name === "postgresql")) step("quota store answering, set up");
  await rspamdReady;
  if (rspamdProbes.size) step("rspamd answering");
  // ACME (spec acme): the certificate Postfix bootstrapped with is replaced by the CA's, by the timer's script.
  const acme = daemonFacts(daemons, "acme");
  if (acme) {
    await startAcmeTimer(bundle, acme, h, report);
    step("ACME certificate issued");
  }
  report.checks.push(`${who}: ${report.probes.map((p) => `${p.daemon} ${p.what}`).join("; ")}: all answer`);
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

/**
 * A daemon of a rendered host in the host's namespace, in the foreground as its facts say, its
 * syslog (if it logs there) to the host's listener, its output to <logDir>/<name>.out (also used
 * to restart one).
 */
export function spawnDaemon(h: Pick<HostContext, "ns" | "resolv" | "root" | "logDir">, d: DaemonFacts): void {
  if (!d.foreground) throw new Error(`${h.ns}: ${d.label} has no foreground command for the lab`);
  const argv = d.syslog ? ["sh", "-c", DEV_WRAP, `${h.root}/dev`, ...d.foreground] : d.foreground;
  spawnDetached(argv, `${h.logDir}/${d.name}.out`, { ns: h.ns, resolv: h.resolv });
}

function tail(file: string, lines = 8): string {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").slice(-lines).join("\n") : `(no ${file})`;
}

const STOCK_MASTER = `# Outside host of the facteur lab: a stock Postfix (not rendered by facteur).
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** An outside host: sinks store every message per recipient in <root>/mail/<domain>/<local>/ (maildir). */
export async function startOutsideHost(o: OutsideHost, h: HostContext, secrets: Record<string, string> = {}): Promise<HostReport> {
  const t0 = Date.now();
  const report: HostReport = { checks: [], warnings: [], logs: [], probes: [], seconds: 0, steps: [] };
  const step = stopwatch(report);
  if (o.kind === "client") return report;
  const pfDir = `${h.root}/etc/postfix`;
  mkdirSync(pfDir, { recursive: true });
  const mine = [...o.ipv4, ...o.ipv6.map((a) => `[${a}]`)].join(" ");
  const queueDirectory = `${h.root}/var/spool/postfix`;
  const dataDirectory = `${h.root}/var/lib/postfix`;
  const maillog = `${h.root}/var/log/postfix.log`;
  const lines = [
    "compatibility_level = 3.6",
    `queue_directory = ${queueDirectory}`,
    `data_directory = ${dataDirectory}`,
    `maillog_file = ${maillog}`,
    `maillog_file_prefixes = ${h.root}/var/log`,
    `myhostname = ${o.names[0]}`,
    "smtpd_banner = $myhostname ESMTP",
    "inet_interfaces = all",
    "inet_protocols = all",
    `mynetworks = 127.0.0.0/8 [::1]/128 ${mine}`,
    "mydestination =",
    "alias_maps =",
    "local_recipient_maps =",
    "local_transport = error:no local delivery",
    "biff = no",
    "append_dot_mydomain = no",
    "smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination",
    "smtp_tls_security_level = may",
    // Sinks offer STARTTLS with a lab CA certificate when the stack's smarthosts verify TLS (DANE, MTA-STS).
    ...(o.tls && h.ca ? [`smtpd_tls_cert_file = ${h.root}/etc/tls/sink-cert.pem`, `smtpd_tls_key_file = ${h.root}/etc/tls/sink-key.pem`, "smtpd_tls_security_level = may"] : ["smtpd_tls_security_level = none"]),
    "default_destination_concurrency_limit = 50",
  ];
  if (o.mtaStsResolver) {
    if (!h.ca) throw new Error(`outside ${o.name}: an MTA-STS sender needs the lab CA`);
    lines.push(...startMtaStsResolver(o, h, h.ca, report));
  }
  if (o.tls && h.ca) await issueLabCert(h.ca, `${h.root}/etc/tls/sink-cert.pem`, `${h.root}/etc/tls/sink-key.pem`, o.names);
  let master = STOCK_MASTER;
  if (o.kind === "sink") {
    // Every recipient of the sink's domains is accepted and stored as one file per message in
    // <root>/mail/<domain>/<local>/new/ (Return-Path, X-Original-To, Delivered-To added) by
    // sink.ts's LMTP server, listening in the queue directory before Postfix starts, so no
    // delivery ever finds it missing. Postfix's lmtp client resolves "sinkstore" there.
    const mail = `${h.root}/mail`;
    mkdirOwned(mail, "nobody", "nogroup", 0o755);
    mkdirSync(queueDirectory, { recursive: true });
    const socket = `${queueDirectory}/sinkstore`;
    const log = `${h.logDir}/sink-lmtp.log`;
    mkdirSync(h.logDir, { recursive: true });
    spawnDetached(["/usr/bin/python3", "-c", SINK_LMTP_PY, socket, mail, o.names[0]!, "nobody"], log, { ns: h.ns });
    probe(report, h, "sink store", `LMTP on unix:${socket}`, { kind: "lmtp", socket }, [log]);
    lines.push(`relay_domains = ${o.domains.join(" ")}`, "relay_recipient_maps =", "relay_transport = lmtp:unix:sinkstore");
    master += "lmtp      unix  -       -       n       -       -       lmtp\n";
  }
  if (o.submission?.length) {
    // An external relay (an ISP's or a commercial relay): SMTP AUTH over STARTTLS on its port,
    // users in a Cyrus sasldb with the lab's secrets; authenticated mail is relayed by MX.
    const cert = `${h.root}/etc/tls/cert.pem`;
    const key = `${h.root}/etc/tls/key.pem`;
    await selfSignedCert(cert, key, o.submission[0]!.host);
    const db = `${h.root}/etc/sasldb2`;
    const saslDir = `${pfDir}/sasl`;
    mkdirSync(saslDir, { recursive: true });
    writeFileSync(`${saslDir}/smtpd.conf`, `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: ${db}\n`);
    for (const l of o.submission.flatMap((s) => s.logins)) {
      const [local, realm] = l.username.split("@");
      const pw = secrets[l.passwordSecret];
      if (pw === undefined) throw new Error(`outside ${o.name}: no lab secret ${l.passwordSecret} for ${l.username}`);
      await must(`outside ${o.name}: saslpasswd2 ${l.username}`, ["saslpasswd2", "-p", "-c", "-f", db, ...(realm ? ["-u", realm] : []), local!], { input: pw });
    }
    chownSync(db, 0, gidOf("postfix"));
    chmodSync(db, 0o640);
    lines.push(
      `smtpd_tls_cert_file = ${cert}`,
      `smtpd_tls_key_file = ${key}`,
      "smtpd_sasl_type = cyrus",
      "smtpd_sasl_path = smtpd",
      `cyrus_sasl_config_path = ${saslDir}`,
      "smtpd_sasl_security_options = noanonymous",
      "smtpd_tls_auth_only = yes",
    );
    for (const s of [...new Set(o.submission.map((s) => s.port))]) {
      master += [
        `${s} inet n - n - - smtpd`,
        `  -o syslog_name=postfix/submission-${s}`,
        "  -o smtpd_tls_security_level=encrypt",
        "  -o smtpd_sasl_auth_enable=yes",
        "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject",
        "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
        "",
      ].join("\n");
    }
  }
  writeFileSync(`${pfDir}/main.cf`, lines.join("\n") + "\n");
  cool(`${pfDir}/main.cf`);
  writeFileSync(`${pfDir}/master.cf`, master);
  const who = `outside ${o.name} (${o.names[0]})`;
  step("files");
  const listeners = [{ service: "smtp", port: 25 }, ...[...new Set((o.submission ?? []).map((s) => s.port))].map((port) => ({ service: String(port), port }))];
  await startPostfix(
    h,
    {
      configDir: pfDir,
      queueDirectory,
      dataDirectory,
      maillog,
      dirs: [
        { path: queueDirectory, owner: "root", group: "root", mode: "0755" },
        { path: dataDirectory, owner: "postfix", group: "postfix", mode: "0755" },
      ],
      logs: [],
      readiness: listeners.map((l) => ({ what: `${l.service} on 127.0.0.1:${l.port}: 220 banner`, check: { kind: "smtp", address: "127.0.0.1", port: l.port } })),
    },
    who,
    report,
    false,
  );
  step("postfix start");
  await answerAll(report.probes, who);
  step("Postfix answering");
  for (const s of o.submission ?? [])
    report.checks.push(`outside ${o.name}: external relay ${s.host}:${s.port} answers (SASL ${s.logins.map((l) => l.username).join(", ")}, STARTTLS)`);
  report.checks.push(`${who}: Postfix answers 220 on ${report.probes.flatMap((p) => (p.check.kind === "smtp" ? [p.check.port] : [])).join(", ")}`);
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}
