// One day of mail logs for a fleet of two relays and two smarthosts, N messages per host, written
// line for line in the formats of real lab runs (test/fixtures/trace/run1: Postfix 3.7 with
// accepted recipients logged, rspamd 3.4's task line, OpenDKIM as journalctl -o short-iso shows
// it on a host). Deterministic (seeded), so every run traces the same messages.
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Clock, HostLog } from "../src/trace/types.ts";

export const DAY_START = Date.UTC(2026, 10, 22, 0, 0, 0);
export const CLOCK: Clock = { offsetMinutes: 0, nowMs: DAY_START + 86_400_000 + 60_000 };
const MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const stamp = (ms: number) => {
  const d = new Date(ms);
  return `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, " ")} ${d.toISOString().slice(11, 19)}`;
};
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}+0000`;
const rspamdStamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");

export interface Fleet {
  dir: string;
  files: string[];
  /** A message in the middle of the day (its Message-ID), and addresses with many messages. */
  sample: { messageId: string; busyRecipient: string; busyRecipientCount: number; alias: string; sender: string; senderCount: number };
  bytes: number;
  lines: number;
}

const RELAYS = [
  { host: "mx1", ip4: "198.51.100.11", ip6: "2001:db8:5100::11" },
  { host: "mx2", ip4: "198.51.100.12", ip6: "2001:db8:5100::12" },
];
const SMARTHOSTS = [
  { host: "out1", ip4: "198.51.100.13", ip6: "2001:db8:5100::13" },
  { host: "out2", ip4: "198.51.100.14", ip6: "2001:db8:5100::14" },
];
const TLS_FROM = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256";

class Out {
  private fd: number;
  private buf: string[] = [];
  private size = 0;
  bytes = 0;
  lines = 0;
  constructor(readonly file: string) {
    this.fd = openSync(file, "w");
  }
  line(s: string): void {
    this.buf.push(s);
    this.size += s.length + 1;
    this.lines++;
    if (this.size > 1 << 20) this.flush();
  }
  flush(): void {
    if (!this.buf.length) return;
    const b = Buffer.from(`${this.buf.join("\n")}\n`);
    writeSync(this.fd, b);
    this.bytes += b.length;
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Writes the four hosts' logs under `dir` and says which messages to look for. */
export function writeFleetDay(dir: string, perHost: number, seed = 16): Fleet {
  mkdirSync(dir, { recursive: true });
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  // Recipients: aliases of the operator's domains forwarded outside; a few are much busier.
  const domains = ["entreprise.tld", "monmagasin.tld", "asso.tld", "cabinet.tld"];
  const targets = ["doe.tld", "smit.tld", "gmail.example", "outlook.example", "laposte.example", "free.example"];
  const aliases = Array.from({ length: 4000 }, (_, i) => ({ alias: `user${i}@${domains[i % domains.length]}`, to: `person${i}@${targets[i % targets.length]}` }));
  const senders = Array.from({ length: 20_000 }, (_, i) => `sender${i}@${pick(["news.example", "shop.example", "bank.example", "friend.example", "list.example"])}`);
  const busyAlias = aliases[7]!;
  const busySender = senders[42]!;
  const out = {
    mx1: new Out(join(dir, "mx1.postfix.log")),
    mx2: new Out(join(dir, "mx2.postfix.log")),
    out1: new Out(join(dir, "out1.postfix.log")),
    out2: new Out(join(dir, "out2.postfix.log")),
    mx1r: new Out(join(dir, "mx1.rspamd.log")),
    mx2r: new Out(join(dir, "mx2.rspamd.log")),
    out1j: new Out(join(dir, "out1.journal.log")),
    out2j: new Out(join(dir, "out2.journal.log")),
  };
  let qseq = 0x17c0000;
  const qid = () => (qseq++).toString(16).toUpperCase().padStart(11, "0").replace(/^0/, "A");
  let sample: Fleet["sample"] | undefined;
  let busyCount = 0;
  let senderCount = 0;
  const total = perHost * RELAYS.length;
  const pending: { host: keyof typeof out; text: string }[] = [];
  const emit = (host: keyof typeof out, _at: number, text: string) => out[host].line(text);
  for (let i = 0; i < total; i++) {
    const t = DAY_START + Math.floor((i / total) * 86_400_000);
    const relay = RELAYS[i % 2]!;
    const sh = SMARTHOSTS[Math.floor(i / 2) % 2]!;
    const r = relay.host as "mx1" | "mx2";
    const s = sh.host as "out1" | "out2";
    const dest = rand() < 0.02 ? busyAlias : pick(aliases);
    if (dest === busyAlias) busyCount++;
    const sender = rand() < 0.005 ? busySender : pick(senders);
    if (sender === busySender) senderCount++;
    const [local, sdom] = sender.split("@") as [string, string];
    const srs = `SRS0=${(i % 4096).toString(36)}x=${(i % 40).toString(36).toUpperCase()}M=${sdom}=${local}@relais.tld`;
    const mid = `${(t / 1000).toFixed(0)}.${i}@${sdom}`;
    const q1 = qid();
    const q2 = qid();
    const q3 = qid();
    const cpid = 20000 + (i % 500);
    const spid = 30000 + (i % 50);
    const client = `mail${i % 300}.${sdom}`;
    const cip = `203.0.113.${(i % 200) + 20}`;
    const [tag, ms] = [stamp(t), t];
    const relayLine = (x: string) => `${tag} ${r} ${x}`;
    if (!sample && i === Math.floor(total / 2)) sample = { messageId: mid, busyRecipient: busyAlias.to, busyRecipientCount: 0, alias: busyAlias.alias, sender: busySender, senderCount: 0 };
    // Some senders try an address that does not exist: 5xx at RCPT, nothing queued.
    if (rand() < 0.03) {
      emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: connect from ${client}[${cip}]`));
      emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: NOQUEUE: reject: RCPT from ${client}[${cip}]: 550 5.1.1 <nobody${i}@${domains[i % 4]}>: Recipient address rejected: User unknown in virtual alias table; from=<${sender}> to=<nobody${i}@${domains[i % 4]}> proto=ESMTP helo=<${client}>`));
      emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: disconnect from ${client}[${cip}] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`));
    }
    emit(r, ms, relayLine(`postfix/postscreen[1200]: CONNECT from [${cip}]:${40000 + (i % 20000)} to [${relay.ip4}]:25`));
    emit(r, ms, relayLine(`postfix/postscreen[1200]: PASS OLD [${cip}]:${40000 + (i % 20000)}`));
    emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: connect from ${client}[${cip}]`));
    emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: Anonymous TLS connection established from ${client}[${cip}]: ${TLS_FROM}`));
    emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: NOQUEUE: permit: RCPT from ${client}[${cip}]: action=permit for Recipient address=${dest.alias} ; from=<${sender}> to=<${dest.alias}> proto=ESMTP helo=<${client}>`));
    emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: ${q1}: client=${client}[${cip}]`));
    emit(r, ms, relayLine(`postfix/cleanup[${cpid + 1000}]: ${q1}: message-id=<${mid}>`));
    emit(r, ms, relayLine(`postfix/qmgr[1100]: ${q1}: from=<${srs}>, size=${2000 + (i % 30000)}, nrcpt=1 (queue active)`));
    emit(r, ms, relayLine(`postfix/smtpd[${cpid}]: disconnect from ${client}[${cip}] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7`));
    out[`${r}r`].line(
      `${rspamdStamp(ms)} #1300(rspamd_proxy) <${(i % 0xffffff).toString(16).padStart(6, "0")}>; proxy; rspamd_task_write_log: id: <${mid}>, qid: <${q1}>, ip: ${cip}, from: <${sender}>, (default: F (no action): [-0.60/15.00] [DMARC_POLICY_ALLOW(-0.50){${sdom};reject;},R_DKIM_ALLOW(-0.20){${sdom}:s=s2026;},R_SPF_ALLOW(-0.20){+ip4:${cip};},MIME_GOOD(-0.10){text/plain;},ARC_NA(0.00){},DKIM_TRACE(0.00){${sdom}:+;},FROM_EQ_ENVFROM(0.00){},FROM_HAS_DN(0.00){},MID_RHS_MATCH_FROM(0.00){},MIME_TRACE(0.00){0:+;},RCPT_COUNT_ONE(0.00){1;},RCVD_COUNT_ZERO(0.00){0;},TO_DN_NONE(0.00){},TO_MATCH_ENVRCPT_ALL(0.00){}]), len: 792, time: 51.603ms, dns req: 29, digest: <1264c9d79a8f60e202401c0909ee59f7>, rcpts: <${dest.alias}>, mime_rcpts: <${dest.alias}>`,
    );
    // The hand-over and its delivery are logged a moment later, between the next arrivals.
    const t2 = ms + 400;
    const tag2 = stamp(t2);
    for (const p of pending.splice(0)) out[p.host].line(p.text);
    pending.push(
      { host: r, text: `${tag2} ${r} postfix/smtp[${spid}]: Untrusted TLS connection established to ${sh.host}.relais.tld[${sh.ip4}]:25: ${TLS_FROM}` },
      { host: r, text: `${tag2} ${r} postfix/smtp[${spid}]: ${q1}: to=<${dest.to}>, orig_to=<${dest.alias}>, relay=${sh.host}.relais.tld[${sh.ip4}]:25, delay=0.5, delays=0.32/0.07/0.02/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${q2})` },
      { host: r, text: `${tag2} ${r} postfix/qmgr[1100]: ${q1}: removed` },
    );
    const sl = (x: string) => `${tag2} ${s} ${x}`;
    const spid2 = 40000 + (i % 300);
    const relayName = `${relay.host}.relais.tld[${relay.ip4}]`;
    out[s].line(sl(`postfix/smtpd[${spid2}]: connect from ${relayName}`));
    out[s].line(sl(`postfix/smtpd[${spid2}]: Anonymous TLS connection established from ${relayName}: ${TLS_FROM}`));
    out[s].line(sl(`postfix/smtpd[${spid2}]: NOQUEUE: permit: RCPT from ${relayName}: action=OK for Client host=${relayName} from cidr:/etc/postfix/relay_clients; from=<${srs}> to=<${dest.to}> proto=ESMTP helo=<${relay.host}.relais.tld>`));
    out[s].line(sl(`postfix/smtpd[${spid2}]: NOQUEUE: permit: RCPT from ${relayName}: action=permit for Recipient address=${dest.to} ; from=<${srs}> to=<${dest.to}> proto=ESMTP helo=<${relay.host}.relais.tld>`));
    out[s].line(sl(`postfix/smtpd[${spid2}]: ${q2}: client=${relayName}`));
    out[s].line(sl(`postfix/cleanup[${spid2 + 1000}]: ${q2}: message-id=<${mid}>`));
    out[`${s}j`].line(`${iso(t2)} ${s} opendkim[812]: ${q2}: DKIM-Signature field added (s=f2026a, d=relais.tld)`);
    out[s].line(sl(`postfix/qmgr[1101]: ${q2}: from=<${srs}>, size=${3000 + (i % 30000)}, nrcpt=1 (queue active)`));
    out[s].line(sl(`postfix/smtpd[${spid2}]: disconnect from ${relayName} ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=8`));
    const [, tdom] = dest.to.split("@") as [string, string];
    out[s].line(sl(`postfix/smtp[${spid2 + 5000}]: Untrusted TLS connection established to mx.${tdom}[203.0.113.${(i % 50) + 100}]:25: ${TLS_FROM}`));
    out[s].line(sl(`postfix/smtp[${spid2 + 5000}]: ${q2}: to=<${dest.to}>, relay=mx.${tdom}[203.0.113.${(i % 50) + 100}]:25, delay=0.29, delays=0.06/0.06/0.06/0.11, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${q3})`));
    out[s].line(sl(`postfix/qmgr[1101]: ${q2}: removed`));
  }
  for (const p of pending.splice(0)) out[p.host].line(p.text);
  for (const o of Object.values(out)) o.close();
  sample!.busyRecipientCount = busyCount;
  sample!.senderCount = senderCount;
  const files = Object.values(out).map((o) => o.file);
  return { dir, files, sample: sample!, bytes: Object.values(out).reduce((n, o) => n + o.bytes, 0), lines: Object.values(out).reduce((n, o) => n + o.lines, 0) };
}

/** The hosts of that day as the trace reads them. */
export function fleetHosts(): Omit<HostLog, "postfix" | "rspamd" | "syslog">[] {
  return [
    ...RELAYS.map((h) => ({ host: h.host, role: "relay" as const, names: [`${h.host}.relais.tld`], addresses: [h.ip4, h.ip6], clock: CLOCK })),
    ...SMARTHOSTS.map((h) => ({ host: h.host, role: "smarthost" as const, lane: "clean" as const, names: [`${h.host}.relais.tld`], addresses: [h.ip4, h.ip6], clock: CLOCK })),
  ];
}
