// Issue #15 with real mail in the lab, on one stack. Part 1: one daily quota across the pool. Every
// smarthost's policyd-rate-limit counts in one PostgreSQL on mx1 (policy.quotaStore), so a login
// with quota 5 that sends 3 recipients through out1 and 3 through out2 gets 4.7.1 for the 6th;
// another login is unaffected; the count survives a restart of the store and of a policy daemon;
// with the store stopped, submission is deferred (whenUnreachable: defer, fail closed) and
// nothing is sent uncounted; once it is back, mail flows again. The plan's firewalls are on, so
// the store's rule is what lets the smarthosts in.
// Part 2: delivery health. The outside MX of smit.tld answers `421 4.7.28 ... rate limited` to out1
// only: `facteur check --delivery` goes WARNING, then CRITICAL past policy.deliveryHealth's
// threshold, naming out1, smit.tld and what to do; OK again once smit.tld accepts and out1's queue
// has left.
// Needs root and the Debian packages of scripts/setup-system.sh; skips otherwise.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, replies, waitForMail, hostOf, restartPolicyd, inHost, queueOf, postfixCtl, type SwaksResult } from "./support/lab.ts";
import { FACTEUR } from "./support/facteurCli.ts";
import { runCheckCommand } from "../src/cli/check.ts";
import { run as runCmd, waitFor } from "../src/lab/proc.ts";
import { restartLabQuotaStore, stopLabQuotaStore } from "../src/lab/quotaStore.ts";
import { daemonFacts } from "../src/render/daemons/index.ts";
import { POSTGRES_VERSION } from "../src/render/daemons/postgresql.ts";
import { labStackRoot } from "../src/paths.ts";
import { labStack } from "./support/labStacks.ts";
import { exampleText, rewrite } from "./support/example.ts";
import { startLabSshd } from "./support/labSshd.ts";

const STACK = labStack("outbound");
const skip = labSkipReason() ?? (existsSync(`/usr/lib/postgresql/${POSTGRES_VERSION}/bin/postgres`) && existsSync("/usr/lib/python3/dist-packages/psycopg2") ? undefined : "missing postgresql / python3-psycopg2: run scripts/setup-system.sh");
if (skip) console.log(`# lab outbound skipped: ${skip}`);

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = `${process.pid}-${Date.now() % 100000}`;
const token = (what: string) => `${what}-${run}`;

function quotaSpec(): string {
  let s = exampleText();
  s = rewrite(s, /dailyQuota: 300/, "dailyQuota: 5\n  quotaStore: { host: mx1, passwordSecret: quotaStorePassword }\n  deliveryHealth: { pushback: { warning: 1, critical: 3 } }");
  s = rewrite(s, /(john@entreprise\.tld: \{ passwordSecret: johnSubmission \})/, "$1\n    marie@entreprise.tld: { passwordSecret: marieSubmission, dailyQuota: 100 }");
  // The operator's laptop is the outside sender here (203.0.113.10, src/lab/topology.ts): the
  // plan's firewall lets it reach port 22, for check --delivery over SSH.
  s = rewrite(s, /sshSources: \[203\.0\.113\.250\/32\]/, "sshSources: [203.0.113.250/32, 203.0.113.10/32]");
  return `# Written by test/lab-outbound.test.ts from the example: quota 5 counted across the pool in PostgreSQL on mx1.\n${s}`;
}

let lab: LabState;
const ip = (h: string) => hostOf(lab, h).ipv4[0]!;
/** The store's facts, as render made them for mx1 (the lab's state keeps them). */
const store = () => {
  const d = daemonFacts(hostOf(lab, "mx1").daemons ?? [], "postgresql");
  assert.ok(d, "mx1 runs no quota store");
  return d;
};
const stopStore = () => stopLabQuotaStore(hostOf(lab, "mx1").ns, store());
const restartStore = () => restartLabQuotaStore(hostOf(lab, "mx1").ns, store(), `${hostOf(lab, "mx1").logDir}/postgresql.out`);
/** psql as postgres in mx1, on the store's own socket. */
const psql = (sql: string) => inHost(lab, "mx1", ["runuser", "-u", "postgres", "--", `${store().binDir}/psql`, "-X", "-At", "-h", store().socketDir, "-p", String(store().port), "-d", store().database, "-c", sql]);

