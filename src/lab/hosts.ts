// Bringing up one host of the lab: the plan's own hosts run exactly their rendered bundle
// (files, postmap, secrets, SASL users, DKIM keys, TLS cert, then postsrsd / OpenDKIM /
// policyd-rate-limit / Postfix); outside hosts run a small stock Postfix that stores what it
// receives in maildirs (sinks) or sends directly by MX (the outside sender).
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { execFileSync } from "node:child_process";
import { fillSecrets, secretValue, type HostBundle } from "../render/bundle.ts";
import { must, run, spawnDetached, waitFor } from "./proc.ts";
import { daemonFailures } from "../gate/postfix.ts";
import type { OutsideHost } from "./topology.ts";

function ids(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
  return { uid, gid };
}
function gidOf(group: string): number {
  return Number(execFileSync("getent", ["group", group], { encoding: "utf8" }).split(":")[2]);
}

function mkdirOwned(path: string, user?: string, group?: string, mode = 0o755): void {
  mkdirSync(path, { recursive: true });
  if (user) chownSync(path, ids(user).uid, group ? gidOf(group) : ids(user).gid);
  chmodSync(path, mode);
}

/** main.cf parameters as a map (last assignment wins; no continuation lines in our templates). */
export function parseMainCf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([a-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** /etc/default style KEY=VALUE file. */
export function parseDefaults(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"|"$/g, "");
  }
  return out;
}

