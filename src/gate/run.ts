// Runs the deploy gate on this machine, exactly the bash the apply script runs on a host
// (postfix.ts): used by the tests, and by anyone who wants to try a rendered config first.
import { spawn } from "node:child_process";
import { gateFunctions } from "./postfix.ts";

export interface GateVerdict {
  ok: boolean;
  /** One line per reason ("postfix/smtpd[12]: fatal: bad numerical configuration: ..."). */
  reasons: string[];
  ms: number;
}

/** Runs the Postfix gate on `configDir` (main.cf, master.cf) with the bundle's probe recipients. Needs root. */
export function runPostfixGate(configDir: string, recipients: string[], options: { tmpDir?: string; timeoutMs?: number } = {}): Promise<GateVerdict> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `${gateFunctions()}\nfacteur_gate "$@"`, "facteur-gate", configDir, ...recipients], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...(options.tmpDir ? { FACTEUR_GATE_TMP: options.tmpDir } : {}) },
    });
    let stderr = "";
    child.stdout.on("data", () => {});
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 90_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = stderr.split("\n").filter(Boolean);
      const reasons = lines.filter((l) => l.startsWith("gate: ")).map((l) => l.slice(6));
      resolve({ ok: code === 0, reasons: code === 0 ? reasons : reasons.length ? reasons : lines, ms: Date.now() - started });
    });
  });
}
