// The example stack, end to end, with the real daemons in network namespaces (src/lab): real
// SMTP from an outside sender, assertions on what the outside MX hosts store. The operators'
// stories of ../shared/FIELD-NOTES.md, told against running Postfix, OpenDKIM, postsrsd, rspamd
// and Knot. Needs root and the Debian packages of scripts/setup-system.sh; skips otherwise.
import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { labStatus, formatStatus, type LabState } from "../src/lab/index.ts";
import {
  labSkipReason, swaks, replies, waitForMail, mailbox, allMail, header, headersNamed, dkimResults, dkimverify, spfCheck,
  signAsSender, queueOf, postfixLog, inHost, hostOf, smtpSessions, LAB_WAIT_MS, type StoredMail,
} from "./support/lab.ts";
import { namespacePids, sleep, waitFor } from "../src/lab/proc.ts";
import "./support/labStacks.ts";
import { exampleLab, exampleLabStack, retireExampleLab } from "./support/exampleLab.ts";
import { spawnFacteur } from "./support/facteurCli.ts";

// The example spec under the test's own lab stack name, or the stack the lab-example suite
// shares (test/support/exampleLab.ts): a user's `example` lab is never touched.
const STACK = exampleLabStack("e2e");
const skip = labSkipReason();
if (skip) console.log(`# lab e2e skipped: ${skip}`);

const RELAYS = ["mx1", "mx2"];
const SMARTHOSTS = ["out1", "out2", "spam1"];
const run = `${process.pid}-${Date.now() % 100000}`;
let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;
const token = (what: string) => `${what}-${run}`;

async function send(to: string | string[], subject: string, opts: { server?: string; from?: string; data?: string } = {}) {
  const rcpts = Array.isArray(to) ? to : [to];
  const args = ["--server", opts.server ?? ip("mx1"), "--helo", "mail.expediteur.tld", "--from", opts.from ?? "alice@expediteur.tld", "--to", rcpts.join(",")];
  const r = opts.data ? await swaks(lab, [...args, "--data", "-"], { input: opts.data }) : await swaks(lab, [...args, "--header", `Subject: ${subject}`]);
  assert.equal(r.code, 0, `swaks to ${rcpts.join(",")} failed:\n${r.transcript}`);
  return r;
}

/** The first Received header: the client that connected to the destination, as "helo", "ptr", "ip". */
function lastHop(m: StoredMail): { helo: string; ptr: string; ip: string } {
  const rec = headersNamed(m, "received")[0]!;
  const x = /^from (\S+) \((\S+) \[([^\]]+)\]\)/.exec(rec);
  assert.ok(x, `unexpected Received: ${rec}`);
  return { helo: x[1]!, ptr: x[2]!, ip: x[3]!.replace(/^IPv6:/i, "") };
}

