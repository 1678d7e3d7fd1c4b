// Property-based tests (fast-check) over spec -> render. Generated specs, the example with
// hostile strings and numbers dropped into its fields (and hostile YAML text), either get a
// located error or render configs that hold facteur's invariants; a spec at every upper bound,
// and a sample of the accepted generated ones, pass the real postconf, postmap, opendkim -n and
// the deploy gate. Never a stack trace.
//
// Bounded for CI: FACTEUR_PROPERTY_RUNS (default 150) generated specs per property, and the real
// daemons on FACTEUR_PROPERTY_DAEMON_SPECS (default 1) of the accepted ones. A larger run:
//   FACTEUR_PROPERTY_RUNS=5000 FACTEUR_PROPERTY_DAEMON_SPECS=5 node --import tsx --test test/spec-property.test.ts
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { parse, stringify } from "yaml";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { txtStrings } from "../src/plan/dns.ts";
import { renderStack } from "../src/render/render.ts";
import { secretRefsIn, type HostBundle } from "../src/render/bundle.ts";
import { formatDnsTable, formatHostsTable } from "../src/cli/tables.ts";
import { MAX_TRANSPORT_NAME } from "../src/spec/limits.ts";
import { runPostfixGate } from "../src/gate/run.ts";
import { exampleText } from "./support/example.ts";
import { stageBundle } from "./support/stage.ts";

const RUNS = Number(process.env.FACTEUR_PROPERTY_RUNS ?? 150);
const DAEMON_SPECS = Number(process.env.FACTEUR_PROPERTY_DAEMON_SPECS ?? 1);
const SEED = process.env.FACTEUR_PROPERTY_SEED ? Number(process.env.FACTEUR_PROPERTY_SEED) : undefined;
const FILE = "stacks/prop.facteur.yaml";
const canRunDaemons = process.getuid?.() === 0 && spawnSync("unshare", ["-n", "true"]).status === 0 && spawnSync("postconf", ["-d", "mail_version"]).status === 0;

// ---------------------------------------------------------------- generators

const HOSTILE_TEXT = [
  "", " ", "\t", "a\nb", "a\r\nb", "\u0000", "#x", "__proto__", "constructor", "toString", "hasOwnProperty", "${secret:sshPrivateKey}", "${x}",
  "a b", "a:b", "a,b", "a|b", "a\"b", "a\\b", "é", "jöhn", "John", "xn--p1ai", "xn--zz", "0.0.0.0/0", "::/0", "+all", "?all", "-all", "ptr",
  "include:a.tld include:b.tld", "pool", "spam-pool", "..", "a..b", "-a", "a-", "srs0=x", "fe80::1%eth0", "1", "0612345678", "1e3", "true", "null",
  "a".repeat(63), "a".repeat(64), "a".repeat(65), `${"a".repeat(60)}.tld`, `${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.${"e".repeat(59)}`,
  "relais.tld", "pool.relais.tld", "mx1.relais.tld", "_spf.relais.tld", "sshPrivateKey", "600000h", "5d", "4d", "0s", "1w",
];
const HOSTILE_NUMBERS = [0, -1, 1, 2, 59, 60, 99, 100, 101, 1000, 65535, 65536, 86400, 86401, 2147483647, 2147483648, 4294967296, 1e21, 0.5, 6.125, -0.0, Number.MAX_SAFE_INTEGER];

const atextLocal = fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,12}(\.[a-z0-9_-]{1,8})?$/);
const label = fc.stringMatching(/^[a-z](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
const domain = fc.tuple(label, fc.constantFrom("tld", "example", "xn--p1ai", "co.uk")).map(([l, t]) => `${l}.${t}`);
const address = fc.tuple(atextLocal, domain).map(([l, d]) => `${l}@${d}`);
const hostileText = fc.oneof(fc.constantFrom(...HOSTILE_TEXT), fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 6 }));
const hostileNumber = fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.integer(), fc.double({ noNaN: false }));
const anything = fc.oneof({ weight: 4, arbitrary: hostileText }, { weight: 3, arbitrary: hostileNumber }, { weight: 1, arbitrary: fc.constantFrom(null, true, [], {}, ["x"]) });
const duration = fc.oneof(fc.constantFrom("1s", "30s", "2m", "1h", "431999s", "4d", "0"), fc.nat({ max: 500 }).map((n) => `${n}s`));

