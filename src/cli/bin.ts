#!/usr/bin/env node
// Entry point: `npx facteur <command>` runs the compiled dist/cli/bin.js (npm run build);
// `npm run facteur -- <command>` or `tsx src/cli/bin.ts <command>` runs the sources.
import { main } from "./main.ts";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`facteur: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(70);
  },
);
