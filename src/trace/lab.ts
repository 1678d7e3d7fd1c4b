// Reading a lab stack's logs: the files LabState names for each host (Postfix's maillog, rspamd's
// log, the syslog listener's file with OpenDKIM and postsrsd). The plan's hosts are the fleet;
// the lab's outside MX hosts are read too, as destinations (and external relays), so a trace
// shows what the destination did with the message.
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import type { LabState } from "../lab/index.ts";
import type { Model } from "../model/model.ts";
import { localClock } from "./clock.ts";
import type { Clock, HostLog, HostRole } from "./types.ts";

export interface LabLogs {
  logs: HostLog[];
  warnings: string[];
}

function read(file: string | undefined, warnings: string[], host: string): Buffer | undefined {
  if (!file) return undefined;
  if (!existsSync(file)) {
    warnings.push(`${host}: ${file} does not exist (yet)`);
    return undefined;
  }
  return readFileSync(file);
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
    const file = (name: string) => h.logs.find((l) => basename(l) === name);
    const postfix = read(file("postfix.log"), warnings, h.name);
    if (!postfix) continue;
    const rspamd = read(file("rspamd.log"), warnings, h.name);
    const syslog = file("syslog.log") && existsSync(file("syslog.log")!) ? readFileSync(file("syslog.log")!) : undefined;
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