type Spec = Record<string, unknown>;
/** A change to the example: the value at a path (data, so a counterexample prints as what it is). */
type Mutation = [path: string[], value: unknown];
const set = (path: readonly string[], value: unknown): Mutation => [[...path], value];
function apply(s: Spec, [path, value]: Mutation): void {
  let o = s as Record<string, unknown>;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null || Array.isArray(o[k])) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

/** One change to the example: a plausible value (so many specs are accepted) or a hostile one, in one of its fields. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.oneof(atextLocal, hostileText), fc.oneof(address, hostileText, fc.array(address, { minLength: 1, maxLength: 3 }))).map(([k, v]) => set(["domains", "entreprise.tld", "aliases", k], v)),
  fc.tuple(fc.oneof(domain, hostileText), fc.dictionary(atextLocal, address, { maxKeys: 3 })).map(([d, aliases]) => set(["domains", d], { aliases })),
  fc.oneof(fc.array(fc.constantFrom("include:_spf.other.tld", "ip4:192.0.2.0/24", "ip6:2001:db8::/32", "mx", "a", "exists:%{i}._spf.x.tld"), { maxLength: 4 }), fc.array(hostileText, { maxLength: 2 })).map((extra) => set(["domains", "monmagasin.tld", "spf"], { extra })),
  fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }), fc.array(hostileText, { maxLength: 2 })).map((selectors) => set(["domains", "monmagasin.tld", "dkim"], { selectors })),
  fc.oneof(address, hostileText).map((v) => set(["domains", "entreprise.tld", "dmarc", "rua"], v)),
  fc.oneof(fc.nat({ max: 100 }), hostileNumber).map((v) => set(["domains", "entreprise.tld", "dmarc", "pct"], v)),
  fc.oneof(address, hostileText).map((v) => set(["operator", "roleMailbox"], v)),
  fc.oneof(domain, hostileText).map((v) => set(["operator", "domain"], v)),
  fc.oneof(fc.constantFrom(["203.0.113.0/24"], ["2001:db8::/32", "198.51.100.7/32"]), fc.array(hostileText, { maxLength: 2 })).map((v) => set(["operator", "sshSources"], v)),
  fc.tuple(fc.constantFrom("location", "serverType"), fc.oneof(fc.constantFrom("fsn1", "ash", "cx22", "cpx31"), hostileText)).map(([k, v]) => set(["relays", "mx1", k], v)),
  fc.oneof(fc.nat({ max: 65535 }), hostileNumber).map((v) => set(["relays", "mx2", "mxPriority"], v)),
  fc.tuple(fc.oneof(label, hostileText), fc.oneof(fc.nat({ max: 65535 }), hostileNumber)).map(([n, p]) => set(["smarthosts", n], { kind: "own", location: "nbg1", serverType: "cx22", preference: p })),
  fc.tuple(fc.constantFrom("username", "passwordSecret"), fc.oneof(fc.stringMatching(/^[a-z0-9@.+_-]{1,20}$/), hostileText)).map(([k, v]) => set(["smarthosts", "fai", "auth", k], v)),
  fc.tuple(fc.constantFrom("host", "spfInclude"), fc.oneof(domain, hostileText)).map(([k, v]) => set(["smarthosts", "fai", k], v)),
  fc.oneof(fc.integer({ min: 1, max: 65535 }), hostileNumber).map((v) => set(["smarthosts", "fai", "port"], v)),
  fc.tuple(fc.oneof(address, hostileText), fc.oneof(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,10}$/), hostileText), fc.oneof(fc.integer({ min: 1, max: 2147483647 }), hostileNumber)).map(([login, secret, quota]) => set(["submission", "users", login], { passwordSecret: secret, dailyQuota: quota })),
  fc.tuple(fc.oneof(domain, hostileText), fc.oneof(duration, hostileText), fc.oneof(fc.integer({ min: 1, max: 100 }), hostileNumber)).map(([d, rateDelay, concurrency]) => set(["policy", "pacing", "domains", d], { rateDelay, concurrency })),
  fc.tuple(fc.constantFrom("softErrorLimit", "hardErrorLimit", "connectionCountLimit", "connectionRateLimit", "dnsblThreshold"), fc.oneof(fc.integer({ min: 0, max: 2147483647 }), hostileNumber)).map(([k, v]) => set(["policy", "inbound", k], v)),
  fc.tuple(fc.constantFrom("tagScore", "rejectScore"), fc.oneof(fc.integer({ min: 0, max: 1000 }), hostileNumber)).map(([k, v]) => set(["policy", "spam", k], v)),
  fc.tuple(fc.constantFrom("dailyQuota", "ttl"), fc.oneof(fc.integer({ min: 1, max: 2147483647 }), hostileNumber)).map(([k, v]) => set(["policy", k], v)),
  fc.oneof(fc.array(domain, { maxLength: 3 }), fc.array(hostileText, { maxLength: 2 })).map((v) => set(["policy", "dnsbl"], v)),
  fc.tuple(fc.constantFrom(["version"], ["relays", "mx1"], ["smarthosts", "out1", "kind"], ["domains", "entreprise.tld", "aliases", "john-doe"], ["policy", "pacing", "default"]), anything).map(([p, v]) => set(p, v)),
);

const EXAMPLE = parse(exampleText()) as Spec;
const specFrom = (muts: Mutation[]): Spec => {
  const s = structuredClone(EXAMPLE);
  for (const m of muts) apply(s, m);
  return s;
};

/** Raw YAML text hostility the structured generator cannot produce: anchors, tags, unquoted numbers, nesting. */
const HOSTILE_YAML = [
  "*nope", "&a [*a]", "!!binary aGk=", "!custom x", "0612345678", "1e3", "0x1F", ".inf", ".nan", "010", "[[[[[[[[[[]]]]]]]]]]", "{a: 1, a: 2}",
  "&b [x, x]", "'${secret:johnSubmission}'", '"a\\nb"', "|\n  multi\n  line", "? [k]\n  : v", "~", "-", "{", "]", "\"", "@x", "`x`", "%YAML 1.1",
];
const hostileYamlText = fc
  .tuple(fc.nat(), fc.constantFrom(...HOSTILE_YAML))
  .map(([n, token]) => {
    const lines = exampleText().split("\n");
    const candidates = lines.map((l, i) => [l, i] as const).filter(([l]) => /: \S/.test(l) && !l.trim().startsWith("#"));
    const [line, i] = candidates[n % candidates.length]!;
    lines[i] = line.replace(/: .*$/, `: ${token}`);
    return lines.join("\n");
  });

