// Live probes of the lab's daemons: each one asks a daemon a real question over its real
// socket (an SMTP banner, a milter option negotiation, a postsrsd lookup, a policy request, an
// authoritative SOA) rather than looking for a process or a socket file. The same probes say
// when a host is ready at bring-up and what is down in `lab status`.
//
// One small Python program per namespace runs every probe of the hosts in it (the daemons'
// loopback addresses only exist inside their namespace), retrying the failing ones until they
// answer or the wait is over: a single process per host instead of one per poll.
import { run } from "./proc.ts";
import type { ReadinessCheck } from "../render/daemons/index.ts";

/**
 * How long a daemon may take to answer after it was started. Generous on purpose: on a loaded
 * 2-core machine with several stacks coming up at once, rspamd's first start alone (compiling
 * its hyperscan databases) takes tens of seconds. FACTEUR_LAB_READY_SECONDS overrides it.
 */
export function readyBoundMs(): number {
  const s = Number(process.env.FACTEUR_LAB_READY_SECONDS ?? 240);
  return (Number.isFinite(s) && s > 0 ? s : 240) * 1000;
}

/** A daemon's readiness check, as its facts in the bundle name it (src/render/daemons), or one of the lab's own. */
export type ProbeCheck =
  | ReadinessCheck
  /** An authoritative, non-empty SOA answer for every zone. */
  | { kind: "dns"; address: string; zones: string[] }
  /** The lab's syslog listener accepting a datagram on its /dev/log socket. */
  | { kind: "syslog"; socket: string }
  /** An LMTP server (a lab sink's store) greeting 220 on a UNIX socket. */
  | { kind: "lmtp"; socket: string }
  /** An HTTPS server answering 200 for https://host/path, its certificate verified against `ca` (a PEM file). */
  | { kind: "https"; address: string; port: number; host: string; path: string; ca: string };

export interface LabProbe {
  /** Lab host name (mx1, out1, dns, mx-doe...). */
  host: string;
  ns: string;
  /** The daemon asked, as an operator names it: Postfix, rspamd, OpenDKIM... */
  daemon: string;
  /** What is asked, e.g. "milter on inet:127.0.0.1:11332". */
  what: string;
  check: ProbeCheck;
  /** The logs to read when it does not answer. */
  logs: string[];
}

export interface ProbeResult {
  probe: LabProbe;
  ok: boolean;
  /** The answer (a banner, a reply) or why there was none. */
  detail: string;
}

