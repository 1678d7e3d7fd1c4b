// Smarthosts' outbound TLS in the lab (policy.outboundTls): the rendered unbound configuration
// run by a lab-only main file that forwards to the lab's Knot and trusts the keys of the zones
// it signs (the lab has no root to validate from), the rendered resolv.conf for every daemon of
// the host, and the rendered postfix-mta-sts-resolver configuration with the lab CA as the
// trust store (main.cf's smtp_tls_CAfile and the resolver's HTTPS).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HostBundle } from "../render/bundle.ts";
import { daemonFacts } from "../render/daemons/index.ts";
import type { HostContext, HostReport } from "./hosts.ts";
import { spawnDetached } from "./proc.ts";
import { spawnMtaStsResolver } from "./mtaSts.ts";

/** The lab-only main file of a host's unbound, which unbound-control reads too. */
export function labUnboundConfPath(root: string): string {
  return `${root}/etc/unbound/lab-unbound.conf`;
}

/** The unix socket unbound-control talks to (lab only). */
function labUnboundControl(root: string): string {
  return `${root}/run/unbound.ctl`;
}

/** The unbound main file the lab runs the rendered one with (lab-only, never deployed). */
export function labUnboundConf(h: Pick<HostContext, "root" | "logDir">, rendered: string, knot: string, anchors: string[]): string {
  return [
    "# facteur lab only (src/lab/outboundTls.ts): not rendered, never deployed.",
    "server:",
    `    directory: "${h.root}/etc/unbound"`,
    '    chroot: ""',
    '    username: ""',
    `    pidfile: "${h.root}/run/unbound.pid"`,
    "    use-syslog: no",
    `    logfile: "${h.logDir}/unbound.log"`,
    "    verbosity: 1",
    "    val-log-level: 2",
    ...anchors.map((a) => `    trust-anchor: "${a}"`),
    `include: "${rendered}"`,
    // Tests that change the lab's DNS flush the cache (unbound-control) rather than wait out TTLs.
    "remote-control:",
    "    control-enable: yes",
    `    control-interface: "${labUnboundControl(h.root)}"`,
    "    control-use-cert: no",
    "forward-zone:",
    '    name: "."',
    `    forward-addr: ${knot}`,
    "",
  ].join("\n");
}

/**
 * Starts the outbound TLS daemons the bundle's facts name; returns the resolv.conf every other
 * daemon of the host must use (the rendered one when unbound runs, else the lab's).
 */
export function startOutboundTls(bundle: HostBundle, h: HostContext, report: HostReport): string {
  let resolv = h.resolv;
  const unbound = daemonFacts(bundle.daemons, "unbound");
  if (unbound) {
    if (!h.dnsServer) throw new Error(`${bundle.host}: unbound needs the lab's DNS server to forward to`);
    const conf = labUnboundConfPath(h.root);
    mkdirSync(dirname(conf), { recursive: true });
    mkdirSync(`${h.root}/run`, { recursive: true });
    mkdirSync(h.logDir, { recursive: true });
    writeFileSync(conf, labUnboundConf(h, unbound.config, h.dnsServer, h.trustAnchors ?? []));
    spawnDetached(["unbound", "-d", "-c", conf], `${h.logDir}/unbound.out`, { ns: h.ns });
    const logs = [`${h.logDir}/unbound.log`, `${h.logDir}/unbound.out`];
    report.logs.push(...logs);
    for (const r of unbound.readiness) report.probes.push({ host: h.name, ns: h.ns, daemon: unbound.label, what: r.what, check: r.check, logs });
    resolv = unbound.resolvConf;
    report.checks.push(`${bundle.host}: unbound validates (trust anchors: ${(h.trustAnchors ?? []).map((a) => a.split(" ")[0]).join(" ") || "none"}), resolv.conf ${resolv}`);
  }
  const sts = daemonFacts(bundle.daemons, "mta-sts-resolver");
  if (sts) {
    if (!h.ca) throw new Error(`${bundle.host}: postfix-mta-sts-resolver in the lab needs the lab CA`);
    mkdirSync(dirname(sts.cacheDb), { recursive: true });
    spawnMtaStsResolver(h.name, { ...h, resolv }, sts.config, h.ca, report);
  }
  // The trust store main.cf names (verified TLS for MTA-STS): the lab CA stands in for the public CAs.
  const caFile = daemonFacts(bundle.daemons, "postfix")?.tlsCaFile;
  if (caFile && h.ca && !existsSync(caFile)) {
    mkdirSync(dirname(caFile), { recursive: true });
    copyFileSync(h.ca.cert, caFile);
  }
  return resolv;
}
