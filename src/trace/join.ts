// The trace itself: from raw logs of every host to one path per recipient. Pure: no I/O.
//
// 1. Seeds: lines holding what was asked (message-id=<ID>, to=<ADDR> / orig_to=<ADDR>, from=<ADDR>
//    or an SRS address hiding it), searched natively in each host's maillog.
// 2. Each seed's queue id is followed on its host (all lines of that id), then across hosts
//    through the "queued as X" of the next hop's 250 reply (and back up through the previous
//    host's "queued as" when a seed sits downstream).
// 3. Lines without a queue id are paired by process: an smtpd's "connect from", TLS and first
//    "permit: RCPT" (logged before the queue file exists) belong to the next "client=" of that
//    smtpd; an smtp's "connect to ... refused" and TLS lines to its next delivery line.
// 4. rspamd's verdict (qid: <ID>) and OpenDKIM's signature ("ID: DKIM-Signature field added")
//    are looked up by queue id in their own logs.
import { SyslogTimes } from "./clock.ts";
import { linesBefore, linesFrom, linesOfQueueIds, linesWith, linesWithBackward, memoryBytes, windowStart, type Line, type LogBytes } from "./buffers.ts";
import {
  angleField, parseDelivery, parsePostfixLine, parseTls, peerOf, postfixLineTime, queuedAs, refusalStage, replyStage, srsOriginal,
  type Delivery, type PostfixLine,
} from "./postfix.ts";
import { parseRspamdTask, parseSignature, parseSrsForward, parseSyslogEntry, syslogLineTime } from "./others.ts";
import { isoTime } from "./clock.ts";
import type { Arrival, Attempt, Hop, HostLog, Outcome, Path, Peer, Query, Trace, TracedMessage } from "./types.ts";

export interface TraceOptions {
  sinceMs: number;
  /** Most recent messages shown (default 20); the rest are counted in `more`. */
  limit?: number;
}

/** Postfix defaults (minimal_backoff_time, maximal_backoff_time): facteur's configs keep them. */
const MIN_BACKOFF = 300_000;
const MAX_BACKOFF = 4_000_000;
/** Above this many queue ids on one host, one pass over its whole window beats a search per id. */
const ONE_PASS_ABOVE = 3000;
/** How far back (lines) a process's earlier lines are looked for. */
const LOOKBACK_LINES = 5000;
/** Hosts' clocks and the order of log writes disagree by seconds; searches around a time start this much earlier. */
const SLACK = 120_000;

interface Source {
  src: LogBytes;
  from: number;
  timeOf: (line: string) => number;
  /** The offset of the first line at or after a time (bisection). */
  at: (ms: number) => number;
}

function source(bytes: Buffer | LogBytes, sinceMs: number, timeOf: (line: string) => number): Source {
  const src = Buffer.isBuffer(bytes) ? memoryBytes(bytes) : bytes;
  const from = windowStart(src, sinceMs, timeOf);
  const cache = new Map<number, number>();
  return {
    src,
    from,
    timeOf,
    at: (ms) => {
      const key = Math.floor(ms / 1000);
      let pos = cache.get(key);
      if (pos === undefined) cache.set(key, (pos = Math.max(from, windowStart(src, key * 1000, timeOf))));
      return pos;
    },
  };
}

interface HostCtx {
  log: HostLog;
  times: SyslogTimes;
  pf: Source;
  rs?: Source;
  sl?: Source;
}

interface Permit {
  at: number;
  rcpt: string;
  from?: string;
  helo?: string;
}

interface Refusal {
  at: number;
  rcpt?: string;
  stage: string;
  reply: string;
  by: string;
}

interface DeliveryLine {
  line: PostfixLine;
  d: Delivery;
}

/** Everything one host logged about one queue id. */
interface QueueRecord {
  key: string;
  host: string;
  qid: string;
  lines: PostfixLine[];
  firstAt: number;
  arrival?: Arrival;
  permits: Permit[];
  rejects: Refusal[];
  refused?: Refusal;
  messageIds: string[];
  envelopeFrom?: string;
  laneFilter?: Hop["laneFilter"];
  deliveries: DeliveryLine[];
  notes: string[];
}

const keyOf = (host: string, qid: string) => `${host}/${qid}`;
/** Where a queue id was seen: a time, and the line's offset when it is known. */
interface Near {
  at: number;
  pos?: number;
}
type Fetch = (host: string, qid: string, near: Near) => QueueRecord | undefined;
const lc = (s: string) => s.toLowerCase();
const unbracket = (id: string) => id.trim().replace(/^<(.*)>$/, "$1");

