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

const bundles = [
  { out: "zod.js", format: "esm", entry: 'export { z } from "zod";\n', plugins: [noLocalesIndex], specifier: /from "zod";/g, replace: (rel) => `from ${JSON.stringify(rel)};` },
  {
    out: "handlebars.runtime.cjs",
    format: "cjs",
    entry: 'module.exports = require("handlebars/runtime");\n',
    plugins: [],
    specifier: /"handlebars\/runtime"/g,
    replace: (rel) => JSON.stringify(rel),
  },
];

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
