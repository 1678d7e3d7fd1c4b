// What a first `pulumi up` meets in accounts that are not empty (issue 9 section 5), under the
// strict mocks: records in the zones that would clash with the plan (refused before anything
// is declared, or adopted on facteur:adoptRecords), an SSH key Hetzner already holds (reused),
// and the SSH key helpers checked against ssh-keygen itself.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSpec } from "../src/spec/load.ts";
import { plain, runProgram, strictMocks, type RunOptions } from "../src/pulumi/mocks.ts";
import { md5Fingerprint, parsePublicKey, planSshKeys, publicKeyOfPrivate } from "../src/pulumi/sshKeys.ts";
import { zoneConflicts, type ExistingRecord } from "../src/pulumi/zoneConflicts.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { exampleText } from "./support/example.ts";

const pair = generateKeyPairSync("ed25519");
const PRIVATE = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const PUBLIC = `${publicKeyOfPrivate(PRIVATE)} ops@relais.tld`;
const BASE: RunOptions = {
  config: { sshKeys: { ops: PUBLIC }, zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin", "relais.tld": "zone-relais" } },
  secrets: { sshPrivateKey: PRIVATE, faiRelayPassword: "p", johnSubmission: "p" },
};
const spec = () => parseSpec(exampleText(), "stacks/example.facteur.yaml");
const rec = (id: string, name: string, type: string, content: string, extra: Partial<ExistingRecord> = {}): ExistingRecord => ({ id, name, type, content, ...extra });

// What an operator's zone often holds before facteur: a former provider's MX and SPF, a DMARC
// policy, and records that may stay (site verification, a web server).
const OLD_ZONE: ExistingRecord[] = [
  rec("r-mx-old", "entreprise.tld", "MX", "mail.oldhost.tld", { priority: 10 }),
  rec("r-spf-old", "entreprise.tld", "TXT", '"v=spf1 include:_spf.oldhost.tld ~all"'),
  rec("r-dmarc-old", "_dmarc.entreprise.tld", "TXT", '"v=DMARC1; p=none"'),
  rec("r-verify", "entreprise.tld", "TXT", '"google-site-verification=abc"'),
  rec("r-www", "www.entreprise.tld", "A", "192.0.2.80"),
  // A record facteur made earlier (its comment says so): not a conflict.
  rec("r-ours", "monmagasin.tld", "TXT", '"v=spf1 include:_spf.relais.tld -all"', { comment: "facteur spf:monmagasin.tld" }),
];

test("records in the zone that clash with the plan stop the deployment before anything is declared, listing each one", async () => {
  const world = { zoneRecords: { "zone-entreprise": OLD_ZONE.slice(0, 5), "zone-monmagasin": OLD_ZONE.slice(5) } };
  const m = strictMocks(world);
  await assert.rejects(runProgram(spec(), { ...BASE, mocks: m }), (e: Error) => {
    const lines = e.message.split("\n");
    assert.match(lines[0]!, /not created by facteur and clash with the plan/);
    assert.deepEqual(lines.filter((l) => l.startsWith("  ")), [
      "  entreprise.tld: _dmarc.entreprise.tld TXT \"v=DMARC1; p=none\" (Cloudflare id r-dmarc-old) (would become dmarc:entreprise.tld)",
      "  entreprise.tld: entreprise.tld MX 10 mail.oldhost.tld (Cloudflare id r-mx-old) (would become mx:entreprise.tld:mx1)",
      "  entreprise.tld: entreprise.tld TXT \"v=spf1 include:_spf.oldhost.tld ~all\" (Cloudflare id r-spf-old) (would become spf:entreprise.tld)",
    ]);
    assert.match(e.message, /pulumi config set facteur:adoptRecords true/);
    return true;
  });
  assert.equal(m.resources.size, 0, "nothing declared");
});

test("facteur:adoptRecords imports each clashing record into its planned record, which then says what the plan says", async () => {
  const world = { zoneRecords: { "zone-entreprise": OLD_ZONE.slice(0, 5) } };
  const r = await runProgram(spec(), { ...BASE, ...world, config: { ...BASE.config, adoptRecords: true } });
  assert.deepEqual(r.stack.adopted, {
    "dmarc:entreprise.tld": "zone-entreprise/r-dmarc-old",
    "mx:entreprise.tld:mx1": "zone-entreprise/r-mx-old",
    "spf:entreprise.tld": "zone-entreprise/r-spf-old",
  });
  for (const [id, imp] of Object.entries(r.stack.adopted)) assert.equal(r.resources.get(id)!.options.import, imp);
  const others = [...r.resources.values()].filter((x) => x.options.import && !(x.name in r.stack.adopted));
  assert.deepEqual(others, [], "nothing else is imported");
  assert.equal((plain(r.resources.get("spf:entreprise.tld")!.inputs) as any).content, '"v=spf1 include:_spf.relais.tld -all"');
  assert.equal((plain(r.resources.get("mx:entreprise.tld:mx1")!.inputs) as any).content, "mx1.relais.tld");
});

test("even with facteur:adoptRecords, a clashing record with no planned counterpart (a CNAME, a second SPF) stops the deployment", async () => {
  const zone = [...OLD_ZONE.slice(0, 3), rec("r-spf-2", "entreprise.tld", "TXT", "v=spf1 -all"), rec("r-cname", "_dmarc.monmagasin.tld", "CNAME", "dmarc.elsewhere.tld")];
  const world = { zoneRecords: { "zone-entreprise": zone.slice(0, 4), "zone-monmagasin": zone.slice(4) } };
  await assert.rejects(runProgram(spec(), { ...BASE, ...world, config: { ...BASE.config, adoptRecords: true } }), (e: Error) => {
    assert.match(e.message, /facteur never deletes what it did not create/);
    const listed = e.message.split("\n").filter((l) => l.startsWith("  "));
    assert.equal(listed.length, 2, e.message);
    assert.ok(listed.some((l) => /Cloudflare id r-cname/.test(l)) && listed.some((l) => /Cloudflare id r-spf-(old|2)/.test(l)));
    return true;
  });
});

test("zoneConflicts: by name and kind; other TXT records, other names and facteur's own records are left alone", () => {
  const model = buildModel(spec());
  const dns = buildPlan(model).dns;
  assert.deepEqual(zoneConflicts("monmagasin.tld", dns, OLD_ZONE), [], "our own SPF record is not a conflict");
  const c = zoneConflicts("entreprise.tld", dns, [...OLD_ZONE, rec("r-mx-2", "Entreprise.TLD.", "MX", "backup.oldhost.tld", { priority: 20 }), rec("r-mx-3", "entreprise.tld", "MX", "x.tld", { priority: 30 }), rec("r-mx-4", "entreprise.tld", "MX", "y.tld", { priority: 40 })]);
  // MX records pair in priority order: the old primary becomes mx1, the next mx2, then the backup MX; one too many.
  assert.deepEqual(
    c.map((x) => [x.existing.id, x.planned?.id]).sort(),
    [
      ["r-dmarc-old", "dmarc:entreprise.tld"],
      ["r-mx-2", "mx:entreprise.tld:mx2"],
      ["r-mx-3", "mx:entreprise.tld:backup:mx-backup.fai.tld"],
      ["r-mx-4", undefined],
      ["r-mx-old", "mx:entreprise.tld:mx1"],
      ["r-spf-old", "spf:entreprise.tld"],
    ],
  );
});

test("an SSH key Hetzner already holds (uploaded by hand: same fingerprint) is reused by id, not created again", async () => {
  const fp = md5Fingerprint(parsePublicKey(PUBLIC, "t").blob);
  const world = { hetznerSshKeys: [{ id: 4242, name: "laptop", fingerprint: fp, publicKey: PUBLIC, labels: {} }] };
  const r = await runProgram(spec(), { ...BASE, ...world });
  assert.equal([...r.resources.values()].filter((x) => x.type === "hcloud:index/sshKey:SshKey").length, 0);
  assert.deepEqual((plain(r.resources.get("server:mx1")!.inputs) as any).sshKeys, ["4242"]);
  // One facteur made itself stays managed.
  const ours = { hetznerSshKeys: [{ ...world.hetznerSshKeys[0]!, labels: { "managed-by": "facteur", "facteur-stack": "example" } }] };
  const r2 = await runProgram(spec(), { ...BASE, ...ours });
  assert.equal(r2.resources.get("ssh-key:ops")?.type, "hcloud:index/sshKey:SshKey");
});

test("planSshKeys: a foreign key with facteur's name and another fingerprint is an error naming both; a malformed key names its entry", () => {
  const [k] = planSshKeys({ ops: PUBLIC }, [], "prod");
  assert.throws(
    () => planSshKeys({ ops: PUBLIC }, [{ id: 7, name: k!.hetznerName, fingerprint: "00:11", publicKey: "x" }], "prod"),
    new RegExp(`facteur:sshKeys\\.ops: the Hetzner project already has an SSH key named ${k!.hetznerName} \\(id 7\\) with another fingerprint \\(00:11\\)`),
  );
  assert.throws(() => planSshKeys({ ops: "ssh-ed25519 AAAAnotakey" }, [], "prod"), /facteur:sshKeys\.ops: the key data does not match its type/);
  assert.throws(() => planSshKeys({ ops: "my laptop key" }, [], "prod"), /facteur:sshKeys\.ops: expected an OpenSSH public key/);
});

test("SSH key helpers agree with ssh-keygen: the public half of OpenSSH and PEM private keys, Hetzner's MD5 fingerprint", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-keys-"));
  try {
    for (const type of ["ed25519", "rsa", "ecdsa"]) {
      const f = join(dir, type);
      execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "t", "-f", f]);
      const pub = readFileSync(`${f}.pub`, "utf8").trim();
      assert.equal(publicKeyOfPrivate(readFileSync(f, "utf8")), pub.split(" ").slice(0, 2).join(" "), `${type}, OpenSSH format`);
      assert.equal(`MD5:${md5Fingerprint(parsePublicKey(pub, type).blob)}`, execFileSync("ssh-keygen", ["-l", "-E", "md5", "-f", `${f}.pub`], { encoding: "utf8" }).split(" ")[1]);
      if (type !== "ed25519") {
        execFileSync("ssh-keygen", ["-q", "-p", "-m", "PEM", "-N", "", "-f", f]);
        assert.match(readFileSync(f, "utf8"), /^-----BEGIN (RSA|EC) PRIVATE KEY-----/);
        assert.equal(publicKeyOfPrivate(readFileSync(f, "utf8")), pub.split(" ").slice(0, 2).join(" "), `${type}, PEM`);
      }
    }
    assert.equal(publicKeyOfPrivate("-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----"), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