const PROBE_PY = String.raw`
import json, random, socket, ssl, struct, sys, time
checks, wait, each = json.loads(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])

def connect(target):
    if target.startswith('unix:'):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(each)
        s.connect(target[5:])
        return s
    host, port = target[5:].rsplit(':', 1)
    return socket.create_connection((host.strip('[]'), int(port)), timeout=each)

def recvn(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError('connection closed after %d of %d bytes' % (len(b), n))
        b += c
    return b

def until(s, end, step=1):
    b = b''
    while not b.endswith(end):
        c = s.recv(step)
        if not c:
            break
        b += c
    return b.decode('utf-8', 'replace').strip()

def line(s):
    return until(s, b'\n')

def greeting(s):
    """An SMTP or LMTP server's 220 greeting on s (closed after), then QUIT."""
    try:
        l = line(s)
        while l.startswith('220-'):
            l = line(s)
        if not l.startswith('220 '):
            return False, 'no 220 banner: %r' % l
        s.sendall(b'QUIT\r\n')
        return True, l
    finally:
        s.close()

def smtp(c):
    s = socket.create_connection((c['address'], c['port']), timeout=each)
    if c.get('tls'):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        try:
            s = ctx.wrap_socket(s)
        except Exception:
            s.close()
            raise
    return greeting(s)

def milter(c):
    s = connect(c['socket'])
    try:
        s.sendall(struct.pack('>Ic', 13, b'O') + struct.pack('>III', 6, 0x1ff, 0))
        body = recvn(s, struct.unpack('>I', recvn(s, 4))[0])
        if body[:1] != b'O':
            return False, 'answered %r to the option negotiation' % body[:1]
        s.sendall(struct.pack('>Ic', 1, b'Q'))
        return True, 'milter protocol %d negotiated' % struct.unpack('>I', body[1:5])[0]
    finally:
        s.close()

def table(c):
    s = socket.create_connection((c['address'], c['port']), timeout=each)
    try:
        s.sendall(b'get probe@facteur-lab.invalid\n')
        l = line(s)
        return l[:4] in ('200 ', '400 ', '500 '), 'lookup answered: ' + l if l else 'no answer to a lookup'
    finally:
        s.close()

def policy(c):
    s = connect(c['socket'])
    try:
        s.sendall(b'request=smtpd_access_policy\nprotocol_state=VRFY\nprotocol_name=SMTP\n\n')
        l = until(s, b'\n\n', 1024)
        return l.startswith('action='), 'policy answered: ' + l if l else 'no answer to a policy request'
    finally:
        s.close()

def dns(c):
    bad = []
    fam = socket.AF_INET6 if ':' in c['address'] else socket.AF_INET
    for z in c['zones']:
        qid = random.randrange(65536)
        name = b''.join(bytes([len(p)]) + p.encode() for p in z.rstrip('.').split('.')) + b'\0'
        q = struct.pack('>HHHHHH', qid, 0, 1, 0, 0, 0) + name + struct.pack('>HH', 6, 1)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(each)
        try:
            s.sendto(q, (c['address'], 53))
            r = s.recv(4096)
            rid, flags, _, an = struct.unpack('>HHHH', r[:8])
            if rid != qid or not flags & 0x8000 or not flags & 0x0400 or flags & 0xf or an < 1:
                bad.append('%s (rcode %d, %s, %d answers)' % (z, flags & 0xf, 'aa' if flags & 0x0400 else 'not authoritative', an))
        except Exception as e:
            bad.append('%s (%s)' % (z, e))
        finally:
            s.close()
    if bad:
        return False, 'no authoritative SOA for ' + ', '.join(bad[:4]) + (' and %d more' % (len(bad) - 4) if len(bad) > 4 else '')
    return True, 'authoritative SOA for %d zones' % len(c['zones'])

def syslog(c):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.connect(c['socket'])
        s.send(b'<14>facteur-lab: liveness probe of the lab syslog listener')
        return True, 'datagram accepted'
    finally:
        s.close()

def lmtp(c):
    return greeting(connect('unix:' + c['socket']))

def postgres(c):
    s = socket.create_connection((c['address'], c['port']), timeout=each)
    try:
        s.sendall(struct.pack('>II', 8, 80877103))
        b = recvn(s, 1)
        return b == b'S', 'SSLRequest answered %r%s' % (b, ' (TLS offered)' if b == b'S' else '')
    finally:
        s.close()

def https(c):
    ctx = ssl.create_default_context(cafile=c['ca'])
    s = ctx.wrap_socket(socket.create_connection((c['address'], c['port']), timeout=each), server_hostname=c['host'])
    try:
        s.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (c['path'], c['host'])).encode())
        l = line(s)
        return l.split(' ')[1:2] == ['200'], 'answered ' + l
    finally:
        s.close()

def metrics(c):
    s = socket.create_connection((c['address'], c['port']), timeout=each)
    try:
        s.sendall(('GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' % (c['path'], c['address'])).encode())
        b = b''
        while True:
            d = s.recv(65536)
            if not d:
                break
            b += d
        head, _, body = b.decode('utf-8', 'replace').partition('\r\n\r\n')
        status = head.split('\r\n')[0]
        has = any(l.startswith(c['metric']) for l in body.split('\n'))
        return status.split(' ')[1:2] == ['200'] and has, '%s, %s %s' % (status, c['metric'], 'exposed' if has else 'missing')
    finally:
        s.close()

def socketmap(c):
    s = socket.create_connection((c['address'], c['port']), timeout=each)
    try:
        q = ('%s probe.facteur-lab.invalid' % c['name']).encode()
        s.sendall(b'%d:%s,' % (len(q), q))
        l = until(s, b',', 1)
        return ':' in l, 'lookup answered: ' + l if l else 'no answer to a lookup'
    finally:
        s.close()

def resolver(c):
    fam = socket.AF_INET6 if ':' in c['address'] else socket.AF_INET
    qid = random.randrange(65536)
    name = b''.join(bytes([len(p)]) + p.encode() for p in c['zone'].rstrip('.').split('.')) + b'\0'
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(each)
    try:
        s.sendto(struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + name + struct.pack('>HH', 6, 1), (c['address'], 53))
        r = s.recv(4096)
        rid, flags, _, an = struct.unpack('>HHHH', r[:8])
        ok = rid == qid and flags & 0x8000 and not flags & 0xf and an >= 1
        return bool(ok), 'SOA %s: rcode %d, %d answers%s' % (c['zone'], flags & 0xf, an, ', ad' if flags & 0x0020 else '')
    finally:
        s.close()

kinds = {'postgres': postgres, 'resolver': resolver, 'smtp': smtp, 'milter': milter, 'table': table, 'policy': policy, 'dns': dns, 'syslog': syslog, 'lmtp': lmtp, 'https': https, 'socketmap': socketmap, 'metrics': metrics}
res = [None] * len(checks)
end = time.time() + wait
while True:
    for i, c in enumerate(checks):
        if res[i] is not None and res[i][0]:
            continue
        try:
            res[i] = kinds[c['kind']](c)
        except Exception as e:
            res[i] = (False, '%s: %s' % (type(e).__name__, e))
    if all(r[0] for r in res) or time.time() >= end:
        break
    time.sleep(0.25)
print(json.dumps([{'ok': bool(r[0]), 'detail': r[1]} for r in res]))
`;

