// Churn of the transport-security features (issue 14) under the strict Pulumi mocks: turning
// one on, rotating its key, turning it off touches only the resources it concerns (test/support/
// churn.ts computes what `pulumi up` would do, with the providers' own replace triggers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { parseSpec } from "../src/spec/load.ts";
import { isSecretValue, plain, runProgram, type ProgramRun, type RunOptions } from "../src/pulumi/mocks.ts";
import { publicKeyOfPrivate } from "../src/pulumi/sshKeys.ts";
import { churn } from "./support/churn.ts";
import { exampleText, exampleWith } from "./helpers/example.ts";

const pair = generateKeyPairSync("ed25519");
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const OPTIONS: RunOptions = {
  config: { sshKeys: { ops: `${publicKeyOfPrivate(privateKey)} ops@relais.tld` }, zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin", "relais.tld": "zone-relais" } },
  secrets: { sshPrivateKey: privateKey, faiRelayPassword: "fai-pw", johnSubmission: "john-pw" },
};
const run = (text = exampleText()): Promise<ProgramRun> => runProgram(parseSpec(text, "stacks/example.facteur.yaml"), OPTIONS);
const RELAYS = ["mx1", "mx2"];
const applies = (hosts: string[]) => Object.fromEntries(hosts.map((h) => [`apply:${h}`, ["create", "stdin"]]));

const OPERATOR_DKIM = "  dkim:\n    selectors: [f2026a]\n";
const withArc = (arc: string) => exampleWith(OPERATOR_DKIM, `${OPERATOR_DKIM}  arc: ${arc}\n`);
const arc = {
  on: () => run(withArc("{ selectors: [arc2026a] }")),
  published: () => run(withArc("{ selectors: [arc2026a, arc2026b], active: arc2026a }")),
  switched: () => run(withArc("{ selectors: [arc2026a, arc2026b], active: arc2026b }")),
  retired: () => run(withArc("{ selectors: [arc2026b] }")),
};

const example = run();
const scriptOf = (r: ProgramRun, host: string) => {
  const s = r.resources.get(`apply:${host}`)!.inputs.stdin;
  assert.ok(isSecretValue(s), `apply:${host} stdin must be a secret`);
  return plain(s) as string;
};

interface Change {
  name: string;
  before: () => Promise<ProgramRun>;
  after: () => Promise<ProgramRun>;
  created?: string[];
  deleted?: string[];
  updated: Record<string, string[]>;
}

const CHANGES: Change[] = [
  {
    name: "turn ARC on: the operator's ARC key and its record, and the relays' configuration; no smarthost, no other domain",
    before: () => example,
    after: arc.on,
    created: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: applies(RELAYS),
  },
  {
    name: "ARC rotation, step 1: publish the next key beside the one sealing (nothing else moves)",
    before: arc.on,
    after: arc.published,
    created: ["arc-relais.tld-arc2026b", "arc:relais.tld:arc2026b"],
    updated: {},
  },
  {
    name: "ARC rotation, step 2: seal with the next key (the relays only)",
    before: arc.published,
    after: arc.switched,
    updated: applies(RELAYS),
  },
  {
    name: "ARC rotation, step 3: drop the old key",
    before: arc.switched,
    after: arc.retired,
    deleted: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: {},
  },
  {
    name: "turn ARC off: its key, its record and the relays' arc.conf go",
    before: arc.on,
    after: () => example,
    deleted: ["arc-relais.tld-arc2026a", "arc:relais.tld:arc2026a"],
    updated: applies(RELAYS),
  },
];

for (const c of CHANGES) {
  test(`churn: ${c.name}`, async () => {
    const got = churn(await c.before(), await c.after());
    assert.deepEqual(got.created, [...(c.created ?? [])].sort(), "created");
    assert.deepEqual(got.deleted, [...(c.deleted ?? [])].sort(), "deleted");
    assert.deepEqual(got.replaced, {}, "nothing is replaced");
    assert.deepEqual(got.updated, c.updated, "updated, with the inputs that change");
  });
}

test("ARC: the relay's apply script writes the ARC private key for rspamd (owned _rspamd), and its record carries that key's public half", async () => {
  const on = await arc.on();
  const script = scriptOf(on, "mx1");
  const put = /^put '\/var\/lib\/rspamd\/arc\/relais\.tld\.arc2026a\.key' 0600 _rspamd:_rspamd <<'FACTEUR_EOF'\n([\s\S]*?)\nFACTEUR_EOF$/m.exec(script);
  assert.ok(put, "the key is staged for rspamd");
  const pem = Buffer.from(put[1]!.replace(/\n/g, ""), "base64").toString("utf8");
  const key = on.resources.get("arc-relais.tld-arc2026a")!;
  assert.equal(pem, plain(key.state.privateKeyPem));
  assert.match(script, /chmod 0700 "\$R"'\/var\/lib\/rspamd\/arc'; own _rspamd:_rspamd/);
  const record = plain(on.resources.get("arc:relais.tld:arc2026a")!.inputs.content) as string;
  const der = (plain(key.state.publicKeyPem) as string).replace(/-----[A-Z ]+-----|\s/g, "");
  assert.equal(record.replace(/" "|"/g, ""), `v=DKIM1; k=rsa; p=${der}`);
  // The smarthosts never hold it.
  for (const h of ["out1", "out2", "spam1"]) assert.doesNotMatch(scriptOf(on, h), /rspamd\/arc/);
});
