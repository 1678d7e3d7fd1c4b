// `npm test`: node's test runner over every test/*.test.ts, three files at a time, the longest
// first. `node --test` sorts its files by name, which started the lab-policy file (the longest,
// mostly waiting on mail) after a minute of short ones and made it the end of every run; here
// the slow files start at once and the short ones fill the other slots around them. The files
// a suite imports (test/support/suites.ts) run in one process, that suite's.
// Arguments, when given, are the files to run (npm test -- test/plan.test.ts).
import { run } from "node:test";
import { spec, tap } from "node:test/reporters";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { wholeRunFiles } from "./suites.ts";
import { buildCliBundle } from "./cliBundle.ts";
import { CLI_BUNDLE_ENV } from "./facteurCli.ts";

const TEST_DIR = fileURLToPath(new URL("..", import.meta.url));
/** Slowest first, as measured (a file missing here just runs after these). */
// Durations of a full run on 2 cores, otherwise idle (2026-12-07, 304 s): lab-policy 114 s, the
// lab-example suite 101 (lab-trace, 65 s on its own stack then, has joined it since), the
// in-process suite 90, lab-weighted 71, lab-outbound and lab-dane-inbound 69, lab-transport 48,
// pulumi-apply 47, the Pulumi suite 34. Four files at a time was tried (2026-12-08): the CPU each
// file used grew by a tenth under the contention, and the run was no shorter.
const SLOW_FIRST = ["lab-policy", "lab-example-suite", "lab-weighted", "lab-outbound", "lab-dane-inbound", "lab-transport", "lab-acme", "in-process-suite", "typecheck", "gate", "gate-apply", "pulumi-apply", "spec-property", "render-parsers", "render-determinism", "pulumi-suite", "pulumi-engine-start", "lab-isolation"];

const given = process.argv.slice(2);
// The files each suite of test/support/suites.ts imports share one process in a whole run.
const all = wholeRunFiles(TEST_DIR);
const rank = (f: string) => {
  const i = SLOW_FIRST.indexOf(byName(f));
  return i < 0 ? SLOW_FIRST.length : i;
};
const byName = (f: string) => f.slice(f.lastIndexOf("/") + 1).replace(/\.(test\.)?ts$/, "");
/**
 * Files that run alone, after the others, in a second batch (one report for both). None today:
 * lab-firewall ran here while its probes timed out on a machine also running other sessions'
 * lab stacks; on a fresh machine they pass in full runs, beside a user's lab too (issue 11).
 */
const ALONE: string[] = [];
const ordered = given.length ? given : [...all].sort((a, b) => rank(a) - rank(b));
const together = ordered.filter((f) => !ALONE.includes(byName(f)));
const alone = ordered.filter((f) => ALONE.includes(byName(f)));
const concurrency = Number(process.env.FACTEUR_TEST_CONCURRENCY ?? 3);

// One report for both batches: each batch's closing counts are held back and added up, so the
// closing lines CI reads count every test.
const COUNT = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/;
async function* events() {
  const totals = new Map<string, number>();
  const batches = [together, alone].filter((b) => b.length);
  for (const [i, batch] of batches.entries()) {
    for await (const e of run({ files: batch, concurrency: batch === alone ? 1 : concurrency })) {
      // A failing todo test is reported as such and fails nothing, as in node --test.
      if (e.type === "test:fail" && e.data.todo === undefined) process.exitCode = 1;
      const m = e.type === "test:diagnostic" && e.data.nesting === 0 ? COUNT.exec(e.data.message) : null;
      if (m) {
        totals.set(m[1]!, (totals.get(m[1]!) ?? 0) + Number(m[2]));
        if (i < batches.length - 1) continue;
        yield { ...e, data: { ...e.data, message: `${m[1]} ${totals.get(m[1]!)}` } };
        continue;
      }
      yield e;
    }
  }
}

// The CLI the tests start, bundled once for the run (cliBundle.ts); the files inherit its path.
const cli = await buildCliBundle();
process.env[CLI_BUNDLE_ENV] = cli.entry;
process.on("exit", cli.remove);

Readable.from(events()).compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
