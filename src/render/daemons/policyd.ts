// policyd-rate-limit (smarthosts): the daily quota of each submission login, counted per
// recipient. A Postfix policy server on a unix socket in the queue directory, group postfix.
// Its counters live in sqlite on the host (a restart forgets nothing), or, with a shared quota
// store (policy.quotaStore), in PostgreSQL on the host that runs it (src/render/daemons/postgresql.ts),
// so that a login's quota holds once for the whole pool.
import type { DaemonPart, HostInput, PolicydFacts } from "./types.ts";

/** policyd-rate-limit's answer when it cannot count (its db_error_action). */
export function unreachableAction(whenUnreachable: "defer" | "accept"): string {
  return whenUnreachable === "defer"
    ? "defer_if_permit 4.3.0 The daily quota cannot be counted right now (quota store unreachable); try again later"
    : "dunno";
}

export function policyd({ root, model, plan, host }: HostInput): DaemonPart<PolicydFacts> {
  const config = `${root}/etc/policyd-rate-limit.yaml`;
  const user = "policyd-rate-limit";
  const group = "postfix";
  const pidfile = `${root}/run/policyd-rate-limit/policyd-rate-limit.pid`;
  const socket = `${root}/var/spool/postfix/ratelimit/policy`;
  const s = plan.quotaStore;
  const store = s ? { fqdn: s.fqdn, port: s.port, database: s.database, user: s.user, passwordSecret: s.passwordSecret, whenUnreachable: s.whenUnreachable } : undefined;
  const database = store ? undefined : `${root}/var/lib/policyd-rate-limit/db.sqlite3`;
  const dir = (path: string, g: string, mode: string) => ({ path: path.slice(0, path.lastIndexOf("/")), owner: user, group: g, mode });
  return {
    facts: {
      name: "policyd-rate-limit",
      label: "policyd-rate-limit",
      service: "policyd-rate-limit",
      // With the shared store: the pgsql backend's driver.
      packages: ["policyd-rate-limit", ...(store ? ["python3-psycopg2"] : [])],
      config,
      user,
      group,
      logs: [],
      syslog: true,
      pidfile,
      // The socket's directory is in Postfix's queue directory: smtpd (group postfix) connects.
      dirs: [dir(pidfile, user, "0755"), ...(database ? [dir(database, user, "0750")] : []), dir(socket, group, "0750")],
      foreground: ["policyd-rate-limit", "--file", config],
      readiness: [{ what: `policy request on unix:${socket}`, check: { kind: "policy", socket: `unix:${socket}` } }],
      socket: `unix:${socket}`,
      ...(database ? { database } : {}),
      ...(store ? { store } : {}),
    },
    // With the shared store it holds the store's password.
    files: [{ template: "policyd/policyd-rate-limit.yaml", path: config, ...(store ? { mode: "0600" as const } : {}) }],
    context: {
      dailyQuota: model.policy.dailyQuota,
      submissionUsers: model.submissionUsers,
      user,
      group,
      pidfile,
      database,
      socket,
      ...(store
        ? {
            quotaStore: store,
            // Password login, no client certificate and no CA file (libpq would look in the daemon's home).
            noFile: `${root}/var/lib/policyd-rate-limit/none`,
            quotaUnreachable: { failOpen: store.whenUnreachable === "accept", action: unreachableAction(store.whenUnreachable) },
          }
        : {}),
    },
  };
}
