// The files `npm test` runs together in one process (test/support/suites.ts) keep the rules that
// make sharing a process safe, and a whole run still runs every test file once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { SUITES, suiteMembers, wholeRunFiles } from "./support/suites.ts";

const TEST_DIR = fileURLToPath(new URL(".", import.meta.url));
const SUITE = `${TEST_DIR}support/in-process-suite.ts`;
const members = suiteMembers(SUITE);
const name = (f: string) => f.slice(TEST_DIR.length);

test("a whole run gives each test file exactly one process: its own, or one suite's", () => {
  const own = readdirSync(TEST_DIR).filter((f) => f.endsWith(".test.ts")).map((f) => `${TEST_DIR}${f}`);
  const files = wholeRunFiles(TEST_DIR);
  const suites = SUITES.map((s) => `${TEST_DIR}support/${s}`);
  assert.deepEqual(files.slice(-suites.length), suites);
  const inSuites = suites.flatMap(suiteMembers);
  assert.deepEqual(inSuites.filter((m, i) => inSuites.indexOf(m) !== i).map(name), [], "imported twice");
  for (const f of own) assert.equal(Number(files.includes(f)) + Number(inSuites.includes(f)), 1, `${name(f)}: run ${files.includes(f) ? "alone and in a suite" : "nowhere"}`);
  assert.deepEqual(inSuites.filter((m) => !own.includes(m)).map(name), [], "suite members that are not test/*.test.ts files");
  // The in-process suite holds the mutation suite's files and more: most of the small files.
  assert.ok(suiteMembers(`${TEST_DIR}support/mutation-suite.ts`).every((m) => members.includes(m)));
  assert.ok(members.length > own.length / 2, `${members.length} of ${own.length}`);
});

test("the lab-example suite's files share its stack: each gets it from exampleLab(), none brings up its own", () => {
  const lab = suiteMembers(`${TEST_DIR}support/lab-example-suite.ts`);
  assert.deepEqual(lab.map(name), ["lab-check.test.ts", "lab-firewall.test.ts", "lab-trace.test.ts", "lab-e2e.test.ts"]);
  for (const f of lab) {
    const text = readFileSync(f, "utf8");
    assert.match(text, /= exampleLabStack\("[a-z0-9]+"\);/, name(f));
    assert.match(text, /await exampleLab\(STACK\)/, name(f));
    assert.doesNotMatch(text, /\blabUp\(|\blabDown\(/, `${name(f)} brings a stack up or down itself`);
  }
  // The suite shares before it imports them: module evaluation follows the import order.
  const suite = readFileSync(`${TEST_DIR}support/lab-example-suite.ts`, "utf8");
  assert.ok(suite.indexOf('import "./exampleLabShared.ts";') < suite.indexOf('import "../'));
});

/** The modules a file loads, its own relative imports followed (not `import type`), and the packages they name. */
function loads(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const src = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const specs = src.statements
    .filter((st): st is ts.ImportDeclaration => ts.isImportDeclaration(st) && !st.importClause?.isTypeOnly)
    .map((st) => (st.moduleSpecifier as ts.StringLiteral).text);
  seen.set(file, specs);
  for (const s of specs) if (s.startsWith(".") && s.endsWith(".ts")) loads(fileURLToPath(new URL(s, `file://${file}`)), seen);
  return seen;
}

/** What would leak from one file of a shared process into the others' tests. */
function sharingProblems(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const problems: string[] = [];
  for (const [module, specs] of loads(file)) {
    const via = module === file ? "" : ` (through ${module.slice(module.indexOf("/src/") + 1 || TEST_DIR.length)})`;
    // Pulumi's runtime and mocks are global to the process.
    for (const s of specs.filter((s) => s.startsWith("@pulumi/"))) problems.push(`loads ${s}${via}`);
    // The lab's stacks: a file that fails halfway leaves its stack to the process's end.
    if (specs.some((s) => /\/lab\/index\.ts$/.test(s))) problems.push(`loads the lab${via}`);
  }
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  for (const st of src.statements) {
    // A top-level beforeEach/afterEach would run around every other file's tests too.
    if (ts.isExpressionStatement(st) && ts.isCallExpression(st.expression) && ts.isIdentifier(st.expression.expression) && /^(beforeEach|afterEach)$/.test(st.expression.expression.text))
      problems.push(`top-level ${st.expression.expression.text}`);
  }
  if (/\bprocess\.chdir\s*\(/.test(text)) problems.push("changes the working directory");
  return problems;
}

test("no file of the suite loads Pulumi or the lab, changes directory or hooks every test", () => {
  assert.deepEqual(members.flatMap((m) => sharingProblems(m).map((p) => `${name(m)}: ${p}`)), []);
  // The rules themselves catch what they are for.
  assert.ok(sharingProblems(`${TEST_DIR}pulumi-program.test.ts`).includes("loads @pulumi/pulumi (through src/pulumi/mocks.ts)"));
  assert.ok(sharingProblems(`${TEST_DIR}lab-e2e.test.ts`).includes("loads the lab"));
});

test("the Pulumi suite's files keep the sharing rules but for Pulumi itself, and deploy only through runProgram (one run at a time)", () => {
  const pulumiSuite = suiteMembers(`${TEST_DIR}support/pulumi-suite.ts`);
  assert.ok(pulumiSuite.length >= 4, pulumiSuite.map(name).join(" "));
  const problems = pulumiSuite.flatMap((m) => [
    ...sharingProblems(m).filter((p) => !p.startsWith("loads @pulumi/")),
    // Mocks or config set outside runProgram would reach the other files' runs.
    ...(/\b(setMocks|setAllConfig|setConfig)\s*\(/.test(readFileSync(m, "utf8")) ? ["sets Pulumi's mocks or config itself"] : []),
  ].map((p) => `${name(m)}: ${p}`));
  assert.deepEqual(problems, []);
  assert.deepEqual(pulumiSuite.filter((m) => members.includes(m)).map(name), [], "in the in-process suite too");
});
