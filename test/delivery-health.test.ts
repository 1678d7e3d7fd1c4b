// `facteur check --delivery` below the lab (issue #15, part 2): provider push-back recognised by
// its codes, thresholds from the spec, deferred recipients by destination and reason. The lab
// proof with a real outside MX pushing back is in test/lab-outbound.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildModel } from "../src/model/model.ts";
import { parseSpec } from "../src/spec/load.ts";
import { classifyPushback } from "../src/check/delivery/pushback.ts";
import { deliveryHealth, parseQueueJson, type QueuedMessage } from "../src/check/delivery/health.ts";
import { exampleText, exampleWith } from "./support/example.ts";

test("provider push-back replies are recognised by their codes, each with its action naming smarthost and destination", () => {
  const cases: [string, string, RegExp][] = [
    ["host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.28 [203.0.113.21] Our system has detected an unusual rate of unsolicited mail", "gmail-4.7.28", /slow the pacing for gmail\.com .*drain out1/],
    ["host gmail-smtp-in.l.google.com[142.250.1.26] said: 550-5.7.1 [203.0.113.21] Our system has detected that this message is likely unsolicited mail", "gmail-5.7.1-spam", /^drain out1 .*ask Gmail for delisting/],
    ["host outlook-com.olc.protection.outlook.com[52.101.1.1] said: 550 5.7.1 Unfortunately, messages from [203.0.113.21] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).", "microsoft-S3150", /drain out1 .*sender\.office\.com/],
    ["said: 550 5.7.1 Unfortunately, messages from [203.0.113.21] weren't sent. (S3140)", "microsoft-S3140", /drain out1/],
    ["host mta7.am0.yahoodns.net[67.195.204.1] said: 421 4.7.0 [TSS04] Messages from 203.0.113.21 temporarily deferred due to unexpected volume or user complaints", "yahoo-TSS04", /slow the pacing/],
    ["said: 554 5.7.9 [TSS09] All messages from 203.0.113.21 will be permanently deferred", "yahoo-TSS09", /drain out1 .*Yahoo/],
  ];
  for (const [reply, id, action] of cases) {
    const p = classifyPushback(reply, "out1", "gmail.com");
    assert.equal(p?.rule.id, id, reply);
    assert.match(p!.action, action);
  }
  assert.equal(classifyPushback("host mx.doe.tld[203.0.113.21] said: 450 4.2.0 mailbox busy", "out1", "doe.tld"), undefined, "an ordinary deferral is not push-back");
  assert.equal(classifyPushback("connect to mx.doe.tld[203.0.113.21]:25: Connection refused", "out1", "doe.tld"), undefined);
});

const NOW = 1_800_000_000_000;
const msg = (id: string, ageSeconds: number, rcpts: [string, string?][], queue = "deferred"): QueuedMessage => ({
  queue_name: queue,
  queue_id: id,
  arrival_time: NOW / 1000 - ageSeconds,
  sender: "alice@expediteur.tld",
  recipients: rcpts.map(([address, delay_reason]) => ({ address, ...(delay_reason ? { delay_reason } : {}) })),
});
const GMAIL = "host gmail-smtp-in.l.google.com[142.250.1.26] said: 421-4.7.28 rate limited (in reply to RCPT TO command)";

