// policy.quotaStore (issue #15, part 1) below the lab: what each choice renders, where the store
// may run, the grammar of its password, and the apply step that sets it up, all through the
// daemons' modules (policyd's pgsql backend, Postfix's default action, PostgreSQL's facts). The
// lab proof with real mail is test/lab-outbound.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderStack } from "../src/render/render.ts";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { applyScript } from "../src/pulumi/apply.ts";
import { planStack } from "../src/pulumi/stackPlan.ts";
import { quotaStorePasswordProblem } from "../src/render/daemons/postgresql.ts";
import { daemonFacts } from "../src/render/daemons/index.ts";
import { examplePlan, exampleWith } from "./support/example.ts";

const withStore = (store: string) => exampleWith("  dailyQuota: 300\n", `  dailyQuota: 300\n  quotaStore: ${store}\n`);
const bundles = (text: string) => {
  const p = examplePlan(text);
  return renderStack(p.model, p.plan, { root: "" });
};
const fileOf = (text: string, host: string, path: string) => {
  const f = bundles(text).find((b) => b.host === host)?.files.find((x) => x.path === path);
  assert.ok(f, `${host} has no ${path}`);
  return f;
};

test("without a store each smarthost counts alone (sqlite), as before", () => {
  const conf = parse(fileOf(exampleWith("", ""), "out1", "/etc/policyd-rate-limit.yaml").content);
  assert.equal(conf.backend, 0);
  assert.equal(conf.db_error_action, "dunno");
  for (const b of bundles(exampleWith("", ""))) {
    assert.ok(!daemonFacts(b.daemons, "postgresql"), `${b.host} runs no store`);
    assert.equal(daemonFacts(b.daemons, "policyd-rate-limit")?.store, undefined);
    assert.ok(!b.packages.some((p) => /postgres|psycopg/.test(p)), `${b.host}: ${b.packages.join(" ")}`);
  }
});

