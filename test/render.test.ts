// Rendered configs: snapshots of every file (what a pull request shows), properties that must
// hold whatever the snapshot says, and a pass through the real postconf and opendkim parsers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { renderStack } from "../src/render/render.ts";
import { fillSecrets } from "../src/render/bundle.ts";
import { labRspamdOverlay } from "../src/lab/hosts.ts";
import { EXAMPLE_ADDRESSES, examplePlan, exampleWith } from "./support/example.ts";
import { matchTree } from "./support/snapshot.ts";
import { bundleManifest } from "./support/bundles.ts";

const { model, plan } = examplePlan();
const bundles = renderStack(model, plan, { root: "" });
const file = (host: string, path: string) => {
  const f = bundles.find((b) => b.host === host)?.files.find((f) => f.path === path);
  assert.ok(f, `${host} has no ${path}`);
  return f;
};

test("snapshot of every rendered file of the example stack", () => {
  // The whole tree: a file that stops being rendered leaves a stale golden file, which fails too.
  matchTree(
    fileURLToPath(new URL("./__snapshots__/render", import.meta.url)),
    Object.fromEntries(bundles.flatMap((b) => [...b.files.map((f) => [`${b.host}${f.path}`, f.content]), [`${b.host}.bundle.json`, bundleManifest(b)]])),
  );
  assert.deepEqual(
    bundles.map((b) => [b.host, b.files.length]),
    [
      ["mx1", 12],
      ["mx2", 12],
      ["out1", 13],
      ["out2", 13],
      ["spam1", 13],
    ],
  );
});

