// Issue #16 in the lab: `facteur trace` follows real messages through real Postfix logs (relay ->
// smarthost -> destination), and shows what the destination saw (SPF, DKIM, DMARC by mailauth).
// The stack is the example (in a whole run, the one the lab-example suite shares): a message
// that finds the smarthost pool and its fallback, the external relay, stopped is deferred.
// Needs root and the Debian packages of scripts/setup-system.sh; skips otherwise.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, replies, waitForMail, hostOf, inHost, queueOf, postfixCtl, postfixLog, signAsSender, headersNamed } from "./support/lab.ts";
import { run as runCmd, sleep, waitFor } from "../src/lab/proc.ts";
import type { Path, Trace } from "../src/trace/types.ts";
import { parseTraceArgs } from "../src/cli/trace.ts";
import { loadSpecFile } from "../src/spec/load.ts";
import { buildModel, type Model } from "../src/model/model.ts";
import { labLogs } from "../src/trace/lab.ts";
import { trace } from "../src/trace/join.ts";
import "./support/labStacks.ts";
import { exampleLab, exampleLabStack } from "./support/exampleLab.ts";
import { FACTEUR } from "./support/facteurCli.ts";

const STACK = exampleLabStack("trace");
const skip = labSkipReason();
if (skip) console.log(`# lab trace skipped: ${skip}`);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = `${process.pid}-${Date.now() % 100000}`;
const GTUBE = "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