export function trace(logs: HostLog[], query: Query, opts: TraceOptions): Trace {
  const limit = opts.limit ?? 20;
  const warnings: string[] = [];
  const ctxs = new Map<string, HostCtx>();
  let until = 0;
  for (const log of logs) {
    const times = new SyslogTimes(log.clock);
    const since = opts.sinceMs;
    const pf = source(log.postfix, since, (l) => postfixLineTime(l, times));
    const ctx: HostCtx = { log, times, pf };
    if (log.rspamd) ctx.rs = source(log.rspamd, since - SLACK, (l) => isoTime(l.slice(0, 19), log.clock));
    if (log.syslog) ctx.sl = source(log.syslog, since - SLACK, (l) => syslogLineTime(l, times, log.clock));
    ctxs.set(log.host, ctx);
    until = Math.max(until, log.clock.nowMs);
  }
  const fleet = new FleetNames(logs);
  const records = new Map<string, QueueRecord>();
  const refusals: { host: string; refusal: Refusal; arrival?: Arrival }[] = [];

  // 1. Seeds.
  // host -> queue id -> where it was seen (its lines are looked for around there first).
  const wanted = new Map<string, Map<string, Near>>();
  const tried = new Set<string>();
  const searchedUp = new Set<string>();
  const want = (host: string, qid: string, near: Near) => {
    if (tried.has(keyOf(host, qid))) return;
    tried.add(keyOf(host, qid));
    let s = wanted.get(host);
    if (!s) wanted.set(host, (s = new Map()));
    s.set(qid, near);
  };
  for (const ctx of ctxs.values()) {
    for (const l of seedLines(ctx, query)) {
      const p = parsePostfixLine(l.text, l.pos, ctx.times);
      if (!p?.qid) continue;
      if (p.qid !== "NOQUEUE") want(ctx.log.host, p.qid, { at: p.at, pos: p.pos });
      else if (/^permit: /.test(p.msg)) {
        // The first accepted recipient is logged before the queue file exists: its id is on the
        // next "client=" line of the same smtpd.
        const qid = nextClientLine(ctx, p);
        if (qid) want(ctx.log.host, qid, { at: p.at, pos: p.pos });
      } else if (/^(?:milter-)?reject: /.test(p.msg)) {
        const r = refusalOf(p, ctx.log.host);
        if (r && matchesRefusal(r, p, query)) refusals.push({ host: ctx.log.host, refusal: r, arrival: sessionBefore(ctx, p, fleet).arrival });
      }
    }
  }

  // 2. The seeds' queue entries, and the hand-overs between them. A seed whose client is one of
  // ours and that no seed handed over (say a smarthost's, the relay's log rotated away) is
  // looked up at its client: "queued as <id>)".
  const handedTo = new Set<string>();
  const fetch = (host: string, qid: string, near: Near): QueueRecord | undefined => {
    const key = keyOf(host, qid);
    const known = records.get(key);
    if (known || tried.has(key)) return known;
    tried.add(key);
    const ctx = ctxs.get(host)!;
    const lines = collect(ctx, new Map([[qid, near]])).get(qid) ?? [];
    if (!lines.length) return undefined;
    const r = buildRecord(ctx, qid, lines, fleet);
    records.set(key, r);
    return r;
  };
  for (let round = 0; wanted.size && round < 50; round++) {
    const batch = [...wanted];
    wanted.clear();
    for (const [host, ids] of batch) {
      const ctx = ctxs.get(host)!;
      for (const [qid, lines] of collect(ctx, ids)) {
        if (!lines.length || records.has(keyOf(host, qid))) continue;
        records.set(keyOf(host, qid), buildRecord(ctx, qid, lines, fleet));
      }
    }
    for (const r of records.values()) {
      for (const { d } of r.deliveries) {
        const next = d.status === "sent" ? queuedAs(d.reply) : undefined;
        const peer = peerOf(d.relay);
        const to = next && peer ? fleet.hostOf(peer.name, peer.ip) : undefined;
        if (to && next && ctxs.has(to)) handedTo.add(keyOf(to, next));
      }
    }
    for (const r of records.values()) {
      const up = r.arrival?.client.host;
      if (up && ctxs.has(up) && !handedTo.has(r.key) && !searchedUp.has(r.key)) {
        searchedUp.add(r.key);
        const ctx = ctxs.get(up)!;
        const lines = linesWith(ctx.pf.src, `queued as ${r.qid})`, ctx.pf.at(r.firstAt - SLACK), ctx.pf.at(r.firstAt + 3_600_000), () => true);
        for (const l of lines) {
          const p = parsePostfixLine(l.text, l.pos, ctx.times);
          if (p?.qid && p.qid !== "NOQUEUE") {
            handedTo.add(r.key);
            want(up, p.qid, { at: p.at, pos: p.pos });
          }
        }
      }
    }
    if (records.size > 20_000) {
      warnings.push("more than 20000 queue entries matched: narrow the query or --since");
      break;
    }
  }

  // 3. Messages: the records nobody handed over (where the message entered what we can see),
  // newest first; paths are built only for those shown.
  const entries = [...records.values()].filter((r) => !handedTo.has(r.key)).sort((a, b) => (b.arrival?.at ?? b.firstAt) - (a.arrival?.at ?? a.firstAt));
  const messages: TracedMessage[] = [];
  let more = 0;
  const refusalsShown = refusals.sort((a, b) => b.refusal.at - a.refusal.at);
  for (const r of entries) {
    if (messages.length >= limit) {
      more++;
      continue;
    }
    const paths = pathsOf(r, fetch, ctxs, fleet).filter((p) => pathMatches(p, query));
    if (!paths.length && !recordMatches(r, query)) continue;
    const from = r.permits.find((p) => p.from !== undefined)?.from ?? r.arrival?.from ?? (r.envelopeFrom !== undefined ? srsOriginal(r.envelopeFrom) ?? r.envelopeFrom : undefined);
    messages.push({
      first: { host: r.host, queueId: r.qid, at: r.arrival?.at ?? r.firstAt },
      messageIds: r.messageIds,
      ...(from !== undefined ? { from } : {}),
      paths,
    });
  }
  for (const { host, refusal, arrival } of refusalsShown) {
    const ctx = ctxs.get(host)!;
    const hop: Hop = { host, role: ctx.log.role, messageIds: [], signatures: [], signerNotes: [], attempts: [], ...(arrival ? { arrival } : {}) };
    messages.push({
      first: { host, at: refusal.at },
      messageIds: [],
      ...(arrival?.from !== undefined ? { from: arrival.from } : {}),
      paths: [
        {
          to: refusal.rcpt ?? "",
          hops: [hop],
          outcome: { status: "refused", at: refusal.at, host, stage: refusal.stage, detail: `refused by ${host} at ${refusal.stage}, no queue entry`, reply: refusal.reply, ...dsnOf(refusal.reply) },
        },
      ],
    });
  }
  messages.sort((a, b) => a.first.at - b.first.at);
  const shown = messages.slice(Math.max(0, messages.length - limit));
  more += messages.length - shown.length;
  return {
    query,
    since: opts.sinceMs,
    until,
    hosts: logs.map((l) => ({ host: l.host, role: l.role, bytes: ctxs.get(l.host)!.pf.src.size - ctxs.get(l.host)!.pf.from })),
    messages: shown,
    more,
    warnings,
  };
}

