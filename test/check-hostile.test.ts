// facteur check against hostile or broken peers: it always ends (an overall deadline), counts
// SPF the way a receiver does (stopping past 10 lookups, each include fetched once), holds a
// bounded amount of what a peer sends, shows remote text on one short line, and reports what
// it could not find out as UNKNOWN, never as OK nor CRITICAL.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countSpf, runChecks, type CheckResult } from "../src/check/checks.ts";
import { tableLookups, withDeadline, type Lookups } from "../src/check/lookups.ts";
import { probeSmtp, SMTP_LIMITS } from "../src/check/smtp.ts";
import { textReport } from "../src/check/report.ts";
import { checkCommand, runCheckCommand } from "../src/cli/check.ts";
import { reversedLabels } from "../src/plan/addresses.ts";
import { examplePlan, liveRecordsOf, lookupTable } from "./support/check/fixtures.ts";
import { exampleStacksDir } from "./support/example.ts";

// The example under this file's own stack name, for the CLI runs (check --delivery would read a lab named so).
const STACKS = exampleStacksDir("checkhostile");
const STACK = ["--stacks", STACKS, "--stack", "checkhostile"];
after(() => rmSync(STACKS, { recursive: true, force: true }));

const { model, plan } = examplePlan();
const byId = (rs: CheckResult[], id: string) => rs.find((r) => r.id === id)!;

test("SPF: a chain of doubled includes 14 deep costs a receiver's 11 lookups, not 2^14", async () => {
  const table: Record<string, string[]> = {};
  for (let i = 0; i < 14; i++) table[`TXT d${i}.tld`] = [`v=spf1 include:d${i + 1}.tld include:d${i + 1}.tld -all`];
  table["TXT d14.tld"] = ["v=spf1 ip4:192.0.2.1 -all"];
  const lookups = tableLookups(table);
  const started = Date.now();
  const c = await countSpf("v=spf1 include:d0.tld -all", lookups);
  assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
  assert.equal(c.exceeded, true);
  assert.equal(c.lookups, 11);
  assert.ok(lookups.asked.length <= 11, `fetched ${lookups.asked.length} records`);
  assert.equal(new Set(lookups.asked).size, lookups.asked.length, "each include fetched once");
});

test("SPF: more than 10 lookups is CRITICAL and says where a receiver stops; an include that times out is UNKNOWN", async () => {
  const t: Record<string, string[] | string> = lookupTable(liveRecordsOf(plan, model));
  for (let i = 0; i < 6; i++) t[`TXT i${i}.tld`] = [`v=spf1 a mx include:i${i + 1}.tld -all`];
  t["TXT i6.tld"] = ["v=spf1 ip4:192.0.2.1 -all"];
  t["TXT _spf.fai.tld"] = ["v=spf1 include:i0.tld -all"];
  const rs = await runChecks(plan, { lookups: tableLookups(t), dnsbls: [] });
  assert.equal(byId(rs, "spf-pool:lookups").state, "CRITICAL");
  assert.equal(byId(rs, "spf-pool:lookups").found, "more than 10 lookups (a receiver stops at the 11th: permerror), 0 void");
  const slow: Record<string, string[] | string> = lookupTable(liveRecordsOf(plan, model));
  slow["TXT _spf.fai.tld"] = "!ETIMEOUT";
  const rs2 = await runChecks(plan, { lookups: tableLookups(slow), dnsbls: [] });
  assert.equal(byId(rs2, "spf-pool:lookups").state, "UNKNOWN");
  assert.match(byId(rs2, "spf-pool:lookups").note!, /could not resolve _spf\.fai\.tld \(ETIMEOUT\): the count past them is unknown/);
});