function facteur(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(FACTEUR[0]!, [...FACTEUR.slice(1), ...args], { cwd: ROOT });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

async function traceJson(...args: string[]): Promise<Trace> {
  const r = await facteur(["trace", "--stack", STACK, "--json", ...args]);
  assert.ok(r.code === 0 || r.code === 1, `trace exit ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as Trace;
}

/** What the CLI's trace joins from the lab's logs, made in this process (no destination checks): waited on, never asserted. */
function logsTrace(args: string[]): Trace {
  const a = parseTraceArgs(["--stack", STACK, ...args]);
  model ??= buildModel(loadSpecFile(lab.specFile));
  return trace(labLogs(lab, model).logs, a.query, { sinceMs: a.sinceMs, limit: a.limit });
}
let model: Model | undefined;

/**
 * The CLI's trace once it satisfies `ok` (logs are written as daemons go), or the last one. The
 * logs are watched in this process until `settled` holds for what they join to; only then is the
 * CLI asked (a process, and a verifier process per destination), again every 500 ms if needed.
 */
async function traceUntil(args: string[], ok: (t: Trace) => boolean, settled: (t: Trace) => boolean = ok, timeoutMs = 20_000): Promise<Trace> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && !settled(logsTrace(args))) await sleep(200);
  for (;;) {
    const t = await traceJson(...args);
    if (ok(t) || Date.now() > end) return t;
    await sleep(500);
  }
}

const hostsOf = (p: Path) => p.hops.map((h) => h.host);
const message = (id: string, to: string, subject: string, body = "Hello from the trace test.") =>
  `From: Alice <alice@expediteur.tld>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${id}>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}\r\n`;

let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;

describe("lab: facteur trace (issue #16) on real Postfix logs", { skip }, () => {
  before(async () => {
    lab = await exampleLab(STACK);
    // On a loaded machine rspamd can take longer than the lab waits; the scanner must answer
    // before the spam lane is tested, so give it more time here (and say so).
    for (const r of ["mx1", "mx2"]) {
      if (!lab.warnings.some((w) => w.startsWith(`${r}: rspamd is NOT answering`))) continue;
      const ok = await waitFor(async () => (await inHost(lab, r, ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/11332"])).code === 0, 90_000, 500);
      console.log(`${r}: rspamd was slow to start; ${ok ? "it answers now" : "still not answering after 90 s more"}`);
      if (ok) lab.warnings = lab.warnings.filter((w) => !w.startsWith(`${r}: rspamd is NOT answering`));
    }
    // postscreen's one-time pregreet wait per new client, up front.
    await Promise.all(["mx1", "mx2"].map((r) => swaks(lab, ["--server", ip(r), "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"])));
  });
  it("the stack came up with no warning; the relays fall back on the external relay (stopped too where mail must wait)", () => {
    assert.deepEqual(lab.warnings, []);
    assert.match(readFileSync(`${hostOf(lab, "mx1").postfixDir}/main.cf`, "utf8"), /^smtp_fallback_relay = \[smtp\.fai\.tld\]:587$/m);
  });

  it("a message to a group alias gives one path per member: arrival (client, HELO, TLS), SRS, verdict, smarthost, DKIM, delivery, and what each destination saw", async () => {
    const id = `group-${run}@expediteur.tld`;
    const signed = await signAsSender(lab, message(id, "secretariat@entreprise.tld", `group ${run}`));
    const r = await swaks(lab, ["--server", ip("mx1"), "--tls", "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "secretariat@entreprise.tld", "--data", "-"], { input: signed });
    assert.equal(r.code, 0, r.transcript);
    const [john] = await waitForMail(lab, "john@doe.tld", `group ${run}`);
    const [tom] = await waitForMail(lab, "tom@smit.tld", `group ${run}`);
    assert.ok(john && tom, "both members got it");
    const bothDelivered = (x: Trace) => x.messages[0]?.paths.length === 2 && x.messages[0].paths.every((p) => p.outcome.status === "delivered");
    const t = await traceUntil(["--message-id", id], (x) => bothDelivered(x) && x.messages[0]!.paths.every((p) => p.destination), bothDelivered);
    assert.equal(t.messages.length, 1, JSON.stringify(t, null, 1));
    const m = t.messages[0]!;
    assert.deepEqual(m.messageIds, [id]);
    assert.equal(m.from, "alice@expediteur.tld");
    assert.deepEqual(m.paths.map((p) => [p.origTo, p.to]).sort(), [["secretariat@entreprise.tld", "john@doe.tld"], ["secretariat@entreprise.tld", "tom@smit.tld"]]);
    for (const p of m.paths) {
      assert.equal(p.outcome.status, "delivered", JSON.stringify(p.outcome));
      const [relay, smarthost, dest] = p.hops;
      assert.deepEqual([relay?.host, relay?.role, smarthost?.role, dest?.role], ["mx1", "relay", "smarthost", "destination"], hostsOf(p).join(" "));
      assert.match(smarthost!.host, /^out[12]$/, "clean mail leaves through the clean pool");
      assert.equal(relay!.arrival?.client.ip, "203.0.113.10");
      assert.equal(relay!.arrival?.helo, "mail.expediteur.tld");
      assert.match(relay!.arrival?.tls ?? "", /^TLSv1\.[23] /);
      assert.equal(relay!.srs?.from, "alice@expediteur.tld");
      assert.match(relay!.srs?.to ?? "", /^SRS0=[^=]+=[^=]+=expediteur\.tld=alice@relais\.tld$/);
      assert.equal(relay!.scan?.action, "no action");
      assert.equal(relay!.laneFilter, undefined);
      assert.equal(smarthost!.arrival?.client.host, "mx1");
      assert.deepEqual(smarthost!.signatures.map((s) => `${s.domain}/${s.selector}`), ["relais.tld/f2026a"]);
      // The destination's queue id is the one in the stored copy's own Received header.
      const stored: typeof john = p.to === "john@doe.tld" ? john : tom;
      assert.match(headersNamed(stored, "received")[0]!, new RegExp(`with ESMTP id ${dest!.queueId}\\b`));
      assert.equal(p.destination?.file, stored.file);
      assert.match(p.destination!.spf, /^pass \(relais\.tld\)/);
      assert.ok(p.destination!.dkim.some((d) => /^pass \(d=expediteur\.tld /.test(d)), `the sender's signature survived: ${p.destination!.dkim.join("; ")}`);
      assert.ok(p.destination!.dkim.some((d) => /^pass \(d=relais\.tld s=f2026a/.test(d)), p.destination!.dkim.join("; "));
      assert.match(p.destination!.dmarc, /^pass \(expediteur\.tld/);
    }
    const text = await facteur(["trace", "--stack", STACK, "--message-id", id]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /\[1\] secretariat@entreprise\.tld -> (john@doe\.tld|tom@smit\.tld): DELIVERED/);
    assert.match(text.out, /\[2\] secretariat@entreprise\.tld -> (john@doe\.tld|tom@smit\.tld): DELIVERED/);
    console.log(`trace of a group alias:\n${text.out}`);
  });

  it("--to and --from find the same message (an alias, a member, the sender behind SRS)", async () => {
    const id = `group-${run}@expediteur.tld`;
    const byAlias = await traceJson("--to", "secretariat@entreprise.tld", "--since", "1h");
    const mine = byAlias.messages.filter((m) => m.messageIds.includes(id));
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.paths.length, 2);
    const byMember = (await traceJson("--to", "tom@smit.tld")).messages.filter((m) => m.messageIds.includes(id));
    assert.deepEqual(byMember.map((m) => m.paths.map((p) => p.to)), [["tom@smit.tld"]], "only the member's path");
    const bySender = (await traceJson("--from", "alice@expediteur.tld", "--limit", "100")).messages.filter((m) => m.messageIds.includes(id));
    assert.equal(bySender.length, 1);
  });

  it("a message to an unknown recipient shows the 5xx at RCPT and no queue entry", async () => {
    const rcpt = `nobody-${run}@entreprise.tld`;
    const r = await swaks(lab, ["--server", ip("mx2"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", rcpt]);
    assert.ok(replies(r.transcript).some((l) => /^550 5\.1\.1 /.test(l)), r.transcript);
    const t = await traceUntil(["--to", rcpt], (x) => x.messages.length > 0);
    assert.equal(t.messages.length, 1, JSON.stringify(t, null, 1));
    const [p] = t.messages[0]!.paths;
    assert.equal(t.messages[0]!.paths.length, 1);
    assert.equal(p!.to, rcpt);
    assert.deepEqual([p!.outcome.status, p!.outcome.stage, p!.outcome.host, p!.outcome.dsn], ["refused", "RCPT", "mx2", "5.1.1"]);
    assert.match(p!.outcome.reply ?? "", /^550 5\.1\.1 .*User unknown/);
    assert.equal(p!.hops.length, 1);
    assert.equal(p!.hops[0]!.queueId, undefined, "no queue entry");
    assert.equal(p!.hops[0]!.arrival?.helo, "mail.expediteur.tld");
    assert.equal(await queueOf(lab, "mx2"), "");
    assert.deepEqual(postfixLog(lab, "mx2", /non-delivery notification/), [], "nothing bounced");
  });

  it("a message the scanner tags shows the verdict and the spam lane (spam1), then its delivery", async () => {
    const id = `tagged-${run}@expediteur.tld`;
    const r = await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "john-doe@entreprise.tld", "--data", "-"], {
      input: message(id, "john-doe@entreprise.tld", `tagged ${run}`, `Hello,\r\n\r\nY${GTUBE}`),
    });
    assert.equal(r.code, 0, r.transcript);
    await waitForMail(lab, "john@doe.tld", `tagged ${run}`);
    const t = await traceUntil(["--message-id", id], (x) => x.messages[0]?.paths[0]?.outcome.status === "delivered");
    const p = t.messages[0]?.paths[0];
    assert.ok(p, JSON.stringify(t, null, 1));
    assert.equal(p.outcome.status, "delivered");
    const [relay, smarthost] = p.hops;
    assert.equal(relay!.scan?.action, "add header");
    assert.ok(relay!.scan!.score >= 6, `score ${relay!.scan!.score}`);
    assert.deepEqual(relay!.laneFilter && [relay!.laneFilter.header, relay!.laneFilter.nexthop], ["X-Spam: Yes", "smtp:spam-pool.relais.tld"]);
    assert.equal(smarthost!.host, "spam1");
    assert.equal(relay!.attempts.at(-1)?.peer?.host, "spam1");
    const text = await facteur(["trace", "--stack", STACK, "--message-id", id]);
    assert.match(text.out, /rspamd: add header, score \d+(\.\d+)? \(reject at 15\).*; spam lane \(X-Spam: Yes -> smtp:spam-pool\.relais\.tld\)/);
  });

  it("a message deferred while the clean pool and its fallback were stopped shows the deferral (reason, next try), then its delivery through out2 once out2 is back (out1 still stopped)", async () => {
    // The external relay is the relays' fallback: with it up, the message would leave there.
    const stopped = ["out1", "out2", "ext-fai"];
    for (const h of stopped) assert.equal((await postfixCtl(lab, h, "stop")).code, 0);
    try {
      const id = `deferred-${run}@expediteur.tld`;
      const r = await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "tom-smit@entreprise.tld", "--data", "-"], {
        input: message(id, "tom-smit@entreprise.tld", `deferred ${run}`),
      });
      assert.equal(r.code, 0, r.transcript);
      const t1 = await traceUntil(["--message-id", id], (x) => x.messages[0]?.paths[0]?.outcome.status === "deferred");
      const p1 = t1.messages[0]?.paths[0];
      assert.equal(p1?.outcome.status, "deferred", JSON.stringify(t1, null, 1));
      assert.equal(p1!.outcome.host, "mx1");
      assert.match(p1!.outcome.reply ?? "", /connect to smtp\.fai\.tld\[[^\]]+\]:587: Connection refused/, "the fallback is tried last");
      const d = p1!.hops[0]!.attempts.at(-1)!;
      assert.equal(d.dsn, "4.4.1");
      for (const h of ["out1", "out2"]) assert.ok(d.skipped.some((s) => s.startsWith(`connect to ${h}.relais.tld[`) && s.endsWith(":25: Connection refused")), d.skipped.join("\n"));
      assert.ok(d.nextTryAfter !== undefined && Date.parse(String(d.nextTryAfter)) - Date.parse(String(d.at)) >= 300_000, "Postfix waits at least minimal_backoff_time");
      assert.match(await queueOf(lab, "mx1"), /Connection refused/);

      const start = await postfixCtl(lab, "out2", "start");
      assert.equal(start.code, 0, start.stderr);
      const flushed = await waitFor(
        async () => {
          await runCmd(["postqueue", "-c", hostOf(lab, "mx1").postfixDir, "-f"]);
          return (await waitForMail(lab, "tom@smit.tld", `deferred ${run}`, 1, 3000)).length === 1;
        },
        60_000,
        500,
      );
      assert.ok(flushed, `not delivered after out2 came back:\n${await queueOf(lab, "mx1")}`);
      const t2 = await traceUntil(["--message-id", id], (x) => x.messages[0]?.paths[0]?.outcome.status === "delivered");
      const p2 = t2.messages[0]!.paths[0]!;
      assert.equal(p2.outcome.status, "delivered", JSON.stringify(p2, null, 1));
      assert.deepEqual(hostsOf(p2), ["mx1", "out2", "mx-smit"]);
      const tries = p2.hops[0]!.attempts;
      assert.equal(tries[0]!.status, "deferred");
      assert.equal(tries.at(-1)!.status, "sent");
      assert.equal(tries.at(-1)!.peer?.host, "out2");
      const text = await facteur(["trace", "--stack", STACK, "--message-id", id]);
      assert.match(text.out, /deferred \(4\.4\.1, [\d.]+ s\): connect to smtp\.fai\.tld.*Connection refused/);
      assert.match(text.out, /next try not before /);
      assert.match(text.out, /sent to out2\.relais\.tld/);
      console.log(`trace of a deferral:\n${text.out}`);
    } finally {
      for (const h of stopped) await postfixCtl(lab, h, "start");
    }
  });
});