/** Host names and addresses of the fleet, to know which host a relay=NAME[IP] is. */
class FleetNames {
  private byName = new Map<string, string>();
  private byIp = new Map<string, string>();
  constructor(logs: HostLog[]) {
    for (const l of logs) {
      for (const n of l.names) this.byName.set(lc(n), l.host);
      for (const a of l.addresses) this.byIp.set(lc(a), l.host);
    }
  }
  hostOf(name: string, ip: string): string | undefined {
    return this.byIp.get(lc(ip)) ?? this.byName.get(lc(name));
  }
}

function seedNeedles(query: Query): { needle: string; keep?: (text: string) => boolean }[] {
  const v = query.value;
  if (query.kind === "message-id") return [{ needle: `message-id=<${unbracket(v)}>` }];
  const variants = [...new Set([v, lc(v)])];
  if (query.kind === "to") return variants.map((a) => ({ needle: `to=<${a}>` }));
  // --from: the address itself, and SRS addresses built from it (SRS0=HHH=TT=domain=local@...).
  const at = v.lastIndexOf("@");
  const srs = at > 0 ? variants.map((a) => ({ needle: `=${a.slice(at + 1)}=${a.slice(0, at)}@`, keep: (t: string) => /from=<SRS[01][=+-]/i.test(t) })) : [];
  return [...variants.map((a) => ({ needle: `from=<${a}>` })), ...srs];
}

function seedLines(ctx: HostCtx, query: Query): Line[] {
  const seen = new Set<number>();
  const out: Line[] = [];
  for (const { needle, keep } of seedNeedles(query)) {
    for (const l of linesWith(ctx.pf.src, needle, ctx.pf.from)) {
      if (seen.has(l.pos) || (keep && !keep(l.text))) continue;
      seen.add(l.pos);
      out.push(l);
    }
  }
  return out.sort((a, b) => a.pos - b.pos);
}

