// node:test as the mutation suite's bundle sees it (scripts/stryker/bundle-suite.mjs): the same
// API, but a test that throws ends the process at once, with exit code 1. One failure kills a
// mutant, and node's runner reports results to a reporter only after many more tests have run
// (a reporter-side bail came seconds late), so the exit happens inside the failing test itself.
import * as nodeTest from "node:test";

const stopOnThrow = (fn) =>
  typeof fn !== "function"
    ? fn
    : async function (...args) {
        try {
          return await fn.apply(this, args);
        } catch (e) {
          process.stderr.write(`bail: ${e?.message?.split("\n")[0] ?? e}\n`);
          process.exit(1);
        }
      };

/** test(name?, options?, fn?) with fn wrapped, unless the test is a todo (its failure fails nothing). */
const bailing = (register) =>
  function (...args) {
    const fnAt = args.findIndex((a) => typeof a === "function");
    const options = args.find((a) => a !== null && typeof a === "object");
    if (fnAt >= 0 && !options?.todo) args[fnAt] = stopOnThrow(args[fnAt]);
    return register(...args);
  };

export const test = bailing(nodeTest.test);
export const it = bailing(nodeTest.it);
export const { describe, suite, before, after, beforeEach, afterEach, mock, run, skip, todo, only } = nodeTest;
export default test;
