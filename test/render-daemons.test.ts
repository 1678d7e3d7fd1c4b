// Each daemon's runtime facts (src/render/daemons) are what its rendered files say: the test
// reads the files back (only tests do; the appliers read the facts), so a template and its facts
// cannot drift apart. And Postfix reaches the other daemons through their facts: moving a
// socket in one module moves it in main.cf too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderStack } from "../src/render/render.ts";
import { daemonFacts, daemonsOf, packagesOf } from "../src/render/daemons/index.ts";
import type { HostBundle } from "../src/render/bundle.ts";
import { examplePlan, exampleWith } from "./support/example.ts";

const { model, plan } = examplePlan();
const ROOT = "/lab/hosts/x";
const bundles = renderStack(model, plan, { root: ROOT });
const bundle = (h: string) => bundles.find((b) => b.host === h)!;
const file = (b: HostBundle, path: string) => {
  const f = b.files.find((x) => x.path === path);
  assert.ok(f, `${b.host}: no ${path}`);
  return f.content;
};

/** main.cf parameters (last assignment wins; the templates use no continuation lines). */
function mainCf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([a-z0-9_]+)\s*=\s*(.*)$/gm)) out[m[1]!] = m[2]!.trim();
  return out;
}

/** KEY=VALUE lines (/etc/default) or "Key value" lines (opendkim.conf) or "key: value" (YAML). */
const keyed = (text: string, re: RegExp) => Object.fromEntries([...text.matchAll(re)].map((m) => [m[1]!, m[2]!.replace(/^"|"$/g, "")]));

/** The inet services of a master.cf, with their port and wrapper-mode TLS. */
function inetServices(masterCf: string): { service: string; port: number; tls: boolean }[] {
  const ports: Record<string, number> = { smtp: 25, submission: 587, smtps: 465 };
  const lines = masterCf.split("\n");
  const out: { service: string; port: number; tls: boolean }[] = [];
  lines.forEach((line, i) => {
    const m = /^(\S+)\s+inet\s/.exec(line);
    if (!m) return;
    let tls = false;
    for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) if (/-o\s+smtpd_tls_wrappermode=yes/.test(lines[j]!)) tls = true;
    out.push({ service: m[1]!, port: ports[m[1]!]!, tls });
  });
  return out;
}

test("every host runs Postfix last, relays postsrsd and rspamd, smarthosts OpenDKIM and policyd-rate-limit", () => {
  for (const b of bundles) {
    const names = b.daemons.map((d) => d.name);
    assert.equal(names.at(-1), "postfix", b.host);
    assert.deepEqual(names, b.role === "relay" ? ["postsrsd", "rspamd", "postfix"] : ["opendkim", "policyd-rate-limit", "postfix"], b.host);
    // Packages: every daemon's, each once, and those every host gets.
    for (const d of b.daemons) for (const p of d.packages) assert.ok(b.packages.includes(p), `${b.host}: ${d.name} needs ${p}`);
    assert.equal(new Set(b.packages).size, b.packages.length);
    assert.deepEqual(packagesOf(b.daemons), b.packages);
  }
});

test("Postfix facts are what main.cf and master.cf say", () => {
  for (const b of bundles) {
    const pf = daemonFacts(b.daemons, "postfix")!;
    const main = mainCf(file(b, `${pf.configDir}/main.cf`));
    assert.equal(pf.config, `${ROOT}/etc/postfix/main.cf`);
    assert.equal(main.config_directory, pf.configDir);
    assert.equal(main.queue_directory, pf.queueDirectory);
    assert.equal(main.data_directory, pf.dataDirectory);
    assert.equal(main.maillog_file, pf.maillog);
    assert.deepEqual(pf.logs.map((l) => l.path), [pf.maillog]);
    assert.deepEqual(
      inetServices(file(b, `${pf.configDir}/master.cf`)),
      pf.listeners.map((l) => ({ service: l.service, port: l.port, tls: l.tls })),
      b.host,
    );
    assert.deepEqual(pf.readiness.map((r) => r.check), pf.listeners.map((l) => ({ kind: "smtp", address: l.address, port: l.port, ...(l.tls ? { tls: true } : {}) })));
    assert.deepEqual(pf.configCheck, ["postfix", "-c", pf.configDir, "check"]);
    // Wired to the other daemons through their facts.
    if (b.role === "relay") {
      const srs = daemonFacts(b.daemons, "postsrsd")!;
      assert.equal(main.smtpd_milters, daemonFacts(b.daemons, "rspamd")!.milter);
      assert.equal(main.sender_canonical_maps, `tcp:${srs.forward}`);
      assert.equal(main.recipient_canonical_maps, `tcp:${srs.reverse}`);
    } else {
      assert.equal(main.smtpd_milters, daemonFacts(b.daemons, "opendkim")!.socket);
      assert.match(main.submission_recipient_restrictions!, new RegExp(`check_policy_service ${daemonFacts(b.daemons, "policyd-rate-limit")!.socket}(,|$)`));
    }
  }
});

