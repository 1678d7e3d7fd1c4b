// The trace core on real logs of lab runs (test/fixtures/trace/, see its README): the same
// stories as test/lab-trace.test.ts, offline and to the byte, plus the parsers' corner cases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { trace } from "../src/trace/join.ts";
import { formatTrace, traceJson } from "../src/trace/format.ts";
import { SyslogTimes, isoTime, parseDuration } from "../src/trace/clock.ts";
import { parseDelivery, parsePostfixLine, srsOriginal, peerOf } from "../src/trace/postfix.ts";
import { parseRspamdTask, parseSignature, parseSyslogEntry } from "../src/trace/others.ts";
import { lineAt, linesBefore, linesFrom, linesOfQueueIds, linesWith, linesWithBackward, memoryBytes, windowStart } from "../src/trace/buffers.ts";
import { parseAnswer } from "../src/trace/protocol.ts";
import type { Clock, HostLog, Query, Trace } from "../src/trace/types.ts";

const DIR = fileURLToPath(new URL("./fixtures/trace/", import.meta.url));
const CLOCK: Clock = { offsetMinutes: 0, nowMs: Date.UTC(2026, 10, 23, 16, 0, 0) };
const DAY_AGO = CLOCK.nowMs - 86_400_000;
type HostInfo = Omit<HostLog, "postfix" | "rspamd" | "syslog" | "clock">;
const HOSTS = JSON.parse(readFileSync(`${DIR}hosts.json`, "utf8")) as HostInfo[];

function fixtureLogs(run: string): HostLog[] {
  const file = (h: string, f: string) => (existsSync(`${DIR}${run}/${h}/${f}`) ? readFileSync(`${DIR}${run}/${h}/${f}`) : undefined);
  return HOSTS.filter((h) => existsSync(`${DIR}${run}/${h.host}`)).map((h) => {
    const rspamd = file(h.host, "rspamd.log");
    const syslog = file(h.host, "syslog.log");
    return { ...h, postfix: file(h.host, "postfix.log")!, ...(rspamd ? { rspamd } : {}), ...(syslog ? { syslog } : {}), clock: CLOCK };
  });
}

const run1 = fixtureLogs("run1");
const run0 = fixtureLogs("run0");
const q = (kind: Query["kind"], value: string): Query => ({ kind, value });
const traced = (logs: HostLog[], query: Query, sinceMs = DAY_AGO): Trace => trace(logs, query, { sinceMs });
const at = (hhmmss: string) => Date.parse(`2026-11-23T${hhmmss}Z`);

test("group alias: one path per member, each through mx1 -> out1 -> its destination, with arrival, SRS, verdict and signature", () => {
  const t = traced(run1, q("message-id", "<group-20625-75351@expediteur.tld>"));
  assert.equal(t.messages.length, 1);
  const m = t.messages[0]!;
  assert.deepEqual(m.first, { host: "mx1", queueId: "31B7417C0D8", at: at("15:20:48") });
  assert.equal(m.from, "alice@expediteur.tld");
  assert.deepEqual(
    m.paths.map((p) => [p.origTo, p.to, p.hops.map((h) => `${h.host}:${h.queueId}`).join(" "), p.outcome.status]),
    [
      ["secretariat@entreprise.tld", "john@doe.tld", "mx1:31B7417C0D8 out1:A051217C0DB mx-doe:DCDB017A642", "delivered"],
      ["secretariat@entreprise.tld", "tom@smit.tld", "mx1:31B7417C0D8 out1:A051217C0DB mx-smit:E69E117A645", "delivered"],
    ],
  );
  const [relay, smarthost, dest] = m.paths[0]!.hops;
  assert.deepEqual(relay!.arrival, {
    at: at("15:20:48"),
    client: { name: "mail.expediteur.tld", ip: "203.0.113.10" },
    helo: "mail.expediteur.tld",
    tls: "TLSv1.3 TLS_AES_256_GCM_SHA384 (anonymous)",
    from: "alice@expediteur.tld",
  });
  assert.deepEqual(relay!.srs, { from: "alice@expediteur.tld", to: "SRS0=3iJj=JM=expediteur.tld=alice@relais.tld", logged: true });
  assert.deepEqual([relay!.scan?.action, relay!.scan?.score, relay!.scan?.required], ["no action", -1, 15]);
  assert.deepEqual(relay!.attempts.map((a) => [a.status, a.peer?.host, a.queuedAs, a.tls]), [["sent", "out1", "A051217C0DB", "TLSv1.3 TLS_AES_256_GCM_SHA384 (untrusted)"]]);
  assert.deepEqual(smarthost!.arrival?.client, { name: "mx1.relais.tld", ip: "198.51.100.11", host: "mx1" });
  assert.equal(smarthost!.arrival?.helo, "mx1.relais.tld");
  assert.deepEqual(smarthost!.signatures, [{ at: at("15:20:48"), domain: "relais.tld", selector: "f2026a" }]);
  assert.deepEqual([dest!.role, dest!.attempts[0]!.relay, m.paths[0]!.outcome.detail], ["destination", "sinkstore", "stored by mx-doe (sinkstore)"]);
});

