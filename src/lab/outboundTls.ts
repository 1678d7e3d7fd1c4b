// Smarthosts' outbound TLS in the lab (policy.outboundTls): the rendered unbound configuration
// run by a lab-only main file that forwards to the lab's Knot and trusts the keys of the zones
// it signs (the lab has no root to validate from), the rendered resolv.conf for every daemon of
// the host, and the rendered postfix-mta-sts-resolver configuration with the lab CA as the
// trust store (main.cf's smtp_tls_CAfile and the resolver's HTTPS).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HostBundle } from "../render/bundle.ts";
import { MTA_STS_DAEMON_CONF, UNBOUND_CONF } from "../render/outboundTls.ts";
import type { HostContext, HostReport } from "./hosts.ts";
import { spawnDetached } from "./proc.ts";
import { spawnMtaStsResolver } from "./mtaSts.ts";

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
    "forward-zone:",
    '    name: "."',
    `    forward-addr: ${knot}`,
    "",
  ].join("\n");
}

/**
 * Starts what the bundle's outbound TLS files configure; returns the resolv.conf every other
 * daemon of the host must use (the rendered one when unbound runs, else the lab's).
 */
export function startOutboundTls(bundle: HostBundle, h: HostContext, report: HostReport): string {
  let resolv = h.resolv;
  const unbound = bundle.files.find((f) => f.path === `${h.root}${UNBOUND_CONF}`);
  if (unbound) {
    if (!h.dnsServer) throw new Error(`${bundle.host}: unbound needs the lab's DNS server to forward to`);
    const conf = `${h.root}/etc/unbound/lab-unbound.conf`;
    mkdirSync(dirname(conf), { recursive: true });
    mkdirSync(`${h.root}/run`, { recursive: true });
    mkdirSync(h.logDir, { recursive: true });
    writeFileSync(conf, labUnboundConf(h, unbound.path, h.dnsServer, h.trustAnchors ?? []));
    spawnDetached(["unbound", "-d", "-c", conf], `${h.logDir}/unbound.out`, { ns: h.ns });
    report.logs.push(`${h.logDir}/unbound.log`, `${h.logDir}/unbound.out`);
    const zone = bundle.fqdn.split(".").slice(1).join(".");
    report.probes.push({ host: h.name, ns: h.ns, daemon: "unbound", what: `validating resolver on 127.0.0.1:53 (SOA ${zone})`, check: { kind: "resolver", address: "127.0.0.1", zone }, logs: [`${h.logDir}/unbound.log`, `${h.logDir}/unbound.out`] });
    const rendered = bundle.files.find((f) => f.path === `${h.root}/etc/resolv.conf`);
    if (!rendered) throw new Error(`${bundle.host}: unbound is configured but the bundle names no resolv.conf pointing at it`);
    resolv = rendered.path;
    report.checks.push(`${bundle.host}: unbound validates (trust anchors: ${(h.trustAnchors ?? []).map((a) => a.split(" ")[0]).join(" ") || "none"}), resolv.conf ${resolv}`);
  }
  const sts = bundle.files.find((f) => f.path === `${h.root}${MTA_STS_DAEMON_CONF}`);
  if (sts) {
    if (!h.ca) throw new Error(`${bundle.host}: postfix-mta-sts-resolver in the lab needs the lab CA`);
    const db = /filename:\s*"([^"]+)"/.exec(sts.content)?.[1];
    if (db) mkdirSync(dirname(db), { recursive: true });
    spawnMtaStsResolver(h.name, { ...h, resolv }, sts.path, h.ca, report);
  }
  // The trust store main.cf names (verified TLS for MTA-STS): the lab CA stands in for the public CAs.
  const main = bundle.files.find((f) => f.path.endsWith("/etc/postfix/main.cf"));
  const caFile = main ? /^smtp_tls_CAfile\s*=\s*(\S+)\s*$/m.exec(main.content)?.[1] : undefined;
  if (caFile && h.ca && !existsSync(caFile)) {
    mkdirSync(dirname(caFile), { recursive: true });
    copyFileSync(h.ca.cert, caFile);
  }
  return resolv;
}
