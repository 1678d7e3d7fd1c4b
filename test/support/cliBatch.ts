// Runs many `facteur` invocations in one process (test/support/cli-batch.ts): each through
// main() as bin.ts runs it, with its exit code, stdout and stderr. For tests of many bad flags.
// In a whole run, the batch runner of the run's CLI bundle (cliBundle.ts), beside its bin.js:
// no tsx compiling the sources again in each batch process.
import { spawnSync } from "node:child_process";
import { spawnTsx } from "./tsxNode.ts";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_BUNDLE_ENV } from "./facteurCli.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const bundle = process.env[CLI_BUNDLE_ENV];

export function facteurBatch(argvs: string[][], cwd = ROOT): { code: number; out: string; err: string }[] {
  const opts = { cwd, encoding: "utf8", timeout: 120_000, input: JSON.stringify(argvs) } as const;
  const r = bundle ? spawnSync(process.execPath, [join(dirname(bundle), "cli-batch.js")], opts) : spawnTsx(join(ROOT, "test/support/cli-batch.ts"), [], opts);
  assert.equal(r.status, 0, `cli-batch: exit ${r.status}\n${r.stderr}`);
  const results = JSON.parse(r.stdout) as { code: number; out: string; err: string }[];
  assert.equal(results.length, argvs.length);
  return results;
}
