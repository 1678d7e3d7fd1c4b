// Postfix log lines as maillog_file (postlogd) writes them, the same as syslog would:
//   Nov 23 15:06:24 mx1 postfix/smtp[25155]: 21F6E16E061: to=<john@doe.tld>, orig_to=<...>, relay=..., status=sent (...)
// parsePostfixLine reads the frame; the helpers below read the messages facteur's trace needs.
// Formats were taken from real Postfix 3.7 logs of the lab (test/fixtures/trace/).
import type { SyslogTimes } from "./clock.ts";

export interface PostfixLine {
  pos: number;
  at: number;
  host: string;
  /** The daemon: smtpd, smtp, cleanup, qmgr, postscreen, pipe, bounce ... (last part of postfix/x/daemon). */
  daemon: string;
  /** daemon[pid], to pair lines of one process. */
  proc: string;
  /** The queue id this line is about, or "NOQUEUE", or undefined. */
  qid?: string;
  /** The message after "qid: " (or the whole message when there is no queue id). */
  msg: string;
}

const FRAME = /^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\s[\]]+)\[(\d+)\]: (.*)$/;
// Short ids are hex; long ids (enable_long_queue_ids) are base-52 time, "z", inode (no vowels).
const QID = /^([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]{6,}z[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-y]+|NOQUEUE): /;

export function parsePostfixLine(text: string, pos: number, times: SyslogTimes): PostfixLine | undefined {
  const m = FRAME.exec(text);
  if (!m) return undefined;
  const program = m[3]!;
  if (!program.startsWith("postfix")) return undefined;
  const daemon = program.slice(program.lastIndexOf("/") + 1);
  const rest = m[5]!;
  const q = QID.exec(rest);
  return {
    pos,
    at: times.at(m[1]!),
    host: m[2]!,
    daemon,
    proc: `${daemon}[${m[4]}]`,
    ...(q ? { qid: q[1]! } : {}),
    msg: q ? rest.slice(q[0].length) : rest,
  };
}

/** Time of a maillog line from its first 15 characters (for bisection). */
export function postfixLineTime(text: string, times: SyslogTimes): number {
  return times.at(text.slice(0, 15));
}

/** NAME[IP] (and NAME[IP]:PORT) -> parts; IPv6 may carry an "IPv6:" prefix. */
export function peerOf(text: string): { name: string; ip: string; port?: number } | undefined {
  const m = /^([^\s[]+)\[([^\]]+)\](?::(\d+))?/.exec(text);
  if (!m) return undefined;
  return { name: m[1]!, ip: m[2]!.replace(/^IPv6:/i, ""), ...(m[3] ? { port: Number(m[3]) } : {}) };
}

/** The `key=<value>` fields Postfix appends to access-control lines (from=<...> to=<...> helo=<...>). */
export function angleField(msg: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|[ ;,])${key}=<([^>]*)>`).exec(msg);
  return m ? m[1] : undefined;
}

export interface Delivery {
  to: string;
  origTo?: string;
  relay: string;
  delay?: number;
  /** Postfix's delays=a/b/c/d: before the queue manager, in it, connection setup, transmission. */
  delays?: number[];
  dsn?: string;
  status: string;
  reply: string;
}

const DELIVERY = /^to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?relay=([^,]+), (?:conn_use=\d+, )?delay=([\d.]+), (?:delays=([\d./]+), )?dsn=([\d.]+), status=(\w+)(?: \((.*)\))?$/;

/** smtp/lmtp/pipe/virtual/local/error: "to=<...>, orig_to=<...>, relay=..., delay=..., dsn=..., status=... (reply)". */
export function parseDelivery(msg: string): Delivery | undefined {
  const m = DELIVERY.exec(msg);
  if (!m) return undefined;
  return {
    to: m[1]!,
    ...(m[2] !== undefined ? { origTo: m[2] } : {}),
    relay: m[3]!,
    delay: Number(m[4]),
    ...(m[5] ? { delays: m[5].split("/").map(Number) } : {}),
    dsn: m[6]!,
    status: m[7]!,
    reply: m[8] ?? "",
  };
}

/** "Anonymous TLS connection established from|to NAME[IP]: TLSv1.3 with cipher X (256/256 bits) ..." -> summary. */
export function parseTls(msg: string): { direction: "from" | "to"; peer: string; summary: string } | undefined {
  const m = /^(\w+) TLS connection established (from|to) (\S+?):? (TLSv[\d.]+) with cipher (\S+)/.exec(msg);
  if (!m) return undefined;
  return { direction: m[2] as "from" | "to", peer: m[3]!, summary: `${m[4]} ${m[5]} (${m[1]!.toLowerCase()})` };
}

/** "queued as X" in a next hop's 250 reply. */
export function queuedAs(reply: string): string | undefined {
  return /\bqueued as ([0-9A-Za-z]{6,})\b/.exec(reply)?.[1];
}

/** The SMTP stage of a refusal: "RCPT", "END-OF-MESSAGE", "DATA", "MAIL", "CONNECT", "EHLO". */
export function refusalStage(msg: string): string | undefined {
  return /^(?:milter-)?reject: (\S+) from /.exec(msg)?.[1];
}

/** "(in reply to RCPT TO command)" -> "RCPT TO". */
export function replyStage(reply: string): string | undefined {
  return /\(in reply to (.+?) command\)/.exec(reply)?.[1];
}

/** The original sender inside an SRS address (SRS0=HHH=TT=domain=local@srs.domain; SRS1 keeps the original's last SRS0 part). */
export function srsOriginal(address: string): string | undefined {
  const m = /^SRS0[=+-][^=]+=[^=]+=([^=]+)=(.+)@[^@]+$/i.exec(address);
  if (m) return `${m[2]}@${m[1]}`;
  const m1 = /^SRS1[=+-][^=]+=[^=]+==[^=]+=[^=]+=([^=]+)=(.+)@[^@]+$/i.exec(address);
  return m1 ? `${m1[2]}@${m1[1]}` : undefined;
}
