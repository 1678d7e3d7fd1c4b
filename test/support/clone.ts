// A throwaway clone of this repository for `facteur diff` tests: commits made there never touch
// the checkout, and its node_modules is this one's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import assert from "node:assert/strict";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface Clone {
  dir: string;
  /** Runs git in the clone (or `cwd`); fails the test on a non-zero exit. */
  git(args: string[], cwd?: string): string;
  remove(): void;
}

export function cloneRepo(prefix: string): Clone {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const git = (args: string[], cwd = dir) => {
    const r = spawnSync("git", args, { cwd, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  git(["clone", "--quiet", "--no-local", ROOT, dir], tmpdir());
  git(["config", "user.email", "t@example.invalid"]);
  git(["config", "user.name", "test"]);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return { dir, git, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
