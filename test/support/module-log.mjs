// Preload (node --import) that logs every module the process loads, one URL a line, to the file
// named by FACTEUR_MODULE_LOG: what a command loaded, for test/package.test.ts. ES modules are
// logged as they are resolved (loader hooks); CommonJS ones, which node 20 loads without those
// hooks when they are require()d, from the require cache when the process exits.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

const file = process.env.FACTEUR_MODULE_LOG;
register("./module-log-hooks.mjs", import.meta.url, { data: { file } });
process.on("exit", () => {
  const required = Object.keys(createRequire(import.meta.url).cache).map((p) => pathToFileURL(p).href);
  if (file) appendFileSync(file, required.map((u) => `${u}\n`).join(""));
});