test("unknown recipient: the 5xx at RCPT, on mx2, with no queue entry", () => {
  const t = traced(run1, q("to", "nobody-20625-75351@entreprise.tld"));
  assert.equal(t.messages.length, 1);
  const p = t.messages[0]!.paths[0]!;
  assert.deepEqual(
    { to: p.to, status: p.outcome.status, stage: p.outcome.stage, host: p.outcome.host, dsn: p.outcome.dsn, queueId: p.hops[0]!.queueId },
    { to: "nobody-20625-75351@entreprise.tld", status: "refused", stage: "RCPT", host: "mx2", dsn: "5.1.1", queueId: undefined },
  );
  assert.equal(p.outcome.reply, "550 5.1.1 <nobody-20625-75351@entreprise.tld>: Recipient address rejected: User unknown in virtual alias table");
  assert.equal(p.hops[0]!.arrival?.helo, "mail.expediteur.tld");
});

test("spam lane: rspamd's add-header verdict, the relay's lane switch, the spam smarthost", () => {
  const p = traced(run1, q("message-id", "tagged-20625-75351@expediteur.tld")).messages[0]!.paths[0]!;
  const relay = p.hops[0]!;
  assert.deepEqual([relay.scan?.action, relay.scan?.score, relay.scan?.symbols], ["add header", 6, ["GTUBE(0)"]]);
  assert.deepEqual(relay.laneFilter, { at: at("15:21:06"), header: "X-Spam: Yes", nexthop: "smtp:spam-pool.relais.tld" });
  assert.deepEqual(p.hops.map((h) => h.host), ["mx1", "spam1", "mx-doe"]);
  assert.equal(p.outcome.status, "delivered");
});

test("deferral: the pool refused every connection (reason, servers passed over, next try), then the retry went through out2", () => {
  const t = traced(run1, q("message-id", "deferred-20625-75351@expediteur.tld"));
  const p = t.messages[0]!.paths[0]!;
  const [first, second] = p.hops[0]!.attempts;
  assert.deepEqual(
    { status: first!.status, dsn: first!.dsn, reply: first!.reply, skipped: first!.skipped, next: first!.nextTryAfter },
    {
      status: "deferred",
      dsn: "4.4.1",
      reply: "connect to out1.relais.tld[198.51.100.13]:25: Connection refused",
      skipped: [
        "connect to out1.relais.tld[2001:db8:5100::13]:25: Connection refused",
        "connect to out2.relais.tld[198.51.100.14]:25: Connection refused",
        "connect to out2.relais.tld[2001:db8:5100::14]:25: Connection refused",
      ],
      next: at("15:26:10"),
    },
  );
  assert.deepEqual([second!.status, second!.peer?.host, second!.skipped, second!.tls], ["sent", "out2", [], "TLSv1.3 TLS_AES_256_GCM_SHA384 (untrusted)"]);
  assert.deepEqual(p.hops.map((h) => h.host), ["mx1", "out2", "mx-smit"]);
  // The same message seen before out2 came back: only the deferral.
  const early = trace(run1, q("message-id", "deferred-20625-75351@expediteur.tld"), { sinceMs: DAY_AGO });
  assert.equal(early.messages.length, 1);
  const text = formatTrace(t, { offsetMinutes: 0, source: "fixture" });
  assert.match(text, /15:21:10 {2}mx1 {4}deferred \(4\.4\.1, 0\.07 s\): connect to out1\.relais\.tld\[198\.51\.100\.13\]:25: Connection refused\n +mx1 +next try not before 2026-11-23 15:26:10/);
});