/**
 * Every line of each queue id on a host. Searched from shortly before the time it was seen,
 * forward to its "removed", and backward only when its arrival was not in that stretch (a
 * message deferred for long). Thousands of ids at once: one pass over the window instead.
 */
function collect(ctx: HostCtx, ids: Map<string, Near>): Map<string, PostfixLine[]> {
  const out = new Map<string, PostfixLine[]>();
  const parse = (lines: Line[], qid: string) =>
    lines.map((l) => parsePostfixLine(l.text, l.pos, ctx.times)).filter((p): p is PostfixLine => p !== undefined && p.qid === qid).sort((a, b) => a.pos - b.pos);
  if (ids.size > ONE_PASS_ABOVE) {
    const found = linesOfQueueIds(ctx.pf.src, new Set(ids.keys()), ctx.pf.from);
    for (const id of ids.keys()) out.set(id, parse(found.get(id) ?? [], id));
    return out;
  }
  const arrived = (l: Line) => /\]: \S+: (client=|uid=\d+ from=)/.test(l.text);
  for (const [id, near] of ids) {
    const needle = `]: ${id}: `;
    const start = near.pos ?? ctx.pf.at(near.at - SLACK);
    const fwd = linesWith(ctx.pf.src, needle, start, ctx.pf.src.size, (l) => l.text.endsWith(`]: ${id}: removed`));
    const back = fwd.some(arrived) ? [] : linesWithBackward(ctx.pf.src, needle, start, ctx.pf.from, arrived);
    out.set(id, parse([...back, ...fwd], id));
  }
  return out;
}

/** Lines of the same process before `line`, newest first, within `windowMs` and LOOKBACK_LINES. */
function* sameProcessBefore(ctx: HostCtx, line: PostfixLine, windowMs: number): Generator<PostfixLine> {
  const tag = `${line.proc}: `;
  let i = 0;
  for (const prev of linesBefore(ctx.pf.src, line.pos)) {
    if (++i > LOOKBACK_LINES) return;
    if (!prev.text.includes(tag)) continue;
    const p = parsePostfixLine(prev.text, prev.pos, ctx.times);
    if (!p || p.proc !== line.proc) continue;
    if (p.at < line.at - windowMs) return;
    yield p;
  }
}

function nextClientLine(ctx: HostCtx, permit: PostfixLine): string | undefined {
  const tag = `${permit.proc}: `;
  let i = 0;
  for (const l of linesFrom(ctx.pf.src, permit.pos)) {
    if (l.pos === permit.pos) continue;
    if (++i > LOOKBACK_LINES) return undefined;
    if (!l.text.includes(tag)) continue;
    const p = parsePostfixLine(l.text, l.pos, ctx.times);
    if (!p || p.proc !== permit.proc) continue;
    if (p.qid && p.qid !== "NOQUEUE" && p.msg.startsWith("client=")) return p.qid;
    if (/^(connect|disconnect) from /.test(p.msg)) return undefined;
  }
  return undefined;
}

function peerIn(text: string, fleet: FleetNames): Peer | undefined {
  const p = peerOf(text);
  if (!p) return undefined;
  const host = fleet.hostOf(p.name, p.ip);
  return { name: p.name, ip: p.ip, ...(host ? { host } : {}) };
}

/** The SMTP session a line belongs to: its client (connect from), TLS, and the recipients accepted or refused before the queue file. */
function sessionBefore(ctx: HostCtx, line: PostfixLine, fleet: FleetNames): { arrival?: Arrival; permits: Permit[]; rejects: Refusal[] } {
  const permits: Permit[] = [];
  const rejects: Refusal[] = [];
  let tls: string | undefined;
  let client: Peer | undefined;
  let connectAt: number | undefined;
  let sameTransaction = true;
  for (const p of sameProcessBefore(ctx, line, 3_600_000)) {
    if (p.msg.startsWith("connect from ")) {
      client = peerIn(p.msg.slice("connect from ".length), fleet);
      connectAt = p.at;
      break;
    }
    const t = parseTls(p.msg);
    if (t && t.direction === "from") {
      tls ??= t.summary;
      continue;
    }
    if (p.qid && p.qid !== "NOQUEUE") sameTransaction = false;
    if (p.qid === "NOQUEUE" && sameTransaction) {
      const permit = permitOf(p);
      if (permit) permits.unshift(permit);
      const r = refusalOf(p, ctx.log.host);
      if (r) rejects.unshift(r);
    }
  }
  // The line itself may say who the client was (a refusal: "reject: RCPT from NAME[IP]: ...").
  client ??= peerIn(/ from (\S+\[[^\]]+\])/.exec(line.msg)?.[1] ?? "", fleet);
  if (!client) return { permits, rejects };
  const helo = angleField(line.msg, "helo") ?? permits.find((x) => x.helo)?.helo;
  const from = angleField(line.msg, "from") ?? permits.find((x) => x.from !== undefined)?.from;
  return {
    arrival: {
      at: connectAt ?? line.at,
      client,
      ...(helo ? { helo } : {}),
      ...(tls ? { tls } : {}),
      ...(from !== undefined ? { from } : {}),
    },
    permits,
    rejects,
  };
}

