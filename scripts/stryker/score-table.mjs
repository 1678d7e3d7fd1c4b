// Prints the README's mutation score table from a finished run's per-file counts
// (reports/mutation/progress.json, written by the survivors reporter): one row per layer
// (src/spec, src/model, src/plan, src/render, src/order.ts) and the total. Detected = killed or
// timed out; undetected = survived or not covered; the score is detected / (detected + undetected),
// as Stryker counts it. Usage: node scripts/stryker/score-table.mjs [progress.json] [--commit SHA] [--date YYYY-MM-DD]
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args.splice(i, 2)[1];
};
const commit = opt("--commit") ?? "";
const date = opt("--date") ?? new Date().toISOString().slice(0, 10);
const file = args[0] ?? "reports/mutation/progress.json";
const counts = JSON.parse(readFileSync(file, "utf8"));
const LAYERS = ["src/spec", "src/model", "src/plan", "src/render", "src/order.ts"];
const layerOf = (f) => LAYERS.find((l) => f === l || f.startsWith(`${l}/`));

const rows = new Map(LAYERS.map((l) => [l, { detected: 0, undetected: 0 }]));
for (const [f, c] of Object.entries(counts)) {
  const l = layerOf(f);
  if (!l) throw new Error(`${file}: ${f} is in no layer of the table`);
  rows.get(l).detected += c.detected;
  rows.get(l).undetected += c.undetected;
}
const total = [...rows.values()].reduce((a, r) => ({ detected: a.detected + r.detected, undetected: a.undetected + r.undetected }), { detected: 0, undetected: 0 });
const line = (name, r) => {
  const n = r.detected + r.undetected;
  return `| ${name} | ${n} | ${r.detected} | ${r.undetected} | ${n ? ((100 * r.detected) / n).toFixed(2) : "-"} % | ${date}${commit ? `, commit ${commit}` : ""} |`;
};
console.log("| layer | mutants | killed or timed out | survived or not covered | score | measured on |");
console.log("|---|---:|---:|---:|---:|---|");
for (const [l, r] of rows) console.log(line(`\`${l}\``, r));
console.log(line("**all**", total));
