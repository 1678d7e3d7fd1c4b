// The lab's sinks (the outside MX hosts of doe.tld, smit.tld...) store every message in a
// maildir per recipient, <base>/<domain>/<local>/new/, through one LMTP server per sink (this
// Python program, Postfix's lmtp(8) client keeping its connections): no process per message.
// Through pipe(8) and a store program, each message cost a fork and an exec, and that store
// path was over a third of the CPU a message took across relay, smarthost and sink (issue 11).
// Postfix's own virtual(8) would need a map per recipient: it refuses regexp substitutions.

/** A recipient's directory name: lower case; any character but a-z 0-9 . _ + = - and a leading dot become "_". */
export function sinkDirName(local: string): string {
  return local.toLowerCase().replace(/[^a-z0-9._+=-]/g, "_").replace(/^\./, "_");
}

/** The directory a sink stores `local@domain`'s messages in, under its maildir base. */
export function sinkMaildirNew(base: string, domain: string, local: string): string {
  return `${base}/${domain.toLowerCase()}/${sinkDirName(local)}/new`;
}

/**
 * The sink's LMTP server (argv: UNIX socket path, maildir base, the host's name, the user to run
 * as). Started as root (the lab), it binds the socket, then runs as that user. Each recipient's
 * copy gets what pipe(8)'s flags=DRO wrote before it (Return-Path, X-Original-To, Delivered-To),
 * LF line endings, and its own reply: a copy that cannot be written is deferred (451), never
 * bounced.
 */
export const SINK_LMTP_PY = String.raw`
import itertools, os, pwd, re, socketserver, sys, threading, time
path, base, name, user = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
seq, lock = itertools.count(1), threading.Lock()
# sinkDirName (sink.ts): lower case; a character outside a-z 0-9 . _ + = - (one per UTF-16 unit, as JS counts) and a leading dot become "_".
def dirname(local):
    d = ''.join(c if re.fullmatch(r'[a-z0-9._+=-]', c) else '_' * (2 if ord(c) > 0xFFFF else 1) for c in local.lower())
    return '_' + d[1:] if d.startswith('.') else d
def mkdir(d):
    try: os.mkdir(d)
    except FileExistsError: pass
def store(sender, rcpt, body):
    local, at, domain = rcpt.rpartition('@')
    if not at: local, domain = rcpt, ''
    domain = domain.lower()
    d = '%s/%s/%s' % (base, domain, dirname(local))
    for x in ('%s/%s' % (base, domain), d, d + '/tmp', d + '/new'): mkdir(x)
    t = time.time()
    with lock: n = next(seq)
    f = '%d.M%06dP%dQ%d.sink' % (int(t), int((t - int(t)) * 1e6), os.getpid(), n)
    head = 'Return-Path: <%s>\nX-Original-To: %s\nDelivered-To: %s\n' % (sender, rcpt, rcpt.lower())
    with open('%s/tmp/%s' % (d, f), 'wb') as out: out.write(head.encode('utf-8') + body)
    os.rename('%s/tmp/%s' % (d, f), '%s/new/%s' % (d, f))
def address(arg):
    m = re.match(r'\s*<([^>]*)>', arg)
    return m.group(1) if m else arg.strip().split(' ')[0]
class Session(socketserver.StreamRequestHandler):
    def handle(self):
        def say(*lines):
            self.wfile.write(''.join('%s%s\r\n' % (code, text) for code, text in lines).encode('utf-8')); self.wfile.flush()
        say(('220 ', '%s LMTP facteur lab sink' % name))
        sender, rcpts = None, []
        for raw in self.rfile:
            cmd = raw.decode('utf-8', 'replace').rstrip('\r\n'); up = cmd.upper()
            if up.startswith('LHLO'): say(('250-', name), ('250-', 'PIPELINING'), ('250-', 'ENHANCEDSTATUSCODES'), ('250-', '8BITMIME'), ('250 ', 'SMTPUTF8'))
            elif up.startswith('MAIL FROM:'): sender, rcpts = address(cmd[10:]), []; say(('250 ', '2.1.0 Ok'))
            elif up.startswith('RCPT TO:'):
                if sender is None: say(('503 ', '5.5.1 MAIL first')); continue
                rcpts.append(address(cmd[8:])); say(('250 ', '2.1.5 Ok'))
            elif up == 'DATA':
                if not rcpts: say(('503 ', '5.5.1 RCPT first')); continue
                say(('354 ', 'End data with <CR><LF>.<CR><LF>'))
                lines = []
                for l in self.rfile:
                    if l in (b'.\r\n', b'.\n'): break
                    if l.startswith(b'.'): l = l[1:]
                    lines.append(l[:-2] + b'\n' if l.endswith(b'\r\n') else l)
                else: return
                body = b''.join(lines)
                replies = []
                for r in rcpts:
                    try: store(sender, r, body); replies.append(('250 ', '2.0.0 <%s> stored' % r))
                    except OSError as e: replies.append(('451 ', '4.3.0 <%s> not stored: %s' % (r, e)))
                say(*replies); sender, rcpts = None, []
            elif up == 'RSET': sender, rcpts = None, []; say(('250 ', '2.0.0 Ok'))
            elif up == 'NOOP': say(('250 ', '2.0.0 Ok'))
            elif up == 'QUIT': say(('221 ', '2.0.0 Bye')); return
            else: say(('500 ', '5.5.2 unknown command'))
class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
try: os.unlink(path)
except FileNotFoundError: pass
server = Server(path, Session)
os.chmod(path, 0o666)
if os.getuid() == 0:
    pw = pwd.getpwnam(user)
    os.setgroups([]); os.setgid(pw.pw_gid); os.setuid(pw.pw_uid)
server.serve_forever()
`;

/** When a stored message arrived, in seconds, from its file name (<seconds>.M<microseconds>P<pid>Q<n>.sink); NaN for any other name. */
export function maildirArrival(name: string): number {
  const m = /^(\d+)\.M(\d{6})P\d+(?:Q\d+)?\./.exec(name.slice(name.lastIndexOf("/") + 1));
  return m ? Number(m[1]) + Number(m[2]) / 1e6 : NaN;
}

/** File names of stored messages in the order the messages arrived. */
export function byArrival(names: string[]): string[] {
  return [...names].sort((a, b) => maildirArrival(a) - maildirArrival(b) || (a < b ? -1 : a > b ? 1 : 0));
}
