// policyd-rate-limit (smarthosts): the daily quota of each submission login, counted per
// recipient, kept in sqlite so a restart forgets nothing. A Postfix policy server on a unix
// socket in the queue directory, group postfix.
import type { DaemonPart, HostInput, PolicydFacts } from "./types.ts";

export function policyd({ root, model }: HostInput): DaemonPart<PolicydFacts> {
  const config = `${root}/etc/policyd-rate-limit.yaml`;
  const user = "policyd-rate-limit";
  const group = "postfix";
  const pidfile = `${root}/run/policyd-rate-limit/policyd-rate-limit.pid`;
  const database = `${root}/var/lib/policyd-rate-limit/db.sqlite3`;
  const socket = `${root}/var/spool/postfix/ratelimit/policy`;
  const dir = (path: string, g: string, mode: string) => ({ path: path.slice(0, path.lastIndexOf("/")), owner: user, group: g, mode });
  return {
    facts: {
      name: "policyd-rate-limit",
      label: "policyd-rate-limit",
      service: "policyd-rate-limit",
      packages: ["policyd-rate-limit"],
      config,
      user,
      group,
      logs: [],
      syslog: true,
      pidfile,
      // The socket's directory is in Postfix's queue directory: smtpd (group postfix) connects.
      dirs: [dir(pidfile, user, "0755"), dir(database, user, "0750"), dir(socket, group, "0750")],
      foreground: ["policyd-rate-limit", "--file", config],
      readiness: [{ what: `policy request on unix:${socket}`, check: { kind: "policy", socket: `unix:${socket}` } }],
      socket: `unix:${socket}`,
      database,
    },
    files: [{ template: "policyd/policyd-rate-limit.yaml", path: config }],
    context: { dailyQuota: model.policy.dailyQuota, submissionUsers: model.submissionUsers, user, group, pidfile, database, socket },
  };
}
