// The shared daily-quota store in render: PostgreSQL's files on the host that runs it (Debian 12's
// cluster 15/main: a conf.d drop-in, our own pg_hba.conf, the SQL that makes the role, database
// and table), and the runtime facts both sides need, carried as bundle data (HostBundle.quotaStore)
// so that appliers never read them back out of rendered files.
import type { Plan, PlannedHost } from "../../plan/plan.ts";
import type { BundleFile } from "../bundle.ts";

/** Debian 12 runs PostgreSQL 15; its cluster's conf.d is included last, so our settings win. */
export const POSTGRES_CONF_DIR = "/etc/postgresql/15/main/conf.d";

export interface QuotaStoreRuntime {
  /** Where the smarthosts' policyd-rate-limit counts: reached by name, TLS required. */
  fqdn: string;
  port: number;
  database: string;
  user: string;
  passwordSecret: string;
  /** Only on the host that runs the store: the rendered files an applier installs and runs. */
  serves?: {
    /** Drop-in for the cluster's postgresql.conf (listen, port, TLS, hba_file). */
    conf: string;
    hba: string;
    /** Run by psql as the postgres superuser after every apply: idempotent; holds the password. */
    setupSql: string;
  };
}

/** The password ends up quoted in YAML (policyd) and SQL: a grammar that needs no escaping anywhere. */
export function quotaStorePasswordProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9._~+/=-]{16,128}$/.test(value))
    return "the quota store password must be 16 to 128 of A-Z a-z 0-9 . _ ~ + / = - (it is written into YAML and SQL); e.g. openssl rand -hex 24";
  return undefined;
}

export interface QuotaStoreFile {
  template: string;
  path: string;
  mode?: BundleFile["mode"];
}

/** The store host's files (none elsewhere). */
export function quotaStoreFiles(plan: Plan, host: PlannedHost, root: string): QuotaStoreFile[] {
  const runtime = quotaStoreRuntime(plan, host, root);
  if (!runtime?.serves) return [];
  return [
    { template: "postgresql/facteur-quota.conf", path: runtime.serves.conf },
    { template: "postgresql/pg_hba.conf", path: runtime.serves.hba },
    { template: "postgresql/quota-setup.sql", path: runtime.serves.setupSql, mode: "0600" },
  ];
}

/** What the bundle carries: smarthosts count there; the store host also runs it. */
export function quotaStoreRuntime(plan: Plan, host: PlannedHost, root: string): QuotaStoreRuntime | undefined {
  const s = plan.quotaStore;
  if (!s) return undefined;
  const serves = host.name === s.host;
  if (!serves && host.role !== "smarthost") return undefined;
  return {
    fqdn: s.fqdn,
    port: s.port,
    database: s.database,
    user: s.user,
    passwordSecret: s.passwordSecret,
    ...(serves
      ? {
          serves: {
            conf: `${root}${POSTGRES_CONF_DIR}/facteur-quota.conf`,
            hba: `${root}/etc/facteur/quota-store/pg_hba.conf`,
            setupSql: `${root}/etc/facteur/quota-store/setup.sql`,
          },
        }
      : {}),
  };
}

/** Debian packages the quota store adds to a host: the server where it runs, the client driver on smarthosts. */
export function quotaStorePackages(runtime: QuotaStoreRuntime | undefined, role: PlannedHost["role"]): string[] {
  if (!runtime) return [];
  return [...(runtime.serves ? ["postgresql"] : []), ...(role === "smarthost" ? ["python3-psycopg2"] : [])];
}

/** policyd-rate-limit's answer when it cannot count (its db_error_action). */
export function unreachableAction(whenUnreachable: "defer" | "accept"): string {
  return whenUnreachable === "defer"
    ? "defer_if_permit 4.3.0 The daily quota cannot be counted right now (quota store unreachable); try again later"
    : "dunno";
}