// ---------------------------------------------------------------- the properties

type Outcome = { accepted: false; message: string } | { accepted: true; bundles: HostBundle[]; text: string; changes: number };

/** Parse, and when accepted, render; anything but a SpecError or success is a crash and fails the property. */
function outcome(text: string, changes = 0): Outcome {
  let spec;
  try {
    spec = parseSpec(text, FILE);
  } catch (e) {
    if (!(e instanceof SpecError)) throw new Error(`crash (not a SpecError) on:\n${text}\n${(e as Error).stack}`);
    return { accepted: false, message: e.message };
  }
  const model = buildModel(spec);
  const plan = buildPlan(model);
  const bundles = renderStack(model, plan);
  // Invariants of every accepted spec.
  const ids = plan.dns.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, "record ids are unique (one Pulumi URN each)");
  for (const r of plan.dns) {
    assert.ok(r.name.length <= 253, `${r.id}: name ${r.name.length} characters`);
    if (r.type === "TXT") for (const s of txtStrings(r.content)) assert.ok(Buffer.byteLength(s) <= 255, `${r.id}: a TXT string over 255 bytes`);
    assert.doesNotMatch(`${r.name} ${r.content}`, /[\u0000-\u001f\u007f]/, `${r.id}: control character`);
  }
  const transports = model.policy.pacing.domains.map((p) => p.transport);
  assert.equal(new Set(transports).size, transports.length, "one transport per paced domain");
  for (const t of transports) assert.ok(t.length <= MAX_TRANSPORT_NAME && /^pace-[a-z0-9-]+$/.test(t), t);
  for (const b of bundles)
    for (const f of b.files) {
      assert.doesNotMatch(f.content, /[\u0000-\u0008\u000b-\u001f\u007f]/, `${b.host}:${f.path}: control character`);
      assert.deepEqual(secretRefsIn(f.content), f.secretRefs ?? [], `${b.host}:${f.path}: only the references passwordSecret fields made`);
      assert.doesNotMatch(f.content, /^[^\S\n]*[^#\s].*\$\{(?!secret:)/m, `${b.host}:${f.path}: a stray \${`);
    }
  const relay = bundles.find((b) => b.role === "relay")!;
  const virtual = relay.files.find((f) => f.path.endsWith("/virtual"))!.content;
  for (const d of model.domains)
    if (relay.fqdn && (d.operator || plan.hosts.find((h) => h.name === relay.host)!.mxFor.includes(d.name)))
      for (const a of d.aliases) assert.match(virtual, new RegExp(`^${a.address.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} `, "m"), `${a.address} is a key of the virtual map, not a comment`);
  assert.equal(formatHostsTable(plan).split("\n").length, plan.hosts.length + 2, "no forged rows in hosts.txt");
  assert.equal(formatDnsTable(plan).split("\n").length, plan.dns.length + 2, "no forged rows in dns.txt");
  return { accepted: true, bundles, text, changes };
}

function located(message: string): void {
  for (const line of message.split("\n")) {
    assert.match(line, /^stacks\/prop\.facteur\.yaml:\d+:\d+: \S.*$/, `every problem is located: ${JSON.stringify(line)}`);
    assert.doesNotMatch(line, /Invalid (input|key|element)|Too (big|small):/, `zod's generic wording reached the reader: ${line}`);
  }
}

const accepted: Extract<Outcome, { accepted: true }>[] = [];
const params = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true, includeErrorInReport: true };

