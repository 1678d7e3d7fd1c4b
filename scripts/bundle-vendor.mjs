// Build step (npm run build, after tsc): the libraries every command loads at start, each as one
// bundled module in dist/vendor/, and the compiled modules pointed at them (issue 13: loading
// them file by file was most of what a small command spent beyond node's own start).
// - zod: about 260 ES modules from node_modules; its entry points also load all of its 60-odd
//   locales, of which facteur uses English only (zod's classic schemas import it themselves
//   and make it the default), so the locales' index is left out.
// - Handlebars' runtime (render, with the build's precompiled templates): about 20 CommonJS
//   modules. A template edited since the build still loads the whole of Handlebars, compiler
//   included, from node_modules (render.ts).
// The code is the libraries' own, unchanged (esbuild only joins the modules), so every message
// and every rendered byte is the same. Running the sources (tsx src/...) uses node_modules.
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const vendor = join(dist, "vendor");

/** z.locales (every translation of zod's messages) as an empty namespace: facteur never switches zod's language. */
const noLocalesIndex = {
  name: "no-locales-index",
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, () => ({ path: "zod-locales", namespace: "facteur-empty" }));
    b.onLoad({ filter: /.*/, namespace: "facteur-empty" }, () => ({ contents: "export {};\n", loader: "js" }));
  },
};

/**
 * The zod functions facteur calls, as the `z` its compiled modules import: named imports let
 * esbuild leave out the schema types nothing uses (zod marks their constructors pure). A call
 * of a member missing here fails as the module loads (every schema is built at import), which
 * the package test runs; test/package.test.ts also checks this list against the sources.
 */
export const ZOD_MEMBERS = ["array", "boolean", "discriminatedUnion", "enum", "literal", "number", "object", "record", "string", "toJSONSchema", "union"];
// (Renamed on import: `enum` is a reserved word.)
const ZOD_ENTRY = `import { ${ZOD_MEMBERS.map((m, i) => `${m} as m${i}`).join(", ")} } from "zod";\nexport const z = Object.freeze({ ${ZOD_MEMBERS.map((m, i) => `${m}: m${i}`).join(", ")} });\n`;

const bundles = [
  { out: "zod.js", format: "esm", entry: ZOD_ENTRY, plugins: [noLocalesIndex], specifier: /from "zod";/g, replace: (rel) => `from ${JSON.stringify(rel)};` },
  {
    out: "handlebars.runtime.cjs",
    format: "cjs",
    entry: 'module.exports = require("handlebars/runtime");\n',
    plugins: [],
    specifier: /"handlebars\/runtime"/g,
    replace: (rel) => JSON.stringify(rel),
  },
];

async function main() {
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []));
  const compiled = walk(dist).filter((f) => !f.startsWith(vendor));

  for (const b of bundles) {
    const out = join(vendor, b.out);
    await build({
      stdin: { contents: b.entry, resolveDir: root, sourcefile: `${b.out}-entry.js` },
      bundle: true,
      format: b.format,
      platform: "node",
      outfile: out,
      minify: true,
      legalComments: "inline",
      logLevel: "warning",
      plugins: b.plugins,
    });
    // Every compiled module that loads the library loads the bundle instead (type-only imports are gone after tsc).
    let rewritten = 0;
    for (const file of compiled) {
      const text = readFileSync(file, "utf8");
      if (!b.specifier.test(text)) continue;
      b.specifier.lastIndex = 0;
      let rel = relative(dirname(file), out);
      if (!rel.startsWith(".")) rel = `./${rel}`;
      writeFileSync(file, text.replace(b.specifier, b.replace(rel)));
      rewritten++;
    }
    if (rewritten === 0) throw new Error(`bundle-vendor: no compiled module loads ${b.out}; is dist/ built?`);
  }
}

// Run by the build; imported by test/package.test.ts for ZOD_MEMBERS only.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
