// The example stack in the lab, for the files that tell their stories against it as it is
// (lab-e2e, lab-check, lab-firewall, lab-trace). Alone, each file brings up its own stack under its own
// name. A whole `npm test` runs them in one process (test/support/lab-example-suite.ts), where
// they share one stack: a bring-up costs about 20 s of CPU on 2 cores (issue 11, CI time). A file
// that changes the shared stack puts it back (its records, its firewall); one that breaks it
// (a killed daemon) retires it, and the next file gets a fresh one.
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { labDown, labUp, type LabState } from "../../src/lab/index.ts";
import { labStack } from "./labStacks.ts";

export const EXAMPLE_SPEC = fileURLToPath(new URL("../../stacks/example.facteur.yaml", import.meta.url));

let sharedStack: string | undefined;
const running = new Map<string, Promise<LabState>>();
/** Every stack this process started to bring up: all go down at its end. */
const started = new Set<string>();

/** Called by the suite before it imports the files: from now on they all get one stack. */
export function shareExampleLab(): void {
  sharedStack = labStack("plain");
}

/** The stack name a file's example lab has: its own (labStack(base)), or the suite's shared one. */
export function exampleLabStack(base: string): string {
  return sharedStack ?? labStack(base);
}

/** The example stack up under `stack` (exampleLabStack's name), brought up on first use in this process. */
export function exampleLab(stack: string): Promise<LabState> {
  let up = running.get(stack);
  if (!up) {
    started.add(stack);
    up = labUp(stack, { specFile: EXAMPLE_SPEC });
    running.set(stack, up);
    // A failed bring-up is not kept: the next file tries again (and reports its own failure).
    up.catch(() => running.delete(stack));
  }
  return up;
}

/** For a test that breaks the stack on purpose: the next file asking for it gets a fresh one. */
export function retireExampleLab(stack: string): void {
  running.delete(stack);
}

// At the end of the process, whatever was brought up goes down, after a failure too: a
// half-started stack must not outlive the tests.
after(async () => {
  if (process.env.LAB_KEEP) return;
  for (const stack of started) await labDown(stack);
});
