// Smarthosts' outbound TLS beyond opportunistic (policy.outboundTls): DANE behind a local
// validating unbound, and MTA-STS through postfix-mta-sts-resolver. What they add to a
// smarthost's bundle: files (templates/unbound, templates/mta-sts-resolver), the Debian packages
// and services that read them, and main.cf's settings (templates/postfix/smarthost-main.cf).
import type { Model } from "../model/model.ts";

/** Where postfix-mta-sts-resolver answers Postfix (its packaged default). */
export const MTA_STS_RESOLVER_PORT = 8461;
export const UNBOUND_CONF = "/etc/unbound/unbound.conf.d/facteur.conf";
export const MTA_STS_DAEMON_CONF = "/etc/mta-sts-daemon.yml";

export interface OutboundTls {
  dane: boolean;
  mtaSts: boolean;
  /** smtp_tls_security_level: dane when DANE is on, may otherwise. */
  level: "dane" | "may";
  /** smtp_tls_policy_maps, when MTA-STS is on. */
  policyMap?: string;
  /** The trust store verified TLS is checked against (MTA-STS: the public CAs). */
  caFile?: string;
}

export function outboundTlsOf(model: Model, root: string): OutboundTls {
  const { dane, mtaSts } = model.policy.outboundTls;
  return {
    dane,
    mtaSts,
    level: dane ? "dane" : "may",
    ...(mtaSts ? { policyMap: `socketmap:inet:127.0.0.1:${MTA_STS_RESOLVER_PORT}:postfix`, caFile: `${root}/etc/ssl/certs/ca-certificates.crt` } : {}),
  };
}

export function outboundTlsFiles(model: Model, root: string): { template: string; path: string }[] {
  const { dane, mtaSts } = model.policy.outboundTls;
  return [
    ...(dane ? [{ template: "unbound/facteur.conf", path: `${root}${UNBOUND_CONF}` }, { template: "unbound/resolv.conf", path: `${root}/etc/resolv.conf` }] : []),
    ...(mtaSts ? [{ template: "mta-sts-resolver/mta-sts-daemon.yml", path: `${root}${MTA_STS_DAEMON_CONF}` }] : []),
  ];
}

/** Debian packages and services (reloaded after an apply) the smarthost needs for them. */
export function outboundTlsDaemons(model: Model): { packages: string[]; services: string[] } {
  const { dane, mtaSts } = model.policy.outboundTls;
  return {
    packages: [...(dane ? ["unbound"] : []), ...(mtaSts ? ["postfix-mta-sts-resolver"] : [])],
    services: [...(dane ? ["unbound"] : []), ...(mtaSts ? ["postfix-mta-sts-resolver"] : [])],
  };
}
