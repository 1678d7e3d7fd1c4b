// The facteur CLI from the sources, as one node process: `node --import tsx src/cli/bin.ts`
// (tsxNode.ts says why not the tsx command). For tests that start it themselves: in a lab
// namespace, or asynchronously.
import { fileURLToPath } from "node:url";
import { TSX_LOADER } from "./tsxNode.ts";

/** argv of `facteur` (append the command and its flags). */
export const FACTEUR: readonly string[] = [process.execPath, "--import", TSX_LOADER, fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))];
