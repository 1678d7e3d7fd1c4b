// The facteur CLI as tests start it, one node process per command: the run's bundle of the
// sources when test/support/run.ts built one (cliBundle.ts), else the sources through tsx's
// loader (`node --import tsx src/cli/bin.ts`; tsxNode.ts says why not the tsx command).
import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TSX_LOADER } from "./tsxNode.ts";

/** Set by run.ts for the processes it starts: the entry of its bundle of the CLI (cliBundle.ts). */
export const CLI_BUNDLE_ENV = "FACTEUR_TEST_CLI_BUNDLE";
const bundle = process.env[CLI_BUNDLE_ENV];
/** argv of `facteur` (append the command and its flags). */
export const FACTEUR: readonly string[] = bundle ? [process.execPath, bundle] : [process.execPath, "--import", TSX_LOADER, fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))];

/** spawnSync of `facteur ...args`. */
export function spawnFacteur(args: string[], opts: SpawnSyncOptionsWithStringEncoding): SpawnSyncReturns<string> {
  return spawnSync(FACTEUR[0]!, [...FACTEUR.slice(1), ...args], opts);
}
