// Stryker's build step (buildCommand, run once in its sandbox after the mutants are placed):
// bundles the mutation suite (test/support/mutation-suite.ts and everything it imports from the
// repository) into one ES module, so each mutant's test run is a plain `node` start that loads
// one file, not tsx compiling and resolving some eighty modules. npm packages stay external.
// Every module keeps its own import.meta.url/dirname/filename (the core finds templates/ and the
// tests their fixtures relative to themselves), so each is replaced by its original file's value.
import { build } from "esbuild";
import { ownImportMeta } from "../own-import-meta.mjs";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Each module's own import.meta, as absolute values (the suite runs where it was bundled). */
const ownMeta = ownImportMeta({
  filter: /\.ts$/,
  loader: "ts",
  meta: (path) => ({ url: JSON.stringify(pathToFileURL(path).href), dirname: JSON.stringify(dirname(path)), filename: JSON.stringify(path) }),
});

// Every import of node:test but the shim's own gets the shim: a test that throws ends the run.
const SHIM = fileURLToPath(new URL("./bail-shim.mjs", import.meta.url));
const bailOnFailure = {
  name: "bail-on-failure",
  setup(b) {
    b.onResolve({ filter: /^node:test$/ }, (args) => (args.importer === SHIM ? { path: "node:test", external: true } : { path: SHIM }));
  },
};

await build({
  entryPoints: ["test/support/mutation-suite.ts"],
  outfile: "test/support/mutation-suite.bundle.mjs",
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [ownMeta, bailOnFailure],
  logLevel: "warning",
});
