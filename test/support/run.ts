// `npm test`: node's test runner over every test/*.test.ts, three files at a time, the longest
// first. `node --test` sorts its files by name, which started the lab-policy file (the longest,
// mostly waiting on mail) after a minute of short ones and made it the end of every run; here
// the slow files start at once and the short ones fill the other slots around them.
// Arguments, when given, are the files to run (npm test -- test/plan.test.ts).
import { run } from "node:test";
import { spec, tap } from "node:test/reporters";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TEST_DIR = fileURLToPath(new URL("..", import.meta.url));
/** Slowest first, as measured (a file missing here just runs after these). */
const SLOW_FIRST = ["lab-policy", "lab-e2e", "lab-check", "lab-outbound", "lab-acme", "lab-transport", "cli", "typecheck", "pulumi-apply", "pulumi-program", "diff-smarthost", "render-determinism", "lab-isolation"];

const given = process.argv.slice(2);
const all = readdirSync(TEST_DIR)
  .filter((f) => f.endsWith(".test.ts"))
  .sort()
  .map((f) => `${TEST_DIR}${f}`);
const rank = (f: string) => {
  const i = SLOW_FIRST.indexOf(f.slice(f.lastIndexOf("/") + 1).replace(/\.test\.ts$/, ""));
  return i < 0 ? SLOW_FIRST.length : i;
};
const files = given.length ? given : [...all].sort((a, b) => rank(a) - rank(b));
const concurrency = Number(process.env.FACTEUR_TEST_CONCURRENCY ?? 3);

const stream = run({ files, concurrency });
stream.on("test:fail", () => {
  process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
