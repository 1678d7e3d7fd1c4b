// Benchmark: spec text -> validated spec -> model -> plan -> rendered bundles, for a generated
// stack of 1,000 domains and 100,000 aliases and one 10x smaller, measured side by side in one
// run. Each size runs in its own child process so peak memory (max RSS) is its own.
// Usage: npm run bench            (prints time, peak memory and the large/small ratios)
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { generatedSpecText } from "./generated-spec.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";
import { renderStack } from "../src/render/render.ts";

function measureOnce(domains: number): { seconds: number; maxRssMiB: number; files: number; bytes: number } {
  const text = generatedSpecText(domains, 100);
  const start = process.hrtime.bigint();
  const model = buildModel(parseSpec(text, `generated-${domains}.facteur.yaml`));
  const plan = buildPlan(model);
  const bundles = renderStack(model, plan, { root: "" });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const files = bundles.reduce((n, b) => n + b.files.length, 0);
  const bytes = bundles.reduce((n, b) => n + b.files.reduce((m, f) => m + f.content.length, 0), 0);
  return { seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024, files, bytes };
}

const child = process.env.FACTEUR_BENCH_DOMAINS;
if (child) {
  process.stdout.write(JSON.stringify(measureOnce(Number(child))));
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (domains: number) => {
    const r = spawnSync(process.execPath, ["--import", "tsx", self], { env: { ...process.env, FACTEUR_BENCH_DOMAINS: String(domains) }, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bench child (${domains} domains) failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ReturnType<typeof measureOnce>;
  };
  const small = run(100);
  const large = run(1000);
  const row = (label: string, m: typeof small) =>
    `${label.padEnd(34)} ${m.seconds.toFixed(2).padStart(7)} s ${m.maxRssMiB.toFixed(0).padStart(7)} MiB peak  ${m.files} files, ${(m.bytes / 1e6).toFixed(1)} MB`;
  console.log(row("100 domains, 10,000 aliases", small));
  console.log(row("1,000 domains, 100,000 aliases", large));
  console.log(`ratio large/small (input is 10x): time ${(large.seconds / small.seconds).toFixed(1)}x, peak memory ${(large.maxRssMiB / small.maxRssMiB).toFixed(1)}x`);
  console.log(`target: large under 3 s and linear growth: ${large.seconds < 3 ? "met" : "NOT met"} (${large.seconds.toFixed(2)} s)`);
}