function permitOf(p: PostfixLine): Permit | undefined {
  if (!/^permit: RCPT from /.test(p.msg)) return undefined;
  const rcpt = angleField(p.msg, "to");
  if (rcpt === undefined) return undefined;
  const from = angleField(p.msg, "from");
  const helo = angleField(p.msg, "helo");
  return { at: p.at, rcpt, ...(from !== undefined ? { from } : {}), ...(helo ? { helo } : {}) };
}

function refusalOf(p: PostfixLine, host: string): Refusal | undefined {
  const stage = refusalStage(p.msg);
  if (!stage) return undefined;
  // "reject: RCPT from NAME[IP]: 550 5.1.1 <x>: Recipient address rejected: ...; from=<..> to=<..> proto=ESMTP helo=<..>"
  const m = /^(?:milter-)?reject: \S+ from \S+?: (.*?)(?:; (?:from|client|proto)=|$)/.exec(p.msg);
  const rcpt = angleField(p.msg, "to");
  return { at: p.at, stage, reply: (m?.[1] ?? p.msg).trim(), by: host, ...(rcpt !== undefined ? { rcpt } : {}) };
}

function matchesRefusal(r: Refusal, p: PostfixLine, q: Query): boolean {
  if (q.kind === "to") return r.rcpt !== undefined && lc(r.rcpt) === lc(q.value);
  if (q.kind === "from") {
    const f = angleField(p.msg, "from");
    return f !== undefined && (lc(f) === lc(q.value) || lc(srsOriginal(f) ?? "") === lc(q.value));
  }
  return false;
}

function buildRecord(ctx: HostCtx, qid: string, lines: PostfixLine[], fleet: FleetNames): QueueRecord {
  const host = ctx.log.host;
  const r: QueueRecord = {
    key: keyOf(host, qid),
    host,
    qid,
    lines,
    firstAt: lines[0]!.at,
    permits: [],
    rejects: [],
    messageIds: [],
    deliveries: [],
    notes: [],
  };
  for (const p of lines) {
    const msg = p.msg;
    if (p.daemon === "smtpd" && msg.startsWith("client=")) {
      const s = sessionBefore(ctx, p, fleet);
      const c = peerIn(msg.slice("client=".length), fleet);
      const sasl = /sasl_username=([^,\s]+)/.exec(msg)?.[1];
      r.permits.unshift(...s.permits);
      r.rejects.unshift(...s.rejects);
      if (c) r.arrival = { ...(s.arrival ?? { at: p.at }), client: c, ...(sasl ? { sasl } : {}) } as Arrival;
      continue;
    }
    if (p.daemon === "pickup" && /^uid=\d+ from=<([^>]*)>/.test(msg)) {
      r.arrival = { at: p.at, client: { name: "localhost", ip: "127.0.0.1" }, local: true, from: angleField(msg, "from") ?? "" };
      continue;
    }
    const permit = permitOf(p);
    if (permit) {
      r.permits.push(permit);
      continue;
    }
    if (msg.startsWith("message-id=")) {
      const id = /^message-id=<?([^>]*)>?/.exec(msg)?.[1];
      if (id && !r.messageIds.includes(id)) r.messageIds.push(id);
      continue;
    }
    const filter = /^milter-header-filter: header (.+?) from \S+; .* helo=<[^>]*>: (\S+)$/.exec(msg) ?? /^filter: header (.+?) from \S+; .*: (\S+)$/.exec(msg);
    if (filter) {
      r.laneFilter = { at: p.at, header: filter[1]!, nexthop: filter[2]! };
      const helo = angleField(msg, "helo");
      if (helo && r.arrival && !r.arrival.helo) r.arrival.helo = helo;
      continue;
    }
    const refusal = refusalOf(p, host);
    if (refusal) {
      if (refusal.stage === "RCPT") r.rejects.push(refusal);
      else r.refused = refusal;
      if (r.arrival) {
        const helo = angleField(msg, "helo");
        if (helo && !r.arrival.helo) r.arrival.helo = helo;
      }
      continue;
    }
    if (p.daemon === "qmgr" && msg.startsWith("from=<")) {
      r.envelopeFrom ??= angleField(msg, "from");
      if (/status=expired/.test(msg)) r.notes.push(`expired: ${msg}`);
      continue;
    }
    const d = parseDelivery(msg);
    if (d) {
      r.deliveries.push({ line: p, d });
      continue;
    }
    if (p.daemon === "bounce" && /notification: /.test(msg)) r.notes.push(msg);
  }
  if (r.arrival) {
    const helo = r.permits.find((x) => x.helo)?.helo;
    const from = r.permits.find((x) => x.from !== undefined)?.from;
    if (helo && !r.arrival.helo) r.arrival.helo = helo;
    if (from !== undefined && r.arrival.from === undefined) r.arrival.from = from;
  }
  return r;
}

