// The apply script (src/pulumi/apply.ts) run for real under bash in a temporary root, with the
// host's commands (postfix, systemctl, apt...) replaced by the given stubs: the one sandbox of
// the tests that run it.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyCommand } from "../../src/pulumi/apply.ts";

/** Stub bodies by command name; each can append what it did to "$LOG". */
export type Stubs = Record<string, string>;

export function applySandbox(stubs: Stubs, baseEnv: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "facteur-apply-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  const root = join(dir, "root");
  mkdirSync(root);
  const log = join(dir, "log");
  writeFileSync(log, "");
  const apply = (script: string, env: Record<string, string> = {}) =>
    spawnSync("bash", ["-c", applyCommand("0".repeat(64)).replace(/mktemp \/root\//, `mktemp ${dir}/`)], {
      input: script,
      encoding: "utf8",
      // HOME: bash fed through a socket pair (as node pipes are) reads ~/.bashrc; keep the real one out.
      env: { HOME: dir, PATH: `${bin}:${process.env.PATH}`, FACTEUR_ROOT: root, FACTEUR_NO_CHOWN: "1", LOG: log, ...baseEnv, ...env },
    });
  const read = (p: string) => readFileSync(join(root, p), "utf8");
  const takeLog = () => {
    const l = readFileSync(log, "utf8");
    writeFileSync(log, "");
    return l;
  };
  /** Every live file under the root, with its mode and content: compared byte for byte around a failure. */
  const tree = (): Record<string, string> => {
    const out: Record<string, string> = {};
    const walk = (d: string) => {
      for (const e of readdirSync(join(root, d), { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else out[p] = `${(statSync(join(root, p)).mode & 0o777).toString(8)} ${readFileSync(join(root, p), "utf8")}`;
      }
    };
    walk(".");
    return out;
  };
  const leftovers = () => readdirSync(join(root, "var/lib/facteur"));
  return { dir, root, apply, read, takeLog, tree, leftovers, done: () => rmSync(dir, { recursive: true, force: true }) };
}
