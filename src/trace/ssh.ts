// Reading production hosts: one `ssh` per host, as the read-only log user the apply step creates
// (src/trace/logUser.ts). Its key can only run the forced command, which answers
// `maillog since <t>` with the host's Postfix and rspamd logs and OpenDKIM/postsrsd from the
// journal, and `delivery since <t>` with its queue and Postfix's log.
import { spawn } from "node:child_process";
import { LOG_USER, parseAnswer, request, type MaillogAnswer, type RequestKind } from "./protocol.ts";
import type { HostLog, HostRole } from "./types.ts";

export interface SshTarget {
  host: string;
  role: HostRole;
  names: string[];
  addresses: string[];
  lane?: "clean" | "spam";
  /** Where to connect: an address from --addresses, else the host's name. */
  connect: string;
}

export interface SshOptions {
  user?: string;
  identity?: string;
  port?: number;
  /** Seconds before a host that does not answer is given up. */
  timeoutSeconds?: number;
  /** The ssh program and leading arguments (tests run it inside a namespace). */
  ssh?: string[];
  /** Extra -o options, e.g. UserKnownHostsFile=... */
  options?: string[];
}

function sshArgv(t: SshTarget, ask: string, o: SshOptions): string[] {
  return [
    ...(o.ssh ?? ["ssh"]),
    "-o", "BatchMode=yes",
    "-o", `ConnectTimeout=${o.timeoutSeconds ?? 15}`,
    "-o", "RequestTTY=no",
    "-C",
    ...(o.identity ? ["-i", o.identity, "-o", "IdentitiesOnly=yes"] : []),
    ...(o.port ? ["-p", String(o.port)] : []),
    ...(o.options ?? []).flatMap((x) => ["-o", x]),
    "-l", o.user ?? LOG_USER,
    "--", t.connect,
    ask,
  ];
}

function runSsh(argv: string[], timeoutMs: number): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, out: Buffer.alloc(0), err: String(e) });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), out: Buffer.concat(chunks), err });
    });
  });
}

/** Every host's answer to one request, fetched in parallel; a host that cannot be read is a warning naming it and why. */
export async function sshAsk(targets: SshTarget[], sinceMs: number, kind: RequestKind, o: SshOptions = {}): Promise<{ answers: { target: SshTarget; answer: MaillogAnswer }[]; failures: { host: string; why: string }[] }> {
  const failures: { host: string; why: string }[] = [];
  const results = await Promise.all(
    targets.map(async (t) => {
      const r = await runSsh(sshArgv(t, request(sinceMs, kind), o), ((o.timeoutSeconds ?? 15) + 300) * 1000);
      if (r.code !== 0) {
        failures.push({ host: t.host, why: `ssh ${o.user ?? LOG_USER}@${t.connect} failed (exit ${r.code}): ${r.err.trim().split("\n").slice(-2).join(" ") || "no message"}` });
        return undefined;
      }
      try {
        return { target: t, answer: parseAnswer(r.out) };
      } catch (e) {
        failures.push({ host: t.host, why: `${(e as Error).message} (is the forced command of ${o.user ?? LOG_USER} facteur's?)` });
        return undefined;
      }
    }),
  );
  return { answers: results.filter((x) => x !== undefined), failures };
}

/** Every host's logs (`maillog since`), for facteur trace. */
export async function sshLogs(targets: SshTarget[], sinceMs: number, o: SshOptions = {}): Promise<{ logs: HostLog[]; warnings: string[] }> {
  const { answers, failures } = await sshAsk(targets, sinceMs, "maillog", o);
  const warnings = [
    ...failures.map((f) => `${f.host}: ${f.why}`),
    ...answers.filter((a) => !a.answer.complete).map((a) => `${a.target.host}: the log answer was cut short; what arrived is used`),
  ];
  const logs = answers.map(({ target: t, answer: a }): HostLog => ({
    host: t.host,
    role: t.role,
    names: t.names,
    addresses: t.addresses,
    ...(t.lane ? { lane: t.lane } : {}),
    postfix: a.postfix,
    ...(a.rspamd.length ? { rspamd: a.rspamd } : {}),
    ...(a.journal.length ? { syslog: a.journal } : {}),
    clock: { offsetMinutes: a.offsetMinutes, nowMs: a.nowMs },
  }));
  return { logs, warnings };
}
