// postfix-mta-sts-resolver (smarthosts with policy.outboundTls.mtaSts): Postfix's TLS policy map
// for destinations that publish MTA-STS (RFC 8461), answered over a socketmap.
import type { DaemonPart, HostInput, MtaStsResolverFacts } from "./types.ts";

/** Where it answers Postfix (its packaged default). */
export const MTA_STS_RESOLVER_PORT = 8461;
export const MTA_STS_DAEMON_CONF = "/etc/mta-sts-daemon.yml";

export function runsMtaStsResolver({ model, host }: Pick<HostInput, "model" | "host">): boolean {
  return host.role === "smarthost" && model.policy.outboundTls.mtaSts;
}

export function mtaStsResolver({ root }: HostInput): DaemonPart<MtaStsResolverFacts> {
  const config = `${root}${MTA_STS_DAEMON_CONF}`;
  const address = "127.0.0.1";
  const cacheDb = `${root}/var/lib/mta-sts/cache.db`;
  return {
    facts: {
      name: "mta-sts-resolver",
      label: "postfix-mta-sts-resolver",
      service: "postfix-mta-sts-resolver",
      packages: ["postfix-mta-sts-resolver"],
      config,
      user: "mta-sts",
      group: "mta-sts",
      logs: [],
      syslog: false,
      dirs: [{ path: `${root}/var/lib/mta-sts`, owner: "mta-sts", group: "mta-sts", mode: "0755" }],
      foreground: ["mta-sts-daemon", "-c", config],
      readiness: [{ what: `socketmap on ${address}:${MTA_STS_RESOLVER_PORT}`, check: { kind: "socketmap", address, port: MTA_STS_RESOLVER_PORT, name: "postfix" } }],
      address,
      port: MTA_STS_RESOLVER_PORT,
      cacheDb,
    },
    files: [{ template: "mta-sts-resolver/mta-sts-daemon.yml", path: config }],
    context: { mtaStsResolverPort: MTA_STS_RESOLVER_PORT, cacheDb },
  };
}
