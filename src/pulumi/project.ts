// Where the Pulumi project lives, found without trusting the working directory.
//
// `pulumi up` does not run the program from the project root: the engine sets the working
// directory to the folder of `main` when `main` names a file (pkg/engine/project.go, getPwdMain),
// so with `main: src/pulumi/index.ts` the program starts in src/pulumi. Recent engines also pass
// the project root (--root-directory, read back by pulumi.runtime.getRootDirectory()); older
// ones, the Automation API's inline programs and test mocks do not. The Pulumi.yaml above this
// file is the project in every case, so it is the fallback.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const PROJECT_FILE = "Pulumi.yaml";

/** The closest folder at or above `from` that holds Pulumi.yaml. */
export function findProjectRoot(from: string): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, PROJECT_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no ${PROJECT_FILE} at or above ${from}`);
    dir = up;
  }
}

/** The project root: the engine's word when it gives one, else the Pulumi.yaml above this module. */
export function projectRoot(engineRoot: string | undefined): string {
  if (engineRoot && existsSync(join(engineRoot, PROJECT_FILE))) return engineRoot;
  return findProjectRoot(dirname(fileURLToPath(import.meta.url)));
}

/** Where stack files live: Pulumi.yaml's stackConfigDir (relative to the root), else the root itself. */
export function stacksDir(root: string): string {
  const project = parse(readFileSync(join(root, PROJECT_FILE), "utf8")) as { stackConfigDir?: unknown } | null;
  const dir = typeof project?.stackConfigDir === "string" ? project.stackConfigDir : ".";
  return resolve(root, dir);
}

/** A path as the user knows it: relative to the project root (errors then read stacks/prod.facteur.yaml:3:5). */
export function fromRoot(root: string, path: string): string {
  return relative(root, path) || ".";
}
