// Churn of issue #15's options (the pattern of test/pulumi-program.test.ts): what `pulumi up`
// would do when an operator turns them on or changes them. Never a server or a primary IP
// replaced; each change touches only the resources it is about.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { parseSpec } from "../src/spec/load.ts";
import { plain, type ProgramRun, type RunOptions } from "../src/pulumi/mocks.ts";
import { publicKeyOfPrivate } from "../src/pulumi/sshKeys.ts";
import { churn } from "./support/churn.ts";
import { sharedRun } from "./support/programRuns.ts";
import { planStack } from "../src/pulumi/stackPlan.ts";
import { exampleText } from "./support/example.ts";

const pair = generateKeyPairSync("ed25519");
const privateKey = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
const OPTIONS: RunOptions = {
  config: { sshKeys: { ops: `${publicKeyOfPrivate(privateKey)} ops@relais.tld` }, zoneIds: { "entreprise.tld": "zone-entreprise", "monmagasin.tld": "zone-monmagasin" } },
  secrets: { sshPrivateKey: privateKey, faiRelayPassword: "fai-Relay-pw-7Qx", johnSubmission: "john-Submission-pw-9Kz", quotaStorePassword: "0123456789abcdef0123456789abcdef" },
  cloudflareZones: { "relais.tld": "zone-relais" },
};
/** One run per distinct input (test/support/programRuns.ts): several changes start from the same run. */
const run = (text: string) => sharedRun(text, OPTIONS);
/** Warm-up schedules read at a fixed day (facteur:at), as an operator's `pulumi config set facteur:at` does. */
const runAt = (at: string, text: string) => sharedRun(text, { ...OPTIONS, config: { ...OPTIONS.config, at } });

/** The example with edits applied in order, each piece required to be there. */
function edited(...edits: [string, string][]): string {
  let t = exampleText();
  for (const [from, to] of edits) {
    if (!t.includes(from)) throw new Error(`fixture: "${from}" is not in the example stack`);
    t = t.replace(from, to);
  }
  return t;
}

const assets = (r: ProgramRun) => [...r.resources.values()].filter((x) => x.type === "hcloud:index/server:Server" || x.type === "hcloud:index/primaryIp:PrimaryIp").map((x) => x.name);
const applies = (hosts: string[]) => Object.fromEntries(hosts.map((h) => [`apply:${h}`, ["create", "stdin"]]));

let example: Promise<ProgramRun> | undefined;
const base = () => (example ??= run(exampleText()));

interface Change {
  name: string;
  before?: () => Promise<ProgramRun>;
  after: () => Promise<ProgramRun>;
  updated: Record<string, string[]>;
}

