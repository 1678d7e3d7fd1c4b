// The flags of the commands that read production hosts over SSH as the read-only log user
// (`facteur trace`, `facteur check --delivery`): their parseArgs options, their checks (a
// UsageError naming the flag), and the targets they connect to.
import { existsSync } from "node:fs";
import type { Model } from "../model/model.ts";
import { buildPlan } from "../plan/plan.ts";
import { loadAddressBook } from "../plan/addressBookFile.ts";
import type { SshOptions, SshTarget } from "../trace/ssh.ts";
import { UsageError } from "./usage.ts";

export const SSH_USAGE = `[--addresses FILE] [--ssh-user USER] [--identity FILE] [--ssh-port N]
                     [--ssh-option KEY=VALUE]...`;

/** parseArgs options for the SSH flags. */
export const SSH_FLAGS = {
  addresses: { type: "string" },
  "ssh-user": { type: "string" },
  identity: { type: "string" },
  "ssh-port": { type: "string" },
  "ssh-option": { type: "string", multiple: true },
} as const;

export interface SshFlags {
  addresses?: string;
  sshUser?: string;
  identity?: string;
  sshPort?: number;
  sshOptions: string[];
}

type SshValues = { addresses?: string; "ssh-user"?: string; identity?: string; "ssh-port"?: string; "ssh-option"?: string[] };

/** The SSH flags checked; `source` is the command's --source (they only go with ssh). */
export function sshFlags(v: SshValues, source: string | undefined): SshFlags {
  if (v["ssh-port"] !== undefined && (!/^\d{1,5}$/.test(v["ssh-port"]) || Number(v["ssh-port"]) < 1 || Number(v["ssh-port"]) > 65535))
    throw new UsageError(`--ssh-port ${JSON.stringify(v["ssh-port"])}: a port from 1 to 65535`);
  if (v["ssh-user"] !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(v["ssh-user"])) throw new UsageError(`--ssh-user ${JSON.stringify(v["ssh-user"])}: not a user name`);
  for (const o of v["ssh-option"] ?? []) if (!/^[A-Za-z][A-Za-z0-9]*=\S+$/.test(o)) throw new UsageError(`--ssh-option ${JSON.stringify(o)}: an ssh_config option as KEY=VALUE (e.g. UserKnownHostsFile=~/.ssh/facteur_known_hosts)`);
  if (v.identity !== undefined && !existsSync(v.identity)) throw new UsageError(`--identity ${v.identity}: no such file`);
  if (source === "lab" && (v.addresses || v["ssh-user"] || v.identity || v["ssh-port"] || v["ssh-option"])) throw new UsageError("--addresses and the --ssh-* and --identity options are for --source ssh");
  return {
    ...(v.addresses ? { addresses: v.addresses } : {}),
    ...(v["ssh-user"] ? { sshUser: v["ssh-user"] } : {}),
    ...(v.identity ? { identity: v.identity } : {}),
    ...(v["ssh-port"] ? { sshPort: Number(v["ssh-port"]) } : {}),
    sshOptions: v["ssh-option"] ?? [],
  };
}

/** What the SSH reader is given from the flags. */
export function sshOptions(f: SshFlags): SshOptions {
  return {
    ...(f.sshUser ? { user: f.sshUser } : {}),
    ...(f.identity ? { identity: f.identity } : {}),
    ...(f.sshPort ? { port: f.sshPort } : {}),
    options: f.sshOptions,
  };
}

/** Production targets: the plan's relays and smarthosts, by address (--addresses) or by name. */
export function sshTargets(model: Model, addressesFile?: string): SshTarget[] {
  const book = addressesFile ? loadAddressBook(addressesFile, model) : {};
  // Which hosts exist does not depend on the day; warm-up schedules need one to be read at all.
  const plan = buildPlan(model, { addresses: book, at: new Date().toISOString().slice(0, 10) });
  return plan.hosts.map((h) => {
    const known = [book[h.name]?.ipv4, book[h.name]?.ipv6].filter((a): a is string => !!a);
    return {
      host: h.name,
      role: h.role,
      names: [h.fqdn],
      addresses: known,
      ...(h.lane ? { lane: h.lane } : {}),
      connect: book[h.name]?.ipv4 ?? h.fqdn,
    };
  });
}
