// Helpers for the lab's end-to-end tests and benches: run things inside a lab host, talk SMTP
// with swaks, read what the outside MX hosts stored, verify DKIM and SPF with python3-dkim /
// python3-spf (Debian's /usr/bin/python3: pyenv's python3 lacks them).
import { chownSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { must, run, sleep, waitFor, type RunResult } from "../../src/lab/proc.ts";
import { labUnboundConfPath } from "../../src/lab/outboundTls.ts";
import { spawnDaemon } from "../../src/lab/hosts.ts";
import { daemonFacts } from "../../src/render/daemons/index.ts";
import { cool } from "../../src/gate/postfix.ts";
import type { LabState, LabHostInfo } from "../../src/lab/index.ts";
import { byArrival, sinkMaildirNew } from "../../src/lab/sink.ts";

/**
 * How long a test waits for something that normally takes a second (mail to arrive, a daemon to
 * stop or answer) before it fails. Generous on purpose: with several stacks coming up on a
 * loaded 2-core machine, "a second" can become half a minute; a pass returns as soon as it can.
 */
export const LAB_WAIT_MS = 120_000;

/** Why the lab cannot run here, or undefined when it can. */
export function labSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "the lab needs root (network namespaces); run as root";
  const bins = ["ip", "postfix", "postmap", "postsrsd", "opendkim", "rspamd", "knotd", "knotc", "kdig", "swaks", "saslpasswd2", "policyd-rate-limit", "openssl", "mta-sts-daemon", "unbound", "pebble", "lego"];
  const missing = bins.filter((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status !== 0);
  if (!existsSync("/usr/bin/dkimverify")) missing.push("/usr/bin/dkimverify (python3-dkim)");
  if (spawnSync("/usr/bin/python3", ["-c", "import spf, dkim"]).status !== 0) missing.push("python3-spf / python3-dkim");
  return missing.length ? `missing ${missing.join(", ")}: run scripts/setup-system.sh` : undefined;
}

export function hostOf(state: LabState, name: string): LabHostInfo {
  const h = state.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no lab host ${name}`);
  return h;
}

/** Runs argv inside a lab host's namespace, resolving through the lab DNS. */
export function inHost(state: LabState, host: string, argv: string[], input?: string, timeoutMs = 2 * LAB_WAIT_MS): Promise<RunResult> {
  return run(argv, { ns: hostOf(state, host).ns, resolv: state.resolv, ...(input !== undefined ? { input } : {}), timeoutMs });
}

export interface SwaksResult extends RunResult {
  /** The whole transcript (swaks writes to stdout); "<-" plain, "<~" under TLS, "*" marks an error. */
  transcript: string;
}

/** swaks from an outside host (default: the outside sender). */
export async function swaks(state: LabState, args: string[], opts: { from?: string; input?: string } = {}): Promise<SwaksResult> {
  const r = await inHost(state, opts.from ?? "sender", ["swaks", "--timeout", String(LAB_WAIT_MS / 2000), ...args], opts.input);
  return { ...r, transcript: r.stdout + r.stderr };
}

/** The server's reply codes in a swaks transcript, in order ("<-  250 ..." / "<** 550 ..."). */
export function replies(transcript: string): string[] {
  return transcript
    .split("\n")
    .filter((l) => /^<[-~]?\*{0,2} +\d{3}[ -]/.test(l))
    .map((l) => l.replace(/^<[-~]?\*{0,2} +/, ""));
}

export interface StoredMail {
  file: string;
  text: string;
  headers: [string, string][];
}

export function parseMail(file: string): StoredMail {
  const text = readFileSync(file, "utf8");
  const head = text.split(/\r?\n\r?\n/)[0]!;
  const headers: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]![1] += ` ${line.trim()}`;
    else {
      const i = line.indexOf(":");
      if (i > 0) headers.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  return { file, text, headers };
}

export const header = (m: StoredMail, name: string): string | undefined => m.headers.find(([k]) => k === name.toLowerCase())?.[1];
export const headersNamed = (m: StoredMail, name: string): string[] => m.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);

/** Every message stored for an outside address (user@domain) at the lab's sinks. */
export function mailbox(state: LabState, address: string): StoredMail[] {
  const dir = mailboxDir(state, address);
  if (!existsSync(dir)) return [];
  return byArrival(readdirSync(dir)).map((f) => storedMail(`${dir}/${f}`));
}

/** How many messages are stored for an outside address (user@domain), without reading them. */
export function storedCount(state: LabState, address: string): number {
  const dir = mailboxDir(state, address);
  return existsSync(dir) ? readdirSync(dir).length : 0;
}

function mailboxDir(state: LabState, address: string): string {
  const [local, domain] = address.toLowerCase().split("@") as [string, string];
  const base = state.mailboxes[domain];
  if (!base) throw new Error(`no lab sink for ${domain}`);
  return sinkMaildirNew(base, domain, local);
}

// A stored message never changes (the sink's store program writes it in tmp/ and moves it to new/): parsed
// once per file, not on every poll of waitForMail (500 files, five polls a second).
const parsed = new Map<string, StoredMail>();
function storedMail(file: string): StoredMail {
  let m = parsed.get(file);
  if (!m) parsed.set(file, (m = parseMail(file)));
  return m;
}

/** Every stored message at every sink. */
export function allMail(state: LabState): StoredMail[] {
  const out: StoredMail[] = [];
  for (const [domain, base] of Object.entries(state.mailboxes)) {
    const d = `${base}/${domain}`;
    if (!existsSync(d)) continue;
    for (const local of readdirSync(d)) {
      const nd = `${d}/${local}/new`;
      if (existsSync(nd)) for (const f of readdirSync(nd)) out.push(storedMail(`${nd}/${f}`));
    }
  }
  return out;
}

/** Waits until `address` holds at least `count` messages whose Subject contains `token`. */
export async function waitForMail(state: LabState, address: string, token: string, count = 1, timeoutMs = LAB_WAIT_MS): Promise<StoredMail[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = mailbox(state, address).filter((m) => (header(m, "subject") ?? "").includes(token));
    if (got.length >= count || Date.now() > end) return got;
    await sleep(200);
  }
}

const DKIM_PY = `
import sys, dkim
msg = open(sys.argv[1], 'rb').read()
d = dkim.DKIM(msg)
n = len([l for l in msg.split(b'\\n\\n')[0].split(b'\\n') if l.lower().startswith(b'dkim-signature:')])
for i in range(n):
    ok = d.verify(idx=i)
    dom = d.domain.decode() if d.domain else '?'
    print('%s %s' % (dom, 'pass' if ok else 'fail'))
`;

/** Each DKIM signature of a stored message as "domain pass|fail", verified against the lab DNS (from `host`). */
export async function dkimResults(state: LabState, file: string, host = "sender"): Promise<string[]> {
  const r = await inHost(state, host, ["/usr/bin/python3", "-c", DKIM_PY, file]);
  if (r.code !== 0) throw new Error(`dkim verification failed to run: ${r.stderr}`);
  return r.stdout.trim().split("\n").filter(Boolean);
}

/** /usr/bin/dkimverify (first signature) on a stored message: its exit code and output. */
export async function dkimverify(state: LabState, file: string, host = "sender"): Promise<RunResult> {
  return inHost(state, host, ["/usr/bin/python3", "/usr/bin/dkimverify"], readFileSync(file, "utf8"));
}

/** python3-spf's check2 as a receiver sees it: ("pass", explanation). */
export async function spfCheck(state: LabState, ip: string, sender: string, helo: string, host = "sender"): Promise<string> {
  const r = await inHost(state, host, ["/usr/bin/python3", "-c", "import spf, sys; print(spf.check2(i=sys.argv[1], s=sys.argv[2], h=sys.argv[3])[0])", ip, sender, helo]);
  return r.stdout.trim() || r.stderr.trim();
}

/** Signs a message with the outside sender's DKIM key (python3-dkim), returning the signed text. */
export async function signAsSender(state: LabState, message: string): Promise<string> {
  const py = `
import sys, dkim
key = open(sys.argv[1], 'rb').read()
msg = sys.stdin.buffer.read()
sig = dkim.sign(msg, sys.argv[2].encode(), sys.argv[3].encode(), key, canonicalize=(b'relaxed', b'relaxed'),
                include_headers=[b'from', b'to', b'subject', b'date', b'message-id'])
sys.stdout.buffer.write(sig + msg)
`;
  const keyFile = `${state.root}/dkim/${state.senderDomain}.${state.senderSelector}.pem`;
  const r = await run(["/usr/bin/python3", "-c", py, keyFile, state.senderSelector, state.senderDomain], { input: message });
  if (r.code !== 0) throw new Error(`signing failed: ${r.stderr}`);
  return r.stdout;
}

/** postqueue -p of a lab host: "" when the queue is empty, else the listing. */
export async function queueOf(state: LabState, host: string): Promise<string> {
  const r = await run(["postqueue", "-c", hostOf(state, host).postfixDir, "-p"]);
  const out = (r.stdout + r.stderr).trim();
  return /Mail queue is empty/.test(out) ? "" : out;
}

/** Lines of a host's Postfix log matching re. */
export function postfixLog(state: LabState, host: string, re: RegExp): string[] {
  const f = hostOf(state, host).maillog;
  return f && existsSync(f) ? readFileSync(f, "utf8").split("\n").filter((l) => re.test(l)) : [];
}

/** Stops `host`'s policyd-rate-limit (SIGTERM, by its pidfile) and starts it again; resolves once the new one listens. */
export async function restartPolicyd(state: LabState, host: string): Promise<{ oldPid: number; newPid: number }> {
  const h = hostOf(state, host);
  const d = daemonFacts(h.daemons ?? [], "policyd-rate-limit");
  if (!d?.pidfile) throw new Error(`${host} runs no policyd-rate-limit with a pidfile`);
  const pidfile = d.pidfile;
  const sock = d.socket.replace(/^unix:/, "");
  const oldPid = Number(readFileSync(pidfile, "utf8").trim());
  process.kill(oldPid, "SIGTERM");
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!(await waitFor(async () => !alive(oldPid), LAB_WAIT_MS))) throw new Error(`${host}: policyd-rate-limit ${oldPid} did not stop`);
  spawnDaemon({ ns: h.ns, resolv: state.resolv, root: h.root, logDir: h.logDir }, d);
  let newPid = 0;
  const ok = await waitFor(async () => {
    if (!existsSync(pidfile) || !existsSync(sock)) return false;
    newPid = Number(readFileSync(pidfile, "utf8").trim());
    return newPid !== oldPid && alive(newPid);
  }, LAB_WAIT_MS);
  if (!ok) throw new Error(`${host}: policyd-rate-limit did not come back (${d.config})`);
  return { oldPid, newPid };
}

/** Puts a whole main.cf in place for a reload, dated back so the daemons read it at once (src/gate/postfix.ts, cool). */
export function writeMainCf(path: string, text: string): void {
  writeFileSync(path, text);
  cool(path);
}

/** `postfix -c DIR stop|start|reload` for a lab host, inside its namespace. */
export async function postfixCtl(state: LabState, host: string, action: "stop" | "start" | "reload"): Promise<RunResult & { retried?: string }> {
  const h = hostOf(state, host);
  const go = () => run(["postfix", "-c", h.postfixDir, action], { ns: h.ns, resolv: state.resolv });
  const r = await go();
  // Known Postfix 3.7 trap (also in production): after an abrupt stop left a half-written
  // incoming file, `postfix start` runs postsuper as the postfix user, which warns about it and
  // must then write maillog_file itself (postlogd is not running yet); the file belongs to root
  // (created by postlogd) and the start dies with "open logfile ... Permission denied".
  // Hand the log to postfix and try once more; the caller sees `retried`.
  const m = /open logfile '([^']+)': cannot open file: Permission denied/.exec(r.stderr + r.stdout);
  if (action === "start" && r.code !== 0 && m) {
    const pf = spawnSync("id", ["-u", "postfix"], { encoding: "utf8" }).stdout.trim();
    chownSync(m[1]!, Number(pf), -1);
    return { ...(await go()), retried: (r.stderr + r.stdout).trim() };
  }
  return r;
}

const SESSIONS_PY = `
import json, smtplib, sys
server, helo, sessions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
out = []
for x in sessions:
    t = []
    s = None
    try:
        s = smtplib.SMTP(timeout=60)
        code, msg = s.connect(server, 25)
        t.append(['', code, msg.decode('utf-8', 'replace')])
        # Sent exactly as written (docmd, not mail()/rcpt(), which would re-quote the address).
        for cmd in ['EHLO ' + helo, 'MAIL FROM:<%s>' % x['from'], 'RCPT TO:<%s>' % x['rcpt']]:
            code, msg = s.docmd(cmd)
            t.append([cmd, code, msg.decode('utf-8', 'replace')])
            if code >= 400:
                break
        else:
            code, msg = s.docmd('DATA')
            t.append(['DATA', code, msg.decode('utf-8', 'replace')])
            if code == 354:
                s.send(('Subject: %s\\r\\n\\r\\nfacteur lab\\r\\n.\\r\\n' % x['subject']).encode())
                code, msg = s.getreply()
                t.append(['.', code, msg.decode('utf-8', 'replace')])
        s.docmd('QUIT')
    except Exception as e:
        t.append(['ERROR', 0, repr(e)])
    finally:
        if s is not None:
            s.close()
    out.append(t)
print(json.dumps(out))
`;

/** One SMTP transaction per session, from an outside host: [command, reply code, reply text] each, the connection first (command ""). */
export type SmtpTranscript = [string, number, string][];

/**
 * Many short SMTP transactions (EHLO, MAIL FROM, RCPT TO, and DATA only when RCPT was accepted)
 * from one process, addresses sent exactly as written: what a battery of address tricks needs,
 * without a swaks process per trick.
 */
export async function smtpSessions(
  state: LabState,
  o: { server: string; helo: string; sessions: { from: string; rcpt: string; subject: string }[]; host?: string },
): Promise<SmtpTranscript[]> {
  const r = await inHost(state, o.host ?? "sender", ["/usr/bin/python3", "-c", SESSIONS_PY, o.server, o.helo, JSON.stringify(o.sessions)]);
  if (r.code !== 0) throw new Error(`SMTP sessions to ${o.server} failed to run: ${r.stderr}`);
  return JSON.parse(r.stdout) as SmtpTranscript[];
}

const BATCH_PY = `
import smtplib, sys, threading
server, sender, rcpt, prefix, n, sessions = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
helo = sys.argv[7]
rcpts = rcpt.split(',')
todo = list(range(n)); lock = threading.Lock(); errors = []
def worker():
    s = None
    while True:
        with lock:
            if not todo: break
            i = todo.pop(0)
        tok = '%s-%05d' % (prefix, i)
        to = rcpts[i % len(rcpts)]
        msg = 'From: <%s>\\r\\nTo: <%s>\\r\\nSubject: %s\\r\\nMessage-ID: <%s@expediteur.tld>\\r\\n\\r\\nbatch message %s\\r\\n' % (sender, to, tok, tok, tok)
        for attempt in range(3):
            try:
                if s is None:
                    s = smtplib.SMTP(server, 25, helo, timeout=60)
                s.sendmail(sender, [to], msg)
                break
            except Exception as e:
                try: s.close()
                except Exception: pass
                s = None
                if attempt == 2: errors.append('%s: %r' % (tok, e))
    if s is not None:
        try: s.quit()
        except Exception: pass
ts = [threading.Thread(target=worker) for _ in range(sessions)]
[t.start() for t in ts]; [t.join() for t in ts]
print('sent %d errors %d' % (n - len(errors), len(errors)))
for e in errors[:10]: print(e)
sys.exit(1 if errors else 0)
`;

/** n messages, each with its own Subject token `<prefix>-NNNNN`, over `sessions` parallel SMTP sessions from `from`; `rcpt` may list several addresses (comma-separated), taken in turn. */
export async function sendBatch(
  state: LabState,
  o: { server: string; rcpt: string; prefix: string; n: number; sessions?: number; from?: string; sender?: string; helo?: string },
): Promise<RunResult> {
  return inHost(
    state,
    o.from ?? "sender",
    ["/usr/bin/python3", "-c", BATCH_PY, o.server, o.sender ?? "alice@expediteur.tld", o.rcpt, o.prefix, String(o.n), String(o.sessions ?? 8), o.helo ?? "mail.expediteur.tld"],
    undefined,
    600_000,
  );
}

/**
 * Makes a host forget what it learnt from the lab's DNS under `zone` after a test changed it:
 * its validating resolver's cache (unbound-control flush_zone) and Postfix's own TLSA cache
 * (each smtp process keeps one for the records' TTL: a reload replaces the processes).
 */
export async function forgetDns(state: LabState, host: string, zone: string): Promise<void> {
  const h = hostOf(state, host);
  await must(`${host}: unbound-control flush_zone ${zone}`, ["unbound-control", "-c", labUnboundConfPath(h.root), "flush_zone", zone]);
  await must(`${host}: unbound-control flush_bogus`, ["unbound-control", "-c", labUnboundConfPath(h.root), "flush_bogus"]);
  await must(`${host}: postfix reload`, ["postfix", "-c", h.postfixDir, "reload"]);
}