function submit(login: string, secret: string, via: string, subject: string): Promise<SwaksResult> {
  return swaks(lab, [
    "--server", ip(via), "--port", "587", "--tls", "--helo", "laptop.entreprise.tld", "--auth", "PLAIN",
    "--auth-user", login, "--auth-password", lab.secrets[secret]!, "--from", login, "--to", "tom@smit.tld", "--header", `Subject: ${subject}`,
  ]);
}
const john = (via: string, subject: string) => submit("john@entreprise.tld", "johnSubmission", via, subject);
const marie = (via: string, subject: string) => submit("marie@entreprise.tld", "marieSubmission", via, subject);
const rcptReply = (r: SwaksResult) => replies(r.transcript).find((l) => /^[45]\d\d/.test(l));

/** The count of a login in the store, asked with psql in mx1 (the store's own view). */
async function counted(login: string): Promise<number> {
  const r = await psql(`SELECT count(*) FROM mail_count WHERE id = '${login}'`);
  assert.equal(r.code, 0, r.stderr);
  return Number(r.stdout.trim());
}

describe("lab: outbound operations (issue #15): one quota across the pool, delivery health", { skip }, () => {
  before(async () => {
    mkdirSync(`${labStackRoot(STACK)}`, { recursive: true });
    writeFileSync(`${labStackRoot(STACK)}/${STACK}.facteur.yaml`, quotaSpec());
    lab = await labUp(STACK, { specFile: `${labStackRoot(STACK)}/${STACK}.facteur.yaml`, firewall: true });
  });
  after(async () => {
    if (!process.env.LAB_KEEP) await labDown(STACK);
  });

  it("the store runs on mx1, answering TLS; the smarthosts count there, allowed by the plan's firewall rule", () => {
    console.log(`# lab outbound: bring-up ${lab.upSeconds.toFixed(1)} s`);
    assert.deepEqual(lab.warnings, []);
    assert.ok(lab.probes.some((p) => p.host === "mx1" && p.check.kind === "postgres"), "the store is among what answered");
    assert.ok(lab.checks.some((c) => /mx1: firewall fw:relay \(.*quota-store/.test(c)), lab.checks.join("\n"));
    const conf = readFileSync(`${hostOf(lab, "out2").root}/etc/policyd-rate-limit.yaml`, "utf8");
    assert.match(conf, /^backend: 2$/m);
    assert.match(conf, /^ {2}host: "mx1\.relais\.tld"$/m);
  });

  it("3 recipients through out1 and 3 through out2: the 6th is refused 4.7.1 at RCPT; another login is unaffected", async () => {
    for (const [i, via] of ["out1", "out2", "out1", "out2", "out1"].entries()) {
      const r = await john(via, token(`pool${i + 1}`));
      assert.equal(r.code, 0, `message ${i + 1} of 5 (via ${via}) should pass:\n${r.transcript}`);
    }
    assert.equal(await counted("john@entreprise.tld"), 5, "both smarthosts counted in the one store");
    const sixth = await john("out2", token("pool6"));
    assert.match(rcptReply(sixth) ?? "", /^450 4\.7\.1 .*Daily quota of this account reached/, sixth.transcript);
    assert.match(sixth.transcript, /~> RCPT TO:<tom@smit\.tld>\s*\n<~\* +450 4\.7\.1/, "refused at RCPT");
    const other = await john("out1", token("pool7"));
    assert.match(rcptReply(other) ?? "", /^450 4\.7\.1 .*Daily quota/, `out1 refuses too:\n${other.transcript}`);
    const m = await marie("out2", token("marie1"));
    assert.equal(m.code, 0, `another login must be unaffected:\n${m.transcript}`);
    assert.equal((await waitForMail(lab, "tom@smit.tld", token("marie1"))).length, 1);
    assert.equal((await waitForMail(lab, "tom@smit.tld", token("pool5"))).length, 1, "the 5th was delivered");
    // Every smarthost that counted did it over TLS (the store's own view of its clients).
    const tls = await psql("SELECT a.application_name || ' ' || s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name LIKE 'policyd-rate-limit %' ORDER BY 1");
    // spam1 counted nothing here: whether its daemon is connected yet depends on when it started
    // beside the store, so it is not expected, only held to TLS if it is there.
    const sessions = tls.stdout.trim().split("\n");
    for (const h of ["out1", "out2"]) assert.ok(sessions.includes(`policyd-rate-limit ${h} true`), `${h} counted over TLS: ${sessions.join("; ")} ${tls.stderr}`);
    assert.deepEqual(sessions.filter((s) => !s.endsWith(" true")), [], "every policy daemon's session to the store is TLS");
  });

  it("the count survives a restart of the store and of a policy daemon", async () => {
    await stopStore();
    await restartStore();
    // policyd's connection died with the old store: its first request after the restart finds
    // that out (answered as "unreachable", a 4xx the client retries), the next one reconnects.
    let r = await john("out1", token("after-store-restart"));
    if (/4\.3\.0 .*quota store unreachable/.test(rcptReply(r) ?? "")) r = await john("out1", token("after-store-restart"));
    assert.match(rcptReply(r) ?? "", /^450 4\.7\.1 .*Daily quota/, `count lost by the store's restart:\n${r.transcript}`);
    const { oldPid, newPid } = await restartPolicyd(lab, "out2");
    assert.notEqual(oldPid, newPid);
    const again = await john("out2", token("after-policyd-restart"));
    assert.match(rcptReply(again) ?? "", /^450 4\.7\.1 .*Daily quota/, `count lost by policyd's restart:\n${again.transcript}`);
  });

  it("store stopped: submission is deferred (fail closed), nothing uncounted leaves; back up: mail flows and counts", async () => {
    const before = await counted("marie@entreprise.tld");
    await stopStore();
    try {
      for (const via of ["out1", "out2"]) {
        const r = await marie(via, token(`down-${via}`));
        assert.match(rcptReply(r) ?? "", /^450 4\.3\.0 .*quota store unreachable/, `${via}:\n${r.transcript}`);
        assert.notEqual(r.code, 0);
      }
    } finally {
      await restartStore();
    }
    let r = await marie("out1", token("back"));
    if (/4\.3\.0/.test(rcptReply(r) ?? "")) r = await marie("out1", token("back"));
    assert.equal(r.code, 0, r.transcript);
    assert.equal((await waitForMail(lab, "tom@smit.tld", token("back"))).length, 1);
    assert.equal(await counted("marie@entreprise.tld"), before + 1, "only the accepted recipient was counted");
  });
  it("delivery health: smit.tld's MX rate-limits out1 (421 4.7.28): WARNING, then CRITICAL past the threshold, naming out1, smit.tld and the action; OK once it accepts", async () => {
    const sink = hostOf(lab, "mx-smit");
    const out1 = hostOf(lab, "out1");
    const gmail = "421 4.7.28 [%s] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been rate limited.";
    const cidr = `${sink.root}/etc/postfix/pushback.cidr`;
    writeFileSync(cidr, [...out1.ipv4, ...out1.ipv6].map((a) => `${a} ${gmail.replace("%s", a)}`).join("\n") + "\n");
    const postconf = (...args: string[]) => runCmd(["postconf", "-c", sink.postfixDir, ...args]);
    const reload = () => postfixCtl(lab, "mx-smit", "reload");
    assert.equal((await postconf("-e", `smtpd_client_restrictions = check_client_access cidr:${cidr}`)).code, 0);
    assert.equal((await reload()).code, 0);
    const check = async () => {
      const r = await runCheckCommand(["--delivery", "--stack", STACK]);
      return { ...r, pushback: r.results.find((x) => x.id === "pushback:out1:smit.tld") };
    };
    try {
      assert.equal((await check()).exitCode, 0, "OK before anything is deferred");
      const first = await marie("out1", token("pushback1"));
      assert.equal(first.code, 0, first.transcript);
      let c = await check();
      assert.ok(await waitFor(async () => Boolean((c = await check()).pushback), 60_000, 500), `out1 never deferred for smit.tld:\n${c.output}`);
      assert.equal(c.pushback!.state, "WARNING", c.output);
      assert.equal(c.exitCode, 1);
      assert.match(c.output.split("\n")[0]!, /^FACTEUR WARNING - /);
      assert.match(c.output, /WARNING +pushback:out1:smit\.tld: Gmail push-back to smarthost out1 for smit\.tld \(gmail-4\.7\.28, rate-limited\): found 1 recipient deferred: .*421[ -]4\.7\.28/);
      assert.match(c.pushback!.note!, /slow the pacing for smit\.tld .*drain out1 if it persists/);
      // out2 is not pushed back: its mail to smit.tld is delivered meanwhile.
      const viaOut2 = await marie("out2", token("pushback-out2"));
      assert.equal(viaOut2.code, 0, viaOut2.transcript);
      assert.equal((await waitForMail(lab, "tom@smit.tld", token("pushback-out2"))).length, 1);
      for (const i of [2, 3]) assert.equal((await marie("out1", token(`pushback${i}`))).code, 0);
      assert.ok(await waitFor(async () => (c = await check()).pushback?.state === "CRITICAL", 60_000, 500), `not CRITICAL at 3 deferred recipients:\n${c.output}`);
      assert.equal(c.exitCode, 2);
      assert.match(c.output.split("\n")[0]!, /^FACTEUR CRITICAL - /);
      const json = JSON.parse((await runCheckCommand(["--delivery", "--stack", STACK, "--json"])).output);
      // By reason: the first answer, then Postfix's "delivery temporarily suspended: ..." quoting it.
      const groups = json.deferred.filter((g: { host: string; destination: string }) => g.host === "out1" && g.destination === "smit.tld");
      console.log(`# delivery: out1 -> smit.tld deferred by reason: ${JSON.stringify(groups.map((g: { recipients: number; reason: string }) => [g.recipients, g.reason]))}`);
      assert.equal(groups.reduce((n: number, g: { recipients: number }) => n + g.recipients, 0), 3);
      for (const g of groups) assert.equal(g.pushback.id, "gmail-4.7.28");
      assert.ok(json.queues.find((q: { host: string }) => q.host === "out1").oldestSeconds >= 0);
      // The same check over SSH, as production runs it: from the operator's machine, as the
      // read-only log user, each host's forced command answering with its queue and log.
      const sshd = await startLabSshd(lab, ["mx1", "mx2", "out1", "out2", "spam1"]);
      try {
        const overSsh = await runCmd(
          [...FACTEUR, "check", "--delivery", "--stack", STACK, "--stacks", labStackRoot(STACK), "--source", "ssh", "--json",
            "--addresses", sshd.addressesFile, "--identity", sshd.identity, ...sshd.sshOptions.flatMap((o) => ["--ssh-option", o])],
          { ns: hostOf(lab, "sender").ns },
        );
        const viaLab = JSON.parse((await runCheckCommand(["--delivery", "--stack", STACK, "--json"])).output);
        assert.equal(overSsh.code, 2, `CRITICAL over SSH too:\n${overSsh.stdout}\n${overSsh.stderr}`);
        const ssh = JSON.parse(overSsh.stdout);
        assert.equal(ssh.source, "ssh");
        const states = (j: { results: { id: string; state: string }[] }) => j.results.map((r) => `${r.id} ${r.state}`).sort();
        assert.deepEqual(states(ssh), states(viaLab), "the same results, read over SSH or from the lab");
        assert.deepEqual(ssh.queues.map((q: { host: string; size: number }) => `${q.host} ${q.size}`), viaLab.queues.map((q: { host: string; size: number }) => `${q.host} ${q.size}`));
      } finally {
        await sshd.stop();
      }
    } finally {
      await postconf("-X", "smtpd_client_restrictions");
      await reload();
    }
    await runCmd(["postqueue", "-c", out1.postfixDir, "-f"]);
    for (const i of [1, 2, 3]) assert.equal((await waitForMail(lab, "tom@smit.tld", token(`pushback${i}`))).length, 1, `deferred message ${i} left once smit.tld accepted`);
    let ok = await check();
    assert.ok(await waitFor(async () => (ok = await check()).exitCode === 0, 60_000, 500), ok.output);
    assert.equal(await queueOf(lab, "out1"), "");
    assert.match(ok.output.split("\n")[0]!, /^FACTEUR OK - /);
  });
});