test("thresholds come from the spec: push-back WARNING at its warning, CRITICAL at its critical; queue size and oldest age likewise", () => {
  const model = buildModel(parseSpec(exampleWith("  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  deliveryHealth: { queued: { warning: 3, critical: 5 }, oldest: { warning: 30m, critical: 2h }, pushback: { warning: 2, critical: 4 } }"), "x.yaml"));
  const run = (queue: QueuedMessage[], host = "out1", role: "relay" | "smarthost" = "smarthost") => deliveryHealth(model, [{ host, role, queue }], NOW);
  const state = (r: ReturnType<typeof run>, id: string) => r.results.find((x) => x.id === id)?.state;
  const one = run([msg("A1", 60, [["x@gmail.com", GMAIL]])]);
  assert.equal(state(one, "pushback:out1:gmail.com"), "OK", "one push-back is below warning 2 (listed, OK)");
  const two = run([msg("A1", 60, [["x@gmail.com", GMAIL], ["y@gmail.com", GMAIL]])]);
  assert.equal(state(two, "pushback:out1:gmail.com"), "WARNING");
  assert.match(two.results.find((x) => x.id === "pushback:out1:gmail.com")!.what, /Gmail push-back to smarthost out1 for gmail\.com/);
  const four = run([msg("A1", 60, [["x@gmail.com", GMAIL], ["y@gmail.com", GMAIL]]), msg("A2", 60, [["z@gmail.com", GMAIL], ["w@gmail.com", GMAIL]])]);
  assert.equal(state(four, "pushback:out1:gmail.com"), "CRITICAL");
  assert.equal(state(four, "queue:out1"), "OK");
  assert.equal(state(run([1, 2, 3].map((i) => msg(`B${i}`, 10, [["a@doe.tld", "connect to mx.doe.tld: Connection refused"]]))), "queue:out1"), "WARNING");
  assert.equal(state(run([1, 2, 3, 4, 5].map((i) => msg(`B${i}`, 10, [["a@doe.tld", "x"]]))), "queue:out1"), "CRITICAL");
  assert.equal(state(run([msg("C", 31 * 60, [["a@doe.tld", "x"]])]), "queue-age:out1"), "WARNING");
  assert.equal(state(run([msg("C", 3 * 3600, [["a@doe.tld", "x"]])]), "queue-age:out1"), "CRITICAL");
  // Relays hand mail to the pool, not to providers: a relay's deferrals are never push-back.
  assert.equal(state(run([msg("A1", 60, [["x@gmail.com", GMAIL], ["y@gmail.com", GMAIL]])], "mx1", "relay"), "pushback:mx1:gmail.com"), undefined);
  const empty = run([]);
  assert.deepEqual(empty.results.map((r) => [r.id, r.state]), [["queue:out1", "OK"], ["queue-age:out1", "OK"]]);
  // The defaults, when the spec says nothing.
  assert.deepEqual(buildModel(parseSpec(exampleText(), "x.yaml")).policy.deliveryHealth, { queued: { warning: 100, critical: 1000 }, oldestSeconds: { warning: 3600, critical: 21600 }, pushback: { warning: 1, critical: 10 } });
});

test("deferred recipients are grouped by destination and reason; postqueue -j lines are read as they come", () => {
  const q = parseQueueJson(
    [
      JSON.stringify(msg("D1", 100, [["a@doe.tld", "connect to mx.doe.tld[203.0.113.21]:25: Connection refused"], ["b@doe.tld", "connect to mx.doe.tld[203.0.113.21]:25: Connection refused"]])),
      JSON.stringify(msg("D2", 50, [["c@smit.tld", GMAIL]])),
      JSON.stringify(msg("D3", 5, [["d@smit.tld"]], "active")),
    ].join("\n") + "\n",
  );
  const model = buildModel(parseSpec(exampleText(), "x.yaml"));
  const r = deliveryHealth(model, [{ host: "out2", role: "smarthost", queue: q }], NOW);
  assert.deepEqual(r.deferred.map((g) => [g.destination, g.recipients, g.pushback?.id ?? null]), [["doe.tld", 2, null], ["smit.tld", 1, "gmail-4.7.28"]]);
  assert.deepEqual(r.queues, [{ host: "out2", size: 3, deferred: 2, oldestSeconds: 100 }]);
  assert.match(r.results.find((x) => x.id === "queue:out2")!.found!, /3 messages \(2 deferred\); deferred recipients by destination: doe\.tld 2, smit\.tld 1/);
  assert.throws(() => parseSpec(exampleWith("  dnsbl: [bl.lab.tld]", "  dnsbl: [bl.lab.tld]\n  deliveryHealth: { pushback: { warning: 5, critical: 2 } }"), "x.yaml"), /SpecError: x\.yaml:62:55: policy\.deliveryHealth\.pushback\.critical: critical \(2\) must be at least warning \(5\)$/);
});

test("check --delivery flags: the source is lab or ssh, the SSH flags go with ssh only, a stack to read over SSH must exist; each refusal names the flag", async () => {
  const { runDeliveryCheck } = await import("../src/cli/delivery.ts");
  const cases: [string[], RegExp][] = [
    [["--stack", "flags", "--source", "smb"], /--source "smb": lab or ssh/],
    [["--stack", "flags", "--source", "lab", "--ssh-port", "2222"], /are for --source ssh/],
    [["--stack", "flags", "--source", "ssh", "--ssh-port", "99999"], /--ssh-port "99999": a port from 1 to 65535/],
    [["--stack", "flags", "--source", "ssh", "--ssh-option", "ProxyCommand sh"], /--ssh-option "ProxyCommand sh": an ssh_config option as KEY=VALUE/],
    [["--stack", "flags", "--source", "ssh", "--identity", "/nonexistent/key"], /--identity \/nonexistent\/key: no such file/],
    [["--stack", "flags", "--source", "ssh", "--stacks", "/nonexistent"], /no stack "flags": \/nonexistent\/flags\.facteur\.yaml does not exist/],
    [["--stack", "flags", "--source", "ssh", "--since", "forever"], /--since: expected a duration/],
  ];
  for (const [argv, re] of cases) {
    await assert.rejects(runDeliveryCheck(argv), (e: Error) => e.name === "UsageError" && re.test(e.message), argv.join(" "));
  }
});
