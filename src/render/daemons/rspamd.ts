// rspamd (relays): scores every message during the SMTP dialogue as a milter (its proxy worker,
// scanning in-process). The rendered local.d sits over Debian's stock configuration.
import type { DaemonPart, HostInput, RspamdFacts } from "./types.ts";

export function rspamd({ root, model }: HostInput): DaemonPart<RspamdFacts> {
  const confDir = `${root}/etc/rspamd`;
  const bind = "127.0.0.1:11332";
  const log = `${root}/var/log/rspamd.log`;
  const user = "_rspamd";
  const owned = (path: string) => ({ path, owner: user, group: user, mode: "0755" });
  // ARC (operator.arc): relays seal what they forward as the operator domain, with a key the applier writes.
  const arc = model.operator.arc && {
    domain: model.operator.domain,
    selector: model.operator.arc.active,
    path: `${root}/var/lib/rspamd/arc/${model.operator.domain}.${model.operator.arc.active}.key`,
  };
  return {
    facts: {
      name: "rspamd",
      label: "rspamd",
      service: "rspamd",
      packages: ["rspamd"],
      config: "/etc/rspamd/rspamd.conf",
      user,
      group: user,
      // Group adm: facteur trace's log user reads it through that group (src/trace/logUser.ts).
      logs: [{ path: log, owner: user, group: "adm", mode: "0640" }],
      syslog: false,
      dirs: [owned(`${root}/run/rspamd`), owned(`${root}/var/lib/rspamd`)],
      // Debian's rspamd.conf, with the directories it names moved under the root (the same ones on a host).
      foreground: [
        "rspamd", "-f", "-u", user, "-g", user, "-c", "/etc/rspamd/rspamd.conf",
        `--var=LOCAL_CONFDIR=${confDir}`, `--var=RUNDIR=${root}/run/rspamd`, `--var=DBDIR=${root}/var/lib/rspamd`, `--var=LOGDIR=${root}/var/log`,
      ],
      readiness: [{ what: `milter on inet:${bind}`, check: { kind: "milter", socket: `inet:${bind}` } }],
      milter: `inet:${bind}`,
      confDir,
      ...(arc ? { arcKey: arc } : {}),
    },
    files: [
      { template: "rspamd/actions.conf", path: `${confDir}/local.d/actions.conf` },
      { template: "rspamd/worker-proxy.inc", path: `${confDir}/local.d/worker-proxy.inc` },
      { template: "rspamd/logging.inc", path: `${confDir}/local.d/logging.inc` },
      ...(arc ? [{ template: "rspamd/arc.conf", path: `${confDir}/local.d/arc.conf` }] : []),
    ],
    context: { spam: model.policy.spam, bind, logFile: log, arc, operatorDomain: model.operator.domain },
  };
}
