// Nagios-plugin shaped output: a first line a monitoring system can show as is, perf data,
// then one line per check; the exit code is the worst state.
import type { CheckResult, State } from "./checks.ts";

export const EXIT: Record<State, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/** CRITICAL > WARNING > UNKNOWN > OK (monitoring-plugins' max_state_alt). */
export function worst(results: CheckResult[]): State {
  const rank: State[] = ["OK", "UNKNOWN", "WARNING", "CRITICAL"];
  return results.reduce<State>((w, r) => (rank.indexOf(r.state) > rank.indexOf(w) ? r.state : w), "OK");
}

export function counts(results: CheckResult[]): Record<"ok" | "warning" | "critical" | "unknown", number> {
  const n = (s: State) => results.filter((r) => r.state === s).length;
  return { ok: n("OK"), warning: n("WARNING"), critical: n("CRITICAL"), unknown: n("UNKNOWN") };
}

export function nagiosLine(results: CheckResult[]): string {
  const c = counts(results);
  const state = worst(results);
  const parts = [c.critical && `${c.critical} critical`, c.warning && `${c.warning} warning`, c.unknown && `${c.unknown} unknown`].filter(Boolean);
  const summary = parts.length ? parts.join(", ") : `${c.ok} checks ok`;
  return `FACTEUR ${state} - ${summary} | ok=${c.ok} warning=${c.warning} critical=${c.critical} unknown=${c.unknown}`;
}

export function resultLine(r: CheckResult): string {
  const detail = [
    r.expected !== undefined && r.state !== "OK" ? `expected ${r.expected}` : undefined,
    r.found !== undefined ? `found ${r.found}` : undefined,
  ].filter(Boolean);
  return `${r.state.padEnd(8)} ${r.id}: ${r.what}${detail.length ? `: ${detail.join(", ")}` : ""}${r.note ? ` (${r.note})` : ""}`;
}

/** Problems first (worst first), then the OKs, each group in plan order. */
export function textReport(results: CheckResult[]): string {
  const order: State[] = ["CRITICAL", "WARNING", "UNKNOWN", "OK"];
  const sorted = order.flatMap((s) => results.filter((r) => r.state === s));
  return [nagiosLine(results), ...sorted.map(resultLine)].join("\n") + "\n";
}

export function jsonReport(results: CheckResult[], extra: object = {}): string {
  return JSON.stringify({ state: worst(results), exitCode: EXIT[worst(results)], counts: counts(results), ...extra, results }, null, 2) + "\n";
}
