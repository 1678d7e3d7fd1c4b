// runProgram for the tests, one run per distinct input in a test process: the tests that need
// the same run (a churn step's "after" is the next step's "before", a run checked in detail is
// also a churn step) share it instead of deploying the same spec again under the mocks.
// A run is a function of its spec text and options: mock ids, addresses and keys are fixed per
// resource name (src/pulumi/mocks.ts), so sharing changes no result; each churn compares runs of
// two different inputs, as before. A test that alters a run (its resources' options) alters a copy.
import { parseSpec } from "../../src/spec/load.ts";
import { runProgram, type ProgramRun, type RunOptions } from "../../src/pulumi/mocks.ts";

const runs = new Map<string, Promise<ProgramRun>>();

/** The run of `text` (read as `file`) with `opts`; runs that record into given mocks are never shared. */
export function sharedRun(text: string, opts: RunOptions, file = "stacks/example.facteur.yaml"): Promise<ProgramRun> {
  if (opts.mocks) return runProgram(parseSpec(text, file), opts);
  const key = JSON.stringify([file, text, opts]);
  let run = runs.get(key);
  if (!run) {
    run = runProgram(parseSpec(text, file), opts);
    runs.set(key, run);
  }
  return run;
}
