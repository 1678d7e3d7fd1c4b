// unbound (smarthosts with policy.outboundTls.dane): the local validating resolver Postfix asks,
// so that DANE trusts only DNSSEC-validated MX and TLSA answers. Debian's unbound.conf includes
// the rendered drop-in; the rendered resolv.conf sends every lookup of the host through it.
import type { DaemonPart, HostInput, UnboundFacts } from "./types.ts";

export const UNBOUND_CONF = "/etc/unbound/unbound.conf.d/facteur.conf";

export function runsUnbound({ model, host }: Pick<HostInput, "model" | "host">): boolean {
  return host.role === "smarthost" && model.policy.outboundTls.dane;
}

export function unbound({ root, host }: HostInput): DaemonPart<UnboundFacts> {
  const config = `${root}${UNBOUND_CONF}`;
  const resolvConf = `${root}/etc/resolv.conf`;
  const zone = host.fqdn.split(".").slice(1).join(".");
  return {
    facts: {
      name: "unbound",
      label: "unbound",
      service: "unbound",
      packages: ["unbound"],
      config,
      user: "unbound",
      group: "unbound",
      logs: [],
      syslog: false,
      dirs: [],
      configCheck: ["unbound-checkconf"],
      readiness: [{ what: `validating resolver on 127.0.0.1:53 (SOA ${zone})`, check: { kind: "resolver", address: "127.0.0.1", zone } }],
      address: "127.0.0.1",
      resolvConf,
    },
    files: [
      { template: "unbound/facteur.conf", path: config },
      { template: "unbound/resolv.conf", path: resolvConf },
    ],
    context: {},
  };
}
