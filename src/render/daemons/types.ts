// What a daemon module gives render (its files and its slice of the template context) and what
// render gives every applier about the daemon (its runtime facts, carried as data in the host
// bundle): the lab, the apply script and `lab status` read these instead of reading them back
// out of rendered files.
import type { Model } from "../../model/model.ts";
import type { Plan, PlannedHost } from "../../plan/plan.ts";
import type { BundleFile } from "../bundle.ts";

export type DaemonName = "postfix" | "opendkim" | "postsrsd" | "rspamd" | "policyd-rate-limit" | "postgresql" | "unbound" | "mta-sts-resolver" | "acme" | "postfix-exporter";

/** What a host's render starts from: the whole model and plan, the host, the path prefix ("" on hosts). */
export interface HostInput {
  model: Model;
  plan: Plan;
  host: PlannedHost;
  root: string;
}

/** One rendered file of a daemon: its template (templates/<dir>/<name>.hbs) and where it goes. */
export interface FileSpec {
  template: string;
  path: string;
  mode?: BundleFile["mode"];
  postmap?: boolean;
}

/**
 * A real question asked over the daemon's real socket that says it is up: an SMTP banner, a
 * milter option negotiation, a Postfix table lookup, a policy request.
 */
export type ReadinessCheck =
  /** A 220 banner (after a TLS handshake when `tls`: smtps' wrapper mode). */
  | { kind: "smtp"; address: string; port: number; tls?: boolean }
  /** A milter answering the option negotiation, at "unix:/path" or "inet:address:port". */
  | { kind: "milter"; socket: string }
  /** A Postfix tcp_table server (postsrsd) answering a `get` lookup. */
  | { kind: "table"; address: string; port: number }
  /** A Postfix policy server answering a request (protocol state VRFY: nothing is counted). */
  | { kind: "policy"; socket: string }
  /** PostgreSQL answering a client's first packet, an SSLRequest, with S (TLS offered). */
  | { kind: "postgres"; address: string; port: number }
  /** A Postfix socketmap server (postfix-mta-sts-resolver) answering a lookup in map `name`. */
  | { kind: "socketmap"; address: string; port: number; name: string }
  /** A recursive resolver (unbound) answering NOERROR with an answer for the SOA of `zone`. */
  | { kind: "resolver"; address: string; zone: string }
  /** An HTTP server answering 200 at `path` with a Prometheus exposition that has `metric` (the Postfix exporter). */
  | { kind: "metrics"; address: string; port: number; path: string; metric: string };

export interface Readiness {
  /** What is asked, as an operator reads it, e.g. "milter on inet:127.0.0.1:11332". */
  what: string;
  check: ReadinessCheck;
}

/** A directory or file the daemon needs, with the owner and mode it needs it with. */
export interface OwnedPath {
  path: string;
  owner: string;
  group: string;
  mode: string;
}

export interface DaemonFactsBase {
  name: DaemonName;
  /** As an operator names it (probes and reports say it): Postfix, OpenDKIM, rspamd... */
  label: string;
  /** The systemd unit an apply (re)loads. */
  service: string;
  /** Debian packages it needs. */
  packages: string[];
  /** The rendered file it is started with. */
  config: string;
  /** The account it runs as. */
  user: string;
  group: string;
  /** Log files it writes itself (created before it starts, with their owner). */
  logs: OwnedPath[];
  /** It logs through syslog only (/dev/log): OpenDKIM, postsrsd, policyd-rate-limit. */
  syslog: boolean;
  pidfile?: string;
  /** Directories it needs before it starts (the package makes them on a host; the lab makes them). */
  dirs: OwnedPath[];
  /** Checks the rendered configuration without starting anything (argv; exit 0 = accepted). */
  configCheck?: string[];
  /** Runs it in the foreground with the rendered configuration, as the lab does (argv). */
  foreground?: string[];
  /** What answers once it is up. */
  readiness: Readiness[];
  /** Rendered files a reload does not take (listen address, port): a change to one restarts the service instead. */
  restartOnChange?: string[];
  /** It has no reload (systemctl reload-or-restart would restart it at every apply): restarted only when a restartOnChange file changed, else started if down. */
  noReload?: boolean;
  /** Run once the service is (re)loaded, every time (idempotent): argv, fed `stdin` (a rendered file) on its standard input. */
  setup?: { argv: string[]; stdin: string };
}

export interface PostfixFacts extends DaemonFactsBase {
  name: "postfix";
  configDir: string;
  queueDirectory: string;
  dataDirectory: string;
  /** maillog_file: Postfix's own log (through postlogd, no syslog needed). */
  maillog: string;
  /** The inet services of master.cf. */
  listeners: { service: string; address: string; port: number; tls: boolean }[];
  /** The trust store main.cf checks verified outbound TLS against (MTA-STS): the public CAs on a host, the lab CA in the lab. */
  tlsCaFile?: string;
}