test(`generated specs (${RUNS}): a located error, or configs that hold every invariant; never a crash`, { timeout: 300_000 }, () => {
  let refused = 0;
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
      const text = stringify(specFrom(muts));
      const o = outcome(text, muts.length);
      if (o.accepted) accepted.push(o);
      else (refused++, located(o.message));
    }),
    params,
  );
  // Both outcomes are exercised, or the property says little.
  assert.ok(accepted.length > RUNS / 20 && refused > RUNS / 20, `accepted ${accepted.length}, refused ${refused}`);
});

test(`hostile YAML text (${RUNS}): a located error, or an accepted spec; never a crash`, { timeout: 300_000 }, () => {
  fc.assert(
    fc.property(hostileYamlText, (text) => {
      const o = outcome(text);
      if (!o.accepted) located(o.message);
    }),
    params,
  );
});

// ---------------------------------------------------------------- the real daemons

const INT_MAX = 2147483647;
const longLabel = (c: string) => c.repeat(63);
/** Every number at its upper bound, names at their longest, the widest local parts: what the daemons must still accept. */
function boundarySpec(): string {
  const s = structuredClone(EXAMPLE);
  // 235 characters: the longest name facteur derives from it, f2026a._domainkey.<domain>, is then 253.
  (s.operator as Spec).domain = `${longLabel("o")}.${longLabel("p")}.${longLabel("q")}.${"r".repeat(43)}`;
  const weird = "o'b!#$%&*+/=?^_`{|}~-".padEnd(64, "x");
  ((s.domains as Spec)["entreprise.tld"] as Spec).aliases = { ...(((s.domains as Spec)["entreprise.tld"] as Spec).aliases as Spec), [weird]: `${weird}@${longLabel("t")}.tld` };
  const pacing = ((s.policy as Spec).pacing as Spec).domains as Spec;
  pacing[`${longLabel("a")}.${longLabel("b")}.${longLabel("c")}.tld`] = { rateDelay: "431999s", concurrency: 100 };
  (s.policy as Spec).inbound = { softErrorLimit: INT_MAX, hardErrorLimit: INT_MAX, connectionCountLimit: INT_MAX, connectionRateLimit: INT_MAX, dnsblThreshold: 1 };
  (s.policy as Spec).dailyQuota = INT_MAX;
  (s.policy as Spec).ttl = 86400;
  (s.policy as Spec).spam = { tagScore: 999.99, rejectScore: 1000 };
  ((s.smarthosts as Spec).fai as Spec).auth = { username: "!".repeat(200) + "x@fai.tld", passwordSecret: "faiRelayPassword" };
  ((s.smarthosts as Spec).fai as Spec).port = 65535;
  (s.submission as Spec).users = { [`${weird}@entreprise.tld`]: { passwordSecret: "johnSubmission", dailyQuota: INT_MAX } };
  return stringify(s);
}

