// Starts the Pulumi program as `pulumi up` starts it, without the engine:
//
// - working directory and entry from Pulumi.yaml, derived as the engine derives them
//   (pulumi/pulumi pkg/engine/project.go, getPwdMain: `main` a file -> its folder and its base
//   name; a folder -> that folder and "."; absent -> the project root and ".");
// - node started with Pulumi.yaml's runtime.options.nodeargs, as the nodejs language host
//   does (sdk/nodejs/cmd/pulumi-language-nodejs/main.go, execRuntime), with PULUMI_CONFIG and
//   PULUMI_CONFIG_SECRET_KEYS in its environment;
// - the entry resolved and imported as sdk/nodejs/cmd/run/run.ts does ("." -> package.json
//   exports/main; a "type": "module" package -> dynamic import), inside the root stack resource,
//   under strict mocks (test/support/engineHarness.ts stands in for run.ts).
import { spawn } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const HARNESS = fileURLToPath(new URL("./engineHarness.ts", import.meta.url));

/** pkg/engine/project.go getPwdMain, in TypeScript. */
export function getPwdMain(root: string, main: string | undefined): { pwd: string; main: string } {
  if (!main) return { pwd: root, main: "." };
  const abs = isAbsolute(main) ? main : resolve(root, main);
  const st = statSync(abs, { throwIfNoEntry: false });
  if (!st) throw new Error(`project 'main' could not be read: ${abs}`);
  return st.isDirectory() ? { pwd: abs, main: "." } : { pwd: dirname(abs), main: basename(abs) };
}

/** shlex-like split of runtime.options.nodeargs (quotes respected; no escapes needed here). */
function splitArgs(s: string): string[] {
  return [...s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

export interface EngineStart {
  pwd: string;
  main: string;
  nodeargs: string[];
  /** Config as the engine passes it: namespaced keys, every value a string (objects JSON-encoded). */
  config: Record<string, string>;
  secretKeys: string[];
}

export function engineStart(root: string, config: Record<string, unknown>, secrets: Record<string, string>): EngineStart {
  const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as { main?: string; runtime?: { options?: { nodeargs?: string } } };
  const { pwd, main } = getPwdMain(root, project.main);
  const cfg: Record<string, string> = {};
  for (const [k, v] of Object.entries(config)) cfg[k] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(secrets)) cfg[k] = v;
  return { pwd, main, nodeargs: splitArgs(project.runtime?.options?.nodeargs ?? ""), config: cfg, secretKeys: Object.keys(secrets) };
}

export interface HarnessReport {
  ok: boolean;
  error?: string;
  cwd: string;
  program: string;
  resources: { type: string; name: string; parent?: string }[];
  invokes: string[];
  outputs: string[];
  warnings: string[];
}

/**
 * Runs the entry in a fresh node process from the engine's working directory. `rootDirectory`
 * is what recent engines pass as --root-directory (PULUMI_NODEJS_ROOT_DIRECTORY); older ones
 * pass nothing.
 */
export function runAsEngine(start: EngineStart, opts: { stack: string; rootDirectory?: string; world?: unknown; timeoutMs?: number }): Promise<HarnessReport> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PULUMI_CONFIG: JSON.stringify(start.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(start.secretKeys),
    FACTEUR_HARNESS_MAIN: start.main,
    FACTEUR_HARNESS_STACK: opts.stack,
    FACTEUR_HARNESS_WORLD: JSON.stringify(opts.world ?? {}),
    ...(opts.rootDirectory ? { PULUMI_NODEJS_ROOT_DIRECTORY: opts.rootDirectory } : {}),
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...start.nodeargs, HARNESS], { cwd: start.pwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const line = out.split("\n").find((l) => l.startsWith("FACTEUR-HARNESS "));
      if (!line) return reject(new Error(`harness printed no report (exit ${code}):\n${out}\n${err}`));
      const report = JSON.parse(line.slice("FACTEUR-HARNESS ".length)) as HarnessReport;
      if ((code === 0) !== report.ok) return reject(new Error(`harness exit ${code} disagrees with its report ${line}\n${err}`));
      resolvePromise(report);
    });
  });
}
