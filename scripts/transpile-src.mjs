// Build step (npm run build): src/**/*.ts to dist/**/*.js, one module per file, types stripped by
// esbuild and relative `.ts` imports rewritten to `.js` (what `tsc -p` with
// rewriteRelativeImportExtensions emitted before). Type checking is not the build's job: `npm test`
// typechecks the whole project (test/typecheck.test.ts); a second full tsc program here cost about
// 10 s of CPU per build, paid again by every `npm pack` and by the package test (issue 11, CI time).
import { transform } from "esbuild";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const src = join(root, "src");
const out = join(root, process.env.FACTEUR_TRANSPILE_OUT ?? "dist");

function* tsFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) yield p;
  }
}

/** Relative module specifiers ending in .ts, in static imports and exports and in import("..."). */
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*)\.ts\2/g;

const files = [...tsFiles(src)];
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