/** Opens a TCP connection inside ns and returns the first line the server says (a banner). */
export async function bannerIn(ns: string, address: string, port: number): Promise<string> {
  const r = await run(["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${address}/${port}; head -1 <&3`], { ns, timeoutMs: 5000 });
  return r.stdout.trim();
}

async function selfSignedCert(cert: string, key: string, cn: string): Promise<void> {
  mkdirSync(dirname(cert), { recursive: true });
  mkdirSync(dirname(key), { recursive: true });
  await must(`TLS certificate for ${cn}`, [
    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=DNS:${cn}`,
    "-keyout", key, "-out", cert,
  ]);
  chmodSync(key, 0o600);
}

export interface HostContext {
  ns: string;
  resolv: string;
  /** The host's root directory in the lab. */
  root: string;
  logDir: string;
}

export interface HostReport {
  checks: string[];
  warnings: string[];
  logs: string[];
}

/** RSA-2048 key for (domain, selector), kept across runs under keyDir; public half as base64 DER. */
export async function generateDkimKey(keyDir: string, domain: string, selector: string): Promise<{ domain: string; selector: string; pem: string; publicB64: string }> {
  const file = `${keyDir}/${domain}.${selector}.pem`;
  if (!existsSync(file)) await must(`DKIM key ${domain}/${selector}`, ["openssl", "genrsa", "-traditional", "-out", file, "2048"]);
  chmodSync(file, 0o600);
  const der = await must(`DKIM public key ${domain}/${selector}`, ["sh", "-c", 'openssl rsa -in "$0" -pubout -outform DER 2>/dev/null | base64 -w0', file]);
  return { domain, selector, pem: readFileSync(file, "utf8"), publicB64: der.stdout.trim() };
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

async function startSyslog(h: HostContext): Promise<string> {
  const dev = `${h.root}/dev`;
  mkdirSync(dev, { recursive: true });
  const log = `${h.logDir}/syslog.log`;
  spawnDetached(["/usr/bin/python3", "-c", SYSLOG_PY, `${dev}/log`, log], `${h.logDir}/syslog-listener.log`, { ns: h.ns });
  if (!(await waitFor(async () => existsSync(`${dev}/log`), 5000))) throw new Error(`${h.ns}: the syslog listener did not create ${dev}/log`);
  return log;
}

function withSyslog(h: HostContext, argv: string[]): string[] {
  return ["sh", "-c", DEV_WRAP, `${h.root}/dev`, ...argv];
}

async function tcpAnswers(ns: string, addr: string, port: string | number): Promise<boolean> {
  return (await run(["bash", "-c", `exec 3<>/dev/tcp/${addr}/${port}`], { ns, timeoutMs: 3000 })).code === 0;
}

/** Postfix queue/data/log directories, `postfix check`, `postfix start`, and a 220 banner. */
async function startPostfix(h: HostContext, pfDir: string, who: string, report: HostReport): Promise<void> {
  const main = parseMainCf(readFileSync(join(pfDir, "main.cf"), "utf8"));
  const pf = ids("postfix");
  for (const key of ["queue_directory", "data_directory"]) mkdirSync(main[key]!, { recursive: true });
  chownSync(main.data_directory!, pf.uid, pf.gid);
  if (main.maillog_file) {
    mkdirSync(dirname(main.maillog_file), { recursive: true });
    report.logs.push(main.maillog_file);
  }
  const logTail = () => (main.maillog_file ? tail(main.maillog_file) : "");
  const check = await run(["postfix", "-c", pfDir, "check"], { ns: h.ns, resolv: h.resolv });
  if (check.code !== 0 || /fatal|error/i.test(check.stderr)) {
    throw new Error(`${who}: postfix -c ${pfDir} check failed (exit ${check.code}) on ${pfDir}/main.cf or master.cf:\n${(check.stderr + check.stdout).trim()}\n${logTail()}`);
  }
  report.checks.push(`${who}: postfix -c ${pfDir} check${/warning/i.test(check.stderr) ? ` (warnings: ${check.stderr.trim().split("\n").join("; ")})` : ""}`);
  await must(`${who}: postfix set-permissions (${pfDir})`, ["postfix", "-c", pfDir, "set-permissions"], { timeoutMs: 60_000 });
  const logFrom = main.maillog_file && existsSync(main.maillog_file) ? statSync(main.maillog_file).size : 0;
  const start = await run(["postfix", "-c", pfDir, "start"], { ns: h.ns, resolv: h.resolv, timeoutMs: 60_000 });
  if (start.code !== 0) throw new Error(`${who}: postfix -c ${pfDir} start failed (exit ${start.code}):\n${(start.stderr + start.stdout).trim()}\n${logTail()}`);
  // Loopback is in mynetworks: postscreen lets it straight through to the banner.
  const ok = await waitFor(async () => /^220[ -]/.test(await bannerIn(h.ns, "127.0.0.1", 25)), 15_000, 200);
  if (!ok) throw new Error(`${who}: Postfix started but no 220 banner on port 25 (log ${main.maillog_file}):\n${logTail()}`);
  // The deploy gate's reading of the log (src/gate): a daemon that refused its parameters fails the host.
  const refused = main.maillog_file ? daemonFailures(readFileSync(main.maillog_file).subarray(logFrom).toString("utf8")) : [];
  if (refused.length) throw new Error(`${who}: Postfix daemons refused the configuration (log ${main.maillog_file}):\n${refused.join("\n")}`);
  report.checks.push(`${who}: Postfix answers 220 on port 25`);
}

/** Applies a rendered bundle to the host's root and starts its daemons. */
export async function startOwnHost(
  bundle: HostBundle,
  h: HostContext,
  secrets: Record<string, string>,
  dkimPrivate: Map<string, string>,
  _address: { ipv4: string; ipv6: string },
): Promise<HostReport> {
  const who = bundle.host;
  const report: HostReport = { checks: [], warnings: [], logs: [] };
  mkdirSync(h.logDir, { recursive: true });
  // 1. Every file of the bundle, secrets filled in at the last moment.
  for (const f of bundle.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, fillSecrets(f.content, secrets, `${bundle.host}:${f.path}`, f.secretRefs ?? []));
    chmodSync(f.path, parseInt(f.mode, 8));
  }
  const pfDir = `${h.root}/etc/postfix`;
  for (const f of bundle.files.filter((f) => f.postmap)) await must(`${who}: postmap ${f.path}`, ["postmap", "-c", pfDir, `hash:${f.path}`]);
  // 2. The TLS key pair main.cf names.
  await selfSignedCert(bundle.tls.cert, bundle.tls.key, bundle.fqdn);
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
  // 4. DKIM private keys where the bundle says, owned by the signer.
  for (const k of bundle.dkimKeys) {
    const pem = dkimPrivate.get(`${k.domain}/${k.selector}`);
    if (!pem) throw new Error(`${who}: no DKIM key generated for ${k.domain}/${k.selector}`);
    mkdirOwned(dirname(dirname(k.path)), "opendkim", "opendkim", 0o750);
    mkdirOwned(dirname(k.path), "opendkim", "opendkim", 0o750);
    writeFileSync(k.path, pem);
    chownSync(k.path, ids("opendkim").uid, ids("opendkim").gid);
    chmodSync(k.path, 0o600);
  }
  const needsSyslog = bundle.files.some((f) => /\/etc\/(default\/postsrsd|opendkim\.conf|policyd-rate-limit\.yaml)$/.test(f.path));
  if (needsSyslog) report.logs.push(await startSyslog(h));
  const waits: Promise<void>[] = [];
  // 5. rspamd (relays), with the rendered local.d over Debian's stock configuration.
  const rspamdDir = `${h.root}/etc/rspamd`;
  if (bundle.files.some((f) => f.path.startsWith(`${rspamdDir}/`))) {
    const r = ids("_rspamd");
    for (const d of ["run/rspamd", "var/lib/rspamd"]) {
      mkdirSync(`${h.root}/${d}`, { recursive: true });
      chownSync(`${h.root}/${d}`, r.uid, r.gid);
    }
    const logging = readFileSync(`${rspamdDir}/local.d/logging.inc`, "utf8");
    const rlog = /filename\s*=\s*"([^"]+)"/.exec(logging)?.[1] ?? `${h.logDir}/rspamd.log`;
    mkdirSync(dirname(rlog), { recursive: true });
    writeFileSync(rlog, "", { flag: "a" });
    chownSync(rlog, r.uid, r.gid);
    report.logs.push(rlog);
    const sock = /bind_socket\s*=\s*"([^"]+)"/.exec(readFileSync(`${rspamdDir}/local.d/worker-proxy.inc`, "utf8"))?.[1] ?? "127.0.0.1:11332";
    const [addr, port] = [sock.slice(0, sock.lastIndexOf(":")), sock.slice(sock.lastIndexOf(":") + 1)];
    spawnDetached(
      [
        "rspamd", "-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf",
        `--var=LOCAL_CONFDIR=${rspamdDir}`, `--var=RUNDIR=${h.root}/run/rspamd`, `--var=DBDIR=${h.root}/var/lib/rspamd`, `--var=LOGDIR=${h.logDir}`,
      ],
      `${h.logDir}/rspamd.out`,
      { ns: h.ns, resolv: h.resolv },
    );
    report.logs.push(`${h.logDir}/rspamd.out`);
    waits.push(
      (async () => {
        if (await waitFor(() => tcpAnswers(h.ns, addr, port), 40_000, 250)) report.checks.push(`${who}: rspamd milter ${sock} answers`);
        else
          report.warnings.push(
            `${who}: rspamd is NOT answering on its milter socket ${sock}: mail still flows (milter_default_action = accept) but is not scanned; see ${rlog} and ${h.logDir}/rspamd.out:\n${tail(`${h.logDir}/rspamd.out`)}`,
          );
      })(),
    );
  }
  // 6. postsrsd, as /etc/default/postsrsd configures it.
  const srsFile = bundle.files.find((f) => f.path.endsWith("/etc/default/postsrsd"));
  if (srsFile) {
    const d = parseDefaults(srsFile.content);
    const secretFile = d.SRS_SECRET!;
    mkdirSync(dirname(secretFile), { recursive: true });
    writeFileSync(secretFile, `${secrets.srs ?? "lab-srs-secret"}\n`);
    chmodSync(secretFile, 0o600);
    if (d.CHROOT) mkdirSync(d.CHROOT, { recursive: true });
    const argv = [
      "postsrsd", `-s${secretFile}`, `-d${d.SRS_DOMAIN}`, `-a${d.SRS_SEPARATOR ?? "="}`,
      `-l${d.SRS_LISTEN_ADDR ?? "127.0.0.1"}`, `-f${d.SRS_FORWARD_PORT ?? 10001}`, `-r${d.SRS_REVERSE_PORT ?? 10002}`,
      ...(d.RUN_AS ? [`-u${d.RUN_AS}`] : []), ...(d.CHROOT ? [`-c${d.CHROOT}`] : []),
      ...(d.SRS_EXCLUDE_DOMAINS ? d.SRS_EXCLUDE_DOMAINS.split(",").filter(Boolean).map((x) => `-X${x}`) : []),
    ];
    spawnDetached(withSyslog(h, argv), `${h.logDir}/postsrsd.out`, { ns: h.ns, resolv: h.resolv });
    const addr = d.SRS_LISTEN_ADDR ?? "127.0.0.1";
    const port = d.SRS_FORWARD_PORT ?? "10001";
    waits.push(
      (async () => {
        if (!(await waitFor(() => tcpAnswers(h.ns, addr, port), 5000)))
          throw new Error(`${who}: postsrsd (${srsFile.path}) did not listen on ${addr}:${port}: ${tail(`${h.logDir}/postsrsd.out`)}\n${tail(`${h.logDir}/syslog.log`)}`);
        report.checks.push(`${who}: postsrsd answers on ${addr}:${port} (SRS domain ${d.SRS_DOMAIN})`);
      })(),
    );
  }
  // 7. OpenDKIM: config test, then the daemon in the foreground (its syslog goes to our listener).
  const dkimConf = bundle.files.find((f) => f.path.endsWith("/etc/opendkim.conf"));
  if (dkimConf) {
    const conf = dkimConf.content;
    const sock = /^Socket\s+local:(\S+)/m.exec(conf)?.[1];
    const pid = /^PidFile\s+(\S+)/m.exec(conf)?.[1];
    if (sock) mkdirOwned(dirname(sock), "opendkim", "postfix", 0o750);
    if (pid) mkdirOwned(dirname(pid), "opendkim", "postfix", 0o750);
    const n = await run(withSyslog(h, ["opendkim", "-n", "-x", dkimConf.path]), { ns: h.ns, resolv: h.resolv });
    if (n.code !== 0) throw new Error(`${who}: opendkim -n rejects ${dkimConf.path} (exit ${n.code}):\n${(n.stderr + n.stdout).trim()}\n${tail(`${h.logDir}/syslog.log`)}`);
    report.checks.push(`${who}: opendkim -n -x ${dkimConf.path}`);
    spawnDetached(withSyslog(h, ["opendkim", "-f", "-x", dkimConf.path]), `${h.logDir}/opendkim.out`, { ns: h.ns, resolv: h.resolv });
    if (sock)
      waits.push(
        (async () => {
          if (!(await waitFor(async () => existsSync(sock), 10_000)))
            throw new Error(`${who}: OpenDKIM did not create its socket ${sock} (config ${dkimConf.path}):\n${tail(`${h.logDir}/opendkim.out`)}\n${tail(`${h.logDir}/syslog.log`)}`);
          report.checks.push(`${who}: OpenDKIM listening on ${sock}`);
        })(),
      );
  }
  // 8. policyd-rate-limit (submission quota), socket reachable by Postfix.
  const rl = bundle.files.find((f) => f.path.endsWith("/etc/policyd-rate-limit.yaml"));
  if (rl) {
    const sock = /^SOCKET:\s*"([^"]+)"/m.exec(rl.content)?.[1];
    const pidfile = /^pidfile:\s*"([^"]+)"/m.exec(rl.content)?.[1];
    const db = /^\s*database:\s*"([^"]+)"/m.exec(rl.content)?.[1];
    if (pidfile) mkdirOwned(dirname(pidfile), "policyd-rate-limit", "policyd-rate-limit", 0o755);
    if (db) mkdirOwned(dirname(db), "policyd-rate-limit", "policyd-rate-limit", 0o750);
    if (sock) {
      // The socket lives in the queue directory, which postfix check creates later: make its own dir now.
      mkdirSync(dirname(dirname(sock)), { recursive: true });
      mkdirOwned(dirname(sock), "policyd-rate-limit", "postfix", 0o750);
    }
    spawnPolicyd(h, rl.path);
    report.logs.push(`${h.logDir}/policyd-rate-limit.out`);
    if (sock)
      waits.push(
        (async () => {
          if (!(await waitFor(async () => existsSync(sock), 10_000)))
            throw new Error(`${who}: policyd-rate-limit did not create ${sock} (${rl.path}):\n${tail(`${h.logDir}/policyd-rate-limit.out`)}\n${tail(`${h.logDir}/syslog.log`)}`);
          report.checks.push(`${who}: policyd-rate-limit listening on ${sock}`);
        })(),
      );
  }
  await Promise.all(waits);
  // 9. Postfix.
  await startPostfix(h, pfDir, who, report);
  return report;
}

/** policyd-rate-limit in the host's namespace, its syslog to the host's listener (also used to restart it). */
export function spawnPolicyd(h: HostContext, yamlPath: string): void {
  spawnDetached(withSyslog(h, ["policyd-rate-limit", "--file", yamlPath]), `${h.logDir}/policyd-rate-limit.out`, { ns: h.ns, resolv: h.resolv });
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
  const report: HostReport = { checks: [], warnings: [], logs: [] };
  if (o.kind === "client") return report;
  const pfDir = `${h.root}/etc/postfix`;
  mkdirSync(pfDir, { recursive: true });
  const mine = [...o.ipv4, ...o.ipv6.map((a) => `[${a}]`)].join(" ");
  const lines = [
    "compatibility_level = 3.6",
    `queue_directory = ${h.root}/var/spool/postfix`,
    `data_directory = ${h.root}/var/lib/postfix`,
    `maillog_file = ${h.root}/var/log/postfix.log`,
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
    "smtpd_tls_security_level = none",
    "default_destination_concurrency_limit = 50",
  ];
  let master = STOCK_MASTER;
  if (o.kind === "sink") {
    // Every recipient of the sink's domains is accepted and stored as one file per message
    // in <root>/mail/<domain>/<local>/new/ (Return-Path, Delivered-To, X-Original-To added).
    const mail = `${h.root}/mail`;
    mkdirOwned(mail, "nobody", "nogroup", 0o755);
    const store = `${h.root}/store.sh`;
    writeFileSync(
      store,
      [
        "#!/bin/sh",
        "# facteur lab sink: one file per message per recipient; a failure defers (75), never bounces.",
        'd="$1/$(echo "$2" | tr A-Z a-z)/$(echo "$3" | tr A-Z a-z | tr -c "a-z0-9._+=\\n-" _)" || exit 75',
        'mkdir -p "$d/tmp" "$d/new" || exit 75',
        'f="$(date +%s.%N).$$"',
        'cat >"$d/tmp/$f" && mv "$d/tmp/$f" "$d/new/$f" || exit 75',
        "",
      ].join("\n"),
    );
    chmodSync(store, 0o755);
    lines.push(`relay_domains = ${o.domains.join(" ")}`, "relay_recipient_maps =", "relay_transport = sinkstore", "sinkstore_destination_recipient_limit = 1");
    master += `sinkstore unix  -       n       n       -       -       pipe\n  flags=DRO user=nobody argv=${store} ${mail} \${domain} \${user}\n`;
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
  writeFileSync(`${pfDir}/master.cf`, master);
  await startPostfix(h, pfDir, `outside ${o.name} (${o.names[0]})`, report);
  for (const s of o.submission ?? []) {
    const ok = await waitFor(async () => /^220[ -]/.test(await bannerIn(h.ns, "127.0.0.1", s.port)), 10_000, 200);
    if (!ok) throw new Error(`outside ${o.name}: no 220 banner on port ${s.port} (external relay ${s.host})`);
    report.checks.push(`outside ${o.name}: external relay ${s.host}:${s.port} answers (SASL ${s.logins.map((l) => l.username).join(", ")}, STARTTLS)`);
  }
  return report;
}
