// Which test files a suite module (test/support/in-process-suite.ts, pulumi-suite.ts...) runs:
// read from its `import "../x.test.ts";` lines, following the suites it imports in turn.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute paths of the *.test.ts files `suite` imports, directly or through another suite, in order. */
export function suiteMembers(suite: string): string[] {
  const base = new URL(`file://${suite}`);
  return [...readFileSync(suite, "utf8").matchAll(/^import "(\.{1,2}\/[^"]+\.ts)";$/gm)].flatMap(([, rel]) => {
    const file = fileURLToPath(new URL(rel!, base));
    return file.endsWith(".test.ts") ? [file] : suiteMembers(file);
  });
}

/** The suites of a whole run, each one process for the files it imports (see each file's header). */
export const SUITES = ["in-process-suite.ts", "lab-example-suite.ts", "pulumi-suite.ts"];

/**
 * What a whole `npm test` gives node's runner, one process per entry: every test/*.test.ts that
 * no suite imports, then the suites, which run the others.
 */
export function wholeRunFiles(testDir: string): string[] {
  const suites = SUITES.map((s) => `${testDir}support/${s}`);
  const inSuite = new Set(suites.flatMap(suiteMembers));
  const own = readdirSync(testDir)
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => `${testDir}${f}`);
  return [...own.filter((f) => !inSuite.has(f)), ...suites];
}