/** The try a delivery line ends: TLS and the servers passed over, from the same smtp process's lines just before. */
function attemptOf(ctx: HostCtx, dl: DeliveryLine, arrivalAt: number, fleet: FleetNames): Attempt {
  const { line, d } = dl;
  const skipped: string[] = [];
  let tls: string | undefined;
  // The try lasted its connection setup and transmission (delays c and d); lines are to the second.
  const span = d.delays && d.delays.length === 4 ? (d.delays[2]! + d.delays[3]!) * 1000 : 60_000;
  let siblings = true;
  for (const p of sameProcessBefore(ctx, line, span + 2000)) {
    if (p.qid === undefined) {
      siblings = false;
      const t = parseTls(p.msg);
      if (t && t.direction === "to") tls ??= t.summary;
      else if (p.msg.startsWith("connect to ")) skipped.unshift(p.msg);
      continue;
    }
    if (p.qid !== line.qid) break;
    if (parseDelivery(p.msg)) {
      if (siblings) continue; // another recipient of the same try
      break; // an earlier try of this message
    }
    siblings = false;
    if (/^(host |lost connection |conversation with |TLS is required|SASL authentication failed|Server certificate not verified)/.test(p.msg)) skipped.unshift(p.msg);
  }
  const peer = d.relay.includes("[") ? peerIn(d.relay, fleet) : undefined;
  const next = d.status === "sent" ? queuedAs(d.reply) : undefined;
  const a: Attempt = {
    at: line.at,
    status: d.status,
    relay: d.relay,
    ...(peer ? { peer } : {}),
    ...(d.dsn ? { dsn: d.dsn } : {}),
    ...(d.delay !== undefined ? { delay: d.delay } : {}),
    reply: d.reply,
    ...(next ? { queuedAs: next } : {}),
    ...(tls ? { tls } : {}),
    // The last server's failure is the deferral's own reason: not listed twice.
    skipped: skipped.filter((s, i) => i !== skipped.length - 1 || !d.reply.startsWith(s)),
  };
  if (d.status === "deferred") a.nextTryAfter = line.at + Math.min(MAX_BACKOFF, Math.max(MIN_BACKOFF, line.at - arrivalAt));
  return a;
}

function hopOf(r: QueueRecord, ctx: HostCtx, attempts: Attempt[]): Hop {
  const hop: Hop = {
    host: r.host,
    role: ctx.log.role,
    queueId: r.qid,
    messageIds: r.messageIds,
    signatures: [],
    signerNotes: [],
    attempts,
  };
  if (r.arrival) hop.arrival = r.arrival;
  if (r.envelopeFrom !== undefined) {
    hop.envelopeFrom = r.envelopeFrom;
    const original = srsOriginal(r.envelopeFrom);
    const given = r.arrival?.from;
    if (original && ctx.log.role === "relay" && (given === undefined || lc(given) !== lc(r.envelopeFrom))) {
      const sl = ctx.sl;
      const logged = sl
        ? linesWith(sl.src, `rewritten as <${r.envelopeFrom}>`, sl.at(r.firstAt - SLACK), sl.at(r.firstAt + SLACK), () => true).some((l) => parseSrsForward(parseSyslogEntry(l.text, ctx.times, ctx.log.clock)?.msg ?? ""))
        : false;
      hop.srs = { from: given ?? original, to: r.envelopeFrom, logged };
    }
  }
  if (r.laneFilter) hop.laneFilter = r.laneFilter;
  const lastAt = r.lines.at(-1)!.at;
  if (ctx.rs) {
    for (const l of linesWith(ctx.rs.src, `qid: <${r.qid}>`, ctx.rs.at(r.firstAt - SLACK), ctx.rs.at(lastAt + SLACK), () => true)) {
      const v = parseRspamdTask(l.text, ctx.log.clock);
      if (v && v.qid === r.qid) hop.scan = { at: v.at, action: v.action, score: v.score, required: v.required, symbols: v.symbols };
    }
  }
  if (ctx.sl) {
    for (const l of linesWith(ctx.sl.src, `: ${r.qid}: `, ctx.sl.at(r.firstAt - SLACK), ctx.sl.at(lastAt + SLACK))) {
      const e = parseSyslogEntry(l.text, ctx.times, ctx.log.clock);
      if (!e || e.program !== "opendkim") continue;
      const s = parseSignature(e.msg);
      if (s && s.qid === r.qid) hop.signatures.push({ at: e.at, domain: s.domain, selector: s.selector });
      else if (e.msg.startsWith(`${r.qid}: `)) hop.signerNotes.push(e.msg.slice(r.qid.length + 2));
    }
  }
  return hop;
}

