// Preload (node --import) that logs every module the process resolves, one URL a line, to the
// file named by FACTEUR_MODULE_LOG: what a command loaded, for test/package.test.ts.
import { register } from "node:module";

register("./module-log-hooks.mjs", import.meta.url, { data: { file: process.env.FACTEUR_MODULE_LOG } });
