// Issue 11, section 1: the test suite runs beside a user's `example` lab without touching it.
// - Statically: every test and bench that drives the lab (src/lab/index.ts or `facteur lab`)
//   imports test/support/labStacks.ts, and names its stacks through labStack(), never a literal.
// - At run time: importing labStacks protects "example" in this process and its children
//   (FACTEUR_LAB_PROTECT), and src/lab refuses to bring up or take down a protected stack.
// - Namespaces: taking a stack down never takes another stack's namespaces, even when one stack
//   name is a prefix of the other's host namespaces (stack "example-mx" vs fl-example-mx-doe).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { labStack, USER_STACK } from "./support/labStacks.ts";
import { labDown, labUp, protectedStacks } from "../src/lab/index.ts";
import { listNamespaces } from "../src/lab/net.ts";
import { LAB_ROOT } from "../src/paths.ts";
import { run } from "../src/lab/proc.ts";
import { spawnFacteur } from "./support/facteurCli.ts";
import { TSX_LOADER } from "./support/tsxNode.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LAB_API = new Set(["labUp", "labDown", "labStatus"]);

/** Test and bench sources that drive the lab, with what is wrong in each. */
function labUsageProblems(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const problems: string[] = [];
  const where = (n: ts.Node) => `${file.slice(ROOT.length)}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
  // Identifiers bound to labStack(...): const X = labStack("...").
  const fromLabStack = new Set<string>();
  let drivesLab = false;
  let importsLabStacks = false;
  // exampleLabStack (test/support/exampleLab.ts) gives labStack(base) or the suite's labStack("plain").
  const isLabStackCall = (e: ts.Expression) => ts.isCallExpression(e) && ts.isIdentifier(e.expression) && /^(labStack|exampleLabStack)$/.test(e.expression.text);
  // labStack("x"), a name bound to one, or `${thatName}-more` (still the test's own, tagged prefix).
  const derived = (e: ts.Expression): boolean =>
    isLabStackCall(e) ||
    (ts.isIdentifier(e) && fromLabStack.has(e.text)) ||
    (ts.isTemplateExpression(e) && e.head.text === "" && derived(e.templateSpans[0]!.expression));
  const visit = (n: ts.Node) => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier)) {
      if (/support\/labStacks\.ts$/.test(n.moduleSpecifier.text)) importsLabStacks = true;
      if (/src\/lab\/index\.ts$/.test(n.moduleSpecifier.text)) drivesLab = true;
    }
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer && derived(n.initializer)) fromLabStack.add(n.name.text);
    if (ts.isCallExpression(n) && ts.isIdentifier(n.expression) && LAB_API.has(n.expression.text)) {
      const arg = n.arguments[0];
      const ok = arg && derived(arg);
      if (!ok) problems.push(`${where(n)}: ${n.expression.text}(${arg?.getText() ?? ""}) does not name its stack through labStack()`);
    }
    // `facteur lab <action> --stack X` spawned as an argv array.
    if (ts.isArrayLiteralExpression(n)) {
      const els = n.elements;
      const i = els.findIndex((e) => ts.isStringLiteral(e) && e.text === "lab");
      const s = els.findIndex((e) => ts.isStringLiteral(e) && e.text === "--stack");
      if (i >= 0 && s > i) {
        drivesLab = true;
        const arg = els[s + 1];
        if (!arg || ts.isSpreadElement(arg) || !derived(arg)) problems.push(`${where(n)}: facteur lab --stack ${arg?.getText() ?? ""} is not a labStack() name`);
      }
    }
    if (ts.isStringLiteral(n) && (n.text === USER_STACK || n.text.startsWith(`fl-${USER_STACK}-`)) && ts.isCallExpression(n.parent) && ts.isIdentifier(n.parent.expression) && LAB_API.has(n.parent.expression.text))
      problems.push(`${where(n)}: the user's stack "${n.text}"`);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  if (drivesLab && !importsLabStacks) problems.push(`${file.slice(ROOT.length)}: drives the lab without importing test/support/labStacks.ts (which protects "${USER_STACK}")`);
  return problems;
}

const sources = (dir: string) => readdirSync(`${ROOT}${dir}`).filter((f) => f.endsWith(".ts")).map((f) => `${ROOT}${dir}/${f}`);

test("every test and bench that drives the lab names its stacks through labStack() and imports its protection", () => {
  const files = [...sources("test"), ...sources("bench")];
  const driving = files.filter((f) => /src\/lab\/index\.ts|"lab"/.test(readFileSync(f, "utf8")));
  assert.ok(driving.length >= 4, `expected the lab tests and the bench among ${driving.join(", ")}`);
  assert.deepEqual(files.flatMap(labUsageProblems), []);
});

