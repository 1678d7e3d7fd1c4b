// The deploy gate (src/gate) with the real daemons: the example's configs pass it, and each
// value the issue found killing a daemon while `postfix check` passes is refused by it, in the
// daemon's own words. The spec now refuses these values itself (test/spec-hostile.test.ts);
// here they are written into a staged config by hand, as a template or schema gap would.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderStack } from "../src/render/render.ts";
import { daemonFailures, gateCommand } from "../src/gate/postfix.ts";
import { runPostfixGate } from "../src/gate/run.ts";
import { applyScript } from "../src/pulumi/apply.ts";
import { examplePlan } from "./support/example.ts";
import { stageBundle } from "./support/stage.ts";

const canRun = process.getuid?.() === 0 && spawnSync("unshare", ["-n", "true"]).status === 0;
const skip = !canRun && "needs root and unshare -n (the gate runs a throwaway Postfix in a private network namespace)";
const { model, plan } = examplePlan();
const dir = mkdtempSync(join(tmpdir(), "facteur-gate-"));
chmodSync(dir, 0o755); // the throwaway instance's daemons run as postfix and must reach their queue
after(() => rmSync(dir, { recursive: true, force: true }));

/** The bundle of `host`, rendered for its own root under dir/name and put there as the apply step would. */
function staged(name: string, host: string, edit?: { file: "main.cf" | "master.cf"; change: (text: string) => string }[]) {
  const root = join(dir, name);
  const bundle = renderStack(model, plan, { root }).find((b) => b.host === host)!;
  stageBundle(bundle);
  for (const e of edit ?? []) {
    const f = join(root, "etc/postfix", e.file);
    const before = readFileSync(f, "utf8");
    const after = e.change(before);
    assert.notEqual(after, before, `${name}: the edit of ${e.file} changed nothing`);
    writeFileSync(f, after);
  }
  return { root, bundle, conf: join(root, "etc/postfix") };
}

