// DANE for mail to our relay (issue 14, part 4), proved with the real daemons in the lab: Knot
// signs relais.tld and entreprise.tld and serves the plan's TLSA 3 1 1 records for mx1's managed
// key (current mx2026a and next mx2026b: a rollover under way); mx1's certificate comes from
// pebble for that key (the rendered renew.sh, lego --csr). The DANE-enforcing sender is the
// smarthost out1 (Postfix smtp_tls_security_level = dane behind its unbound, which trusts the
// lab's signed zones): a submission to john-doe@entreprise.tld goes out1 -> mx1 (MX) and must be
// logged "Verified TLS connection" to mx1, before the switch, with the certificate pebble
// pre-issued for the next key while it was next (served from the first second of the switch),
// with the apply step's bootstrap certificate and pebble's re-issue, and with the step-2 TLSA set.
// Its own lab stack (test/scenarios/dane-inbound/stack.yaml).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, waitForMail, hostOf, postfixLog, queueOf, mailbox, forgetDns, LAB_WAIT_MS } from "./support/lab.ts";
import { must, waitFor } from "../src/lab/proc.ts";
import { issuerOf, labAcmeSeconds } from "../src/lab/acme.ts";
import { setLabRecords } from "../src/lab/dnsUpdate.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { tlsKeyId } from "../src/plan/dns.ts";
import { tlsaSha256 } from "../src/plan/placeholders.ts";
import { labStack } from "./support/labStacks.ts";
import { renderStack } from "../src/render/render.ts";
import type { HostBundle } from "../src/render/bundle.ts";
import { daemonFacts } from "../src/render/daemons/index.ts";

const SPEC = fileURLToPath(new URL("./scenarios/dane-inbound/stack.yaml", import.meta.url));
const STACK = labStack("dane");
// The renewal timer every 5 s, not the lab's 20: the tests wait for its runs (a renewal, a
// pre-issue, two runs after a switch), and each run is a second of lego against pebble.
process.env.FACTEUR_LAB_ACME_SECONDS ??= "5";
const skip = labSkipReason();
if (skip) console.log(`# lab dane-inbound skipped: ${skip}`);

const tag = `${process.pid}-${Date.now() % 100000}`;
let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;
const KEY_A = tlsKeyId("mx1.relais.tld", "mx2026a");
const KEY_B = tlsKeyId("mx1.relais.tld", "mx2026b");
const mx1Key = () => `${hostOf(lab, "mx1").root}/etc/facteur/tls/key.pem`;
const mx1Cert = () => `${hostOf(lab, "mx1").root}/etc/facteur/acme/certificates/mx1.relais.tld.crt`;

/** TLSA 3 1 1 data of a PEM file (a key or a certificate): SHA-256 of its SubjectPublicKeyInfo. */
async function spkiDigest(file: string, kind: "key" | "cert"): Promise<string> {
  const pub = kind === "cert" ? 'openssl x509 -in "$0" -noout -pubkey' : 'openssl pkey -in "$0" -pubout';
  const r = await must("SPKI digest", ["sh", "-c", `${pub} | openssl pkey -pubin -outform DER | base64 -w0`, file]);
  return tlsaSha256(r.stdout.trim());
}

/** The model and plan of the lab's spec with the lab's keys, mx1's tlsKey being `tlsKey`. */
function stepOf(tlsKey: string) {
  const text = readFileSync(SPEC, "utf8").replace(/tlsKey: \{ current: mx2026a, next: mx2026b \}/, `tlsKey: ${tlsKey}`);
  const model = buildModel(parseSpec(text, SPEC));
  const keys = Object.fromEntries(Object.entries(lab.tlsKeyFiles!).map(([id, f]) => [id, publicB64(f)]));
  return { model, plan: buildPlan(model, { dkimKeys: keys }) };
}

/** The plan's TLSA records for mx1 with the lab's keys, for a spec whose mx1 tlsKey is `tlsKey`. */
function mx1Tlsa(tlsKey: string): { name: string; type: "TLSA"; value: string }[] {
  return stepOf(tlsKey)
    .plan.dns.filter((r) => r.id.startsWith("tlsa:mx1:"))
    .map((r) => ({ name: r.name, type: "TLSA" as const, value: r.content }));
}