test("OpenDKIM, policyd-rate-limit, postsrsd and rspamd facts are what their rendered files say", () => {
  const out1 = bundle("out1");
  const dkim = daemonFacts(out1.daemons, "opendkim")!;
  const conf = keyed(file(out1, dkim.config), /^([A-Za-z]+)\s+(\S+)$/gm);
  assert.equal(`unix:${conf.Socket!.replace(/^local:/, "")}`, dkim.socket);
  assert.equal(conf.PidFile, dkim.pidfile);
  assert.equal(conf.UserID, `${dkim.user}:${dkim.group}`);
  assert.ok(dkim.dirs.some((d) => d.path === dkim.pidfile!.slice(0, dkim.pidfile!.lastIndexOf("/")) && d.group === "postfix"), "the socket's directory is reachable by group postfix");
  assert.deepEqual(dkim.readiness, [{ what: `milter on ${dkim.socket}`, check: { kind: "milter", socket: dkim.socket } }]);
  for (const k of out1.dkimKeys) assert.ok(k.path.startsWith(`${ROOT}/etc/opendkim/keys/`));

  const rl = daemonFacts(out1.daemons, "policyd-rate-limit")!;
  const yaml = keyed(file(out1, rl.config), /^[ \t]*([A-Za-z_]+):[ \t]*(.+)$/gm);
  assert.equal(`unix:${yaml.SOCKET}`, rl.socket);
  assert.equal(yaml.pidfile, rl.pidfile);
  assert.equal(yaml.database, rl.database);
  assert.equal(yaml.user, rl.user);
  assert.equal(yaml.group, rl.group);
  for (const p of [rl.pidfile!, rl.database!, rl.socket.replace(/^unix:/, "")]) assert.ok(rl.dirs.some((d) => d.path === p.slice(0, p.lastIndexOf("/"))), `no directory for ${p}`);
  assert.deepEqual(rl.foreground, ["policyd-rate-limit", "--file", rl.config]);

  const mx1 = bundle("mx1");
  const srs = daemonFacts(mx1.daemons, "postsrsd")!;
  const d = keyed(file(mx1, srs.config), /^([A-Z_]+)=(.*)$/gm);
  // The foreground command says what the defaults file says, option for option.
  assert.deepEqual(srs.foreground, [
    "postsrsd", `-s${d.SRS_SECRET}`, `-d${d.SRS_DOMAIN}`, `-a${d.SRS_SEPARATOR}`, `-l${d.SRS_LISTEN_ADDR}`, `-f${d.SRS_FORWARD_PORT}`, `-r${d.SRS_REVERSE_PORT}`,
    `-u${d.RUN_AS}`, `-c${d.CHROOT}`, ...d.SRS_EXCLUDE_DOMAINS!.split(",").map((x) => `-X${x}`),
  ]);
  assert.equal(srs.secretFile, d.SRS_SECRET);
  assert.equal(srs.forward, `${d.SRS_LISTEN_ADDR}:${d.SRS_FORWARD_PORT}`);
  assert.ok(srs.dirs.some((x) => x.path === d.CHROOT));

  const rs = daemonFacts(mx1.daemons, "rspamd")!;
  assert.equal(`inet:${keyed(file(mx1, `${rs.confDir}/local.d/worker-proxy.inc`), /^(bind_socket) = "([^"]+)";$/gm).bind_socket}`, rs.milter);
  assert.deepEqual(rs.logs.map((l) => l.path), [keyed(file(mx1, `${rs.confDir}/local.d/logging.inc`), /^(filename) = "([^"]+)";$/gm).filename]);
  assert.ok(rs.foreground!.includes(`--var=LOCAL_CONFDIR=${rs.confDir}`));
});

test("a host's facts and files come from the same module: moving a socket moves main.cf with it", () => {
  const host = plan.hosts.find((h) => h.role === "smarthost")!;
  const parts = daemonsOf({ model, plan, host, root: "" });
  const pf = parts.find((p) => p.facts.name === "postfix")!;
  assert.equal(pf.context.milter, daemonFacts(parts.map((p) => p.facts), "opendkim")!.socket);
  assert.equal(pf.context.policy, daemonFacts(parts.map((p) => p.facts), "policyd-rate-limit")!.socket);
  // On a host (root ""), every path is the Debian one.
  const facts = parts.map((p) => p.facts);
  assert.equal(daemonFacts(facts, "postfix")!.maillog, "/var/log/postfix.log");
  assert.equal(daemonFacts(facts, "opendkim")!.socket, "unix:/run/opendkim/opendkim.sock");
});

test("the shared quota store: PostgreSQL's facts are its drop-in's, and policyd's store is what its YAML names", () => {
  const text = exampleWith("  dailyQuota: 300\n", "  dailyQuota: 300\n  quotaStore: { host: mx1, passwordSecret: quotaStorePassword }\n");
  const p = examplePlan(text);
  const bs = renderStack(p.model, p.plan, { root: ROOT });
  const mx1 = bs.find((b) => b.host === "mx1")!;
  const pg = daemonFacts(mx1.daemons, "postgresql")!;
  const conf = keyed(file(mx1, pg.config), /^([a-z_]+) = '?([^'\n]*)'?$/gm);
  assert.equal(Number(conf.port), pg.port);
  assert.equal(conf.hba_file, pg.hba);
  assert.deepEqual(pg.readiness.map((r) => r.check), [{ kind: "postgres", address: "127.0.0.1", port: pg.port }]);
  assert.match(file(mx1, pg.hba), new RegExp(`^hostssl ${pg.database} +${pg.role} `, "m"));
  assert.deepEqual(pg.setup?.stdin, pg.setupSql);
  assert.deepEqual(pg.restartOnChange, [pg.config]);
  assert.match(file(mx1, pg.setupSql), new RegExp(`CREATE DATABASE ${pg.database} OWNER ${pg.role}`));
  for (const b of bs.filter((x) => x.role === "smarthost")) {
    const rl = daemonFacts(b.daemons, "policyd-rate-limit")!;
    const y = keyed(file(b, rl.config), /^[ \t]*([A-Za-z_]+):[ \t]*(.+)$/gm);
    assert.deepEqual([y.host, Number(y.port), y.database, y.user], [rl.store!.fqdn, pg.port, pg.database, pg.role]);
    assert.equal(rl.database, undefined, "no sqlite file");
    assert.ok(!rl.dirs.some((d) => d.path.endsWith("/var/lib/policyd-rate-limit")), "no sqlite directory");
    assert.ok(rl.packages.includes("python3-psycopg2"));
  }
});

test("outbound TLS (policy.outboundTls): unbound and the MTA-STS resolver run on every smarthost and on no relay", () => {
  const on = examplePlan(exampleWith("  dnsbl: [bl.lab.tld]\n", "  dnsbl: [bl.lab.tld]\n  outboundTls: { dane: true, mtaSts: true }\n"));
  for (const b of renderStack(on.model, on.plan, { root: "" })) {
    const names = b.daemons.map((d) => d.name);
    const expected = b.role === "smarthost";
    assert.equal(names.includes("unbound"), expected, `${b.host}: unbound`);
    assert.equal(names.includes("mta-sts-resolver"), expected, `${b.host}: mta-sts-resolver`);
  }
  // And neither anywhere without the switches.
  assert.ok(bundles.every((b) => !b.daemons.some((d) => d.name === "unbound" || d.name === "mta-sts-resolver")));
});