function runTool(argv: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

const base = mkdtempSync(join(tmpdir(), "facteur-property-"));
chmodSync(base, 0o755);
after(() => rmSync(base, { recursive: true, force: true }));

/** Stages a relay and a smarthost of the spec and runs postconf, postmap (staging), opendkim -n and the gate on them. */
async function daemonsAccept(text: string, name: string): Promise<void> {
  const model = buildModel(parseSpec(text, FILE));
  const plan = buildPlan(model);
  const root = join(base, name);
  const bundles = renderStack(model, plan, { root });
  const relay = bundles.find((b) => b.role === "relay")!;
  const smarthost = bundles.find((b) => b.role === "smarthost")!;
  await Promise.all(
    [relay, smarthost].map(async (b) => {
      // Each host under its own root: render again for that root so the paths inside are its own.
      const own = renderStack(model, plan, { root: join(root, b.host) }).find((x) => x.host === b.host)!;
      stageBundle(own); // runs postmap on every table, which throws on a refusal
      const conf = join(root, b.host, "etc/postfix");
      for (const args of [["-n"], ["-M"]]) {
        const r = await runTool(["postconf", "-c", conf, ...args]);
        assert.equal(r.code, 0, `${name} ${b.host}: postconf ${args}: ${r.stderr}`);
        assert.equal(r.stderr, "", `${name} ${b.host}: postconf ${args} warned: ${r.stderr}`);
      }
      if (b.role === "smarthost") {
        const r = await runTool(["opendkim", "-n", "-x", join(root, b.host, "etc/opendkim.conf")]);
        assert.equal(r.code, 0, `${name} ${b.host}: opendkim -n: ${r.stderr}`);
      }
      const verdict = await runPostfixGate(conf, own.probeRecipients, { tmpDir: base });
      assert.deepEqual(verdict.reasons, [], `${name} ${b.host}: the gate refused it`);
      assert.equal(verdict.ok, true, `${name} ${b.host}: the gate refused it`);
    }),
  );
}

test(`a spec at every upper bound, and ${DAEMON_SPECS} accepted generated spec(s), pass postconf, postmap, opendkim -n and the deploy gate`, { skip: !canRunDaemons && "needs root, unshare and Postfix", timeout: 600_000 }, async () => {
  const text = boundarySpec();
  const o = outcome(text);
  assert.ok(o.accepted, o.accepted ? "" : o.message);
  assert.ok(accepted.length > 0, "the generated specs include accepted ones");
  // The most changed ones first: they stray furthest from the example.
  const chosen = [...accepted].sort((a, b) => b.changes - a.changes).slice(0, DAEMON_SPECS);
  await Promise.all([daemonsAccept(text, "boundary"), ...chosen.map((g, i) => daemonsAccept(g.text, `generated-${i}`))]);
});