/** mx1's bundle under its lab root, for a spec whose mx1 tlsKey is `tlsKey`. */
function mx1Bundle(tlsKey: string): HostBundle {
  const { model, plan } = stepOf(tlsKey);
  return renderStack(model, plan, { root: hostOf(lab, "mx1").root }).find((b) => b.host === "mx1")!;
}
const mx1Acme = () => daemonFacts(mx1Bundle("{ current: mx2026a, next: mx2026b }").daemons, "acme")!;
const acmeLog = () => readFileSync(`${hostOf(lab, "mx1").root}/var/log/acme-timer.log`, "utf8");
/**
 * Resolves just after the renewal timer ends a run (its log then ends with "== exit N"), while
 * it sleeps before the next. A run of the step-1 script still going while a test swaps in step
 * 2 would pre-issue again over the certificate being installed (seen on a loaded machine: the
 * pre-issue took 6 s and overlapped the swap); the apply step's files go in between runs.
 */
async function betweenTimerRuns(): Promise<void> {
  const ends = () => (acmeLog().match(/^== exit \d+$/gm) ?? []).length;
  const n = ends();
  const idle = await waitFor(async () => ends() > n && /^== exit \d+\n$/m.test(acmeLog().slice(-16)), Math.max(LAB_WAIT_MS, labAcmeSeconds() * 6000), 100);
  assert.ok(idle, `the renewal timer did not end a run: ${acmeLog().slice(-600)}`);
}

/** The certificate mx1 serves on port 25 after STARTTLS, as out1 sees it (PEM). */
async function servedCert(): Promise<string> {
  const r = await must("mx1's certificate", ["sh", "-c", `openssl s_client -starttls smtp -connect "$0:25" -servername mx1.relais.tld </dev/null 2>/dev/null | openssl x509`, ip("mx1")], { ns: hostOf(lab, "out1").ns });
  return r.stdout.trim();
}
const publicCache = new Map<string, string>();
function publicB64(file: string): string {
  return publicCache.get(file)!;
}

/** john@entreprise.tld submits to out1 for john-doe@entreprise.tld: out1 delivers to its MX, mx1, with DANE. */
async function submit(subject: string): Promise<void> {
  const r = await swaks(lab, [
    "--server", ip("out1"), "--port", "587", "--tls", "--helo", "laptop.entreprise.tld", "--auth", "PLAIN",
    "--auth-user", "john@entreprise.tld", "--auth-password", lab.secrets.johnSubmission!,
    "--from", "john@entreprise.tld", "--to", "john-doe@entreprise.tld", "--header", `Subject: ${subject}`,
  ]);
  assert.equal(r.code, 0, `submission to out1 failed:\n${r.transcript}`);
}

