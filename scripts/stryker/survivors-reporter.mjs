// A StrykerJS reporter for long runs: it appends each surviving mutant to
// reports/mutation/survivors.txt as it is found (file:line:col mutator: replacement), so test
// gaps can be closed while the run goes on, and keeps reports/mutation/progress.json up to
// date with each file's counts so far (the json and html reports are written only at the end).
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { PluginKind, declareClassPlugin } from "@stryker-mutator/api/plugin";

const DIR = "reports/mutation";
const DETECTED = new Set(["Killed", "Timeout"]);
const UNDETECTED = new Set(["Survived", "NoCoverage"]);

class SurvivorsReporter {
  counts = {};
  constructor() {
    mkdirSync(DIR, { recursive: true });
    writeFileSync(`${DIR}/survivors.txt`, "");
  }
  onMutantTested(result) {
    const file = result.fileName.replace(/^.*?(?=src\/)/, "");
    const c = (this.counts[file] ??= { detected: 0, undetected: 0, other: 0 });
    if (DETECTED.has(result.status)) c.detected++;
    else if (UNDETECTED.has(result.status)) c.undetected++;
    else c.other++;
    if (UNDETECTED.has(result.status)) {
      const { line, column } = result.location.start;
      const replacement = (result.replacement ?? "").replace(/\s+/g, " ").slice(0, 160);
      appendFileSync(`${DIR}/survivors.txt`, `${file}:${line}:${column + 1} ${result.mutatorName}: ${replacement}\n`);
    }
    writeFileSync(`${DIR}/progress.json`, `${JSON.stringify(this.counts, null, 1)}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "survivors", SurvivorsReporter)];