test("the static check is sharp: it flags a literal stack, a user stack and a missing import", () => {
  const dir = `${ROOT}test/.isolation-fixture-${process.pid}`;
  mkdirSync(dir, { recursive: true });
  try {
    const f = `${dir}/bad.ts`;
    writeFileSync(
      f,
      [
        'import { labUp, labDown } from "../../src/lab/index.ts";',
        'const S = "e2e";',
        'await labUp(S, {});',
        `await labDown("${USER_STACK}");`,
        `spawnSync("tsx", ["src/cli/bin.ts", "lab", "down", "--stack", "${USER_STACK}"]);`,
      ].join("\n"),
    );
    const p = labUsageProblems(f);
    assert.equal(p.filter((x) => /does not name its stack/.test(x)).length, 2, p.join("\n"));
    assert.ok(p.some((x) => x.includes(`the user's stack "${USER_STACK}"`)), p.join("\n"));
    assert.ok(p.some((x) => x.includes(`facteur lab --stack "${USER_STACK}"`)), p.join("\n"));
    assert.ok(p.some((x) => /without importing test\/support\/labStacks\.ts/.test(x)), p.join("\n"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('labStack() refuses "example" and anything under its namespace prefix; importing it protects "example"', () => {
  assert.throws(() => labStack("example"), /the user's/);
  assert.throws(() => labStack("example-mx"), /the user's/);
  assert.match(labStack("e2e"), /^e2e(-[a-z0-9]{1,4})?$/);
  assert.ok(protectedStacks().includes("example"), `FACTEUR_LAB_PROTECT=${process.env.FACTEUR_LAB_PROTECT}`);
  // Child processes inherit it: a spawned CLI refuses too (exit 2, before touching anything).
  // (One node with tsx's loader, as tsxNode.ts starts TypeScript, not the tsx command's two.)
  const r = spawnSync(process.execPath, ["--import", TSX_LOADER, "-e", 'import("./src/lab/index.ts").then(m => console.log(m.protectedStacks().join(" ")))'], { cwd: ROOT, encoding: "utf8" });
  assert.match(r.stdout, /\bexample\b/);
});

const root = process.getuid?.() === 0;
const hasIp = spawnSync("sh", ["-c", "command -v ip"]).status === 0;
const skipNs = !root ? "needs root (network namespaces)" : !hasIp ? "needs iproute2" : false;

test("a protected stack is refused by labUp, labDown and the CLI, and keeps its namespace", { skip: skipNs }, async () => {
  const decoy = labStack("iso-decoy");
  const ns = `fl-${decoy}-x`;
  const saved = process.env.FACTEUR_LAB_PROTECT;
  await run(["ip", "netns", "add", ns]);
  try {
    process.env.FACTEUR_LAB_PROTECT = `${saved ?? ""} ${decoy}`;
    await assert.rejects(labDown(decoy), /lab stack "iso-decoy[^"]*" is protected here .*refusing to take down/);
    await assert.rejects(labUp(decoy, { specFile: `${ROOT}stacks/example.facteur.yaml` }), /protected here .*refusing to bring up/);
    const cli = spawnFacteur(["lab", "down", "--stack", decoy], { encoding: "utf8", env: { ...process.env } });
    assert.equal(cli.status, 2, cli.stderr);
    assert.match(cli.stderr, /protected here/);
    assert.ok((await listNamespaces()).includes(ns), "the protected stack's namespace is gone");
  } finally {
    process.env.FACTEUR_LAB_PROTECT = saved;
    // Unprotected, the same call does take it down: the refusal above was the protection.
    assert.deepEqual(await labDown(decoy), [ns]);
    rmSync(`${LAB_ROOT}/${decoy}`, { recursive: true, force: true });
  }
});

test('taking down stack "<a>-mx" leaves stack "<a>"\'s fl-<a>-mx-doe alone (claimed namespaces win over prefixes)', { skip: skipNs }, async () => {
  const a = labStack("iso");
  const b = `${a}-mx`;
  const theirs = `fl-${a}-mx-doe`;
  const mine = `fl-${b}-sw`;
  try {
    for (const [stack, names] of [[a, [theirs]], [b, [mine]]] as const) {
      mkdirSync(`${LAB_ROOT}/${stack}`, { recursive: true });
      writeFileSync(`${LAB_ROOT}/${stack}/namespaces`, names.join("\n") + "\n");
    }
    for (const n of [theirs, mine]) await run(["ip", "netns", "add", n]);
    assert.deepEqual(await labDown(b), [mine]);
    const left = await listNamespaces();
    assert.ok(left.includes(theirs), `${theirs} was taken down with ${b}`);
    assert.ok(!left.includes(mine));
  } finally {
    await labDown(a);
    await labDown(b);
    for (const s of [a, b]) rmSync(`${LAB_ROOT}/${s}`, { recursive: true, force: true });
  }
});
