// Process management for the lab: run a command (optionally inside a network namespace with
// a per-host resolv.conf bind-mounted over /etc/resolv.conf), start daemons detached, and
// tear a namespace's processes down by `ip netns pids`.
import { spawn } from "node:child_process";
import { spawnCaptured } from "./spawner.ts";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the command was killed because it outlived its timeout. */
  timedOut?: number;
}

export interface RunOptions {
  /** Network namespace to run in (ip netns exec). */
  ns?: string;
  /** resolv.conf to bind-mount over /etc/resolv.conf (needs ns). */
  resolv?: string;
  input?: string;
  /**
   * Milliseconds before the command is killed (default DEFAULT_TIMEOUT_MS). A bound against
   * hangs, not a performance target: on a loaded 2-core machine with several stacks coming up,
   * even `openssl` or `postfix start` can take tens of seconds.
   */
  timeoutMs?: number;
  env?: Record<string, string>;
}

/** argv that runs cmd inside ns, with the host's resolver when given. */
export function nsArgv(argv: string[], ns?: string, resolv?: string): string[] {
  if (!ns) return argv;
  if (!resolv) return ["ip", "netns", "exec", ns, ...argv];
  return ["ip", "netns", "exec", ns, "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv, ...argv];
}

export const DEFAULT_TIMEOUT_MS = 180_000;

export async function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const limit = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Through the spawn helper (spawner.ts): a fork of node per command is what the lab's tests paid most for.
  const r = await spawnCaptured({ argv: nsArgv(argv, opts.ns, opts.resolv), env: { ...process.env, ...(opts.env ?? {}) }, input: opts.input ?? "", timeoutMs: limit });
  return { code: r.code, stdout: r.stdout, stderr: r.stderr, ...(r.timedOut ? { timedOut: limit } : {}) };
}

/** Runs and throws with a message naming what failed (and its output) on a non-zero exit. */
export async function must(what: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const out = (r.stderr + r.stdout).trim().split("\n").slice(-15).join("\n");
    const why = r.timedOut ? `killed after ${r.timedOut / 1000} s without finishing` : `exit ${r.code}`;
    throw new Error(`${what} failed (${why}): ${argv.join(" ")}${out ? `\n${out}` : ""}`);
  }
  return r;
}

/** Starts a long-running, non-daemonising program detached from us, output to a log file. */
export function spawnDetached(argv: string[], logFile: string, opts: { ns?: string; resolv?: string } = {}): number {
  const full = nsArgv(argv, opts.ns, opts.resolv);
  const child = spawn("sh", ["-c", 'exec "$@" >>"$0" 2>&1 </dev/null', logFile, ...full], { detached: true, stdio: "ignore" });
  child.unref();
  return child.pid ?? -1;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() resolves true or the time is up; returns whether it succeeded. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > end) return false;
    await sleep(stepMs);
  }
}

export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run(["ip", "netns", "pids", ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      /* already gone */
    }
  }
}

/** Stops every process in the namespace: TERM, a short grace, then KILL. */
export async function killNamespace(ns: string, graceMs = 1500): Promise<void> {
  let pids = await namespacePids(ns);
  if (!pids.length) return;
  signal(pids, "SIGTERM");
  await waitFor(async () => (await namespacePids(ns)).length === 0, graceMs, 100);
  pids = await namespacePids(ns);
  if (pids.length) {
    signal(pids, "SIGKILL");
    await waitFor(async () => (await namespacePids(ns)).length === 0, 3000, 100);
  }
}