test("deadline: with lookups that never answer, the run ends at its deadline and everything is UNKNOWN", async () => {
  const never: Lookups = { resolve: () => new Promise(() => {}) };
  const started = Date.now();
  const rs = await runChecks(plan, { lookups: withDeadline(never, Date.now() + 300), dnsbls: ["bl.lab.tld"], deadlineAt: Date.now() + 300 });
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
  assert.ok(rs.length > 50);
  assert.deepEqual([...new Set(rs.map((r) => r.state))], ["UNKNOWN"]);
  assert.match(byId(rs, "mx:entreprise.tld:mx1").note!, /not answered before the check's deadline \(--timeout\)/);
});

async function listen(handler: (s: import("node:net").Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

test("deadline end to end: a resolver that swallows every query costs --timeout, exit 3 (UNKNOWN)", { timeout: 30000 }, async () => {
  const sink = createSocket("udp4");
  await new Promise<void>((r) => sink.bind(0, "127.0.0.1", () => r()));
  const port = sink.address().port;
  const dir = mkdtempSync(join(tmpdir(), "facteur-check-"));
  try {
    writeFileSync(join(dir, "addresses.json"), JSON.stringify(examplePlan().addresses));
    const started = Date.now();
    const run = await runCheckCommand([...STACK, "--resolver", `127.0.0.1:${port}`, "--addresses", join(dir, "addresses.json"), "--no-smtp", "--timeout", "2"]);
    const took = Date.now() - started;
    assert.ok(took < 6000, `took ${took} ms`);
    assert.equal(run.exitCode, 3);
    assert.match(run.output.split("\n")[0]!, /^FACTEUR UNKNOWN - \d+ unknown \| ok=0 warning=0 critical=0 unknown=\d+$/);
  } finally {
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SMTP: a peer that never speaks is UNKNOWN (port 25 may be filtered), one that refuses is CRITICAL", async () => {
  const silent = await listen(() => {});
  try {
    const r = await probeSmtp("127.0.0.1", silent.port, { timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    const rs = await runChecks(plan, {
      lookups: tableLookups(lookupTable(liveRecordsOf(plan, model))),
      dnsbls: [],
      smtp: { probe: async (a) => (a === plan.hosts[0]!.ipv4 ? probeSmtp("127.0.0.1", silent.port, { timeoutMs: 300 }) : { error: "ECONNREFUSED" }), port: 25 },
    });
    assert.equal(byId(rs, `smtp:${plan.hosts[0]!.name}:ipv4`).state, "UNKNOWN");
    assert.match(byId(rs, `smtp:${plan.hosts[0]!.name}:ipv4`).note!, /no answer within 0\.3s; port 25 may be filtered/);
    assert.equal(byId(rs, `smtp:${plan.hosts[0]!.name}:ipv6`).state, "CRITICAL");
  } finally {
    silent.server.close();
  }
});

test("SMTP: a flooding peer is cut off after a bounded amount; banners are shown short and on one line", async () => {
  const flood = await listen((s) => {
    const chunk = Buffer.alloc(64 * 1024, "A");
    const pump = () => {
      while (!s.destroyed && s.write(chunk));
    };
    s.on("drain", pump);
    s.on("error", () => {});
    pump();
  });
  const manyLines = await listen((s) => {
    s.on("error", () => {});
    s.write("220-x\r\n".repeat(SMTP_LIMITS.replyLines + 10));
  });
  const forged = await listen((s) => {
    s.on("error", () => {});
    s.write(`220 ${"x".repeat(5000)} ESMTP\r\n`);
  });
  try {
    const before = process.memoryUsage().rss;
    const r = await probeSmtp("127.0.0.1", flood.port, { timeoutMs: 5000 });
    assert.match(r.error!, /a reply line longer than 2048 bytes/);
    assert.ok(process.memoryUsage().rss - before < 50 * 1024 * 1024, "memory stays bounded");
    assert.match((await probeSmtp("127.0.0.1", manyLines.port, { timeoutMs: 5000 })).error!, /a reply of more than 100 lines/);
    assert.match((await probeSmtp("127.0.0.1", forged.port, { timeoutMs: 5000 })).error!, /a reply line longer than 2048 bytes/);
  } finally {
    for (const x of [flood, manyLines, forged]) x.server.close();
  }
});

test("remote text with line breaks cannot forge a line of the report", async () => {
  const out1 = plan.hosts.find((h) => h.name === "out1")!;
  const q = `${reversedLabels(out1.ipv4)}.bl.lab.tld`;
  const t: Record<string, string[] | string> = lookupTable(liveRecordsOf(plan, model));
  t[`A ${q}`] = ["127.0.0.2"];
  t[`TXT ${q}`] = ["listed\nOK       dnsbl:bl.lab.tld:out1:ipv4: all clear"];
  const rs = await runChecks(plan, { lookups: tableLookups(t), dnsbls: ["bl.lab.tld"] });
  const report = textReport(rs);
  assert.doesNotMatch(report, /^OK +dnsbl:bl\.lab\.tld:out1:ipv4: all clear/m);
  assert.match(byId(rs, "dnsbl:bl.lab.tld:out1:ipv4").found!, /listed\?OK/);
});

test("an address book with an IPv6 zone id is a located error, UNKNOWN (3), not a crash", async () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-check-"));
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => (lines.push(s), true)) as typeof process.stdout.write;
  try {
    writeFileSync(join(dir, "book.yaml"), "mx1: { ipv4: 127.0.0.1, ipv6: 'fe80::1%eth0' }\n");
    assert.equal(await checkCommand([...STACK, "--addresses", join(dir, "book.yaml"), "--no-smtp", "--timeout", "5"]), 3);
  } finally {
    process.stdout.write = write;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.match(lines.join(""), /^FACTEUR UNKNOWN - .*book\.yaml:1:31: mx1\.ipv6: fe80::1%eth0 carries an interface zone/);
});

test("--timeout is whole seconds, 1 to 3600", async () => {
  for (const bad of ["0", "1.5", "x", "9999"]) await assert.rejects(runCheckCommand([...STACK, "--timeout", bad]), /--timeout: expected whole seconds from 1 to 3600/);
});
