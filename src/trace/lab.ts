// Reading a lab stack's logs: the files LabState names for each host (Postfix's maillog, rspamd's
// log, the syslog listener's file with OpenDKIM and postsrsd). The plan's hosts are the fleet;
// the lab's outside MX hosts are read too, as destinations (and external relays), so a trace
// shows what the destination did with the message.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LabState } from "../lab/index.ts";
import { byArrival, sinkMaildirNew } from "../lab/sink.ts";
import type { Model } from "../model/model.ts";
import { daemonFacts } from "../render/daemons/index.ts";
import { localClock } from "./clock.ts";
import { fileBytes, type FileBytes } from "./files.ts";
import type { Clock, DestinationCheck, HostLog, HostRole, Path, Trace } from "./types.ts";

export interface LabLogs {
  logs: HostLog[];
  warnings: string[];
}

function read(file: string | undefined, warnings: string[], host: string): FileBytes | undefined {
  if (!file) return undefined;
  if (!existsSync(file)) {
    warnings.push(`${host}: ${file} does not exist (yet)`);
    return undefined;
  }
  return fileBytes(file);
}

export function labLogs(state: LabState, model: Model, clock: Clock = localClock()): LabLogs {
  const warnings: string[] = [];
  const logs: HostLog[] = [];
  const relays = new Set(model.relays.map((r) => r.name));
  const smarthosts = new Map(model.smarthosts.map((s) => [s.name, s]));
  const sinkRoots = new Set(Object.values(state.mailboxes).map((m) => m.replace(/\/mail$/, "")));
  for (const h of state.hosts) {
    let role: HostRole | undefined;
    if (relays.has(h.name)) role = "relay";
    else if (smarthosts.has(h.name)) role = "smarthost";
    else if (sinkRoots.has(h.root)) role = /external relay/.test(h.role) ? "external-relay" : "destination";
    if (!role) continue; // the lab DNS, the outside sender and the bare client log no mail of ours
    // Each log as the lab state names it: Postfix's maillog, rspamd's own log (its facts), the syslog listener's file.
    const postfix = read(h.maillog, warnings, h.name);
    if (!postfix) continue;
    const rspamd = read(daemonFacts(h.daemons ?? [], "rspamd")?.logs[0]?.path, warnings, h.name);
    const syslog = h.syslog && existsSync(h.syslog) ? fileBytes(h.syslog) : undefined;
    const lane = smarthosts.get(h.name)?.lane;
    logs.push({
      host: h.name,
      role,
      names: h.names,
      addresses: [...h.ipv4, ...h.ipv6],
      ...(lane ? { lane } : {}),
      postfix,
      ...(rspamd ? { rspamd } : {}),
      ...(syslog ? { syslog } : {}),
      clock,
    });
  }
  return { logs, warnings };
}

export interface VerifyTarget {
  ns: string;
  resolv: string;
}

/**
 * "What the destination saw": for each path that ended at a lab destination, the stored copy
 * (found by the destination's queue id in its own Received header) checked by mailauth, run in
 * that destination's namespace so it resolves through the lab DNS like a real receiver.
 */
export async function addDestinationChecks(state: LabState, t: Trace, run: LabRun): Promise<string[]> {
  const warnings: string[] = [];
  const jobs = new Map<string, { job: VerifyJob; paths: Path[] }>();
  for (const m of t.messages) {
    for (const p of m.paths) {
      const last = p.hops.at(-1);
      if (!last || last.role !== "destination" || p.outcome.status !== "delivered" || !last.queueId || !last.arrival) continue;
      const host = state.hosts.find((h) => h.name === last.host);
      if (!host) continue;
      const stored = storedCopy(state, p.to, last.queueId, host.names[0] ?? "");
      if (!stored) {
        warnings.push(`${last.host}: no stored copy of ${last.queueId} for ${p.to}`);
        continue;
      }
      const key = `${host.ns}\0${stored.file}`;
      const existing = jobs.get(key);
      if (existing) existing.paths.push(p);
      else
        jobs.set(key, {
          job: { ns: host.ns, file: stored.file, ip: last.arrival.client.ip, helo: stored.helo ?? last.arrival.client.name, sender: last.envelopeFrom ?? "", mta: host.names[0] ?? host.name },
          paths: [p],
        });
    }
  }
  const byNs = new Map<string, { job: VerifyJob; paths: Path[] }[]>();
  for (const j of jobs.values()) (byNs.get(j.job.ns) ?? byNs.set(j.job.ns, []).get(j.job.ns)!).push(j);
  // Beside this module (plain JavaScript, in the sources as in dist/).
  const script = fileURLToPath(new URL("./verify-stored.mjs", import.meta.url));
  await Promise.all(
    [...byNs].map(async ([ns, list]) => {
      const input = JSON.stringify(list.map(({ job: { ns: _ns, ...j } }) => j));
      const r = await run([process.execPath, script], { ns, resolv: state.resolv, input, timeoutMs: 60_000 });
      let results: (DestinationCheck & { error?: string })[] = [];
      try {
        results = JSON.parse(r.stdout) as typeof results;
      } catch {
        warnings.push(`${ns}: the verifier failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
        return;
      }
      results.forEach((res, i) => {
        if (res.error) warnings.push(`${list[i]!.job.file}: ${res.error}`);
        else for (const p of list[i]!.paths) p.destination = { file: res.file, verifier: "mailauth", spf: res.spf, dkim: res.dkim, dmarc: res.dmarc, arc: res.arc, authResults: res.authResults };
      });
    }),
  );
  return warnings;
}

interface VerifyJob {
  ns: string;
  file: string;
  ip: string;
  helo: string;
  sender: string;
  mta: string;
}

export type LabRun = (argv: string[], opts: { ns: string; resolv: string; input: string; timeoutMs: number }) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The copy a lab destination stored for `to` under its queue id (its own Received header names it), and the HELO it was given. */
function storedCopy(state: LabState, to: string, queueId: string, mta: string): { file: string; helo?: string } | undefined {
  const [local, domain] = to.toLowerCase().split("@") as [string, string];
  const base = state.mailboxes[domain ?? ""];
  if (!base || !local) return undefined;
  const dir = sinkMaildirNew(base, domain, local);
  if (!existsSync(dir)) return undefined;
  const by = new RegExp(`^Received: from (\\S+) [^\\n]*(?:\\n[ \\t][^\\n]*)*?\\n[ \\t]+by ${mta.replace(/\./g, "\\.")} \\(Postfix\\) with E?SMTPS?A? id ${queueId}\\b`, "m");
  for (const f of byArrival(readdirSync(dir)).reverse()) {
    const file = `${dir}/${f}`;
    const head = readFileSync(file, "utf8").split(/\r?\n\r?\n/)[0]!;
    const m = by.exec(head);
    if (m) return { file, helo: m[1]! };
  }
  return undefined;
}
