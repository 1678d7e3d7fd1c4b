// Starts a TypeScript entry as `tsx FILE ARGS` does, in one process instead of two. The tsx
// command is itself a node process that starts node again with tsx's loader (--import) and
// relays its signals; here the test starts that second node itself, as Pulumi.yaml's nodeargs
// do (--import=tsx). Same entry, loader, argv, working directory, environment, streams and exit
// code; one node start fewer per command (about 0.35 s of CPU on the 2-core CI machine).
import { spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from "node:child_process";

/** tsx's loader as `node --import` takes it: an absolute URL, so any working directory resolves it. */
export const TSX_LOADER = import.meta.resolve("tsx");

/** spawnSync of `tsx file ...args`, as one node process. */
export function spawnTsx(file: string, args: string[], opts: SpawnSyncOptionsWithStringEncoding): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ["--import", TSX_LOADER, file, ...args], opts);
}