/** One path per recipient of a record, each followed through the hops it was handed to. */
function pathsOf(r: QueueRecord, fetch: Fetch, ctxs: Map<string, HostCtx>, fleet: FleetNames): Path[] {
  const ctx = ctxs.get(r.host)!;
  const arrivalAt = r.arrival?.at ?? r.firstAt;
  const groups = new Map<string, { to: string; origTo?: string; lines: DeliveryLine[] }>();
  for (const dl of r.deliveries) {
    const k = `${lc(dl.d.to)}\0${lc(dl.d.origTo ?? "")}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { to: dl.d.to, ...(dl.d.origTo !== undefined ? { origTo: dl.d.origTo } : {}), lines: [] }));
    g.lines.push(dl);
  }
  const paths: Path[] = [];
  const covered = new Set<string>();
  for (const g of groups.values()) {
    covered.add(lc(g.origTo ?? g.to));
    covered.add(lc(g.to));
    const attempts = g.lines.map((dl) => attemptOf(ctx, dl, arrivalAt, fleet));
    const hop = hopOf(r, ctx, attempts);
    paths.push(...follow([hop], g.to, g.origTo, fetch, ctxs, fleet, new Set([r.key])));
  }
  const refusedWhole = r.refused;
  for (const p of r.permits) {
    if (covered.has(lc(p.rcpt))) continue;
    covered.add(lc(p.rcpt));
    const hop = hopOf(r, ctx, []);
    const outcome: Outcome = refusedWhole
      ? { status: "refused", at: refusedWhole.at, host: r.host, stage: refusedWhole.stage, reply: refusedWhole.reply, detail: `refused by ${r.host} at ${refusedWhole.stage} (queue entry ${r.qid} discarded)`, ...dsnOf(refusedWhole.reply) }
      : { status: "queued", at: r.lines.at(-1)!.at, host: r.host, detail: `accepted by ${r.host} (${r.qid}), no delivery attempt logged yet` };
    paths.push({ to: p.rcpt, hops: [hop], outcome });
  }
  if (refusedWhole && !paths.some((p) => p.outcome.status === "refused")) {
    const rcpt = angleField(r.lines.find((l) => refusalOf(l, r.host))?.msg ?? "", "to") ?? "";
    paths.push({
      to: rcpt,
      hops: [hopOf(r, ctx, [])],
      outcome: { status: "refused", at: refusedWhole.at, host: r.host, stage: refusedWhole.stage, reply: refusedWhole.reply, detail: `refused by ${r.host} at ${refusedWhole.stage} (queue entry ${r.qid} discarded)`, ...dsnOf(refusedWhole.reply) },
    });
  }
  for (const x of r.rejects) {
    if (x.rcpt === undefined || covered.has(lc(x.rcpt))) continue;
    paths.push({
      to: x.rcpt,
      hops: [hopOf(r, ctx, [])],
      outcome: { status: "refused", at: x.at, host: r.host, stage: x.stage, reply: x.reply, detail: `refused by ${r.host} at ${x.stage}`, ...dsnOf(x.reply) },
    });
  }
  return paths;
}

function follow(hops: Hop[], to: string, origTo: string | undefined, fetch: Fetch, ctxs: Map<string, HostCtx>, fleet: FleetNames, seen: Set<string>): Path[] {
  const hop = hops.at(-1)!;
  const last = hop.attempts.at(-1);
  const base = { ...(origTo !== undefined && lc(origTo) !== lc(to) ? { origTo } : {}), to };
  if (last && last.status === "sent" && last.queuedAs && last.peer?.host && ctxs.has(last.peer.host)) {
    const next = fetch(last.peer.host, last.queuedAs, { at: last.at });
    if (next && !seen.has(next.key)) {
      const ctx = ctxs.get(next.host)!;
      const arrivalAt = next.arrival?.at ?? next.firstAt;
      // On the next host the recipient is `to`, or an alias of it expanded once more there.
      const mine = next.deliveries.filter((dl) => lc(dl.d.origTo ?? dl.d.to) === lc(to) || lc(dl.d.to) === lc(to));
      const byTo = new Map<string, DeliveryLine[]>();
      for (const dl of mine) (byTo.get(lc(dl.d.to)) ?? byTo.set(lc(dl.d.to), []).get(lc(dl.d.to))!).push(dl);
      const seen2 = new Set([...seen, next.key]);
      if (!byTo.size) {
        const nextHop = hopOf(next, ctx, []);
        const refused = next.refused;
        const outcome: Outcome = refused
          ? { status: "refused", at: refused.at, host: next.host, stage: refused.stage, reply: refused.reply, detail: `refused by ${next.host} at ${refused.stage}`, ...dsnOf(refused.reply) }
          : { status: "queued", at: next.lines.at(-1)!.at, host: next.host, detail: `in ${next.host}'s queue (${next.qid}), no delivery attempt logged yet` };
        return [{ ...base, hops: [...hops, nextHop], outcome }];
      }
      return [...byTo.values()].flatMap((dls) => {
        const nextHop = hopOf(next, ctx, dls.map((dl) => attemptOf(ctx, dl, arrivalAt, fleet)));
        const newTo = dls[0]!.d.to;
        return follow([...hops, nextHop], newTo, origTo ?? (lc(newTo) !== lc(to) ? to : undefined), fetch, ctxs, fleet, seen2);
      });
    }
  }
  return [{ ...base, hops, outcome: outcomeOf(hop, ctxs) }];
}