export interface OpendkimFacts extends DaemonFactsBase {
  name: "opendkim";
  /** The milter socket Postfix talks to ("unix:/path"). */
  socket: string;
  /** Owner of the private keys it reads. */
  keyOwner: { owner: string; group: string };
}

export interface PostsrsdFacts extends DaemonFactsBase {
  name: "postsrsd";
  /** The SRS secret file (Debian's package makes it on a host; the lab writes its own). */
  secretFile: string;
  /** The tcp_table servers Postfix asks: "address:port". */
  forward: string;
  reverse: string;
}

export interface RspamdFacts extends DaemonFactsBase {
  name: "rspamd";
  /** The milter Postfix talks to ("inet:address:port"). */
  milter: string;
  /** Its configuration directory: the rendered local.d sits in it, beside Debian's stock configuration. */
  confDir: string;
  /** ARC sealing (operator.arc): the key it seals with, written by the applier, owned by rspamd's user. */
  arcKey?: { domain: string; selector: string; path: string };
}

export interface UnboundFacts extends DaemonFactsBase {
  name: "unbound";
  /** Where it answers the host's own lookups (the rendered resolv.conf names it). */
  address: string;
  /** The rendered resolv.conf every daemon of the host resolves through once unbound runs. */
  resolvConf: string;
}

export interface MtaStsResolverFacts extends DaemonFactsBase {
  name: "mta-sts-resolver";
  /** The socketmap Postfix asks (smtp_tls_policy_maps). */
  address: string;
  port: number;
  /** Its policy cache (sqlite); its directory must exist. */
  cacheDb: string;
}

export interface AcmeFacts extends DaemonFactsBase {
  name: "acme";
  /** The renewal script its timer runs (the lab runs it as the timer would). */
  script: string;
  /** Where lego writes the certificate Postfix reads, and the key it is for (lego's own, or the managed key: tlsKey). */
  cert: string;
  key: string;
  /** The certificate is requested for the managed key (lego --csr, a CSR made from it), never for a key lego makes. */
  csr?: string;
  /** lego's record of the certificate (its absence makes the next run issue anew rather than renew). */
  meta: string;
  /**
   * Managed key only: the next key's file (the applier writes it while tlsKey.next is set, and
   * removes it after), its CSR, and the lego tree of its own where its certificate is pre-issued.
   * The apply step of the switch (current: <next>) installs that certificate with the key when it
   * is for that key and still valid, so the host serves a CA-issued certificate from the first second.
   */
  preIssued?: { key: string; csr: string; dir: string; cert: string; meta: string };
  /** systemd units rendered for it (a change needs systemctl daemon-reload). */
  units: string[];
}

export interface PolicydFacts extends DaemonFactsBase {
  name: "policyd-rate-limit";
  /** The policy socket Postfix asks ("unix:/path"). */
  socket: string;
  /** The sqlite database the counters live in; absent when they live in the shared quota store. */
  database?: string;
  /** The shared quota store it counts in (policy.quotaStore), reached by name over TLS. */
  store?: { fqdn: string; port: number; database: string; user: string; passwordSecret: string; whenUnreachable: "defer" | "accept" };
}

export interface PostgresqlFacts extends DaemonFactsBase {
  name: "postgresql";
  /** The TCP port the smarthosts reach it on (and local clients name). */
  port: number;
  /** The cluster's data directory (Debian's package makes the cluster on a host; the lab makes its own). */
  dataDir: string;
  /** The directory of its unix socket, where psql as postgres connects locally. */
  socketDir: string;
  /** Its server binaries (postgres, pg_ctl, pg_isready). */
  binDir: string;
  /** The rendered pg_hba.conf the drop-in points at: who may log in, from where. */
  hba: string;
  /** The rendered SQL (role, database, table) run after every apply; holds the password. */
  setupSql: string;
  /** The database, and the role the smarthosts log in as (its password: a secret, by name). */
  database: string;
  role: string;
  passwordSecret: string;
}

export interface PostfixExporterFacts extends DaemonFactsBase {
  name: "postfix-exporter";
  /** Where Prometheus scrapes it (every address; the firewall admits operator.monitoringSources only). */
  port: number;
  path: string;
  /** The Postfix log it counts from, and the showq socket it reads the queue through. */
  logfile: string;
  showq: string;
}

export type DaemonFacts = PostfixExporterFacts | PostfixFacts | OpendkimFacts | PostsrsdFacts | RspamdFacts | PolicydFacts | PostgresqlFacts | UnboundFacts | MtaStsResolverFacts | AcmeFacts;

/** What a daemon module returns for one host. */
export interface DaemonPart<F extends DaemonFacts = DaemonFacts> {
  facts: F;
  files: FileSpec[];
  /** Its slice of the template context (render adds `root` and `host`, which every template names). */
  context: Record<string, unknown>;
}
