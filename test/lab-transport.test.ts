// Transport security for forwarders (issue 14), proved with the real daemons in the lab and
// checked by independent implementations: dkimpy's arcverify / dkimverify for ARC sealing on
// the relays; Debian's postfix-mta-sts-resolver in an outside sender for MTA-STS, the policy
// served over HTTPS by the rendered Worker module with a lab CA certificate; for DANE, Knot signs
// doe.tld and smit.tld and the smarthost's unbound trusts their keys. One lab stack
// (test/scenarios/transport-security/stack.yaml) for every subtest.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, waitForMail, headersNamed, dkimResults, inHost, hostOf, signAsSender, postfixLog, queueOf, mailbox, LAB_WAIT_MS, type StoredMail } from "./support/lab.ts";
import { run as runCmd, must, waitFor } from "../src/lab/proc.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { mtaStsPolicies } from "../src/plan/mtaSts.ts";
import { setLabRecords } from "../src/lab/dnsUpdate.ts";
import { labStack } from "./support/labStacks.ts";
import { FACTEUR } from "./support/facteurCli.ts";

const SPEC = fileURLToPath(new URL("./scenarios/transport-security/stack.yaml", import.meta.url));
const STACK = labStack("tls");
const skip = labSkipReason();
if (skip) console.log(`# lab transport skipped: ${skip}`);

const tag = `${process.pid}-${Date.now() % 100000}`;
let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;
const POLICY = mtaStsPolicies(buildModel(parseSpec(readFileSync(SPEC, "utf8"), SPEC))).find((p) => p.domain === "entreprise.tld")!;

