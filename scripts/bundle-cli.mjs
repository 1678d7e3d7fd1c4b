// Build step (npm run build, after tsc and the vendor bundles): the CLI as a handful of bundled
// modules instead of some ninety compiled ones (issue 13: with node 20 and no compile cache,
// resolving, reading and linking each module file was a third of what a small command spent
// beyond node's own start). dist/cli/bin.js, the package's bin, becomes the bundle's entry; each
// command's code stays a chunk of its own, loaded only by that command (the dynamic imports of
// main.ts). Every module keeps its own import.meta (templates/, the precompiled templates, the
// gate script are found relative to the compiled file), rewritten relative to the bundle, so an
// installed package works wherever it is. npm packages stay external. The code is the compiled
// modules' own, unchanged: every message and every rendered byte is the same.
import { build } from "esbuild";
import { writeFile } from "node:fs/promises";
import { ownImportMeta } from "./own-import-meta.mjs";
import { CLI_BUNDLE_OPTIONS } from "./cli-bundle-options.mjs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = join(root, process.env.FACTEUR_CLI_BUNDLE_DIR ?? "dist/cli");

/** A compiled module's import.meta.url, relative to the bundle file in outdir that holds it. */
const ownMeta = ownImportMeta({
  filter: /\/dist\/.*\.js$/,
  loader: "js",
  meta: (path) => ({ url: `new URL(${JSON.stringify(relative(outdir, path))}, import.meta.url).href` }),
});

/** zod stays the one module the vendor step built (dist/vendor/zod.js), shared by whatever loads it. */
const vendorZodExternal = {
  name: "vendor-zod-external",
  setup(b) {
    b.onResolve({ filter: /\/vendor\/zod\.js$/ }, () => ({ path: "../vendor/zod.js", external: true }));
  },
};

const result = await build({
  entryPoints: { bin: join(root, "dist/cli/bin.js") },
  outdir,
  allowOverwrite: true,
  ...CLI_BUNDLE_OPTIONS,
  chunkNames: "bin-[name]-[hash]",
  plugins: [vendorZodExternal, ownMeta],
  metafile: true,
  logLevel: "warning",
});

// Which compiled modules each bundle file holds (dist/cli/bin.modules.json): what a command
// loads stays checkable by module (test/package.test.ts), not only by bundle file.
const modules = Object.fromEntries(
  Object.entries(result.metafile.outputs).map(([out, o]) => [relative(outdir, join(root, out)), Object.keys(o.inputs).map((i) => relative(join(root, "dist"), join(root, i))).sort()]),
);
await writeFile(join(outdir, "bin.modules.json"), `${JSON.stringify(modules, null, 1)}\n`);