describe("lab: the example stack end to end", { skip }, () => {
  before(async () => {
    lab = await exampleLab(STACK);
    // postscreen makes a new client wait for its pregreet test once per relay: do it up front, in parallel.
    await Promise.all(RELAYS.map((r) => swaks(lab, ["--server", ip(r), "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"])));
  });
  it("came up with every check passed and every daemon answering, and status asks them all again", async () => {
    console.log(`# lab e2e: bring-up ${lab.upSeconds.toFixed(1)} s (${lab.timings.filter((t) => !t.step.startsWith(" ")).map((t) => `${t.step} ${t.seconds.toFixed(1)}`).join(", ")})`);
    assert.deepEqual(lab.warnings, []);
    for (const h of [...RELAYS, ...SMARTHOSTS]) assert.ok(lab.checks.some((c) => c.startsWith(`${h}: postfix -c`)), `no postfix check for ${h}`);
    for (const h of SMARTHOSTS) assert.ok(lab.checks.some((c) => c.startsWith(`${h}: opendkim -n`)), `no opendkim -n for ${h}`);
    const st = await labStatus(STACK);
    assert.equal(st.up, true, formatStatus(st));
    const asked = new Set(st.probes.map((r) => `${r.probe.host} ${r.probe.daemon}`));
    const expected = [
      "dns Knot",
      ...RELAYS.flatMap((h) => ["Postfix", "rspamd", "postsrsd", "syslog listener"].map((d) => `${h} ${d}`)),
      ...SMARTHOSTS.flatMap((h) => ["Postfix", "OpenDKIM", "policyd-rate-limit", "syslog listener"].map((d) => `${h} ${d}`)),
      ...["sender", "mx-doe", "mx-smit", "mx-gestion", "ext-fai"].map((h) => `${h} Postfix`),
    ];
    assert.deepEqual(expected.filter((d) => !asked.has(d)), [], "daemons status does not ask");
    // Every listener of a smarthost: 25, submission 587 and smtps 465 (TLS from the first byte).
    assert.deepEqual(
      st.probes.filter((r) => r.probe.host === "out1" && r.probe.check.kind === "smtp").map((r) => r.probe.check),
      [
        { kind: "smtp", address: "127.0.0.1", port: 25 },
        { kind: "smtp", address: "127.0.0.1", port: 587 },
        { kind: "smtp", address: "127.0.0.1", port: 465, tls: true },
      ],
    );
  });

  it("forwards alias, group and chain to the right outside mailboxes, once each", async () => {
    const t = { alias: token("alias"), group: token("group"), chain: token("chain"), shop: token("shop") };
    await Promise.all([
      send("john-doe@entreprise.tld", t.alias),
      send("secretariat@entreprise.tld", t.group),
      send("accueil@entreprise.tld", t.chain, { server: ip("mx2") }),
      send("contact@monmagasin.tld", t.shop),
    ]);
    const john = "john@doe.tld";
    const tom = "tom@smit.tld";
    for (const [addr, tok] of [[john, t.alias], [john, t.group], [tom, t.group], [john, t.chain], [tom, t.chain], [john, t.shop]] as const) {
      const got = await waitForMail(lab, addr, tok);
      assert.equal(got.length, 1, `${addr} should have ${tok} once`);
    }
    await sleep(1500);
    for (const [addr, tok, n] of [[john, t.alias, 1], [john, t.group, 1], [tom, t.group, 1], [john, t.chain, 1], [tom, t.chain, 1], [tom, t.alias, 0], [tom, t.shop, 0]] as const)
      assert.equal(mailbox(lab, addr).filter((m) => header(m, "subject")!.includes(tok)).length, n, `${addr} / ${tok}: duplicates or misrouting`);
  });

  it("forwarded mail leaves through a smarthost, SRS-rewritten, SPF pass, DKIM d=relais.tld; the sender's own DKIM survives", async () => {
    const tok = token("dkim");
    const msg = [
      "From: Alice <alice@expediteur.tld>",
      "To: john-doe@entreprise.tld",
      `Subject: ${tok}`,
      `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
      `Message-ID: <${tok}@expediteur.tld>`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Hello John, this message is signed by expediteur.tld.",
      "",
    ].join("\r\n");
    const signed = await signAsSender(lab, msg);
    await send("john-doe@entreprise.tld", tok, { data: signed });
    const [m] = await waitForMail(lab, "john@doe.tld", tok);
    assert.ok(m, "signed message did not arrive");
    // The destination's client is a smarthost, announcing its PTR name.
    const hop = lastHop(m);
    const smarthost = lab.hosts.find((h) => SMARTHOSTS.includes(h.name) && [...h.ipv4, ...h.ipv6].includes(hop.ip));
    assert.ok(smarthost, `delivered by ${hop.ip} (${hop.ptr}), not by a smarthost`);
    assert.equal(hop.helo, smarthost.names[0]);
    assert.equal(hop.ptr, smarthost.names[0]);
    assert.ok(!lab.hosts.filter((h) => RELAYS.includes(h.name)).some((h) => [...h.ipv4, ...h.ipv6].includes(hop.ip)));
    // SRS envelope sender in the operator's domain, and SPF passes for it at the destination.
    const rp = header(m, "return-path")!.replace(/^<|>$/g, "");
    assert.match(rp, /^SRS0=[^@]+=expediteur\.tld=alice@relais\.tld$/);
    assert.equal(await spfCheck(lab, hop.ip, rp, hop.helo, "mx-doe"), "pass");
    // Without SRS the original sender's SPF would fail from a smarthost: the reason SRS exists.
    assert.equal(await spfCheck(lab, hop.ip, "alice@expediteur.tld", hop.helo, "mx-doe"), "fail");
    // dkimverify (first signature: the smarthost's, d=relais.tld) against the lab DNS.
    const v = await dkimverify(lab, m.file, "mx-doe");
    assert.equal(v.code, 0, `dkimverify: ${v.stdout}${v.stderr}`);
    assert.match(headersNamed(m, "dkim-signature")[0]!, /d=relais\.tld/);
    const results = await dkimResults(lab, m.file, "mx-doe");
    assert.deepEqual(results.sort(), ["expediteur.tld pass", "relais.tld pass"]);
  });

  it("every sending address has PTR -> name -> same address, and banner and EHLO say that name", async () => {
    for (const h of lab.hosts.filter((x) => [...RELAYS, ...SMARTHOSTS].includes(x.name))) {
      const name = h.names[0]!;
      for (const addr of [...h.ipv4, ...h.ipv6]) {
        const ptr = await inHost(lab, "sender", ["kdig", "+timeout=1", "+retry=0", "+short", `@${lab.resolver}`, "-x", addr]);
        assert.equal(ptr.stdout.trim(), `${name}.`, `PTR of ${addr}`);
        const fwd = await inHost(lab, "sender", ["kdig", "+timeout=1", "+retry=0", "+short", `@${lab.resolver}`, name, addr.includes(":") ? "AAAA" : "A"]);
        assert.deepEqual(fwd.stdout.trim().split("\n"), [addr], `${name} -> ${addr}`);
      }
      const r = await swaks(lab, ["--server", h.ipv4[0]!, "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"]);
      const rs = replies(r.transcript);
      assert.ok(rs.some((l) => l.startsWith(`220 ${name} `) || l.startsWith(`220-${name} `)), `banner of ${h.name}: ${rs.join(" | ")}`);
      assert.ok(rs.some((l) => l === `250-${name}` || l === `250 ${name}`), `EHLO name of ${h.name}: ${rs.join(" | ")}`);
    }
  });

  it("unknown recipients get 5xx at RCPT TO", async () => {
    for (const [server, rcpt] of [["mx1", "nobody@entreprise.tld"], ["mx2", "nobody@monmagasin.tld"], ["mx1", "nobody@relais.tld"], ["mx1", "John-Doe-X@entreprise.tld"]] as const) {
      const r = await swaks(lab, ["--server", ip(server), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", rcpt, "--quit-after", "RCPT"]);
      const rs = replies(r.transcript);
      const afterMail = rs.slice(rs.findIndex((l) => /^250 2\.1\.0/.test(l)) + 1);
      assert.match(afterMail[0] ?? "", /^5\d\d /, `${rcpt} at ${server}: ${rs.join(" | ")}`);
    }
  });

  const TRICKS = [
    "victim@other.tld",
    "victim%other.tld@entreprise.tld",
    "other.tld!victim@entreprise.tld",
    "@entreprise.tld:victim@other.tld",
    '"victim@other.tld"@entreprise.tld',
    '"victim%other.tld"@entreprise.tld',
    "victim@[203.0.113.21]",
    "victim@[IPv6:2001:db8:113::21]",
    "victim@other.tld.",
    "VICTIM@OTHER.TLD",
    "victim@other.tld@entreprise.tld",
    "victim%other.tld",
    "other.tld!victim",
    "victim@entreprise.tld.other.tld",
    "victim@other.tld%00@entreprise.tld",
    "victim@other.tld\\@entreprise.tld",
    "victim@mx1.relais.tld",
    "victim@localhost",
    "victim@doe.tld",
    "@mx1.relais.tld,@entreprise.tld:victim@other.tld",
  ];

  it(`refuses ${TRICKS.length} open-relay tricks on every relay and smarthost, and delivers none`, async () => {
    const before = allMail(lab).length;
    const failures: string[] = [];
    await Promise.all(
      [...RELAYS, ...SMARTHOSTS].map(async (h) => {
        // Half of them with a sender in our own domain: forging one must not help.
        const sessions = TRICKS.map((rcpt, i) => ({ from: i % 2 ? "postmaster@entreprise.tld" : "alice@expediteur.tld", rcpt, subject: token("relay") }));
        const transcripts = await smtpSessions(lab, { server: ip(h), helo: "mail.expediteur.tld", sessions });
        transcripts.forEach((t, i) => {
          const accepted = t.some(([cmd, code]) => (cmd === "DATA" && code === 354) || (cmd === "." && code < 400));
          const refused = t.some(([, code]) => code >= 500 && code < 600);
          if (accepted || !refused || t.length < 3) failures.push(`${h}: RCPT ${TRICKS[i]}: ${t.map(([c, code, m]) => `${c} -> ${code} ${m}`).join(" | ")}`);
        });
      }),
    );
    assert.deepEqual(failures, []);
    await sleep(2000);
    const relayed = allMail(lab).filter((m) => (header(m, "subject") ?? "").includes(token("relay")));
    assert.deepEqual(relayed.map((m) => m.file), []);
    assert.equal(allMail(lab).filter((m) => /victim/i.test(header(m, "x-original-to") ?? "")).length, 0);
    assert.equal(allMail(lab).length, before, "a refused message arrived somewhere");
  });

  it("submission: no AUTH without TLS; STARTTLS + login sends DKIM-signed d=entreprise.tld; bad password and foreign sender refused", async () => {
    const out1 = ip("out1");
    const password = lab.secrets.johnSubmission!;
    assert.ok(password);
    const plain = await swaks(lab, ["--server", out1, "--port", "587", "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"]);
    assert.ok(!replies(plain.transcript).some((l) => /AUTH/.test(l)), `AUTH offered without TLS:\n${plain.transcript}`);
    assert.ok(replies(plain.transcript).some((l) => /STARTTLS/.test(l)));

    const tok = token("submit");
    const auth = ["--server", out1, "--port", "587", "--tls", "--helo", "laptop.entreprise.tld", "--auth", "PLAIN", "--auth-user", "john@entreprise.tld"];
    const ok = await swaks(lab, [...auth, "--auth-password", password, "--from", "john@entreprise.tld", "--to", "tom@smit.tld", "--header", `Subject: ${tok}`]);
    assert.equal(ok.code, 0, ok.transcript);
    const [m] = await waitForMail(lab, "tom@smit.tld", tok);
    assert.ok(m, "submitted message did not arrive");
    assert.match(headersNamed(m, "dkim-signature")[0] ?? "", /d=entreprise\.tld/);
    assert.deepEqual(await dkimResults(lab, m.file, "mx-smit"), ["entreprise.tld pass"]);
    assert.equal((await dkimverify(lab, m.file, "mx-smit")).code, 0);
    assert.equal(await spfCheck(lab, lastHop(m).ip, "john@entreprise.tld", lastHop(m).helo, "mx-smit"), "pass");

    const bad = await swaks(lab, [...auth, "--auth-password", "wrong-password", "--from", "john@entreprise.tld", "--to", "tom@smit.tld", "--header", `Subject: ${token("badpw")}`]);
    assert.notEqual(bad.code, 0);
    assert.ok(replies(bad.transcript).some((l) => /^535/.test(l)), bad.transcript);

    const forged = await swaks(lab, [...auth, "--auth-password", password, "--from", "boss@monmagasin.tld", "--to", "tom@smit.tld", "--header", `Subject: ${token("forged")}`]);
    assert.notEqual(forged.code, 0);
    assert.ok(replies(forged.transcript).some((l) => /^5\d\d .*(not owned|rejected)/i.test(l)), forged.transcript);
    await sleep(2500);
    assert.equal(mailbox(lab, "tom@smit.tld").filter((x) => /badpw|forged/.test(header(x, "subject") ?? "")).length, 0);
  });

  it("postmaster@, abuse@, hostmaster@ of every domain reach ops@gestion.tld", async () => {
    const tok = token("role");
    const rcpts = ["entreprise.tld", "monmagasin.tld", "relais.tld"].flatMap((d) => ["postmaster", "abuse", "hostmaster"].map((l) => `${l}@${d}`));
    await Promise.all(rcpts.map((r, i) => send(r, `${tok} ${r}`, { server: ip(i % 2 ? "mx2" : "mx1") })));
    for (const r of rcpts) {
      const got = await waitForMail(lab, "ops@gestion.tld", `${tok} ${r}`);
      assert.equal(got.length, 1, `${r} did not reach ops@gestion.tld`);
    }
  });

  it("never generates a bounce; every queue is empty", async () => {
    await sleep(2000);
    const count = allMail(lab).length;
    for (const h of lab.hosts.filter((x) => x.postfixDir)) {
      assert.deepEqual(postfixLog(lab, h.name, /sender non-delivery notification|status=bounced/), [], `${h.name} bounced`);
    }
    assert.deepEqual(allMail(lab).filter((m) => /^<>$/.test(header(m, "return-path") ?? "") || /MAILER-DAEMON/i.test(header(m, "from") ?? "")).map((m) => m.file), []);
    for (const h of lab.hosts.filter((x) => x.postfixDir)) assert.equal(await queueOf(lab, h.name), "", `queue of ${h.name} not empty`);
    await sleep(1000);
    assert.equal(allMail(lab).length, count, "mail kept arriving");
  });

  // Last: it leaves out1 without its signer. The stack goes down at the end of the process, and a
  // file after this one that asks for it gets a fresh one.
  it("lab status: with out1's OpenDKIM killed (its socket file left behind), it names it and its log, and exits 1", async () => {
    retireExampleLab(STACK);
    const out1 = hostOf(lab, "out1");
    const conf = readFileSync(`${out1.root}/etc/opendkim.conf`, "utf8");
    const sock = /^Socket\s+local:(\S+)/m.exec(conf)![1]!;
    const dkimPids = (await namespacePids(out1.ns)).filter((p) => existsSync(`/proc/${p}/comm`) && readFileSync(`/proc/${p}/comm`, "utf8").trim() === "opendkim");
    assert.ok(dkimPids.length > 0, "no opendkim process in out1");
    for (const p of dkimPids) process.kill(p, "SIGKILL");
    assert.ok(await waitFor(async () => dkimPids.every((p) => !existsSync(`/proc/${p}`)), LAB_WAIT_MS), "opendkim did not die");
    assert.ok(existsSync(sock), "the socket file stays: a check for the file alone would say OpenDKIM listens");
    const r = spawnFacteur(["lab", "status", "--stack", STACK], { encoding: "utf8", timeout: 120_000 });
    assert.equal(r.status, 1, `lab status should exit 1:\n${r.stdout}${r.stderr}`);
    const down = r.stdout.split("\n").filter((l) => /^\s+DOWN/.test(l));
    assert.equal(down.length, 1, r.stdout);
    assert.match(down[0]!, new RegExp(`DOWN  out1: OpenDKIM is not answering \\(milter on unix:${sock.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\): .*read .*/out1/var/log/syslog\\.log, .*/out1/var/log/opendkim\\.out`));
    assert.match(r.stdout, /^facteur lab: stack \S+ is DOWN: 1 of \d+ daemons not answering$/m);
    assert.match(r.stdout, /^  ok +out2 +OpenDKIM: milter on unix:/m, "the other signers still answer");
  });
});
