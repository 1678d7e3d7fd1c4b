// Preload (node --import) for bench/cli.bench.ts: writes this process's peak memory (max RSS,
// KiB) to the file FACTEUR_BENCH_RSS names when it exits.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.FACTEUR_BENCH_RSS) writeFileSync(process.env.FACTEUR_BENCH_RSS, String(process.resourceUsage().maxRSS));
});
