// `facteur check --delivery`: its arguments, and the source it reads: each relay's and
// smarthost's queue and recent log, judged by the engine (src/check/delivery) against
// policy.deliveryHealth, as a Nagios plugin (first line, exit 0/1/2/3) or JSON. In the lab it
// reads the hosts directly (postqueue -j on each instance, its maillog_file, as the lab's state
// names it); in production it asks each host over SSH as the read-only log user
// (`delivery since <t>`: the same queue listing and log, src/trace/logUser.ts).
import { parseArgs } from "node:util";
import { existsSync, openSync, readSync, fstatSync, closeSync } from "node:fs";
import { loadSpecFile } from "../spec/load.ts";
import { stackSpecPath, STACKS_DIR } from "../paths.ts";
import { buildModel, type Model } from "../model/model.ts";
import { readLabState, type LabState } from "../lab/index.ts";
import { run } from "../lab/proc.ts";
import { localClock, parseDuration, SyslogTimes } from "../trace/clock.ts";
import { EXIT, jsonReport, textReport, worst } from "../check/report.ts";
import type { CheckResult } from "../check/checks.ts";
import { deliveryHealth, parseQueueJson, type DeliveryReport, type HostDelivery } from "../check/delivery/health.ts";
import { sshAsk } from "../trace/ssh.ts";
import { UsageError } from "./usage.ts";
import { SSH_FLAGS, sshFlags, sshOptions, sshTargets, type SshFlags } from "./sshArgs.ts";

/** The last `max` bytes of a file, from its first whole line. */
function tailText(path: string, max = 8 * 1024 * 1024): string {
  if (!existsSync(path)) return "";
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    const text = buf.toString("utf8");
    return start > 0 ? text.slice(text.indexOf("\n") + 1) : text;
  } finally {
    closeSync(fd);
  }
}

/** Lines of a Postfix log written since `sinceMs` (local time stamps, read with the trace's clock). */
function since(text: string, sinceMs: number): string {
  const times = new SyslogTimes(localClock());
  return text
    .split("\n")
    .filter((l) => times.at(l.slice(0, 15)) >= sinceMs)
    .join("\n");
}

/** A host whose queue could not be read: UNKNOWN, saying why. */
const unreadQueue = (host: string, note: string): CheckResult => ({ id: `queue:${host}`, state: "UNKNOWN", what: `${host}'s queue`, note });

/** Each plan host's queue and log window, read from a running lab stack. */
export async function labDelivery(state: LabState, model: Model, sinceMs: number): Promise<{ hosts: HostDelivery[]; unread: CheckResult[] }> {
  const ours = new Map<string, "relay" | "smarthost">([...model.relays.map((r) => [r.name, "relay"] as const), ...model.smarthosts.map((s) => [s.name, "smarthost"] as const)]);
  const hosts: HostDelivery[] = [];
  const unread: CheckResult[] = [];
  for (const h of state.hosts) {
    const role = ours.get(h.name);
    if (!role) continue;
    const q = await run(["postqueue", "-c", h.postfixDir, "-j"], { timeoutMs: 30_000 });
    if (q.code !== 0) {
      unread.push(unreadQueue(h.name, `postqueue -j failed (exit ${q.code}): ${(q.stderr || q.stdout).trim().split("\n")[0]}`));
      continue;
    }
    const log = h.maillog;
    hosts.push({ host: h.name, role, queue: parseQueueJson(q.stdout), ...(log ? { log: since(tailText(log), sinceMs), clock: localClock() } : {}) });
  }
  return { hosts, unread };
}

/** Each plan host's queue and log window, asked over SSH; a host that cannot be read is UNKNOWN. */
export async function sshDelivery(model: Model, sinceMs: number, args: SshFlags): Promise<{ hosts: HostDelivery[]; unread: CheckResult[] }> {
  const targets = sshTargets(model, args.addresses).filter((t) => t.role === "relay" || t.role === "smarthost");
  const { answers, failures } = await sshAsk(targets, sinceMs, "delivery", sshOptions(args));
  const unread: CheckResult[] = failures.map((f) => unreadQueue(f.host, f.why));
  const hosts: HostDelivery[] = [];
  for (const { target: t, answer: a } of answers) {
    if (!a.complete) {
      unread.push(unreadQueue(t.host, "the host's answer was cut short"));
      continue;
    }
    if (a.queueStatus !== 0) {
      const said = a.queue.toString("utf8").trim().split("\n")[0] ?? "";
      unread.push(unreadQueue(t.host, a.queueStatus === undefined ? "the host's reader does not answer delivery requests (re-apply the host)" : `postqueue -j failed (exit ${a.queueStatus}): ${said}`));
      continue;
    }
    hosts.push({ host: t.host, role: t.role as "relay" | "smarthost", queue: parseQueueJson(a.queue.toString("utf8")), log: a.postfix.toString("utf8"), clock: { offsetMinutes: a.offsetMinutes, nowMs: a.nowMs } });
  }
  return { hosts, unread };
}

export interface DeliveryRun {
  report: DeliveryReport;
  results: CheckResult[];
  exitCode: number;
  output: string;
}

export async function runDeliveryCheck(argv: string[]): Promise<DeliveryRun> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      stacks: { type: "string", default: STACKS_DIR },
      source: { type: "string" },
      since: { type: "string", default: "1h" },
      json: { type: "boolean", default: false },
      ...SSH_FLAGS,
    },
    allowPositionals: false,
    strict: true,
  });
  if (!values.stack) throw new UsageError("--stack NAME is required");
  if (values.source !== undefined && values.source !== "lab" && values.source !== "ssh") throw new UsageError(`--source ${JSON.stringify(values.source)}: lab or ssh`);
  const ssh = sshFlags(values, values.source);
  const window = parseDuration(values.since);
  if (window === undefined) throw new UsageError(`--since: expected a duration such as 30m, 2h or 1d, got ${values.since}`);
  const state = readLabState(values.stack);
  const source = values.source ?? (state ? "lab" : "ssh");
  let model: Model;
  let read: { hosts: HostDelivery[]; unread: CheckResult[] };
  if (source === "lab") {
    if (!state) throw new UsageError(`no lab stack ${values.stack} runs here (facteur lab up --stack ${values.stack}); for production use --source ssh`);
    model = buildModel(loadSpecFile(existsSync(state.specFile) ? state.specFile : stackSpecPath(values.stacks, values.stack)));
    read = await labDelivery(state, model, Date.now() - window);
  } else {
    const file = stackSpecPath(values.stacks, values.stack);
    if (!existsSync(file)) throw new UsageError(`no stack "${values.stack}": ${file} does not exist`);
    model = buildModel(loadSpecFile(file));
    read = await sshDelivery(model, Date.now() - window, ssh);
  }
  const { hosts, unread } = read;
  const report = deliveryHealth(model, hosts);
  const results = [...report.results, ...unread];
  const extra = { stack: values.stack, source, deferred: report.deferred, queues: report.queues };
  const output = values.json ? jsonReport(results, extra) : textReport(results);
  return { report, results, exitCode: EXIT[worst(results)], output };
}
