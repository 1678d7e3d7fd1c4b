// Which daemons a host runs, by role: the one role table. Each daemon module owns its templates,
// its slice of the template context, its packages and its runtime facts; render puts the facts
// in the host bundle, where the appliers read them.
import type { DaemonFacts, DaemonName, DaemonPart, HostInput } from "./types.ts";
import { postfix } from "./postfix.ts";
import { opendkim } from "./opendkim.ts";
import { postsrsd } from "./postsrsd.ts";
import { rspamd } from "./rspamd.ts";
import { policyd } from "./policyd.ts";
import { postgresql, runsQuotaStore } from "./postgresql.ts";
import { runsUnbound, unbound } from "./unbound.ts";
import { mtaStsResolver, runsMtaStsResolver } from "./mtaStsResolver.ts";
import { acme, runsAcme } from "./acme.ts";
import { postfixExporter, runsPostfixExporter } from "./postfixExporter.ts";

export type * from "./types.ts";

/**
 * Packages every host gets, whatever it runs: the TLS tools, and OpenDKIM and postsrsd on both
 * roles as since the first release (a host's package list is part of its bundle hash: dropping
 * one would re-apply every host for nothing).
 */
const HOST_PACKAGES = ["postfix", "opendkim", "opendkim-tools", "postsrsd", "sasl2-bin", "libsasl2-modules", "openssl", "ca-certificates"];

/**
 * The daemons of one host, Postfix last (but for the ACME timer, which reloads it): it is started, and reloaded, once the daemons it talks
 * to are there. The shared quota store (PostgreSQL, policy.quotaStore) runs on the one relay or
 * own smarthost the spec names, first: the smarthosts' policyd counts there.
 */
export function daemonsOf(input: HostInput): DaemonPart[] {
  const store = runsQuotaStore(input) ? [postgresql(input)] : [];
  // ACME (every host, spec acme): its timer renews the certificate Postfix offers, after Postfix is up.
  const certs = runsAcme(input) ? acme(input) : undefined;
  // Metrics (operator.monitoringSources): the exporter reads Postfix's log and showq, as Postfix's facts name them.
  const exporter = (mta: DaemonPart) => (runsPostfixExporter(input) ? [postfixExporter(input, daemonFacts([mta.facts], "postfix")!)] : []);
  const after = (mta: DaemonPart) => [...(certs ? [certs] : []), ...exporter(mta)];
  if (input.host.role === "relay") {
    const srs = postsrsd(input);
    const scanner = rspamd(input);
    const mta = postfix(input, { postsrsd: srs.facts, rspamd: scanner.facts, acme: certs?.facts });
    return [...store, srs, scanner, mta, ...after(mta)];
  }
  // Outbound TLS (policy.outboundTls): the validating resolver first, every daemon then resolves through it.
  const resolver = runsUnbound(input) ? unbound(input) : undefined;
  const sts = runsMtaStsResolver(input) ? mtaStsResolver(input) : undefined;
  const signer = opendkim(input);
  const quota = policyd(input);
  const peers = { opendkim: signer.facts, policyd: quota.facts, unbound: resolver?.facts, mtaSts: sts?.facts, acme: certs?.facts };
  const mta = postfix(input, peers);
  return [...(resolver ? [resolver] : []), ...store, ...(sts ? [sts] : []), signer, quota, mta, ...after(mta)];
}

/** The Debian packages a host needs for its daemons, each once. */
export function packagesOf(daemons: readonly DaemonFacts[]): string[] {
  return [...new Set([...HOST_PACKAGES, ...daemons.flatMap((d) => d.packages)])];
}

/** The facts of one daemon of a bundle, typed by name; undefined when the host does not run it. */
export function daemonFacts<N extends DaemonName>(daemons: readonly DaemonFacts[], name: N): Extract<DaemonFacts, { name: N }> | undefined {
  return daemons.find((d): d is Extract<DaemonFacts, { name: N }> => d.name === name);
}
