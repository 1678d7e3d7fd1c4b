// ACME certificates (issue 14, part 4) in the lab: Debian's pebble is the CA; the hosts' rendered
// renewal script (lego over HTTP-01) runs as its timer would, with no manual step; a submission
// client that verifies against pebble's root connects to the smarthost. Its own lab stack
// (test/scenarios/acme-certificates/stack.yaml): renewals replace certificates every few
// seconds, which the other transport tests must not see.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, inHost, hostOf, LAB_WAIT_MS } from "./support/lab.ts";
import { waitFor } from "../src/lab/proc.ts";
import { issuerOf, labAcmeSeconds } from "../src/lab/acme.ts";
import { labStack } from "./support/labStacks.ts";

const SPEC = fileURLToPath(new URL("./scenarios/acme-certificates/stack.yaml", import.meta.url));
const STACK = labStack("acme");
// The renewal timer every 5 s, not the lab's 20: the tests wait for its runs (a renewal, a
// pre-issue, two runs after a switch), and each run is a second of lego against pebble.
process.env.FACTEUR_LAB_ACME_SECONDS ??= "5";
const skip = labSkipReason();
if (skip) console.log(`# lab acme skipped: ${skip}`);

let lab: LabState;
let pebbleRoot: string;
let dir: string;
const certOf = (host: string, fqdn: string) => `${hostOf(lab, host).root}/etc/facteur/acme/certificates/${fqdn}.crt`;

/** STARTTLS to out1's submission port by name, verifying the chain and the name against `cafile` only: the serial served. */
async function submissionSerial(cafile: string): Promise<{ code: number; out: string }> {
  const py = [
    "import smtplib, ssl, sys",
    "s = smtplib.SMTP('out1.relais.tld', 587, timeout=20)",
    "s.starttls(context=ssl.create_default_context(cafile=sys.argv[1]))",
    "c = s.sock.getpeercert()",
    "print(c['serialNumber'], dict(x[0] for x in c['issuer'])['commonName'], [v for k, v in c['subjectAltName']])",
    "s.quit()",
  ].join("\n");
  const r = await inHost(lab, "sender", ["/usr/bin/python3", "-c", py, cafile]);
  return { code: r.code, out: (r.stdout + r.stderr).trim() };
}

describe("lab: ACME certificates from pebble, renewed with no manual step", { skip }, () => {
  before(async () => {
    lab = await labUp(STACK, { specFile: SPEC });
    dir = mkdtempSync("/tmp/facteur-acme-");
    // pebble makes a fresh root at every start; its management API hands it out.
    const r = await inHost(lab, "sender", ["/usr/bin/python3", "-c", "import ssl, sys, urllib.request as u; sys.stdout.write(u.urlopen('https://acme.lab.tld:15000/roots/0', context=ssl.create_default_context(cafile=sys.argv[1]), timeout=10).read().decode())", lab.ca!]);
    assert.equal(r.code, 0, r.stderr);
    pebbleRoot = `${dir}/pebble-root.pem`;
    writeFileSync(pebbleRoot, r.stdout);
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (!process.env.LAB_KEEP) await labDown(STACK);
  });

  it("issued every host's certificate at bring-up, over HTTP-01, from the rendered script", () => {
    for (const [h, fqdn] of [["mx1", "mx1.relais.tld"], ["out1", "out1.relais.tld"]] as const) {
      assert.match(issuerOf(certOf(h, fqdn)), /Pebble/i, `${h}: issued by pebble`);
      assert.ok(lab.checks.some((c) => c.startsWith(`${h}: ACME certificate issued for ${fqdn}`)), `${h}: bring-up waited for the issuance`);
    }
  });

  it("a submission client verifying against pebble's root connects to the smarthost by name; without it, it refuses", async () => {
    const ok = await submissionSerial(pebbleRoot);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /Pebble Intermediate/i);
    assert.match(ok.out, /'out1\.relais\.tld'/);
    const refused = await submissionSerial(lab.ca!);
    assert.notEqual(refused.code, 0, "the lab CA did not issue it: verification fails");
    assert.match(refused.out, /CERTIFICATE_VERIFY_FAILED/);
  });

  it("renews by itself: a later run of the timer's script brings a new certificate, and Postfix serves it", async () => {
    const first = (await submissionSerial(pebbleRoot)).out.split(" ")[0]!;
    let now = first;
    const renewed = await waitFor(
      async () => {
        now = (await submissionSerial(pebbleRoot)).out.split(" ")[0]!;
        return /^[0-9A-F]+$/i.test(now) && now !== first;
      },
      Math.max(LAB_WAIT_MS, labAcmeSeconds() * 6000),
      2000,
    );
    assert.ok(renewed, `still serving ${first}`);
    assert.match(issuerOf(certOf("out1", "out1.relais.tld")), /Pebble/i);
  });
});