test("a message refused at end of DATA by the scanner: the verdict and the reply, the queue entry discarded", () => {
  const p = traced(run0, q("message-id", "rej1@expediteur.tld")).messages[0]!.paths[0]!;
  assert.deepEqual([p.to, p.outcome.status, p.outcome.stage, p.outcome.reply, p.outcome.dsn], ["john-doe@entreprise.tld", "refused", "END-OF-MESSAGE", "5.7.1 Gtube pattern", "5.7.1"]);
  assert.equal(p.hops[0]!.scan?.action, "reject");
  assert.equal(p.hops[0]!.arrival?.helo, "mail.expediteur.tld");
});

test("a retry that passes over a smarthost answering 451 (its signer down) and one refusing connections", () => {
  const p = traced(run0, q("to", "tom-smit@entreprise.tld")).messages[0]!.paths[0]!;
  const tries = p.hops[0]!.attempts;
  assert.ok(tries.length >= 2 && tries.every((a) => a.status === "deferred"), tries.map((a) => a.status).join(" "));
  assert.deepEqual(tries[1]!.skipped.slice(0, 2), [
    "host out2.relais.tld[198.51.100.14] said: 451 4.7.1 Service unavailable - try again later (in reply to MAIL FROM command)",
    "connect to out1.relais.tld[2001:db8:5100::13]:25: Connection refused",
  ]);
  assert.match(p.outcome.reply ?? "", /smtp\.fai\.tld/, "the fallback relay was the last one tried");
  assert.equal(p.outcome.status, "deferred");
});

test("--from finds a sender behind SRS even where accepted recipients were not logged; --to an alias or a member", () => {
  const byFrom = traced(run0, q("from", "alice@expediteur.tld"));
  assert.ok(byFrom.messages.some((m) => m.messageIds.includes("group1@expediteur.tld")));
  assert.ok(byFrom.messages.some((m) => m.messageIds.includes("spam1@expediteur.tld")));
  const member = traced(run1, q("to", "tom@smit.tld"));
  assert.deepEqual(member.messages.map((m) => [m.messageIds[0], m.paths.map((p) => p.to)]), [
    ["group-20625-75351@expediteur.tld", ["tom@smit.tld"]],
    ["deferred-20625-75351@expediteur.tld", ["tom@smit.tld"]],
  ]);
  const none = traced(run1, q("to", "nobody-else@entreprise.tld"));
  assert.deepEqual(none.messages, []);
});

test("--since: messages before the window are not read; --limit keeps the most recent", () => {
  assert.equal(traced(run1, q("from", "alice@expediteur.tld"), at("15:21:07")).messages.length, 1);
  const all = trace(run1, q("from", "alice@expediteur.tld"), { sinceMs: DAY_AGO });
  assert.equal(all.messages.length, 4);
  const two = trace(run1, q("from", "alice@expediteur.tld"), { sinceMs: DAY_AGO, limit: 2 });
  assert.deepEqual([two.messages.map((m) => m.messageIds[0]), two.more], [["tagged-20625-75351@expediteur.tld", "deferred-20625-75351@expediteur.tld"], 2]);
});

test("JSON output: times in ISO 8601, the whole structure", () => {
  const j = JSON.parse(traceJson(traced(run1, q("message-id", "group-20625-75351@expediteur.tld"))));
  assert.equal(j.messages[0].first.at, "2026-11-23T15:20:48.000Z");
  assert.equal(j.messages[0].paths[1].hops[2].attempts[0].at, "2026-11-23T15:20:49.000Z");
  assert.equal(j.query.kind, "message-id");
});