test("whenUnreachable: defer (the default) fails closed, accept fails open, in policyd and in Postfix", () => {
  const closed = withStore("{ host: mx1, passwordSecret: quotaStorePassword }");
  const open = withStore("{ host: mx1, passwordSecret: quotaStorePassword, whenUnreachable: accept }");
  for (const h of ["out1", "out2", "spam1"]) {
    const c = parse(fileOf(closed, h, "/etc/policyd-rate-limit.yaml").content.replace("${secret:quotaStorePassword}", "x"));
    assert.equal(c.backend, 2);
    assert.equal(c.pgsql_config.host, "mx1.relais.tld");
    assert.equal(c.pgsql_config.sslmode, "require");
    assert.match(c.db_error_action, /^defer_if_permit 4\.3\.0 .*quota store unreachable/);
    assert.doesNotMatch(fileOf(closed, h, "/etc/postfix/main.cf").content, /smtpd_policy_service_default_action/);
    const o = parse(fileOf(open, h, "/etc/policyd-rate-limit.yaml").content.replace("${secret:quotaStorePassword}", "x"));
    assert.equal(o.db_error_action, "dunno");
    // The files say which, for the reviewer.
    assert.match(fileOf(open, h, "/etc/policyd-rate-limit.yaml").content, /^# When the store cannot be reached \(policy\.quotaStore\.whenUnreachable: accept, fail open\)\.$/m);
    assert.match(fileOf(closed, h, "/etc/policyd-rate-limit.yaml").content, /^# When the store cannot be reached \(policy\.quotaStore\.whenUnreachable: defer, fail closed\)\.$/m);
    assert.match(fileOf(open, h, "/etc/postfix/main.cf").content, /^smtpd_policy_service_default_action = DUNNO$/m);
    assert.equal(fileOf(open, h, "/etc/policyd-rate-limit.yaml").mode, "0600", "it holds the store's password");
  }
  // The plan says which, in the store's reason.
  const reason = (text: string) => examplePlan(text).plan.quotaStore!.reason;
  assert.match(reason(closed), /in PostgreSQL on mx1; when it cannot be counted, submission is deferred \(fail closed\)$/);
  assert.match(reason(open), /in PostgreSQL on mx1; when it cannot be counted, submission is accepted uncounted \(fail open\)$/);
});

test("only the store's host runs PostgreSQL; smarthosts get the driver; the store's firewall rule lets only smarthosts in", () => {
  const text = withStore("{ host: mx2, passwordSecret: quotaStorePassword }");
  const b = new Map(bundles(text).map((x) => [x.host, x]));
  const pg = daemonFacts(b.get("mx2")!.daemons, "postgresql")!;
  assert.ok(pg, "mx2 runs the store");
  assert.ok(b.get("mx2")!.packages.includes("postgresql"));
  assert.equal(pg.config, "/etc/postgresql/15/main/conf.d/facteur-quota.conf");
  assert.deepEqual(pg.readiness.map((r) => r.check), [{ kind: "postgres", address: "127.0.0.1", port: 5432 }]);
  assert.equal(b.get("mx2")!.daemons.at(-1)!.name, "postfix", "Postfix stays last");
  assert.ok(!daemonFacts(b.get("mx1")!.daemons, "postgresql"));
  assert.ok(!b.get("mx1")!.packages.some((p) => /postgres|psycopg/.test(p)));
  for (const h of ["out1", "out2", "spam1"]) {
    assert.ok(b.get(h)!.packages.includes("python3-psycopg2"), h);
    assert.ok(!b.get(h)!.packages.includes("postgresql"), h);
    const rl = daemonFacts(b.get(h)!.daemons, "policyd-rate-limit")!;
    assert.deepEqual([rl.store?.fqdn, rl.store?.port, rl.database], ["mx2.relais.tld", 5432, undefined], "it counts in the store, not in sqlite");
  }
  for (const f of [pg.config, pg.hba, pg.setupSql]) assert.ok(b.get("mx2")!.files.some((x) => x.path === f), f);
  const { plan } = examplePlan(text);
  const rule = plan.firewalls.find((f) => f.role === "relay")!.rules.find((r) => r.id === "fw:relay:quota-store")!;
  assert.equal(rule.port, 5432);
  assert.deepEqual(rule.sources, ["203.0.113.21/32", "2001:db8:113::21/128", "203.0.113.22/32", "2001:db8:113::22/128", "203.0.113.31/32", "2001:db8:113::31/128"]);
  assert.ok(!plan.firewalls.find((f) => f.role === "smarthost")!.rules.some((r) => r.id.endsWith(":quota-store")));
  // A store on a smarthost: the rule lands on the smarthosts' firewall instead.
  const onOut1 = examplePlan(withStore("{ host: out1, passwordSecret: quotaStorePassword }")).plan;
  assert.ok(onOut1.firewalls.find((f) => f.role === "smarthost")!.rules.some((r) => r.id === "fw:smarthost:quota-store"));
  assert.ok(!onOut1.firewalls.find((f) => f.role === "relay")!.rules.some((r) => r.id.endsWith(":quota-store")));
  assert.ok(planStack(parseSpec(text, "x.yaml")).hosts.find((h) => h.host.name === "mx2")!.packages.includes("postgresql"));
});

test("the store runs on one of our hosts: an external relay or an unknown name is refused, with where", () => {
  for (const host of ["fai", "mx9"]) {
    assert.throws(
      () => parseSpec(withStore(`{ host: ${host}, passwordSecret: quotaStorePassword }`), "stacks/example.facteur.yaml"),
      (e: unknown) => e instanceof SpecError && /policy\.quotaStore\.host: .*not one of our hosts; the quota store runs on a relay or an own smarthost: mx1, mx2, out1, out2, spam1/.test(e.message),
    );
  }
  assert.throws(() => parseSpec(withStore("{ host: mx1, passwordSecret: quotaStorePassword, whenUnreachable: maybe }"), "x.yaml"), /whenUnreachable/);
  assert.throws(() => parseSpec(withStore("{ host: mx1 }"), "x.yaml"), /passwordSecret/);
});

test("the store's password has a grammar that needs no quoting in YAML or SQL; the apply step refuses another", () => {
  assert.equal(quotaStorePasswordProblem("0123456789abcdef0123456789abcdef"), undefined);
  for (const bad of ["short", "has'quote-0123456789", 'has"dquote-0123456789', "has space 0123456789", "x".repeat(129)]) assert.ok(quotaStorePasswordProblem(bad), bad);
  const b = bundles(withStore("{ host: mx1, passwordSecret: quotaStorePassword }")).find((x) => x.host === "mx1")!;
  assert.throws(() => applyScript(b, { quotaStorePassword: "it's-a-password-0123" }, {}), /facteur apply mx1: secret quotaStorePassword: the quota store password must be/);
  const script = applyScript(b, { quotaStorePassword: "0123456789abcdef0123456789abcdef", faiRelayPassword: "x" }, {});
  // Set up after the reload, from the store's facts: restart when the drop-in changed (listen_addresses), then the role/database/table.
  assert.match(script, /systemctl enable --quiet postgresql && if ! cmp -s "\$BACKUP"'\/etc\/postgresql\/15\/main\/conf\.d\/facteur-quota\.conf' "\$R"'\/etc\/postgresql\/15\/main\/conf\.d\/facteur-quota\.conf'; then systemctl restart postgresql; else systemctl reload-or-restart postgresql; fi/);
  assert.match(script, /runuser -u postgres -- psql -X -q -h "\$R\/run\/postgresql" -p 5432 -v ON_ERROR_STOP=1 -f - <"\$R"'\/etc\/facteur\/quota-store\/setup\.sql' >\/dev\/null/);
  // A smarthost checks the same secret (its policyd logs in with it).
  const out1 = bundles(withStore("{ host: mx1, passwordSecret: quotaStorePassword }")).find((x) => x.host === "out1")!;
  assert.throws(() => applyScript(out1, { quotaStorePassword: "short" }, {}), /facteur apply out1: secret quotaStorePassword: the quota store password must be/);
});
