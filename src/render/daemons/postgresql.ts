// PostgreSQL, as the shared daily-quota store (policy.quotaStore), on the one relay or own
// smarthost that runs it: Debian 12's cluster 15/main with a conf.d drop-in (read last, so its
// settings win), our own pg_hba.conf (the smarthosts only, TLS, scram-sha-256), and the SQL that
// makes the role, database and table, run after every apply. Every smarthost's policyd-rate-limit
// counts there (its pgsql backend: src/render/daemons/policyd.ts).
import type { DaemonPart, HostInput, PostgresqlFacts } from "./types.ts";

/** Debian 12 runs PostgreSQL 15. */
export const POSTGRES_VERSION = 15;
const CLUSTER = `${POSTGRES_VERSION}/main`;

/** The password ends up quoted in YAML (policyd) and SQL: a grammar that needs no escaping anywhere. */
export function quotaStorePasswordProblem(value: string): string | undefined {
  if (!/^[A-Za-z0-9._~+/=-]{16,128}$/.test(value))
    return "the quota store password must be 16 to 128 of A-Z a-z 0-9 . _ ~ + / = - (it is written into YAML and SQL); e.g. openssl rand -hex 24";
  return undefined;
}

/** Whether this host runs the store. */
export function runsQuotaStore({ plan, host }: Pick<HostInput, "plan" | "host">): boolean {
  return plan.quotaStore?.host === host.name;
}

export function postgresql({ plan, host, root }: HostInput): DaemonPart<PostgresqlFacts> {
  const store = plan.quotaStore;
  if (!store || store.host !== host.name) throw new Error(`render ${host.name}: this host runs no quota store`);
  const config = `${root}/etc/postgresql/${CLUSTER}/conf.d/facteur-quota.conf`;
  const hba = `${root}/etc/facteur/quota-store/pg_hba.conf`;
  const setupSql = `${root}/etc/facteur/quota-store/setup.sql`;
  const dataDir = `${root}/var/lib/postgresql/${CLUSTER}`;
  const socketDir = `${root}/run/postgresql`;
  const binDir = `/usr/lib/postgresql/${POSTGRES_VERSION}/bin`;
  const user = "postgres";
  return {
    facts: {
      name: "postgresql",
      label: "PostgreSQL (quota store)",
      service: "postgresql",
      packages: ["postgresql"],
      config,
      user,
      group: user,
      // It writes to its standard error (the lab keeps it; on a host, Debian's cluster logs to /var/log/postgresql).
      logs: [],
      syslog: false,
      dirs: [{ path: socketDir, owner: user, group: user, mode: "2775" }],
      // postgres refuses to run as root: it is started as its own user, on the cluster's data directory.
      foreground: ["runuser", "-u", user, "--", `${binDir}/postgres`, "-D", dataDir],
      readiness: [{ what: `SSLRequest on 127.0.0.1:${store.port}`, check: { kind: "postgres", address: "127.0.0.1", port: store.port } }],
      // listen_addresses and port take a restart; anything else a reload.
      restartOnChange: [config],
      // The role, database and table, idempotently, as the cluster's superuser over the local
      // socket (peer); the SQL holds the password: it goes in on standard input, never in argv.
      setup: { argv: ["runuser", "-u", user, "--", "psql", "-X", "-q", "-h", socketDir, "-p", String(store.port), "-v", "ON_ERROR_STOP=1", "-f", "-"], stdin: setupSql },
      port: store.port,
      dataDir,
      socketDir,
      binDir,
      hba,
      setupSql,
      database: store.database,
      role: store.user,
      passwordSecret: store.passwordSecret,
    },
    files: [
      { template: "postgresql/facteur-quota.conf", path: config },
      { template: "postgresql/pg_hba.conf", path: hba },
      { template: "postgresql/quota-setup.sql", path: setupSql, mode: "0600" },
    ],
    context: {
      operatorDomain: plan.operatorDomain,
      quotaStore: { port: store.port, database: store.database, user: store.user, passwordSecret: store.passwordSecret, serves: { hba } },
      quotaClients: store.clients,
    },
  };
}