test("secrets appear only as references; filling them needs every one", () => {
  const sasl = file("mx1", "/etc/postfix/sasl_passwd");
  assert.equal(sasl.mode, "0600");
  assert.deepEqual(sasl.secretRefs, ["faiRelayPassword"]);
  assert.match(sasl.content, /^\[smtp\.fai\.tld\]:587 relais@fai\.tld:\$\{secret:faiRelayPassword\}$/m);
  assert.deepEqual(sasl.secretRefs, ["faiRelayPassword"]);
  assert.match(fillSecrets(sasl.content, { faiRelayPassword: "s3cr3t" }, "mx1", sasl.secretRefs!), /relais@fai\.tld:s3cr3t$/m);
  assert.throws(() => fillSecrets(sasl.content, {}, "mx1 sasl_passwd", sasl.secretRefs!), /mx1 sasl_passwd: secret faiRelayPassword is not set/);
  for (const b of bundles) for (const f of b.files) if (!f.secretRefs) assert.doesNotMatch(f.content, /\$\{secret:/);
});

test("relays never send directly: relayhost is the pool, fallback the external relay", () => {
  const main = file("mx1", "/etc/postfix/main.cf").content;
  assert.match(main, /^relayhost = pool\.relais\.tld$/m);
  assert.match(main, /^smtp_fallback_relay = \[smtp\.fai\.tld\]:587$/m);
  assert.match(main, /^sender_canonical_maps = tcp:127\.0\.0\.1:10001$/m, "forwarded mail is SRS-rewritten");
});

test("reject, don't bounce: unknown recipients refused at RCPT, no callouts, no open relay", () => {
  for (const host of ["mx1", "out1"]) {
    const main = file(host, "/etc/postfix/main.cf").content;
    assert.match(main, /^smtpd_reject_unlisted_recipient = yes$/m);
    assert.match(main, /^allow_percent_hack = no$/m);
    assert.match(main, /^swap_bangpath = no$/m);
    const settings = main.split("\n").filter((l) => !l.startsWith("#")).join("\n");
    assert.doesNotMatch(settings, /reject_unverified_sender|reject_unverified_recipient|address_verify/, "no sender-verify callouts");
    assert.match(main, /^smtpd_relay_restrictions = permit_mynetworks, .*(reject_unauth_destination|, reject)$/m);
  }
  assert.match(file("out1", "/etc/postfix/main.cf").content, /^smtpd_relay_restrictions = permit_mynetworks, check_client_access cidr:\/etc\/postfix\/relay_clients, reject$/m);
});

test("smarthosts relay for the relays' addresses only, both families, and sign their mail", () => {
  assert.equal(
    file("out1", "/etc/postfix/relay_clients").content.split("\n").filter((l) => l && !l.startsWith("#")).join("\n"),
    "198.51.100.11/32 OK\n2001:db8:100::11/128 OK\n198.51.100.12/32 OK\n2001:db8:100::12/128 OK",
  );
  const trusted = file("out1", "/etc/opendkim/TrustedHosts").content;
  for (const a of ["198.51.100.11", "2001:db8:100::11", "198.51.100.12", "2001:db8:100::12"]) assert.match(trusted, new RegExp(`^${a}$`, "m"));
  assert.equal(
    file("out1", "/etc/opendkim/SigningTable").content,
    "*@entreprise.tld entreprise.tld\n*@monmagasin.tld monmagasin.tld\n* relais.tld\n",
    "our domains sign as themselves, forwarded mail as the operator, catch-all last",
  );
});

test("submission on smarthosts: TLS required, authenticated only, a login sends only as itself", () => {
  const master = file("out1", "/etc/postfix/master.cf").content;
  assert.match(master, /^submission inet .*\n  -o syslog_name=postfix\/submission\n  -o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes/m);
  assert.match(master, /smtpd_sender_restrictions=reject_sender_login_mismatch,permit_sasl_authenticated,reject/);
  assert.doesNotMatch(file("mx1", "/etc/postfix/master.cf").content, /^submission/m, "relays take no submission");
  assert.match(file("out1", "/etc/postfix/main.cf").content, /^smtpd_tls_auth_only = yes$/m);
  const out1 = bundles.find((b) => b.host === "out1")!;
  assert.equal(out1.saslDb, "/etc/sasldb2");
  assert.match(file("out1", "/etc/postfix/sasl/smtpd.conf").content, /^sasldb_path: \/etc\/sasldb2$/m, "the applier fills the sasldb the config names");
  assert.equal(bundles.find((b) => b.host === "mx1")!.saslDb, undefined, "relays take no logins");
  for (const b of bundles) {
    const main = b.files.find((f) => f.path === "/etc/postfix/main.cf")!.content;
    assert.ok(main.includes(`\nsmtpd_tls_cert_file = ${b.tls.cert}\n`), `${b.host}: main.cf names the certificate the applier makes`);
    assert.ok(main.includes(`\nsmtpd_tls_key_file = ${b.tls.key}\n`), `${b.host}: main.cf names the key the applier makes`);
  }
});

test("pacing per destination domain becomes its own paced transport", () => {
  const main = file("out1", "/etc/postfix/main.cf").content;
  assert.match(main, /^default_destination_rate_delay = 1s$/m);
  assert.match(main, /^pace-grosfai-tld_destination_rate_delay = 5s$/m);
  assert.match(main, /^pace-grosfai-tld_destination_concurrency_limit = 1$/m);
  assert.match(file("out1", "/etc/postfix/transport").content, /^grosfai\.tld pace-grosfai-tld:$/m);
  assert.match(file("out1", "/etc/postfix/master.cf").content, /^pace-grosfai-tld unix .* smtp$/m);
});

test("adding a smarthost changes no relay file and no other smarthost's file", () => {
  const more = examplePlan(exampleWith("  fai:\n", "  out3: { kind: own, location: nbg1, serverType: cx23 }\n  fai:\n"), {
    ...EXAMPLE_ADDRESSES,
    out3: { ipv4: "203.0.113.23", ipv6: "2001:db8:113::23" },
  });
  const after = renderStack(more.model, more.plan, { root: "" });
  for (const b of bundles) assert.deepEqual(after.find((a) => a.host === b.host), b, `${b.host} changed`);
  assert.deepEqual(after.map((a) => a.host), ["mx1", "mx2", "out1", "out2", "out3", "spam1"]);
});

test("relays answer port 25 with postscreen: pregreeters and listed clients are refused in the dialogue", () => {
  const master = file("mx1", "/etc/postfix/master.cf").content;
  assert.match(master, /^smtp +inet +n +- +n +- +1 +postscreen$/m);
  assert.match(master, /^smtpd +pass .* smtpd$/m);
  assert.match(master, /^dnsblog +unix .* dnsblog$/m);
  const main = file("mx1", "/etc/postfix/main.cf").content;
  assert.match(main, /^postscreen_dnsbl_sites = bl\.lab\.tld$/m);
  assert.match(main, /^postscreen_dnsbl_action = enforce$/m);
  assert.match(main, /^postscreen_greet_action = enforce$/m);
  assert.match(main, /^smtpd_hard_error_limit = 12$/m);
  assert.match(file("out1", "/etc/postfix/master.cf").content, /^smtp +inet +n +- +n +- +- +smtpd$/m, "smarthosts take only relays and users");
});

test("spam lane: rspamd tags and rejects by the spec's scores; tagged mail is routed to the spam pool", () => {
  assert.equal(
    file("mx1", "/etc/rspamd/local.d/actions.conf").content.split("\n").filter((l) => l && !l.startsWith("#")).join("\n"),
    "reject = 15;\nadd_header = 6;\nrewrite_subject = null;\ngreylist = null;",
  );
  const main = file("mx1", "/etc/postfix/main.cf").content;
  assert.match(main, /^smtpd_milters = inet:127\.0\.0\.1:11332$/m);
  assert.match(main, /^milter_default_action = accept$/m, "a scanner outage never loses inbound mail");
  assert.match(main, /^milter_header_checks = regexp:\/etc\/postfix\/spam_lane$/m, "only scanner-added headers choose the lane");
  assert.match(file("mx1", "/etc/postfix/spam_lane").content, /^\/\^X-Spam: Yes\$\/ FILTER smtp:spam-pool\.relais\.tld$/m);
  const noLane = examplePlan(exampleWith("  # Mail the scanner tags as spam leaves from here, away from the clean pool.\n  spam1: { kind: own, location: fsn1, serverType: cx23, lane: spam }\n", ""));
  const mx1 = renderStack(noLane.model, noLane.plan, { root: "" }).find((b) => b.host === "mx1")!;
  assert.ok(!mx1.files.some((f) => f.path.endsWith("spam_lane")), "without a spam lane, tagged mail stays in the clean pool");
  assert.doesNotMatch(mx1.files.find((f) => f.path === "/etc/postfix/main.cf")!.content, /milter_header_checks/);
});

test("production bundles carry production settings only: no GTUBE test patterns; the lab adds its own overlay beside them (and runs no unused rspamd worker)", () => {
  for (const b of bundles) for (const f of b.files) assert.doesNotMatch(f.content, /enable_test_patterns|gtube/i, `${b.host}:${f.path}`);
  const overlay = labRspamdOverlay("/ROOT/etc/rspamd", "/cache");
  assert.deepEqual(overlay.map((o) => o.path), ["/ROOT/etc/rspamd/override.d/options.inc", "/ROOT/etc/rspamd/override.d/worker-normal.inc", "/ROOT/etc/rspamd/override.d/worker-controller.inc"]);
  assert.match(overlay[0]!.content, /^enable_test_patterns = true;$/m);
  // The proxy scans in-process (self_scan): the lab starts no worker Postfix never talks to.
  assert.match(file("mx1", "/etc/rspamd/local.d/worker-proxy.inc").content, /self_scan = yes;/);
  for (const o of overlay.slice(1)) assert.equal(o.content, "enabled = false;\n");
  const rendered = new Set(bundles.flatMap((b) => b.files.map((f) => f.path.replace(/^/, "/ROOT"))));
  for (const o of overlay) assert.ok(!rendered.has(o.path), `${o.path} is a rendered file`);
});

test("daily quota per login: policyd-rate-limit on submission, state on disk, temporary refusal", async () => {
  const { parse } = await import("yaml");
  const conf = parse(file("out1", "/etc/policyd-rate-limit.yaml").content);
  assert.deepEqual(conf.limits, [[300, 86400]]);
  assert.deepEqual(conf.limits_by_id, { "john@entreprise.tld": [[300, 86400]] });
  assert.equal(conf.backend, 0);
  assert.equal(conf.sqlite_config.database, "/var/lib/policyd-rate-limit/db.sqlite3");
  assert.equal(conf.limit_by_sasl, true);
  assert.match(conf.fail_action, /^defer_if_permit 4\.7\.1 Daily quota/);
  assert.match(file("out1", "/etc/postfix/main.cf").content, /^submission_recipient_restrictions = reject_non_fqdn_recipient, check_policy_service unix:\/var\/spool\/postfix\/ratelimit\/policy, permit$/m);
  assert.equal((file("out1", "/etc/postfix/master.cf").content.match(/-o smtpd_recipient_restrictions=\$submission_recipient_restrictions/g) ?? []).length, 2, "587 and 465");
});
