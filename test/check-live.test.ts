// `facteur check` end to end against a real Knot DNS server serving the plan's zones, the reverse
// zones and a DNSBL zone, and tiny SMTP responders: all on loopback. One smarthost is listed, one
// PTR is wrong, one relay announces the wrong name; exactly those are flagged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isIP } from "node:net";
import { spawnSync } from "node:child_process";
import { runCheckCommand, checkCommand } from "../src/cli/check.ts";
import { ptrName, reversedLabels } from "../src/plan/addresses.ts";
import { examplePlan, liveRecordsOf, type LiveRecord } from "./support/check/fixtures.ts";
import { exampleStacksDir } from "./support/example.ts";
import { startKnot, zoneFiles, freePort, type Knot } from "./support/check/knot.ts";
import { startBannerServer } from "./support/check/smtp-server.ts";
import type { CheckResult } from "../src/check/checks.ts";

const haveKnot = spawnSync("knotd", ["--version"]).status === 0 && spawnSync("kdig", ["-V"]).status === 0;
const { model, plan, addresses } = examplePlan();
const host = (n: string) => plan.hosts.find((h) => h.name === n)!;
let knot: Knot | undefined;
let smtpPort = 0;
const servers: { stop(): Promise<void> }[] = [];
let dir = "";
const STACK = "checklive";
const stack = () => ["--stacks", dir, "--stack", STACK];

before(async () => {
  // The example under this test's own stack name (check --delivery would read a lab named so).
  dir = exampleStacksDir(STACK);
  if (!haveKnot) return;
  // Every address the check will touch is on this machine.
  for (const a of Object.values(addresses).flatMap((f) => [f.ipv4!, f.ipv6!]))
    assert.ok(a.startsWith("127.") || (isIP(a) === 6 && a.startsWith("::ffff:7f")), `not loopback: ${a}`);
  const records: LiveRecord[] = liveRecordsOf(plan, model).map((r) =>
    r.type === "PTR" && r.name === ptrName(host("out2").ipv4) ? { ...r, value: "mail.wrong.tld" } : r,
  );
  const listed = `${reversedLabels(host("out1").ipv4)}.bl.lab.tld`;
  records.push({ name: listed, type: "A", value: "127.0.0.2" }, { name: listed, type: "TXT", value: "Listed by the lab: spam trap hits" });
  const zones = [...new Set(plan.dns.map((r) => r.zone)), "fai.tld", "in-addr.arpa", "ip6.arpa", "bl.lab.tld"];
  knot = await startKnot(zoneFiles(records, zones));
  smtpPort = await freePort();
  for (const h of plan.hosts) servers.push(await startBannerServer(h.ipv4, smtpPort, h.name === "mx2" ? "localhost.localdomain" : h.helo));
  writeFileSync(join(dir, "addresses.json"), JSON.stringify(addresses));
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await knot?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("check against a real Knot: the listed smarthost, the wrong PTR and the wrong banner, nothing else", { skip: !haveKnot && "knotd/kdig not installed", timeout: 30000 }, async () => {
  const run = await runCheckCommand([...stack(), "--resolver", knot!.server, "--addresses", join(dir, "addresses.json"), "--smtp-port", String(smtpPort), "--json"]);
  const report = JSON.parse(run.output) as { state: string; exitCode: number; results: CheckResult[] };
  const bad = report.results.filter((r) => r.state !== "OK");
  assert.deepEqual(bad.map((r) => `${r.state} ${r.id}`).sort(), [
    "CRITICAL dnsbl:bl.lab.tld:out1:ipv4",
    "CRITICAL fcrdns:out2:ipv4",
    "CRITICAL ptr:out2:ipv4",
    "CRITICAL smtp:mx2:ipv4",
    "CRITICAL smtp:mx2:ipv6",
  ]);
  const listed = bad.find((r) => r.id === "dnsbl:bl.lab.tld:out1:ipv4")!;
  assert.match(listed.found!, /LISTED on bl\.lab\.tld \(127\.0\.0\.2\): Listed by the lab: spam trap hits/);
  assert.equal(bad.find((r) => r.id === "ptr:out2:ipv4")!.found, "mail.wrong.tld");
  assert.match(bad.find((r) => r.id === "smtp:mx2:ipv4")!.found!, /banner localhost\.localdomain/);
  assert.equal(run.exitCode, 2);
  assert.equal(report.state, "CRITICAL");
  // Everything was really checked: records, the flattened include served by Knot, DKIM shape, the v6 PTRs by nibbles.
  const ok = (id: string) => assert.equal(report.results.find((r) => r.id === id)?.state, "OK", id);
  for (const r of plan.dns) ok(r.id);
  ok("spf:entreprise.tld:lookups");
  ok("ptr:out1:ipv6");
  ok("fcrdns:mx1:ipv6");
  ok("dnsbl:bl.lab.tld:out1:ipv6");
  assert.equal(report.results.find((r) => r.id === "spf-pool:lookups")!.found, "1 lookups, 0 void"); // include:_spf.fai.tld, served by Knot
  assert.equal(report.results.find((r) => r.id === "spf:entreprise.tld:lookups")!.found, "2 lookups, 0 void");

  const text = await runCheckCommand([...stack(), "--resolver", knot!.server, "--addresses", join(dir, "addresses.json"), "--smtp-port", String(smtpPort), "--dnsbl", "bl.lab.tld"]);
  assert.match(text.output.split("\n")[0]!, /^FACTEUR CRITICAL - 5 critical \| ok=\d+ warning=0 critical=5 unknown=0$/);
  assert.match(text.output, /\nCRITICAL dnsbl:bl\.lab\.tld:out1:ipv4: out1 127\.0\.53\.3 on bl\.lab\.tld: expected not listed, found LISTED/);
});

test("without --addresses the hosts' own A/AAAA records give the addresses", { skip: !haveKnot && "knotd/kdig not installed", timeout: 30000 }, async () => {
  const run = await runCheckCommand([...stack(), "--resolver", knot!.server, "--no-smtp", "--json"]);
  const report = JSON.parse(run.output) as { results: CheckResult[] };
  assert.deepEqual(report.results.filter((r) => r.state !== "OK").map((r) => r.id).sort(), ["dnsbl:bl.lab.tld:out1:ipv4", "fcrdns:out2:ipv4", "ptr:out2:ipv4"]);
});

test("bad flags: a clear message and UNKNOWN (3)", async () => {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => (lines.push(s), true)) as typeof process.stdout.write;
  try {
    assert.equal(await checkCommand([...stack(), "--resolver", "not-an-ip"]), 3);
    assert.equal(await checkCommand([...stack(), "--bogus"]), 3);
    assert.equal(await checkCommand([]), 3);
    assert.equal(await checkCommand(["--stack", "nosuch"]), 3);
  } finally {
    process.stdout.write = write;
  }
  const out = lines.join("");
  assert.match(out, /^FACTEUR UNKNOWN - --resolver: expected IP/m);
  assert.match(out, /^FACTEUR UNKNOWN - Unknown option '--bogus'/m);
  assert.match(out, /^FACTEUR UNKNOWN - --stack NAME is required/m);
  assert.match(out, /^FACTEUR UNKNOWN - .*nosuch\.facteur\.yaml/m);
});
