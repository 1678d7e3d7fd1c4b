// `facteur trace`: where did a message go? Reads the logs of every relay and smarthost of a
// stack (the lab's files, or production over SSH as the read-only log user), joins them into
// one path per recipient (join.ts) and prints it.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { loadSpecFile } from "../spec/load.ts";
import { STACKS_DIR, stackSpecPath } from "../paths.ts";
import { buildModel } from "../model/model.ts";
import { UsageError } from "./usage.ts";
import { parseDuration, localClock } from "../trace/clock.ts";
import { trace } from "../trace/join.ts";
import { formatTrace, traceJson } from "../trace/format.ts";
import { sshLogs } from "../trace/ssh.ts";
import { SSH_FLAGS, SSH_USAGE, sshFlags, sshOptions, sshTargets, type SshFlags } from "./sshArgs.ts";
import type { HostLog, Query, Trace } from "../trace/types.ts";

export const TRACE_USAGE = `usage: facteur trace --stack NAME (--message-id ID | --to ADDR | --from ADDR)
                     [--since DURATION] [--limit N] [--json] [--source lab|ssh]
                     ${SSH_USAGE} [--stacks DIR]
  --since      how far back to look: 90s, 30m, 2h, 1d, 1w or sums like 1h30m (default 24h)
  --source     lab: the running lab stack's log files; ssh: every host over SSH as the read-only
               log user (default: lab when a lab of that name runs here, else ssh)
  exit 0: traced; 1: nothing matched, or a host's logs could not be read; 2: bad flags`;

const ADDRESS = /^[^\s<>@"]{1,64}@[A-Za-z0-9.-]{1,253}$/;
const MESSAGE_ID = /^<?[^\s<>]{1,990}>?$/;

export interface TraceArgs extends SshFlags {
  stack: string;
  query: Query;
  sinceMs: number;
  limit: number;
  json: boolean;
  source?: "lab" | "ssh";
  stacks: string;
}

/** Flags -> arguments, or a UsageError saying what is wrong (exit 2). */
export function parseTraceArgs(argv: string[], nowMs = Date.now()): TraceArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        stacks: { type: "string", default: STACKS_DIR },
        "message-id": { type: "string" },
        to: { type: "string" },
        from: { type: "string" },
        since: { type: "string", default: "24h" },
        limit: { type: "string", default: "20" },
        json: { type: "boolean", default: false },
        source: { type: "string" },
        ...SSH_FLAGS,
      },
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message.replace(/\. To specify a positional.*$/s, ".")}\n${TRACE_USAGE}`);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length) throw new UsageError(`unexpected argument${positionals.length > 1 ? "s" : ""}: ${positionals.join(" ")}\n${TRACE_USAGE}`);
  if (!v.stack) throw new UsageError(`--stack NAME is required\n${TRACE_USAGE}`);
  const given = (["message-id", "to", "from"] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError(`give exactly one of --message-id, --to, --from${given.length ? ` (got ${given.map((k) => `--${k}`).join(" and ")})` : ""}\n${TRACE_USAGE}`);
  const kind = given[0]!;
  const value = v[kind]!.trim();
  if (kind === "message-id" ? !MESSAGE_ID.test(value) || value === "<>" : !ADDRESS.test(value))
    throw new UsageError(`--${kind} ${JSON.stringify(v[kind])}: ${kind === "message-id" ? "not a Message-ID (no spaces, at most 990 characters)" : "not a mail address (local@domain)"}`);
  const since = parseDuration(v.since!);
  if (since === undefined) throw new UsageError(`--since ${JSON.stringify(v.since)}: not a duration (90s, 30m, 2h, 1d, 1w, or sums like 1h30m; at most a year)`);
  if (!/^\d{1,5}$/.test(v.limit!) || Number(v.limit) < 1) throw new UsageError(`--limit ${JSON.stringify(v.limit)}: a number of messages from 1 to 99999`);
  if (v.source !== undefined && v.source !== "lab" && v.source !== "ssh") throw new UsageError(`--source ${JSON.stringify(v.source)}: lab or ssh`);
  const ssh = sshFlags(v, v.source);
  return {
    stack: v.stack,
    query: { kind, value: kind === "message-id" ? value.replace(/^<(.*)>$/, "$1") : value },
    sinceMs: nowMs - since,
    limit: Number(v.limit),
    json: v.json!,
    ...(v.source ? { source: v.source as "lab" | "ssh" } : {}),
    stacks: v.stacks!,
    ...ssh,
  };
}

export async function traceCommand(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${TRACE_USAGE}\n`);
    return 0;
  }
  const args = parseTraceArgs(argv);
  const { readLabState } = await import("../lab/index.ts");
  const labRunning = readLabState(args.stack);
  const source = args.source ?? (labRunning ? "lab" : "ssh");
  let logs: HostLog[];
  let warnings: string[];
  let sourceText: string;
  let offsetMinutes = localClock().offsetMinutes;
  let labState = labRunning;
  let unread = 0;
  if (source === "lab") {
    if (!labState) throw new UsageError(`no lab stack "${args.stack}" runs on this machine (facteur lab up --stack ${args.stack}); for production use --source ssh`);
    const model = buildModel(loadSpecFile(labState.specFile));
    const { labLogs } = await import("../trace/lab.ts");
    ({ logs, warnings } = labLogs(labState, model));
    sourceText = `lab ${labState.root}`;
  } else {
    labState = undefined;
    const file = stackSpecPath(args.stacks, args.stack);
    if (!existsSync(file)) throw new UsageError(`no stack "${args.stack}": ${file} does not exist`);
    const model = buildModel(loadSpecFile(file));
    const targets = sshTargets(model, args.addresses);
    ({ logs, warnings } = await sshLogs(targets, args.sinceMs, sshOptions(args)));
    sourceText = `over SSH as ${args.sshUser ?? "facteur-logs"}`;
    unread = targets.length - logs.length;
    if (logs[0]) offsetMinutes = logs[0].clock.offsetMinutes;
  }
  const t: Trace = trace(logs, args.query, { sinceMs: args.sinceMs, limit: args.limit });
  t.warnings.unshift(...warnings);
  if (labState) {
    const { addDestinationChecks } = await import("../trace/lab.ts");
    const { run } = await import("../lab/proc.ts");
    t.warnings.push(...(await addDestinationChecks(labState, t, run)));
  }
  process.stdout.write(args.json ? traceJson(t) : formatTrace(t, { offsetMinutes, source: sourceText }));
  if (unread) process.stderr.write(`facteur trace: ${unread} host${unread > 1 ? "s" : ""} could not be read; the trace is incomplete:\n${warnings.map((w) => `  ${w}`).join("\n")}\n`);
  return t.messages.length === 0 || unread > 0 ? 1 : 0;
}
