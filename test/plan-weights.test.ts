// Issue #15, parts 3 and 4, below the lab: what the spec refuses about weights, warm-ups and
// monitoring sources; how the plan turns weights into table entries and shares (gcd, bound,
// drained and warming members), reads a warm-up at the day it is given and never without one.
// How `facteur diff` shows the shares, and --at: test/diff-weights.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { MAX_POOL_ENTRIES } from "../src/plan/weights.ts";
import { exampleSmarthosts, exampleText, specRefusal } from "./support/example.ts";

const spec = exampleSmarthosts;
const plan = (text: string, at?: string) => buildPlan(buildModel(parseSpec(text, "s.yaml")), at ? { at } : {});
const shares = (text: string, at?: string) => plan(text, at).routing.weightedPool?.members.map((m) => [m.host, m.weight, m.entries, m.percent]);

test("no weight anywhere: no weighted pool, the relays keep the pool MX alone", () => {
  assert.equal(plan(exampleText()).routing.weightedPool, undefined);
});

test("weights 2:8 are reduced by their gcd to 1:4 entries, 20% and 80%; a member without one counts 1", () => {
  assert.deepEqual(shares(spec(", weight: 2", ", weight: 8")), [["out1", 2, 1, 20], ["out2", 8, 4, 80]]);
  assert.deepEqual(shares(spec("", ", weight: 3")), [["out1", 1, 1, 25], ["out2", 3, 3, 75]]);
  const p = plan(spec(", weight: 2", ", weight: 8")).routing.weightedPool!;
  assert.deepEqual(p.table, ["[out1.relais.tld]:25", "[out2.relais.tld]:25", "[out2.relais.tld]:25", "[out2.relais.tld]:25", "[out2.relais.tld]:25"]);
  assert.equal(p.at, undefined, "no warm-up: no day read");
});

test("co-prime weights past the bound are scaled to at most MAX_POOL_ENTRIES entries, each member keeping one", () => {
  const p = plan(spec(", weight: 1", ", weight: 99", "  out3: { kind: own, location: nbg1, serverType: cx23, weight: 97 }\n")).routing.weightedPool!;
  const total = p.members.reduce((a, m) => a + m.entries, 0);
  assert.ok(total <= MAX_POOL_ENTRIES + p.members.length, `${total} entries`);
  assert.equal(p.table.length, total);
  assert.deepEqual(p.members.map((m) => m.entries), [1, 50, 49]);
});

test("a drained member has no share and is not in the table; the drain reason is in the plan", () => {
  const p = plan(spec(", weight: 1", ", weight: 4, drain: true")).routing.weightedPool!;
  assert.deepEqual(p.members.map((m) => [m.host, m.percent]), [["out1", 100]]);
  assert.deepEqual(p.excluded, [{ host: "out2", reason: "drained: no new mail" }]);
  assert.ok(!p.table.some((e) => e.includes("out2")));
});

test("the members left out are listed by name, whatever kept them out (a warm-up not started, a drain)", () => {
  // out1 is kept out by its warm-up (checked after drains), out2 by its drain: the list is still out1, out2.
  const text = spec(", warmup: [{ from: 2026-03-09, weight: 1 }]", ", weight: 4, drain: true", "  out3: { kind: own, location: nbg1, serverType: cx23, weight: 2 }\n");
  assert.deepEqual(plan(text, "2026-03-01").routing.weightedPool!.excluded.map((x) => x.host), ["out1", "out2"]);
});

test("each member's reason says where its weight comes from; a member of a worse preference is a fallback, left out of the shares", () => {
  const p = plan(spec(", weight: 2", ", preference: 20", "  out3: { kind: own, location: nbg1, serverType: cx23 }\n")).routing.weightedPool!;
  assert.deepEqual(
    p.members.map((m) => [m.host, m.reason]),
    [
      ["out1", "weight 2: 2 of 3 table entries, 66.7% of the relays' clean outbound mail"],
      ["out3", "no weight given: 1: 1 of 3 table entries, 33.3% of the relays' clean outbound mail"],
    ],
  );
  assert.deepEqual(p.excluded, [{ host: "out2", reason: "preference 20: a fallback behind the members of preference 10 (pool MX)" }]);
  assert.ok(!p.table.some((e) => e.includes("out2")));
  const warm = spec(", weight: 4", ", warmup: [{ from: 2026-03-02, weight: 1 }, { from: 2026-03-09, weight: 2 }]");
  assert.deepEqual(
    plan(warm, "2026-03-03").routing.weightedPool!.members.map((m) => m.reason.split(":")[0]),
    ["weight 4", "warm-up step 1 of 2 (from 2026-03-02, until 2026-03-09)"],
  );
  assert.match(plan(warm, "2026-03-20").routing.weightedPool!.members[1]!.reason, /^warm-up step 2 of 2 \(from 2026-03-09, the last\): weight 2: 1 of 3 table entries/);
});

