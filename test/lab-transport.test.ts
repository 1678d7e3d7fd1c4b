// Transport security for forwarders (issue 14), proved with the real daemons in the lab and
// checked by independent implementations: dkimpy's arcverify / dkimverify for ARC sealing on
// the relays. One lab stack (test/scenarios/transport-security/stack.yaml) for every subtest.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, waitForMail, headersNamed, dkimResults, inHost, hostOf, signAsSender, type StoredMail } from "../src/lab/testing.ts";
import { run as runCmd } from "../src/lab/proc.ts";
import { labStack } from "./support/labStacks.ts";

const SPEC = fileURLToPath(new URL("./scenarios/transport-security/stack.yaml", import.meta.url));
const STACK = labStack("tls");
const skip = labSkipReason();
if (skip) console.log(`# lab transport skipped: ${skip}`);

const tag = `${process.pid}-${Date.now() % 100000}`;
let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;

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
    lab = await labUp(STACK, { specFile: SPEC });
    await swaks(lab, ["--server", ip("mx1"), "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"]);
  });
  after(async () => {
    if (!process.env.LAB_KEEP) await labDown(STACK);
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
