// Build step (npm run build): src/**/*.ts to dist/**/*.js, one module per file, types stripped by
// esbuild and relative `.ts` imports rewritten to `.js` (what `tsc -p` with
// rewriteRelativeImportExtensions emitted before). Type checking is not the build's job: `npm test`
// typechecks the whole project (test/typecheck.test.ts); a second full tsc program here cost about
// 10 s of CPU per build, paid again by every `npm pack` and by the package test (issue 11, CI time).
import { transform } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const out = join(root, process.env.FACTEUR_TRANSPILE_OUT ?? "dist");

/** Files under `dir` whose name `wanted` accepts, depth first, in name order. */
function* filesIn(dir, wanted) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesIn(p, wanted);
    else if (wanted(e.name)) yield p;
  }
}

/** Relative module specifiers ending in .ts, in static imports and exports and in import("..."). */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*)\.ts\2/g;

const files = [...filesIn(src, (n) => n.endsWith(".ts") && !n.endsWith(".d.ts"))];
await Promise.all(
  files.map(async (file) => {
    const r = await transform(readFileSync(file, "utf8"), {
      loader: "ts",
      format: "esm",
      target: "es2022",
      sourcefile: relative(root, file),
      // tsconfig.json's target (ES2022) makes class fields define semantics, as tsc emitted them.
      tsconfigRaw: { compilerOptions: { useDefineForClassFields: true } },
    });
    const code = r.code.replace(RELATIVE_TS, (_, how, q, path) => `${how}${q}${path}.js${q}`);
    const target = join(out, relative(src, file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
  }),
);
// What runs as it is beside the modules that start it (verify-stored.mjs, mta-sts-server.mjs,
// postfix-gate.sh): copied as they are.
for (const file of filesIn(src, (n) => n.endsWith(".mjs") || n.endsWith(".sh"))) {
  const target = join(out, relative(src, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