function postfixCheck(conf: string): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("postfix", ["-c", conf, "check"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

test("daemonFailures: the log lines that mean a daemon refused its configuration", () => {
  const log = [
    "Nov 23 15:09:10 out1 postfix/smtpd[1098]: fatal: bad numerical configuration: smtpd_soft_error_limit = 2147483648",
    "Nov 23 15:09:11 out1 postfix/master[1090]: warning: process /usr/lib/postfix/sbin/smtpd pid 1098 exit status 1",
    "Nov 23 15:09:11 out1 postfix/master[1090]: warning: /usr/lib/postfix/sbin/smtpd: bad command startup -- throttling",
    "Nov 23 15:09:12 out1 postfix/smtpd[1099]: warning: TLS library problem: error:0A080002",
    "Nov 23 15:09:12 out1 postfix/smtp[1100]: 9545120C4EB: to=<a@b.tld>, status=deferred (Host not found)",
    "Nov 23 15:09:13 out1 postfix/master[1090]: warning: process /usr/lib/postfix/sbin/qmgr pid 7 exit status 0",
  ].join("\n");
  assert.deepEqual(daemonFailures(log), [
    "postfix/smtpd[1098]: fatal: bad numerical configuration: smtpd_soft_error_limit = 2147483648",
    "postfix/master[1090]: warning: process /usr/lib/postfix/sbin/smtpd pid 1098 exit status 1",
    "postfix/master[1090]: warning: /usr/lib/postfix/sbin/smtpd: bad command startup -- throttling",
  ]);
});

test("the apply script runs the gate after postfix check, on the bundle's config dir and probe recipients", () => {
  const bundle = renderStack(model, plan).find((b) => b.host === "out1")!;
  assert.deepEqual(bundle.probeRecipients, ["facteur-gate@grosfai.tld", "facteur-gate@gate.invalid"]);
  assert.equal(gateCommand(bundle), `facteur_gate_apply "$R" '/etc/postfix' 'facteur-gate@grosfai.tld' 'facteur-gate@gate.invalid'`);
  const script = applyScript(bundle, { johnSubmission: "x" }, Object.fromEntries(bundle.dkimKeys.map((k) => [k.path, "PEM"])));
  const check = script.indexOf('postfix -c "$R/etc/postfix" check');
  const gate = script.indexOf(`  check "deploy gate" ${gateCommand(bundle)} || return 1`);
  assert.ok(check > 0 && gate > check, "the gate runs after postfix check, and a refusal fails the apply");
  assert.ok(script.indexOf("facteur_gate() {") < gate, "its functions are defined before");
  assert.equal(spawnSync("bash", ["-n"], { input: script }).status, 0, "the script parses");
});

test("the example's relay and smarthost configurations pass the gate", { skip, timeout: 120_000 }, async () => {
  const verdicts = await Promise.all(
    (["mx1", "out1"] as const).map(async (host) => {
      const s = staged(`ok-${host}`, host);
      return { host, ...(await runPostfixGate(s.conf, s.bundle.probeRecipients, { tmpDir: dir })) };
    }),
  );
  for (const v of verdicts) assert.deepEqual([v.host, v.ok, v.reasons], [v.host, true, []]);
});

test("values that kill smtpd, qmgr or master pass postfix check and are refused by the gate, in the daemon's words", { skip, timeout: 180_000 }, async () => {
  const long = `pace-${"x".repeat(120)}`;
  const cases = [
    {
      name: "softErrorLimit 2147483648",
      host: "mx1",
      edit: [{ file: "main.cf" as const, change: (t: string) => t.replace(/^smtpd_soft_error_limit = .*$/m, "smtpd_soft_error_limit = 2147483648") }],
      reason: /^postfix\/smtpd\[\d+\]: fatal: bad numerical configuration: smtpd_soft_error_limit = 2147483648$/,
    },
    {
      name: "connectionRateLimit 4294967296",
      host: "mx1",
      edit: [{ file: "main.cf" as const, change: (t: string) => t.replace(/^smtpd_client_connection_rate_limit = .*$/m, "smtpd_client_connection_rate_limit = 4294967296") }],
      reason: /^postfix\/smtpd\[\d+\]: fatal: bad numerical configuration: smtpd_client_connection_rate_limit = 4294967296$/,
    },
    {
      // qmgr reads a transport's own rate delay only when mail for it arrives: the probe recipients make it.
      name: "pacing rateDelay 600000h",
      host: "out1",
      edit: [{ file: "main.cf" as const, change: (t: string) => t.replace(/^pace-grosfai-tld_destination_rate_delay = .*$/m, "pace-grosfai-tld_destination_rate_delay = 600000h") }],
      reason: /^postfix\/qmgr\[\d+\]: fatal: parameter pace-grosfai-tld_destination_rate_delay: bad time value or unit: 600000h$/,
    },
    {
      name: "a transport name of 125 characters",
      host: "out1",
      edit: (["main.cf", "master.cf"] as const).map((file) => ({ file, change: (t: string) => t.replaceAll("pace-grosfai-tld", long) })),
      reason: new RegExp(`^master did not start; service ${long}: its socket private/${long} is longer than a unix socket name may be \\(108 bytes\\)$`),
    },
  ];
  const results = await Promise.all(
    cases.map(async (c, i) => {
      const s = staged(`bad-${i}`, c.host, c.edit);
      for (const d of ["var/spool/postfix", "var/lib/postfix", "var/log"]) mkdirSync(join(s.root, d), { recursive: true });
      const [check, verdict] = await Promise.all([postfixCheck(s.conf), runPostfixGate(s.conf, s.bundle.probeRecipients, { tmpDir: dir })]);
      return { c, check, verdict };
    }),
  );
  for (const { c, check, verdict } of results) {
    assert.equal(check.status, 0, `${c.name}: postfix check lets it through (${check.stderr})`);
    assert.equal(verdict.ok, false, `${c.name}: the gate refuses it`);
    assert.ok(verdict.reasons.some((r) => c.reason.test(r)), `${c.name}: ${JSON.stringify(verdict.reasons)}`);
  }
});

/** Processes whose command line or environment (MAIL_CONFIG of Postfix's daemons) names a path under `path`. */
function processesUnder(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (cmdline.includes(path) || environ.some((e) => e.startsWith("MAIL_CONFIG=") && e.includes(path))) found.push(`${pid} ${cmdline}`);
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return found;
}

// Run last: every gate of this file used `dir`. The gate read master's pid from the first 20
// bytes of master.pid, which Postfix writes right-aligned in 32: it never stopped the instance,
// and each deploy left a Postfix (master, qmgr, pickup, postlogd...) running on the host.
test("the gate leaves nothing running: no process of an instance it started outlives it", { skip, timeout: 120_000 }, async () => {
  const s = staged("leftovers", "out1");
  const verdict = await runPostfixGate(s.conf, s.bundle.probeRecipients, { tmpDir: dir });
  assert.equal(verdict.ok, true, verdict.reasons.join("\n"));
  let left = processesUnder(dir);
  for (let i = 0; i < 50 && left.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesUnder(dir);
  }
  assert.deepEqual(left, []);
});
