// The apply script with its deploy gate, run for real as on a host (FACTEUR_ROOT empty), inside a
// private mount namespace where /etc is a copy and /var/lib, /var/log and Postfix's default queue
// are empty: the real postfix check, postmap, openssl and gate; only systemctl and hostnamectl
// are stand-ins. On a host running the example's relay configuration, a bundle whose main.cf
// kills smtpd (as a template or schema gap would make it) passes postfix check, is rejected by
// the gate, and the running configuration stays in place. (test/gate.test.ts shows the gate
// passing the example's own configurations.)
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderStack } from "../src/render/render.ts";
import type { HostBundle } from "../src/render/bundle.ts";
import { applyScript } from "../src/pulumi/apply.ts";
import { examplePlan } from "./support/example.ts";

const canRun = process.getuid?.() === 0 && spawnSync("unshare", ["-m", "-n", "true"]).status === 0 && spawnSync("postconf", ["-d", "mail_version"]).status === 0;
const skip = !canRun && "needs root, unshare and Postfix";
const dir = mkdtempSync(join(tmpdir(), "facteur-gate-apply-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function host(): { etc: string; run: (script: string) => { status: number | null; stderr: string } } {
  chmodSync(dir, 0o755);
  const etc = join(dir, "etc");
  assert.equal(spawnSync("cp", ["-a", "/etc", etc]).status, 0, "copy /etc");
  // A fresh host: Debian's "No configuration" install leaves no main.cf (the apply step's
  // postmap reads the staged one).
  rmSync(join(etc, "postfix/main.cf"), { force: true });
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const stub of ["systemctl", "hostnamectl"]) {
    writeFileSync(join(bin, stub), `#!/bin/bash\necho "${stub} $*" >>${join(dir, "stubs.log")}\n`);
    chmodSync(join(bin, stub), 0o755);
  }
  const gateTmp = join(dir, "gate");
  mkdirSync(gateTmp, { mode: 0o755 });
  const inside = [
    "set -e",
    `mount --bind ${etc} /etc`,
    "mount -t tmpfs tmpfs /var/lib",
    "mount -t tmpfs tmpfs /var/log",
    "mount -t tmpfs tmpfs /var/spool/postfix",
    'exec bash "$0"',
  ].join("\n");
  return {
    etc,
    run: (script: string) => {
      const file = join(dir, "apply.sh");
      writeFileSync(file, script, { mode: 0o600 });
      const r = spawnSync("unshare", ["-m", "--propagation", "private", "bash", "-c", inside, file], {
        encoding: "utf8",
        env: { PATH: `${bin}:${process.env.PATH}`, HOME: "/root", FACTEUR_GATE_TMP: gateTmp },
        timeout: 170_000,
      });
      return { status: r.status, stderr: r.stderr };
    },
  };
}

test("apply on a host: a bundle that kills smtpd passes postfix check, is rejected by the gate, and the running config stays", { skip, timeout: 240_000 }, () => {
  const { model, plan } = examplePlan();
  const good = renderStack(model, plan, { root: "" }).find((b) => b.host === "mx1")!;
  const h = host();
  // What runs now: the example relay's files, as an earlier apply left them.
  for (const f of good.files) {
    mkdirSync(join(h.etc, f.path.slice("/etc/".length), ".."), { recursive: true });
    writeFileSync(join(h.etc, f.path.slice("/etc/".length)), f.content);
  }
  const running = readFileSync(join(h.etc, "postfix/main.cf"), "utf8");
  const bad: HostBundle = {
    ...good,
    files: good.files.map((f) => (f.path === "/etc/postfix/main.cf" ? { ...f, content: f.content.replace(/^smtpd_soft_error_limit = .*$/m, "smtpd_soft_error_limit = 2147483648") } : f)),
  };
  const r = h.run(applyScript(bad, { faiRelayPassword: "pw" }, {}));
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /facteur mx1: REJECTED, previous configuration kept: deploy gate: gate: postfix\/smtpd\[\d+\]: fatal: bad numerical configuration: smtpd_soft_error_limit = 2147483648/);
  assert.equal(readFileSync(join(h.etc, "postfix/main.cf"), "utf8"), running, "the running main.cf is back");
  assert.equal(readFileSync(join(dir, "stubs.log"), { encoding: "utf8", flag: "a+" }), "", "nothing was reloaded");
});
