// A StrykerJS reporter that appends each surviving mutant to reports/mutation/survivors.txt as it
// is found, one line (file:line:col mutator: original -> replacement), so test gaps can be worked
// on while a long mutation run is still going (the json and html reports are written at the end).
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { PluginKind, declareClassPlugin } from "@stryker-mutator/api/plugin";

const FILE = "reports/mutation/survivors.txt";

class SurvivorsReporter {
  constructor() {
    mkdirSync("reports/mutation", { recursive: true });
    writeFileSync(FILE, "");
  }
  onMutantTested(result) {
    if (result.status !== "Survived" && result.status !== "NoCoverage") return;
    const { line, column } = result.location.start;
    const replacement = (result.replacement ?? "").replace(/\s+/g, " ").slice(0, 160);
    appendFileSync(FILE, `${result.fileName}:${line}:${column + 1} ${result.mutatorName}: ${replacement}\n`);
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "survivors", SurvivorsReporter)];