/** out1's "Verified TLS connection" lines to mx1, and its deliveries of john-doe@ to mx1. */
const verifiedToMx1 = () => postfixLog(lab, "out1", /Verified TLS connection established to mx1\.relais\.tld\[/).length;
const sentToMx1 = () => postfixLog(lab, "out1", /to=<john-doe@entreprise\.tld>.*relay=mx1\.relais\.tld\[.*status=sent/).length;

/** Sends one message and asserts it crossed out1 -> mx1 over TLS verified by DANE and reached john@doe.tld. */
async function deliversVerified(step: string): Promise<void> {
  const [v0, s0] = [verifiedToMx1(), sentToMx1()];
  const subject = `dane-${step}-${tag}`;
  await submit(subject);
  assert.equal((await waitForMail(lab, "john@doe.tld", subject)).length, 1, `${step}: delivered through mx1`);
  assert.ok(sentToMx1() > s0, `${step}: out1 handed it to mx1`);
  assert.ok(verifiedToMx1() > v0, `${step}: out1 verified mx1 against its TLSA (${postfixLog(lab, "out1", /mx1\.relais\.tld/).slice(-3).join("\n")})`);
}

describe("lab: DANE for mail to our relay, across a TLS key rollover", { skip }, () => {
  before(async () => {
    // No dnssec option: the lab signs the zones the plan signs (operator.dnssec, domains.entreprise.tld.dnssec).
    lab = await labUp(STACK, { specFile: SPEC });
    for (const f of Object.values(lab.tlsKeyFiles ?? {}))
      publicCache.set(f, (await must("public key", ["sh", "-c", 'openssl pkey -in "$0" -pubout -outform DER | base64 -w0', f])).stdout.trim());
  });
  after(async () => {
    if (!process.env.LAB_KEEP) await labDown(STACK);
  });

  it("publishes the plan's TLSA for mx1's current and next keys in the signed zone, and mx1 serves pebble's certificate for the current key", async () => {
    assert.deepEqual(lab.signedZones, ["entreprise.tld", "relais.tld"]);
    assert.deepEqual(Object.keys(lab.tlsKeyFiles ?? {}).sort(), [KEY_A, KEY_B, tlsKeyId("out1.relais.tld", "out2026a")].sort());
    const r = await must("TLSA via out1's unbound", ["kdig", "+dnssec", "+timeout=3", "@127.0.0.1", "TLSA", "_25._tcp.mx1.relais.tld"], { ns: hostOf(lab, "out1").ns });
    assert.match(r.stdout, /;; Flags: [^;]*\bad\b/, "validated (ad) by out1's resolver");
    const a = await spkiDigest(lab.tlsKeyFiles![KEY_A]!, "key");
    const b = await spkiDigest(lab.tlsKeyFiles![KEY_B]!, "key");
    for (const d of [a, b]) assert.match(r.stdout, new RegExp(`TLSA\\s+3 1 1 ${d}`, "i"));
    assert.equal(await spkiDigest(mx1Key(), "key"), a, "mx1 holds the current key");
    assert.equal(await spkiDigest(mx1Cert(), "cert"), a, "its certificate is for that key");
    assert.match(issuerOf(mx1Cert()), /Pebble/i, "issued by the ACME server for the managed key (lego --csr)");
  });

  it("before the switch: out1 delivers to mx1 over TLS verified by DANE", async () => {
    await deliversVerified("current");
  });

  it("while mx2026b is next, the renewal script has pebble pre-issue its certificate, and leaves the served one alone", async () => {
    const b = await spkiDigest(lab.tlsKeyFiles![KEY_B]!, "key");
    const a = await spkiDigest(lab.tlsKeyFiles![KEY_A]!, "key");
    const pre = mx1Acme().preIssued!;
    assert.equal(await spkiDigest(pre.key, "key"), b, "the next key is on mx1, where the ACME client reads it");
    const issued = await waitFor(async () => existsSync(pre.cert) && /Pebble/i.test(issuerOf(pre.cert)), Math.max(LAB_WAIT_MS, labAcmeSeconds() * 6000), 1000);
    assert.ok(issued, `no pre-issued certificate at ${pre.cert}: ${acmeLog().slice(-600)}`);
    assert.equal(await spkiDigest(pre.cert, "cert"), b, "pre-issued for the next key (lego --csr from next.pem)");
    assert.equal(await spkiDigest(mx1Cert(), "cert"), a, "mx1 still serves the current key's certificate");
  });

  it("the switch to the next key: the pre-issued certificate is served at once and renewed in place; verified with it, with a bootstrap one and pebble's re-issue, and with the step-2 TLSA set", async () => {
    const mx1 = hostOf(lab, "mx1");
    const b = await spkiDigest(lab.tlsKeyFiles![KEY_B]!, "key");
    const pre = mx1Acme().preIssued!;
    const step2 = mx1Bundle("{ current: mx2026b }");
    const acme2 = daemonFacts(step2.daemons, "acme")!;
    assert.equal(acme2.preIssued?.cert, pre.cert, "step 2 finds the certificate where step 1 had it pre-issued");
    // What the apply step does on step 2 (src/pulumi/apply.ts; its choice of certificate is tested
    // with real openssl in pulumi-apply.test.ts): the new key in place with the certificate
    // pre-issued for it and lego's record of it, the next key gone, step 2's renewal script, Postfix reloaded.
    await betweenTimerRuns();
    copyFileSync(lab.tlsKeyFiles![KEY_B]!, mx1Key());
    copyFileSync(pre.cert, mx1Cert());
    copyFileSync(pre.meta, acme2.meta);
    rmSync(pre.key);
    writeFileSync(acme2.script, step2.files.find((f) => f.path === acme2.script)!.content);
    await must("postfix reload on mx1", ["postfix", "-c", mx1.postfixDir, "reload"]);
    const served = await servedCert();
    assert.equal(served, readFileSync(pre.cert, "utf8").match(/-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----/)![0], "mx1 serves the pre-issued certificate");
    assert.match(issuerOf(mx1Cert()), /Pebble/i, "a CA-issued certificate from the first second of the switch");
    await deliversVerified("pre-issued");
    // The timer's next runs renew it in place (far from expiry: nothing to do), never issue anew.
    const runs = () => (acmeLog().match(/^== exit 0$/gm) ?? []).length;
    const r0 = runs();
    const ran = await waitFor(async () => runs() >= r0 + 2, Math.max(LAB_WAIT_MS, labAcmeSeconds() * 4000), 1000);
    assert.ok(ran, `the renewal script ran twice since the switch: ${acmeLog().slice(-600)}`);
    assert.equal(await servedCert(), served, "the same certificate, still served");
    // Without a pre-issued certificate (none, or one about to lapse), the apply step bootstraps a
    // self-signed one for the key; the renewal script sees it and issues anew.
    await must("bootstrap certificate for the next key", [
      "openssl", "req", "-x509", "-new", "-key", mx1Key(), "-days", "3650", "-subj", "/CN=mx1.relais.tld", "-addext", "subjectAltName=DNS:mx1.relais.tld", "-out", mx1Cert(),
    ]);
    await must("postfix reload on mx1", ["postfix", "-c", mx1.postfixDir, "reload"]);
    assert.equal(await spkiDigest(mx1Cert(), "cert"), b);
    await deliversVerified("bootstrap");
    const reissued = await waitFor(async () => /Pebble/i.test(issuerOf(mx1Cert())) && (await spkiDigest(mx1Cert(), "cert")) === b, Math.max(LAB_WAIT_MS, labAcmeSeconds() * 6000), 1000);
    assert.ok(reissued, `no pebble certificate for mx2026b (issuer: ${issuerOf(mx1Cert())})`);
    await deliversVerified("reissued");
    // Step 2's records: mx2026a's TLSA withdrawn, mx2026b's kept as published in step 1.
    const tlsa2 = mx1Tlsa("{ current: mx2026b }");
    assert.deepEqual(tlsa2.map((r) => r.value), [`3 1 1 ${b}`]);
    await setLabRecords(lab, tlsa2);
    await deliversVerified("step2");
  });

  it("a TLSA set without the key served defers the mail: nothing goes to mx1 unverified", async () => {
    const a = await spkiDigest(lab.tlsKeyFiles![KEY_A]!, "key");
    await setLabRecords(lab, [{ name: "_25._tcp.mx1.relais.tld", type: "TLSA", value: `3 1 1 ${a}` }]);
    // out1 may hold the step-2 set for its TTL (60 s in the lab): make it forget, rather than wait.
    await forgetDns(lab, "out1", "mx1.relais.tld");
    const subject = `dane-wrong-${tag}`;
    const s0 = sentToMx1();
    await submit(subject);
    const deferred = await waitFor(async () => postfixLog(lab, "out1", /to=<john-doe@entreprise\.tld>.*relay=mx1\.relais\.tld.*status=deferred/).length > 0, LAB_WAIT_MS);
    assert.ok(deferred, `out1 defers: ${postfixLog(lab, "out1", /john-doe@entreprise/).slice(-3).join("\n")}`);
    assert.equal(sentToMx1(), s0, "nothing was handed to mx1");
    assert.match(await queueOf(lab, "out1"), /john-doe@entreprise\.tld/, "the message waits in out1's queue");
    assert.equal(mailbox(lab, "john@doe.tld").filter((m) => m.text.includes(subject)).length, 0);
  });
});
