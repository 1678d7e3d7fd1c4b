// Build step (npm run build, after tsc): zod as one module, dist/vendor/zod.js, and the compiled
// modules pointed at it. Loading zod from node_modules is about 260 ES modules, each resolved,
// read and linked; zod's entry points also load all of its 60-odd locales, of which facteur
// uses English only (zod's classic schemas import it themselves and make it the default).
// One bundled module, with the locales' index left out, loads in a fraction of the time: most
// of what `facteur validate` of a small stack spent beyond node's own start (issue 13).
// The code is zod's own, unchanged (esbuild only joins the modules), so every message is the same.
// Running the sources (tsx src/...) still imports zod from node_modules.
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const out = join(dist, "vendor", "zod.js");

await build({
  stdin: { contents: 'export { z } from "zod";\n', resolveDir: root, sourcefile: "zod-entry.js" },
  bundle: true,
  format: "esm",
  platform: "node",
  outfile: out,
  minify: true,
  legalComments: "inline",
  logLevel: "warning",
  plugins: [
    {
      // z.locales (every translation of zod's messages) as an empty namespace: facteur never
      // switches zod's language, and English comes from zod's schemas' own import of locales/en.
      name: "no-locales-index",
      setup(build) {
        build.onResolve({ filter: /\/locales\/index\.js$/ }, () => ({ path: "zod-locales", namespace: "facteur-empty" }));
        build.onLoad({ filter: /.*/, namespace: "facteur-empty" }, () => ({ contents: "export {};\n", loader: "js" }));
      },
    },
  ],
});

// Every compiled module that imports "zod" imports the bundle instead (type-only imports are gone after tsc).
const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []));
let rewritten = 0;
for (const file of walk(dist)) {
  if (file === out) continue;
  const text = readFileSync(file, "utf8");
  if (!/from "zod";/.test(text)) continue;
  let rel = relative(dirname(file), out);
  if (!rel.startsWith(".")) rel = `./${rel}`;
  writeFileSync(file, text.replace(/from "zod";/g, `from ${JSON.stringify(rel)};`));
  rewritten++;
}
if (rewritten === 0) throw new Error("bundle-zod: no compiled module imports zod; is dist/ built?");
