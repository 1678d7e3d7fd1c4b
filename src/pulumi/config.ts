// The stack configuration (stacks/Pulumi.<stack>.yaml, namespace facteur), read once. Secrets
// are read lazily: a secret is required only by the hosts that use it, and the error of a
// missing one names its config key.
import * as pulumi from "@pulumi/pulumi";
import { dayProblem } from "../spec/grammar.ts";

export const CONFIG_NAMESPACE = "facteur";

/**
 * Where each host's port 25 reachability is probed after an apply: the inbound MX hosts of two
 * large receivers, which always answer. New Hetzner projects cannot connect to any port 25 or
 * 465 until Hetzner lifts the limit; facteur:smtpProbeHosts overrides this list ([] disables it).
 */
export const DEFAULT_SMTP_PROBE_HOSTS = ["gmail-smtp-in.l.google.com", "mta5.am0.yahoodns.net"];

export interface StackConfig {
  /** facteur:sshKeys: name -> public key; become hcloud.SshKey and root's authorized_keys. */
  sshKeys: Record<string, string>;
  /** facteur:zoneIds: zone name -> Cloudflare zone id; zones not listed are looked up by name. */
  zoneIds: Record<string, string>;
  /** facteur:adoptRecords: take over records the plan would clash with instead of refusing. */
  adoptRecords: boolean;
  /** facteur:smtpProbeHosts: see DEFAULT_SMTP_PROBE_HOSTS. */
  smtpProbeHosts: string[];
  /** facteur:logReaders: name -> public key that may read the mail logs (facteur trace; src/trace/logUser.ts). */
  logReaders: Record<string, string>;
  /** facteur:cloudflareAccountId: the account whose Workers serve MTA-STS policies (src/pulumi/mtaSts.ts). */
  cloudflareAccountId?: string;
  /** facteur:at: the day (YYYY-MM-DD) smarthost warm-up schedules are read at; absent: today (UTC). */
  at?: string;
  /** facteur:sshPrivateKey (secret): how the apply commands log in as root. */
  sshPrivateKey: () => pulumi.Output<string>;
  /** A secret named by the spec (passwordSecret), e.g. facteur:faiRelayPassword. */
  secret: (name: string) => pulumi.Output<string>;
}

function atOf(cfg: pulumi.Config): { at?: string } {
  const at = cfg.get("at");
  if (at === undefined) return {};
  const problem = dayProblem(at);
  if (problem) throw new Error(`facteur:at: ${problem}`);
  return { at };
}

function objectOf(cfg: pulumi.Config, key: string): Record<string, string> {
  const v = cfg.getObject<unknown>(key);
  if (v === undefined) return {};
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string"))
    throw new Error(`facteur:${key} must map names to strings, e.g. pulumi config set --path '${key === "zoneIds" ? 'facteur:zoneIds["entreprise.tld"]' : `facteur:${key}.ops`}' ...`);
  return v as Record<string, string>;
}

export function readStackConfig(): StackConfig {
  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  const secrets = new Map<string, pulumi.Output<string>>();
  let key: pulumi.Output<string> | undefined;
  const probe = cfg.getObject<unknown>("smtpProbeHosts");
  if (probe !== undefined && (!Array.isArray(probe) || probe.some((h) => typeof h !== "string" || !/^[A-Za-z0-9.-]+$/.test(h))))
    throw new Error('facteur:smtpProbeHosts must be a list of host names, e.g. ["gmail-smtp-in.l.google.com"] ([] disables the probe)');
  return {
    sshKeys: objectOf(cfg, "sshKeys"),
    zoneIds: objectOf(cfg, "zoneIds"),
    logReaders: objectOf(cfg, "logReaders"),
    adoptRecords: cfg.getBoolean("adoptRecords") ?? false,
    ...atOf(cfg),
    ...(cfg.get("cloudflareAccountId") ? { cloudflareAccountId: cfg.get("cloudflareAccountId")! } : {}),
    smtpProbeHosts: (probe as string[] | undefined) ?? DEFAULT_SMTP_PROBE_HOSTS,
    sshPrivateKey: () => (key ??= cfg.requireSecret("sshPrivateKey")),
    secret: (name) => {
      let s = secrets.get(name);
      if (!s) secrets.set(name, (s = cfg.requireSecret(name)));
      return s;
    },
  };
}
