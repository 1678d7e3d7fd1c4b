// Runs many `facteur` invocations in one tsx process (test/support/cli-batch.ts): each through
// main() as bin.ts runs it, with its exit code, stdout and stderr. For tests of many bad flags.
import { spawnTsx } from "./tsxNode.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export function facteurBatch(argvs: string[][], cwd = ROOT): { code: number; out: string; err: string }[] {
  const r = spawnTsx(join(ROOT, "test/support/cli-batch.ts"), [], { cwd, encoding: "utf8", timeout: 120_000, input: JSON.stringify(argvs) });
  assert.equal(r.status, 0, `cli-batch: exit ${r.status}\n${r.stderr}`);
  const results = JSON.parse(r.stdout) as { code: number; out: string; err: string }[];
  assert.equal(results.length, argvs.length);
  return results;
}