test("a warm-up is read at the plan's day: no share before its first step, then each step in turn; never without a day", () => {
  const text = spec(", weight: 4", ", warmup: [{ from: 2026-03-02, weight: 1 }, { from: 2026-03-09, weight: 2 }, { from: 2026-03-16, weight: 4 }]");
  assert.deepEqual(shares(text, "2026-03-01"), [["out1", 4, 1, 100]]);
  assert.match(plan(text, "2026-03-01").routing.weightedPool!.excluded[0]!.reason, /warm-up starts on 2026-03-02/);
  assert.deepEqual(shares(text, "2026-03-02"), [["out1", 4, 4, 80], ["out2", 1, 1, 20]]);
  assert.deepEqual(shares(text, "2026-03-15"), [["out1", 4, 2, 66.7], ["out2", 2, 1, 33.3]]);
  assert.deepEqual(shares(text, "2027-01-01"), [["out1", 4, 1, 50], ["out2", 4, 1, 50]]);
  assert.equal(plan(text, "2026-03-10").routing.weightedPool!.at, "2026-03-10");
  assert.throws(() => plan(text), /warm-up schedule; the plan needs the day/);
});

test("the spec refuses weights that would be ignored or mean nothing, and bad days", () => {
  assert.match(specRefusal(spec(", weight: 0", "")), /smarthosts\.out1\.weight.*at least 1/s);
  assert.match(specRefusal(spec(", weight: 101", "")), /at most 100/);
  assert.match(specRefusal(spec(", weight: 2, warmup: [{ from: 2026-03-02, weight: 1 }]", "")), /weight or warmup, not both/);
  assert.match(specRefusal(spec("", ", warmup: [{ from: 2026-03-09, weight: 1 }, { from: 2026-03-02, weight: 2 }]")), /2026-03-02 is not after the previous step's 2026-03-09/);
  assert.match(specRefusal(spec("", ", warmup: [{ from: 2026-02-30, weight: 1 }]")), /calendar day YYYY-MM-DD/);
  assert.match(specRefusal(spec("", ", warmup: []")), /at least one step/);
  assert.match(specRefusal(spec("", ", weight: 2, preference: 20")), /out2 has preference 20, but weights share mail among the members of the best preference \(10\)/);
  assert.match(specRefusal(exampleText().replace("lane: spam }", "lane: spam, weight: 2 }")), /spam1 is in the spam lane/);
  assert.match(specRefusal(exampleText().replace("  sshSources: [203.0.113.250/32]\n", "  sshSources: [203.0.113.250/32]\n  monitoringSources: [0.0.0.0/0]\n")), /whole Internet: list the networks that may reach the metrics/);
  assert.match(specRefusal(exampleText().replace("  sshSources: [203.0.113.250/32]\n", "  sshSources: [203.0.113.250/32]\n  monitoringSources: [192.0.2.1/24]\n")), /host bits set/);
});

test("metrics: one rule per role from monitoringSources, none without; the exporter only with them", () => {
  const none = plan(exampleText());
  assert.equal(none.metrics, undefined);
  assert.ok(!none.firewalls.some((f) => f.rules.some((r) => r.id.endsWith(":metrics"))));
  const p = plan(exampleText().replace("  sshSources: [203.0.113.250/32]\n", "  sshSources: [203.0.113.250/32]\n  monitoringSources: [192.0.2.0/28]\n"));
  assert.deepEqual(
    p.firewalls.map((f) => f.rules.filter((r) => r.id.endsWith(":metrics")).map((r) => [r.id, r.port, r.sources])),
    [[["fw:relay:metrics", 9154, ["192.0.2.0/28"]]], [["fw:smarthost:metrics", 9154, ["192.0.2.0/28"]]]],
  );
});
