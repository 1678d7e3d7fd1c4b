// The facteur CLI bundled from the sources for one test run (test/support/run.ts builds it once,
// before the files start): one module file per command chunk, as the package ships it, instead of
// tsx compiling and linking some ninety source modules again in every CLI process a test starts.
// A CLI start from the bundle costs about half the CPU of one through tsx (issue 11, CI time).
// Every module keeps its own import.meta.url (scripts/own-import-meta.mjs): the source file's,
// so templates and scripts are found beside the sources, as when run through tsx.
import { build, type BuildOptions } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
// @ts-expect-error: a plain ES module of the build scripts, without types.
import { ownImportMeta } from "../../scripts/own-import-meta.mjs";
// @ts-expect-error: the same.
import { CLI_BUNDLE_OPTIONS } from "../../scripts/cli-bundle-options.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Bundles src/cli/bin.ts into a fresh directory under node_modules/.cache (npm packages stay
 * external: they resolve from there as from the sources); returns the entry file and a remover.
 */
export async function buildCliBundle(): Promise<{ entry: string; remove: () => void }> {
  const dir = `${ROOT}node_modules/.cache/facteur-test-cli/${process.pid}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    // The batch runner too (cli-batch.ts, beside bin.js): main() without tsx for the batches.
    entryPoints: { bin: `${ROOT}src/cli/bin.ts`, "cli-batch": `${ROOT}test/support/cli-batch.ts` },
    outdir: dir,
    ...(CLI_BUNDLE_OPTIONS as BuildOptions),
    logLevel: "warning",
    plugins: [ownImportMeta({ filter: /\/src\/.*\.ts$/, loader: "ts", meta: (path: string) => ({ url: JSON.stringify(pathToFileURL(path).href) }) })],
  });
  return { entry: `${dir}/bin.js`, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