/** Mail handed to the outside sender's own Postfix, which delivers it by MX (and by MTA-STS) like any sender on the Internet. */
async function sendThroughSender(subject: string): Promise<void> {
  const r = await swaks(lab, ["--server", "127.0.0.1", "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "john-doe@entreprise.tld", "--header", `Subject: ${subject}`]);
  assert.equal(r.code, 0, `swaks to the sender's Postfix failed:\n${r.transcript}`);
}

function message(subject: string, extraHeaders: string[] = []): string {
  return [
    ...extraHeaders,
    "From: Alice <alice@expediteur.tld>",
    "To: john-doe@entreprise.tld",
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${subject}@expediteur.tld>`,
    "",
    "Bonjour John,",
    "this line and its signature must survive forwarding.",
    "",
  ].join("\r\n");
}

async function sendToRelay(data: string): Promise<void> {
  const r = await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "john-doe@entreprise.tld", "--data", "-"], { input: data });
  assert.equal(r.code, 0, `swaks failed:\n${r.transcript}`);
}

/** The TLSA 3 1 1 value of a certificate: SHA-256 of its public key (SubjectPublicKeyInfo, DER). */
async function spkiSha256(certFile: string): Promise<string> {
  const r = await must("SPKI hash", ["sh", "-c", 'openssl x509 -in "$0" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d" " -f1', certFile]);
  return r.stdout.trim();
}

/** kdig through a host's own resolver (the smarthost's unbound): the header flags of the answer. */
async function flagsVia(host: string, type: string, name: string): Promise<string> {
  const r = await inHost(lab, host, ["kdig", "+dnssec", "+timeout=3", "@127.0.0.1", type, name]);
  return /;; Flags: ([^;]*);/.exec(r.stdout)?.[1]?.trim() ?? `(no answer: ${r.stdout}${r.stderr})`;
}

/** dkimpy's arcverify on a stored message, run where the lab DNS answers: its verdict on the whole chain ("pass", "fail", "none"). */
async function arcverify(m: StoredMail): Promise<string> {
  const r = await inHost(lab, "sender", ["/usr/bin/python3", "/usr/bin/arcverify"], m.text);
  // dkimpy 1.1 prints the cv as Python bytes: "arc verification: cv=b'pass' success".
  const v = /^arc verification: cv=(?:b')?(\w+)'?/m.exec(r.stdout);
  assert.ok(v, `arcverify said: ${(r.stdout + r.stderr).trim()}`);
  return v[1]!;
}

/** ARC instances (i=) of each ARC header of a message, in header order (newest first). */
const instances = (m: StoredMail, name: string) => headersNamed(m, name).map((v) => Number(/(?:^|;)\s*i=(\d+)/.exec(v)?.[1]));

describe("lab: transport security for forwarded mail", { skip }, () => {
  before(async () => {
    lab = await labUp(STACK, { specFile: SPEC, dnssec: ["doe.tld", "smit.tld"] });
    // DANE: doe.tld's MX publishes the hash of its real key, smit.tld's a wrong one; gestion.tld is unsigned.
    // Set before any mail, so no resolver has cached their absence.
    await setLabRecords(lab, [
      { name: "_25._tcp.mx.doe.tld", type: "TLSA", value: `3 1 1 ${await spkiSha256(`${hostOf(lab, "mx-doe").root}/etc/tls/sink-cert.pem`)}` },
      { name: "_25._tcp.mx.smit.tld", type: "TLSA", value: `3 1 1 ${"ab".repeat(32)}` },
    ]);
    await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"]);
  });
  after(async () => {
    if (!process.env.LAB_KEEP) await labDown(STACK);
  });

  describe("MTA-STS and TLS-RPT (domains.entreprise.tld.mtaSts, tlsRpt)", () => {
    it("serves the rendered policy over HTTPS at mta-sts.entreprise.tld, its certificate verified against the lab CA", async () => {
      const py = "import ssl, sys, urllib.request as u; r = u.urlopen(sys.argv[1], context=ssl.create_default_context(cafile=sys.argv[2]), timeout=10); sys.stdout.write(r.headers['content-type'] + '\\n' + r.read().decode())";
      const r = await inHost(lab, "sender", ["/usr/bin/python3", "-c", py, POLICY.url, lab.ca!]);
      assert.equal(r.code, 0, r.stderr);
      const [type, ...body] = r.stdout.split("\n");
      assert.match(type!, /^text\/plain/);
      assert.equal(body.join("\n"), POLICY.text);
      // The sender's resolver finds it the way Postfix will ask: enforce, the relay's name.
      const q = await inHost(lab, "sender", ["env", `SSL_CERT_FILE=${lab.ca}`, "mta-sts-query", "entreprise.tld"]);
      assert.match(q.stdout, /'mode': 'enforce'/, q.stdout + q.stderr);
      assert.match(q.stdout, /mx1\.relais\.tld/);
    });

    it("an enforcing sender delivers to the relay over verified TLS", async () => {
      const subject = `sts-ok-${tag}`;
      await sendThroughSender(subject);
      const [m] = await waitForMail(lab, "john@doe.tld", subject);
      assert.ok(m, "delivered");
      const verified = postfixLog(lab, "sender", /Verified TLS connection established to mx1\.relais\.tld\[/);
      assert.ok(verified.length > 0, "the sender's Postfix verified the relay's certificate (MTA-STS secure level)");
      assert.ok(postfixLog(lab, "sender", /to=<john-doe@entreprise\.tld>.*relay=mx1\.relais\.tld.*status=sent/).length > 0);
    });

    it("an enforcing sender refuses to deliver when the relay's certificate is wrong, and delivers once it is right again", async () => {
      const mx1 = hostOf(lab, "mx1");
      const cert = `${mx1.root}/etc/facteur/tls/cert.pem`;
      const key = `${mx1.root}/etc/facteur/tls/key.pem`;
      const dir = mkdtempSync("/tmp/facteur-sts-");
      copyFileSync(cert, `${dir}/cert.pem`);
      copyFileSync(key, `${dir}/key.pem`);
      const subject = `sts-wrong-${tag}`;
      try {
        // Same name, but not from a CA the sender trusts: what a lapsed or self-signed certificate looks like.
        await must("self-signed certificate for mx1", ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=mx1.relais.tld", "-addext", "subjectAltName=DNS:mx1.relais.tld", "-keyout", key, "-out", cert]);
        await must("postfix reload on mx1", ["postfix", "-c", mx1.postfixDir, "reload"]);
        await sendThroughSender(subject);
        const deferred = await waitFor(async () => postfixLog(lab, "sender", /to=<john-doe@entreprise\.tld>.*status=deferred.*(certificate|TLS)/i).some((l) => l.includes("mx1.relais.tld")), LAB_WAIT_MS);
        assert.ok(deferred, `the sender defers: ${postfixLog(lab, "sender", /john-doe@entreprise/).slice(-3).join("\n")}`);
        assert.ok(postfixLog(lab, "sender", /certificate verification failed for mx1\.relais\.tld/).length > 0);
        assert.match(await queueOf(lab, "sender"), /john-doe@entreprise\.tld/, "the message waits in the sender's queue");
        assert.equal(mailbox(lab, "john@doe.tld").filter((m) => m.text.includes(subject)).length, 0, "nothing was sent in clear or to an unverified server");
      } finally {
        copyFileSync(`${dir}/cert.pem`, cert);
        copyFileSync(`${dir}/key.pem`, key);
        rmSync(dir, { recursive: true, force: true });
        await must("postfix reload on mx1", ["postfix", "-c", mx1.postfixDir, "reload"]);
      }
      await must("flush the sender's queue", ["postqueue", "-c", hostOf(lab, "sender").postfixDir, "-f"]);
      assert.ok((await waitForMail(lab, "john@doe.tld", subject)).length === 1, "delivered once the certificate is right again");
    });

    it("facteur check verifies the MTA-STS record, the policy over HTTPS, its certificate and the MX names; TLS-RPT", async () => {
      const dir = mkdtempSync("/tmp/facteur-check-");
      try {
        copyFileSync(SPEC, `${dir}/tls.facteur.yaml`);
        const r = await inHost(lab, "sender", [...FACTEUR, "check", "--stack", "tls", "--stacks", dir, "--resolver", lab.resolver, "--ca", lab.ca!, "--no-smtp", "--json"], undefined, 120_000);
        const report = JSON.parse(r.stdout) as { results: { id: string; state: string; note?: string }[] };
        const state = (id: string) => report.results.find((x) => x.id === id)?.state;
        for (const id of ["mta-sts:entreprise.tld", "mta-sts-policy:entreprise.tld", "mta-sts-cert:entreprise.tld", "mta-sts-mx:entreprise.tld", "tlsrpt:entreprise.tld", "arc:relais.tld:arc2026a"])
          assert.equal(state(id), "OK", `${id}: ${JSON.stringify(report.results.find((x) => x.id === id))}`);
        // Without the lab CA, the policy's certificate is not trusted: what a sender would refuse.
        const untrusted = await inHost(lab, "sender", [...FACTEUR, "check", "--stack", "tls", "--stacks", dir, "--resolver", lab.resolver, "--no-smtp", "--json"], undefined, 120_000);
        const cert = (JSON.parse(untrusted.stdout) as typeof report).results.find((x) => x.id === "mta-sts-cert:entreprise.tld")!;
        assert.equal(cert.state, "CRITICAL");
        assert.match(cert.note!, /senders refuse the policy/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("DANE and MTA-STS outbound on the smarthost (policy.outboundTls)", () => {
    it("the smarthost's unbound validates the zones Knot signs (ad) and leaves the others insecure", async () => {
      assert.deepEqual(lab.signedZones, ["doe.tld", "smit.tld"]);
      assert.match(await flagsVia("out1", "MX", "doe.tld"), /\bad\b/);
      assert.match(await flagsVia("out1", "TLSA", "_25._tcp.mx.doe.tld"), /\bad\b/);
      assert.doesNotMatch(await flagsVia("out1", "MX", "gestion.tld"), /\bad\b/);
    });

    it("a destination whose signed TLSA matches gets TLS verified by DANE", async () => {
      const subject = `dane-ok-${tag}`;
      await sendToRelay(message(subject).replace("To: john-doe@entreprise.tld", "To: john-doe@entreprise.tld"));
      assert.equal((await waitForMail(lab, "john@doe.tld", subject)).length, 1);
      assert.ok(postfixLog(lab, "out1", /Verified TLS connection established to mx\.doe\.tld\[/).length > 0, "out1 verified mx.doe.tld against its TLSA record");
    });

    it("a destination whose signed TLSA does not match is deferred, never sent in clear", async () => {
      const subject = `dane-wrong-${tag}`;
      const r = await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "tom-smit@entreprise.tld", "--header", `Subject: ${subject}`]);
      assert.equal(r.code, 0, r.transcript);
      const deferred = await waitFor(async () => postfixLog(lab, "out1", /to=<tom@smit\.tld>.*status=deferred/).length > 0, LAB_WAIT_MS);
      assert.ok(deferred, `out1 defers tom@smit.tld: ${postfixLog(lab, "out1", /smit/).slice(-4).join("\n")}`);
      assert.match(postfixLog(lab, "out1", /to=<tom@smit\.tld>.*status=deferred/)[0]!, /Server certificate not verified/);
      assert.match(await queueOf(lab, "out1"), /tom@smit\.tld/, "the message waits in out1's queue");
      assert.equal(postfixLog(lab, "out1", /to=<tom@smit\.tld>.*status=sent/).length, 0);
      assert.equal(mailbox(lab, "tom@smit.tld").length, 0, "nothing reached the destination");
    });

    it("a destination without DNSSEC gets opportunistic TLS", async () => {
      const subject = `dane-none-${tag}`;
      const r = await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--from", "alice@expediteur.tld", "--to", "postmaster@entreprise.tld", "--header", `Subject: ${subject}`]);
      assert.equal(r.code, 0, r.transcript);
      assert.equal((await waitForMail(lab, "ops@gestion.tld", subject)).length, 1);
      assert.ok(postfixLog(lab, "out1", /(Trusted|Untrusted|Anonymous) TLS connection established to mx\.gestion\.tld\[/).length > 0, "TLS, not verified");
      assert.equal(postfixLog(lab, "out1", /Verified TLS connection established to mx\.gestion\.tld/).length, 0);
    });

    it("a destination that publishes an enforced MTA-STS policy gets verified TLS to the MX it lists", async () => {
      const subject = `sts-out-${tag}`;
      const r = await swaks(lab, [
        "--server", ip("out1"), "--port", "587", "--tls", "--helo", "client.entreprise.tld", "--auth", "PLAIN",
        "--auth-user", "john@entreprise.tld", `--auth-password=${lab.secrets.johnSubmission}`,
        "--from", "john@entreprise.tld", "--to", "john-doe@entreprise.tld", "--header", `Subject: ${subject}`,
      ]);
      assert.equal(r.code, 0, r.transcript);
      assert.equal((await waitForMail(lab, "john@doe.tld", subject)).length, 1);
      assert.ok(postfixLog(lab, "out1", /Verified TLS connection established to mx1\.relais\.tld\[/).length > 0, "out1 verified mx1 as entreprise.tld's policy asks");
      assert.ok(readFileSync(`${hostOf(lab, "out1").root}/var/log/mta-sts-daemon.log`, "utf8").includes("entreprise.tld"), "the policy came from postfix-mta-sts-resolver");
    });
  });

  describe("ARC sealing on the relay (operator.arc)", () => {
    it("seals forwarded mail as the operator: arcverify passes at the destination, the sender's DKIM signature still verifies", async () => {
      const subject = `arc-first-${tag}`;
      await sendToRelay(await signAsSender(lab, message(subject)));
      const [m] = await waitForMail(lab, "john@doe.tld", subject);
      assert.ok(m, "the forwarded message arrived at doe.tld");
      assert.deepEqual(instances(m, "arc-seal"), [1]);
      assert.deepEqual(instances(m, "arc-message-signature"), [1]);
      assert.deepEqual(instances(m, "arc-authentication-results"), [1]);
      const seal = headersNamed(m, "arc-seal")[0]!;
      assert.match(seal, /\bd=relais\.tld\b/);
      assert.match(seal, /\bs=arc2026a\b/);
      assert.match(seal, /\bcv=none\b/);
      // What the relay saw on arrival, carried in the seal: the sender's SPF, DKIM and DMARC passed.
      const aar = headersNamed(m, "arc-authentication-results")[0]!;
      assert.match(aar, /^i=1; mx1\.relais\.tld;/);
      assert.match(aar, /\bspf=pass\b/);
      assert.match(aar, /\bdkim=pass\b[^;]*header\.d=expediteur\.tld/);
      assert.match(aar, /\bdmarc=pass\b/);
      assert.equal(await arcverify(m), "pass");
      const dkim = await dkimResults(lab, m.file);
      assert.ok(dkim.includes("expediteur.tld pass"), `the original DKIM signature verifies: ${dkim.join(", ")}`);
      assert.ok(dkim.includes("relais.tld pass"), `the smarthost's own signature verifies too: ${dkim.join(", ")}`);
    });

    it("adds the next instance to a chain the message arrived with (i=2, cv=pass), and the chain verifies", async () => {
      const subject = `arc-chain-${tag}`;
      // A first hop outside the lab's stack: the sender's domain sealed it (dkimpy's arcsign).
      const dir = mkdtempSync("/tmp/facteur-arc-");
      try {
        const key = `${dir}/key.pem`;
        writeFileSync(key, lab.senderDkimKey, { mode: 0o600 });
        const signed = await signAsSender(lab, message(subject, []));
        const withAr = `Authentication-Results: mail.expediteur.tld; spf=pass smtp.mailfrom=alice@expediteur.tld; dkim=pass header.d=expediteur.tld\r\n${signed}`;
        const sealed = await runCmd(["/usr/bin/python3", "/usr/bin/arcsign", lab.senderSelector, lab.senderDomain, key, "mail.expediteur.tld"], { input: withAr });
        assert.equal(sealed.code, 0, sealed.stderr);
        assert.match(sealed.stdout, /^ARC-Seal: i=1;/m);
        await sendToRelay(sealed.stdout);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const [m] = await waitForMail(lab, "john@doe.tld", subject);
      assert.ok(m, "the forwarded message arrived at doe.tld");
      assert.deepEqual(instances(m, "arc-seal"), [2, 1], "our seal is i=2, on top of the first hop's");
      const ours = headersNamed(m, "arc-seal")[0]!;
      assert.match(ours, /\bd=relais\.tld\b/);
      assert.match(ours, /\bcv=pass\b/, "the relay validated the chain it received");
      assert.equal(await arcverify(m), "pass");
      assert.ok((await dkimResults(lab, m.file)).includes("expediteur.tld pass"));
    });
  });
});
