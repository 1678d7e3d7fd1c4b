// The facteur CLI from the sources, as one node process: `node --import tsx src/cli/bin.ts`.
// node_modules/.bin/tsx would start a second node process around it: a third more CPU per call,
// and the lab tests call the CLI dozens of times.
import { fileURLToPath } from "node:url";

/** argv of `facteur` (append the command and its flags). */
export const FACTEUR: readonly string[] = [process.execPath, "--import", import.meta.resolve("tsx"), fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url))];