const STORE: [string, string] = ["  dailyQuota: 300\n", "  dailyQuota: 300\n  quotaStore: { host: mx1, passwordSecret: quotaStorePassword }\n"];
const OUT1 = "  out1: { kind: own, location: fsn1, serverType: cx23 }\n";
const OUT2 = "  out2: { kind: own, location: hel1, serverType: cx23 }\n";
const WEIGHTS: [string, string][] = [
  [OUT1, "  out1: { kind: own, location: fsn1, serverType: cx23, weight: 1 }\n"],
  [OUT2, "  out2: { kind: own, location: hel1, serverType: cx23, weight: 4 }\n"],
];
const warmup = (...steps: string[]): [string, string] => [OUT2, `  out2: { kind: own, location: hel1, serverType: cx23, warmup: [${steps.join(", ")}] }\n`];
const CHANGES: Change[] = [
  {
    name: "weigh the pool 1:4: the relays' configuration only (their main.cf)",
    after: () => run(edited(...WEIGHTS)),
    updated: applies(["mx1", "mx2"]),
  },
  {
    name: "add a warm-up step that is already active: the relays' configuration only",
    before: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }"))),
    after: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-09, weight: 2 }"))),
    updated: applies(["mx1", "mx2"]),
  },
  {
    name: "add a warm-up step in the future: nothing at all until its day",
    before: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }"))),
    after: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-16, weight: 4 }"))),
    updated: {},
  },
  {
    name: "a later day within the same warm-up step: nothing at all (the day itself is in no rendered file)",
    before: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-16, weight: 4 }"))),
    after: () => runAt("2026-03-15", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-16, weight: 4 }"))),
    updated: {},
  },
  {
    name: "the warm-up's next step comes (a later day): the relays' configuration only",
    before: () => runAt("2026-03-10", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-16, weight: 4 }"))),
    after: () => runAt("2026-03-16", edited(warmup("{ from: 2026-03-02, weight: 1 }", "{ from: 2026-03-16, weight: 4 }"))),
    updated: applies(["mx1", "mx2"]),
  },
  {
    name: "turn on metrics (operator.monitoringSources): one rule per firewall, every host's configuration (the exporter)",
    after: () => run(edited(["  sshSources: [203.0.113.250/32]\n", "  sshSources: [203.0.113.250/32]\n  monitoringSources: [192.0.2.0/28]\n"])),
    updated: { "fw:relay": ["rules"], "fw:smarthost": ["rules"], ...applies(["mx1", "mx2", "out1", "out2", "spam1"]) },
  },
  {
    name: "turn on the shared quota store on mx1: mx1 and the smarthosts' configuration, and the relay firewall's rule",
    after: () => run(edited(STORE)),
    updated: { "fw:relay": ["rules"], ...applies(["mx1", "out1", "out2", "spam1"]) },
  },
  {
    name: "switch the store to fail open: the smarthosts' configuration only",
    before: () => run(edited(STORE)),
    after: () => run(edited(["  dailyQuota: 300\n", "  dailyQuota: 300\n  quotaStore: { host: mx1, passwordSecret: quotaStorePassword, whenUnreachable: accept }\n"])),
    updated: applies(["out1", "out2", "spam1"]),
  },
];

for (const c of CHANGES) {
  test(`churn: ${c.name}`, async () => {
    const before = await (c.before ? c.before() : base());
    const after = await c.after();
    const got = churn(before, after);
    assert.deepEqual(Object.keys(got.replaced).filter((n) => assets(before).includes(n)), [], "no server or primary IP is replaced");
    assert.deepEqual(got.created, [], "created");
    assert.deepEqual(got.deleted, [], "deleted");
    assert.deepEqual(got.replaced, {}, "replaced");
    assert.deepEqual(got.updated, c.updated, "updated, with the inputs that change");
  });
}

test("the relays' firewall lets the smarthosts' own addresses reach the store, though they are made after it", async () => {
  const r = await run(edited(STORE));
  const rules = (plain(r.resources.get("fw:relay")!.inputs) as { rules: { port?: string; sourceIps: string[] }[] }).rules;
  const store = rules.find((x) => x.port === "5432");
  assert.ok(store, "a rule for port 5432");
  const smarthostIps = ["out1", "out2", "spam1"].flatMap((h) => [`${r.outputs.addresses[h]!.ipv4}/32`, `${r.outputs.addresses[h]!.ipv6}/128`]);
  assert.deepEqual([...store.sourceIps].sort(), [...smarthostIps].sort());
});

test("facteur:at must be a calendar day; without it, a warm-up is read at today", async () => {
  const text = edited(warmup("{ from: 2026-03-02, weight: 1 }"));
  await assert.rejects(runAt("2026-02-30", text), /facteur:at: expected a calendar day YYYY-MM-DD/);
  // Today is past 2026-03-02: out2 has its share; a day before it, none.
  const mainCf = (at?: string) => planStack(parseSpec(text, "x.yaml"), ...(at ? [at] : [])).hosts.find((h) => h.host.name === "mx1")!.bundle.files.find((f) => f.path === "/etc/postfix/main.cf")!.content;
  assert.match(mainCf(), /^sender_dependent_relayhost_maps = randmap:\{[^}]*out2\.relais\.tld/m);
  assert.match(mainCf("2026-03-01"), /^sender_dependent_relayhost_maps = randmap:\{\[out1\.relais\.tld\]:25\}$/m);
});