export interface ProbeOptions {
  /** Keep retrying what does not answer yet for this long (0: ask once, as `lab status` does). */
  waitMs?: number;
  /** Seconds each connection or reply may take. */
  eachSeconds?: number;
}

/** Runs every probe (one process per namespace, namespaces in parallel); results in the given order. */
export async function runProbes(probes: LabProbe[], opts: ProbeOptions = {}): Promise<ProbeResult[]> {
  const waitMs = opts.waitMs ?? 0;
  const each = opts.eachSeconds ?? 5;
  const byNs = new Map<string, number[]>();
  probes.forEach((p, i) => (byNs.get(p.ns) ?? byNs.set(p.ns, []).get(p.ns)!).push(i));
  const out: ProbeResult[] = new Array(probes.length);
  await Promise.all(
    [...byNs].map(async ([ns, idx]) => {
      const checks = idx.map((i) => probes[i]!.check);
      // The bound covers every retry plus one last round of slow answers.
      const r = await run(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", PROBE_PY, JSON.stringify(checks), String(waitMs / 1000), String(each)], {
        timeoutMs: waitMs + (each + 1) * 1000 * (checks.length + 2) + 10_000,
      });
      let answers: { ok: boolean; detail: string }[] | undefined;
      try {
        answers = JSON.parse(r.stdout.trim().split("\n").pop() ?? "");
      } catch {
        answers = undefined;
      }
      idx.forEach((i, k) => {
        const a = answers?.[k];
        out[i] = a
          ? { probe: probes[i]!, ok: a.ok, detail: a.detail }
          : { probe: probes[i]!, ok: false, detail: `the probe could not run in ${ns} (exit ${r.code}${r.timedOut ? ", timed out" : ""}): ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ")}` };
      });
    }),
  );
  return out;
}

/** "host: daemon what: detail (logs: ...)" for a probe that did not answer. */
export function describeDown(r: ProbeResult): string {
  return `${r.probe.host}: ${r.probe.daemon} is not answering (${r.probe.what}): ${r.detail}; read ${r.probe.logs.join(", ")}`;
}
