// What render produces for one host: the files to write, relative to a root ("/" on a real
// host, a per-host directory in the lab). Secrets appear only as ${secret:NAME} references;
// an applier fills them in at the last moment (fillSecrets) and never writes them to review output.
import type { DaemonFacts } from "./daemons/types.ts";

export interface BundleFile {
  /** Absolute path on the host, e.g. /etc/postfix/main.cf (the lab prefixes its own root). */
  path: string;
  content: string;
  /** Octal file mode; files holding secrets once filled are 0600. */
  mode: "0644" | "0640" | "0600";
  /** A Postfix hash: table: run `postmap` on it after writing. */
  postmap?: boolean;
  /**
   * Names of the secrets referenced in content, as the render made them (from passwordSecret
   * fields only): the applier fills these and nothing else (fillSecrets).
   */
  secretRefs?: string[];
}

export interface HostBundle {
  host: string;
  fqdn: string;
  role: "relay" | "smarthost";
  files: BundleFile[];
  /**
   * DKIM private keys this host needs (smarthosts: OpenDKIM's signing keys; relays: rspamd's ARC
   * key; purpose tls: the host's managed TLS key, domain its fqdn, selector the key's name; purpose
   * tls-next: its next key, held only for the ACME client to pre-issue that key's certificate): the
   * applier writes them, owned by `owner` (default: OpenDKIM's keyOwner), render never sees them.
   */
  dkimKeys: { domain: string; selector: string; path: string; owner?: { owner: string; group: string }; purpose?: "tls" | "tls-next" }[];
  /** SASL logins this host must accept (smarthosts: submission users), passwords by reference. */
  saslUsers: { login: string; passwordSecret: string }[];
  /** The key pair smtpd offers, as main.cf names it: the key managed (dkimKeys, purpose tls) or made on the host, the certificate made or fetched there; never rendered. */
  tls: { cert: string; key: string };
  /** Smarthosts: the Cyrus sasldb those logins live in, as the rendered sasl/smtpd.conf names it. */
  saslDb?: string;
  /**
   * Where the deploy gate (src/gate) sends its probe message: one address per route this host's
   * Postfix has (relays: an alias of a domain they receive; smarthosts: every paced destination
   * and one other), so every transport is created with its own parameters before a deploy.
   */
  probeRecipients: string[];
  /** Debian packages the host needs (its daemons', and the few every host gets), each once. */
  packages: string[];
  /**
   * The daemons the host runs, Postfix last, each with its runtime facts (sockets, pidfile, logs,
   * users, directories, config check, readiness probes): what an applier starts, checks and
   * reloads, read here and never out of the rendered files (src/render/daemons).
   */
  daemons: DaemonFacts[];
}

const SECRET_REF = /\$\{secret:([A-Za-z][A-Za-z0-9_-]*)\}/g;

export function secretRef(name: string): string {
  return `\${secret:${name}}`;
}

export function secretRefsIn(content: string): string[] {
  return [...new Set([...content.matchAll(SECRET_REF)].map((m) => m[1]!))].sort();
}

/**
 * Replaces the ${secret:NAME} references the render made (`allowed`, a file's secretRefs); a
 * missing secret is an error naming it, never an empty value. Any other reference in the
 * content did not come from a passwordSecret field (spec text that slipped through, a template
 * bug): nothing is filled and the apply stops, so no secret can be smuggled into a file.
 */
export function fillSecrets(content: string, secrets: Record<string, string>, where: string, allowed: readonly string[]): string {
  const smuggled = secretRefsIn(content).filter((n) => !allowed.includes(n));
  if (smuggled.length > 0)
    throw new Error(`${where}: refusing to fill \${secret:${smuggled.join("}, ${secret:")}}: no passwordSecret field put ${smuggled.length > 1 ? "them" : "it"} there`);
  return content.replace(SECRET_REF, (_, name: string) => {
    const value = Object.hasOwn(secrets, name) ? secrets[name] : undefined;
    if (value === undefined) throw new Error(`${where}: secret ${name} is not set (pulumi config set --secret ${name} ...)`);
    return value;
  });
}

/** One secret's value by name (SASL user passwords, which are not in any file). */
export function secretValue(name: string, secrets: Record<string, string>, where: string): string {
  const value = Object.hasOwn(secrets, name) ? secrets[name] : undefined;
  if (value === undefined) throw new Error(`${where}: secret ${name} is not set (pulumi config set --secret ${name} ...)`);
  return value;
}
