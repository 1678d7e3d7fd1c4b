// prometheus-postfix-exporter (operator.monitoringSources), on every host: Debian's exporter of
// Postfix metrics. It counts what Postfix writes to its own log (maillog_file: delivered,
// deferred, bounced, rejected...) and reads the queue over Postfix's showq socket; its systemd
// unit reads the rendered /etc/default file. Only the plan's monitoring sources reach its port
// (fw:<role>:metrics).
import type { DaemonPart, HostInput, PostfixExporterFacts } from "./types.ts";

export const EXPORTER_DEFAULTS = "/etc/default/prometheus-postfix-exporter";

export function runsPostfixExporter({ plan }: Pick<HostInput, "plan">): boolean {
  return plan.metrics !== undefined;
}

/** `queueDirectory` and `maillog`: the Postfix of this host, as its own facts name them. */
export function postfixExporter({ plan, root }: HostInput, postfix: { queueDirectory: string; maillog: string }): DaemonPart<PostfixExporterFacts> {
  const metrics = plan.metrics;
  if (!metrics) throw new Error("render: no metrics planned (operator.monitoringSources is empty)");
  const config = `${root}${EXPORTER_DEFAULTS}`;
  const showq = `${postfix.queueDirectory}/public/showq`;
  const args = [`--web.listen-address=:${metrics.port}`, `--web.telemetry-path=${metrics.path}`, `--postfix.logfile_path=${postfix.maillog}`, `--postfix.showq_path=${showq}`];
  return {
    facts: {
      name: "postfix-exporter",
      label: "prometheus-postfix-exporter",
      service: "prometheus-postfix-exporter",
      packages: ["prometheus-postfix-exporter"],
      config,
      // Debian's unit runs it as prometheus, with adm (Postfix's log is root:adm... postfix:adm 0640) and postdrop (showq).
      user: "prometheus",
      group: "prometheus",
      logs: [],
      syslog: false,
      dirs: [],
      // The lab runs it as the unit does: its user, with the unit's supplementary groups.
      foreground: ["setpriv", "--reuid=prometheus", "--regid=prometheus", "--groups=adm,postdrop", "--", "prometheus-postfix-exporter", ...args],
      readiness: [
        {
          what: `metrics on 127.0.0.1:${metrics.port}${metrics.path}: postfix_up`,
          check: { kind: "metrics", address: "127.0.0.1", port: metrics.port, path: metrics.path, metric: "postfix_up" },
        },
      ],
      // Its arguments are read at start only (no reload).
      restartOnChange: [config],
      // A restart loses the events logged meanwhile (it tails the log from its end) and resets its counters.
      noReload: true,
      port: metrics.port,
      path: metrics.path,
      logfile: postfix.maillog,
      showq,
    },
    files: [{ template: "postfix-exporter/default", path: config }],
    context: { args, port: metrics.port, sources: metrics.sources },
  };
}