test("parsers: Postfix frames, deliveries, SRS, peers, long queue ids", () => {
  const times = new SyslogTimes(CLOCK);
  const l = parsePostfixLine("Nov  3 01:02:03 mx1 postfix/submission-587/smtpd[42]: 4Dk7Vf0YjGz1xjV: client=x.tld[2001:db8::1], sasl_method=PLAIN, sasl_username=john@entreprise.tld", 0, times)!;
  assert.deepEqual([l.daemon, l.proc, l.qid, l.at], ["smtpd", "smtpd[42]", "4Dk7Vf0YjGz1xjV", Date.UTC(2026, 10, 3, 1, 2, 3)]);
  assert.equal(parsePostfixLine("Nov 23 15:08:51 mx1 postfix/anvil[25149]: statistics: max cache size 1 at Nov 23 15:06:24", 0, times)!.qid, undefined);
  assert.deepEqual(parseDelivery("to=<a@b.tld>, relay=mx.b.tld[192.0.2.1]:25, conn_use=2, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.b.tld[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command))"), {
    to: "a@b.tld", relay: "mx.b.tld[192.0.2.1]:25", delay: 1.2, delays: [0.1, 0, 0.5, 0.6], dsn: "5.1.1", status: "bounced",
    reply: "host mx.b.tld[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO command)",
  });
  assert.equal(srsOriginal("SRS0=3iJj=JM=expediteur.tld=alice@relais.tld"), "alice@expediteur.tld");
  assert.equal(srsOriginal("SRS1=HHH=other.tld==3iJj=JM=expediteur.tld=alice@relais.tld"), "alice@expediteur.tld");
  assert.equal(srsOriginal("alice@expediteur.tld"), undefined);
  assert.deepEqual(peerOf("out2.relais.tld[IPv6:2001:db8:5100::14]:25"), { name: "out2.relais.tld", ip: "2001:db8:5100::14", port: 25 });
});

test("parsers: OpenDKIM from journalctl -o short-iso, classic syslog and the lab listener; rspamd's task line", () => {
  const times = new SyslogTimes(CLOCK);
  const sig = "A051217C0DB: DKIM-Signature field added (s=f2026a, d=relais.tld)";
  for (const line of [`2026-11-23T16:20:48+0100 out1 opendkim[812]: ${sig}`, `Nov 23 15:20:48 out1 opendkim[812]: ${sig}`, `15:20:48 <22>Nov 23 15:20:48 opendkim[23778]: ${sig}`]) {
    const e = parseSyslogEntry(line, times, CLOCK)!;
    assert.deepEqual([e.program, e.at, parseSignature(e.msg)], ["opendkim", at("15:20:48"), { qid: "A051217C0DB", selector: "f2026a", domain: "relais.tld" }], line);
  }
  const rs = readFileSync(`${DIR}run1/mx1/rspamd.log`, "utf8").split("\n").map((x) => parseRspamdTask(x, CLOCK)).filter((x) => x !== undefined);
  assert.deepEqual(rs.map((r) => [r.qid, r.action]), [["31B7417C0D8", "no action"], ["125B817C0E7", "add header"], ["82FED17C0EA", "no action"]]);
  assert.equal(isoTime("2026-11-23 15:20:48", { offsetMinutes: 60, nowMs: 0 }), at("14:20:48"));
});

