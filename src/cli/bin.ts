// Entry point: `npm run facteur -- <command>` or `tsx src/cli/bin.ts <command>`.
import { main } from "./main.ts";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`facteur: internal error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(70);
  },
);