function dsnOf(reply: string): { dsn?: string } {
  const m = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply);
  return m ? { dsn: m[1]! } : {};
}

function outcomeOf(hop: Hop, ctxs: Map<string, HostCtx>): Outcome {
  const a = hop.attempts.at(-1);
  if (!a) return { status: "queued", at: hop.arrival?.at ?? 0, host: hop.host, detail: `in ${hop.host}'s queue, no delivery attempt logged` };
  const where = a.peer ? `${a.peer.name}[${a.peer.ip}]` : a.relay;
  const common = { at: a.at, host: hop.host, reply: a.reply, ...(a.dsn ? { dsn: a.dsn } : {}) };
  if (a.status === "sent") {
    if (a.peer?.host && !ctxs.has(a.peer.host)) return { ...common, status: "in transit", detail: `handed to ${a.peer.host} (${where}), whose log was not read` };
    if (a.peer?.host && a.queuedAs) return { ...common, status: "in transit", detail: `handed to ${a.peer.host} as ${a.queuedAs}, not found in its log` };
    return { ...common, status: "delivered", detail: hop.role === "destination" ? `stored by ${hop.host} (${a.relay})` : `delivered by ${hop.host} to ${where}` };
  }
  if (a.status === "deferred") return { ...common, status: "deferred", detail: `deferred on ${hop.host}, still in its queue` };
  if (a.status === "bounced") {
    const stage = replyStage(a.reply);
    return { ...common, status: "bounced", ...(stage ? { stage } : {}), detail: `refused by ${where}${stage ? ` at ${stage}` : ""}; ${hop.host} returned it to the sender` };
  }
  if (a.status === "expired") return { ...common, status: "expired", detail: `expired in ${hop.host}'s queue, returned to the sender` };
  return { ...common, status: "unknown", detail: `status=${a.status} on ${hop.host}` };
}

function pathMatches(p: Path, q: Query): boolean {
  if (q.kind !== "to") return true;
  const v = lc(q.value);
  return lc(p.to) === v || lc(p.origTo ?? "") === v;
}

function recordMatches(r: QueueRecord, q: Query): boolean {
  if (q.kind === "message-id") return r.messageIds.includes(unbracket(q.value));
  if (q.kind === "from") {
    const v = lc(q.value);
    return r.permits.some((p) => lc(p.from ?? "") === v) || lc(r.envelopeFrom ?? "") === v || lc(srsOriginal(r.envelopeFrom ?? "") ?? "") === v;
  }
  return r.permits.some((p) => lc(p.rcpt) === lc(q.value));
}