test("clock and durations: no year in syslog stamps (December read in January), --since grammar", () => {
  const jan = new SyslogTimes({ offsetMinutes: 0, nowMs: Date.UTC(2027, 0, 2, 0, 0, 0) });
  assert.equal(jan.at("Dec 31 23:59:59"), Date.UTC(2026, 11, 31, 23, 59, 59));
  assert.equal(jan.at("Jan  1 00:00:01"), Date.UTC(2027, 0, 1, 0, 0, 1));
  assert.ok(Number.isNaN(jan.at("Foo 31 23:59:59")));
  assert.deepEqual(["90s", "30m", "2h", "1d", "1w", "1h30m"].map(parseDuration), [90_000, 1_800_000, 7_200_000, 86_400_000, 604_800_000, 5_400_000]);
  assert.deepEqual(["", "2", "h", "-1h", "1y", "400d", "1.5h"].map(parseDuration), [undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
});

test("buffers: bisection to the window, one-pass collection by queue id, line search", () => {
  const buf = memoryBytes(readFileSync(`${DIR}run1/mx1/postfix.log`));
  const times = new SyslogTimes(CLOCK);
  const start = windowStart(buf, at("15:21:06"), (l) => times.at(l.slice(0, 15)));
  assert.match(buf.read(start, start + 40).toString(), /^Nov 23 15:21:06 mx1 postfix\/postscreen/);
  assert.equal(windowStart(buf, at("23:00:00"), (l) => times.at(l.slice(0, 15))), buf.size);
  const byId = linesOfQueueIds(buf, new Set(["31B7417C0D8", "82FED17C0EA"]));
  assert.deepEqual([byId.get("31B7417C0D8")!.length, byId.get("82FED17C0EA")!.length], [6, 7]);
  assert.deepEqual(byId.get("31B7417C0D8")!.map((l) => l.text), linesWith(buf, "]: 31B7417C0D8: ").map((l) => l.text));
});

test("buffers: chunked reads give the same lines as splitting the whole text, across chunk boundaries", () => {
  // ~2 MB of real lines (several chunks), one line longer than a read block.
  const base = readFileSync(`${DIR}run1/mx1/postfix.log`, "utf8").trimEnd().split("\n");
  const lines: string[] = [];
  for (let i = 0; lines.join("\n").length < 2_000_000 && i < 100_000; i++) lines.push(...base.map((l) => l.replace("31B7417C0D8", i === 150 ? "NEEDLE0001" : "31B7417C0D8")));
  lines.splice(900, 0, `Nov 23 15:20:48 mx1 postfix/cleanup[1]: LONG0000001: ${"x".repeat(200_000)}`);
  const text = `${lines.join("\n")}\n`;
  const src = memoryBytes(Buffer.from(text));
  const starts: number[] = [];
  for (let p = 0, i = 0; i < lines.length; i++) {
    starts.push(p);
    p += Buffer.byteLength(lines[i]!) + 1;
  }
  const expect = (needle: string) => lines.map((l, i) => ({ pos: starts[i]!, text: l })).filter((l) => l.text.includes(needle));
  assert.deepEqual(linesWith(src, "NEEDLE0001"), expect("NEEDLE0001"));
  assert.deepEqual(linesWith(src, "]: 82FED17C0EA: ").length, expect("]: 82FED17C0EA: ").length);
  assert.deepEqual(linesWithBackward(src, "NEEDLE0001", src.size), expect("NEEDLE0001").reverse());
  assert.deepEqual([...linesFrom(src, starts[850]!)].slice(0, 100), lines.slice(850, 950).map((l, i) => ({ pos: starts[850 + i]!, text: l })));
  assert.deepEqual([...linesBefore(src, starts[1000]!)].slice(0, 150), lines.slice(850, 1000).map((l, i) => ({ pos: starts[850 + i]!, text: l })).reverse());
  assert.equal([...linesBefore(src, src.size)].length, lines.length);
  assert.equal([...linesFrom(src, 0)].length, lines.length);
  assert.deepEqual(lineAt(src, starts[900]! + 100_000), { pos: starts[900]!, text: lines[900]! });
  const q = linesOfQueueIds(src, new Set(["NEEDLE0001", "LONG0000001"]));
  assert.deepEqual([q.get("NEEDLE0001")!.length, q.get("LONG0000001")!.length], [expect("]: NEEDLE0001: ").length, 1]);
});

test("the SSH answer's framing: sources split at their markers, the host's clock read", () => {
  const out = Buffer.from(
    "#facteur-maillog v1 host=mx1 now=1795532784 tz=+0100\n#facteur-maillog source=postfix file=/var/log/postfix.log.1\nold line\n" +
      "#facteur-maillog source=postfix file=/var/log/postfix.log\nNov 23 15:20:48 mx1 postfix/x[1]: y\n#facteur-maillog source=rspamd file=/var/log/rspamd.log\n" +
      "#facteur-maillog source=journal\n2026-11-23T16:20:48+0100 mx1 postsrsd[7]: z\n#facteur-maillog end\n",
  );
  const a = parseAnswer(out);
  assert.deepEqual([a.hostname, a.nowMs, a.offsetMinutes, a.complete], ["mx1", 1795532784000, 60, true]);
  assert.equal(a.postfix.toString(), "old line\nNov 23 15:20:48 mx1 postfix/x[1]: y\n");
  assert.equal(a.rspamd.length, 0);
  assert.equal(a.journal.toString(), "2026-11-23T16:20:48+0100 mx1 postsrsd[7]: z\n");
  assert.equal(parseAnswer(Buffer.from("#facteur-maillog v1 host=a now=1 tz=+0000\n#facteur-maillog source=postfix file=x\nabc\n")).complete, false);
  assert.throws(() => parseAnswer(Buffer.from("Permission denied\n")), /not a facteur maillog answer/);
});
