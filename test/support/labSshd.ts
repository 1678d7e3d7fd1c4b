// A production host's SSH access for the read-only log user, inside a lab host: sshd in the
// host's network namespace and a private mount namespace whose /etc is a copy of the machine's
// with the log user added by the apply step's own lines (logUserSetup), and whose /etc/postfix
// is the lab instance's configuration, so `postqueue -j` there lists that instance's queue as it
// would the default instance on a host. The forced command is installed under the host's root,
// where the apply step puts it. Nothing of the machine's own accounts or /etc is touched.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { logUserSetup, LOG_USER_HOME } from "../../src/trace/logUser.ts";
import { spawnDetached, waitFor, run } from "../../src/lab/proc.ts";
import type { LabState } from "../../src/lab/index.ts";
import { hostOf } from "./lab.ts";

/** An sshd_config for the log user's host as the tests run it: keys only, no PAM, StrictModes, verbose log. */
export function sshdConfig(o: { listen: string[]; hostKey: string; pidFile: string; authorizedKeysFile: string }): string {
  return [
    ...o.listen.map((a) => `ListenAddress ${a.includes(":") ? `[${a}]` : a}:22`),
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeysFile}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    "PermitRootLogin no",
    "StrictModes yes",
    "LogLevel VERBOSE",
    "",
  ].join("\n");
}

export interface LabSshd {
  /** The private key of the log reader (ops), and ssh options for the client. */
  identity: string;
  sshOptions: string[];
  /** {host: {ipv4, ipv6}} for --addresses. */
  addressesFile: string;
  stop: () => Promise<void>;
}

export async function startLabSshd(lab: LabState, hosts: string[]): Promise<LabSshd> {
  // Not under /tmp: sshd's StrictModes refuses an authorized_keys below a world-writable directory.
  const dir = mkdtempSync("/var/lib/facteur-lab-sshd-");
  chmodSync(dir, 0o755);
  const keygen = (f: string) => spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ops@laptop", "-f", f], { encoding: "utf8" });
  for (const f of ["ops", "hostkey"]) if (keygen(join(dir, f)).status !== 0) throw new Error(`ssh-keygen ${f} failed`);
  const pub = readFileSync(join(dir, "ops.pub"), "utf8").trim();
  const pids: number[] = [];
  for (const h of hosts) {
    const host = hostOf(lab, h);
    const root = host.root;
    // No daemon facts: the lab's already name their log files under the host's root, and those
    // files exist (the apply step creates them on a host).
    const setup = ["set -euo pipefail", `R=${root}`, 'own() { chown "$@"; }', 'say() { echo "setup: $*" >&2; }', ...logUserSetup([], { ops: pub })].join("\n");
    writeFileSync(join(dir, `setup-${h}.sh`), `${setup}\n`);
    writeFileSync(
      join(dir, `sshd-${h}.conf`),
      sshdConfig({ listen: [...host.ipv4, ...host.ipv6], hostKey: `${dir}/hostkey`, pidFile: `${dir}/sshd-${h}.pid`, authorizedKeysFile: `${root}${LOG_USER_HOME}/.ssh/authorized_keys` }),
    );
    const script = [
      "set -eu",
      `cp -a /etc ${dir}/etc-${h} && mount --bind ${dir}/etc-${h} /etc`,
      `mount --bind ${host.postfixDir} /etc/postfix`,
      "mount -t tmpfs tmpfs /run && mkdir -p /run/sshd",
      // As the apply step leaves it: the log user reads Postfix's log through adm.
      `chown postfix:adm ${host.maillog} && chmod 0640 ${host.maillog}`,
      `bash ${dir}/setup-${h}.sh`,
      `exec /usr/sbin/sshd -D -f ${dir}/sshd-${h}.conf -E ${dir}/sshd-${h}.log`,
    ].join("\n");
    pids.push(spawnDetached(["unshare", "--mount", "--propagation", "private", "bash", "-c", script], join(dir, `start-${h}.log`), { ns: host.ns }));
  }
  const listening = async (h: string) => (await run(["ss", "-Hltn", "sport = :22"], { ns: hostOf(lab, h).ns })).stdout.includes(":22");
  for (const h of hosts)
    if (!(await waitFor(() => listening(h), 30_000, 200))) {
      const log = (f: string) => { try { return readFileSync(join(dir, f), "utf8"); } catch { return ""; } };
      throw new Error(`sshd in ${h} did not listen:\n${log(`start-${h}.log`)}\n${log(`sshd-${h}.log`)}`);
    }
  const addressesFile = join(dir, "addresses.json");
  writeFileSync(addressesFile, JSON.stringify(Object.fromEntries(hosts.map((h) => [h, { ipv4: hostOf(lab, h).ipv4[0], ipv6: hostOf(lab, h).ipv6[0] }]))));
  return {
    identity: join(dir, "ops"),
    sshOptions: ["StrictHostKeyChecking=no", `UserKnownHostsFile=${dir}/known_hosts`, "LogLevel=ERROR"],
    addressesFile,
    stop: async () => {
      for (const pid of pids) {
        try {
          process.kill(-pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      await waitFor(async () => !(await Promise.all(hosts.map(listening))).some(Boolean), 10_000, 200);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
