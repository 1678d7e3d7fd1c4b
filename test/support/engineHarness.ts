// Stand-in for the nodejs language host's run.ts (sdk/nodejs/cmd/run/run.ts), started by
// test/support/engine.ts from the engine's working directory with Pulumi.yaml's nodeargs:
// resolves the entry as run.ts does, imports it inside the root stack resource under strict
// mocks (src/pulumi/mocks.ts: anything unmocked throws), and prints one JSON report line.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import { strictMocks, type MockWorld } from "../../src/pulumi/mocks.ts";

const main = process.env.FACTEUR_HARNESS_MAIN ?? ".";
const stack = process.env.FACTEUR_HARNESS_STACK ?? "stack";
const world = JSON.parse(process.env.FACTEUR_HARNESS_WORLD ?? "{}") as MockWorld;
const warnings: string[] = [];
const warn = console.warn;
console.warn = (...a: unknown[]) => (warnings.push(a.map(String).join(" ")), warn(...a));

/** The closest package.json at or above `dir` (run.ts: npmPackageRootFromProgramPath). */
function packageRoot(dir: string): string {
  for (let d = dir; ; d = resolve(d, "..")) {
    if (existsSync(join(d, "package.json"))) return d;
    if (resolve(d, "..") === d) return dir;
  }
}

/** run.ts: a "." entry is the package's exports["."] or main; a folder is its index file. */
function resolveProgram(): string {
  let program = join(process.cwd(), main);
  const root = packageRoot(statSync(program).isDirectory() ? program : resolve(program, ".."));
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports?: unknown; main?: string; type?: string };
  if (main === ".") {
    const exp = typeof pkg.exports === "string" ? pkg.exports : (pkg.exports as Record<string, unknown> | undefined)?.["."];
    if (typeof exp === "string") program = resolve(root, exp);
    else if (pkg.main) program = resolve(root, pkg.main);
  }
  if (pkg.type !== "module") throw new Error("facteur is an ES module package: run.ts would require() it, which this harness does not model");
  program = realpathSync(program);
  if (statSync(program).isDirectory()) {
    const index = ["index.js", "index.mjs", "index.ts", "index.mts"].find((f) => existsSync(join(program, f)));
    if (!index) throw new Error(`No entrypoint found in ${program}`);
    program = join(program, index);
  }
  return program;
}

const m = strictMocks(world);
let program = "";
const report = (ok: boolean, error?: string, outputs: string[] = []) => {
  const resources = [...m.resources.values()].map((r) => ({ type: r.type, name: r.name, ...(r.parent ? { parent: r.parent } : {}) }));
  process.stdout.write(
    `FACTEUR-HARNESS ${JSON.stringify({ ok, ...(error ? { error } : {}), cwd: process.cwd(), program, resources, invokes: m.invokes.map((i) => i.token), outputs, warnings })}\n`,
  );
};
// run.ts fails the update on an error thrown anywhere, applies included.
let asyncError: unknown;
process.on("unhandledRejection", (e) => (asyncError ??= e));
process.on("uncaughtException", (e) => (asyncError ??= e));

try {
  await pulumi.runtime.setMocks(m.mocks, "facteur", stack, false);
  program = resolveProgram();
  let exported: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    m.recordOptions();
    exported = (await import(pathToFileURL(program).href)) as Record<string, unknown>;
    return exported;
  });
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (asyncError) throw asyncError;
  report(true, undefined, Object.keys(exported).sort());
  process.exit(0);
} catch (e) {
  report(false, String((e as Error)?.message ?? e).split("\n")[0]);
  process.exit(1);
}
