// Postfix, on every host: relays receive for our domains (postscreen on port 25) and forward
// through the smarthost pool; smarthosts relay for the relays and for authenticated submission
// (587, 465), and deliver. It is wired to the other daemons of its host through their facts
// (milter sockets, SRS tables, the policy socket), never through a second spelling of them.
import type { AcmeFacts, DaemonPart, HostInput, MtaStsResolverFacts, OpendkimFacts, PolicydFacts, PostfixFacts, PostsrsdFacts, RspamdFacts, UnboundFacts } from "./types.ts";

/** The other daemons of the host, as Postfix reaches them. */
export interface PostfixPeers {
  rspamd?: RspamdFacts;
  postsrsd?: PostsrsdFacts;
  opendkim?: OpendkimFacts;
  policyd?: PolicydFacts;
  /** Smarthosts' outbound TLS (policy.outboundTls): DANE behind unbound, MTA-STS through the resolver. */
  unbound?: UnboundFacts;
  mtaSts?: MtaStsResolverFacts;
  /** ACME: the certificate Postfix offers is the one lego writes. */
  acme?: AcmeFacts;
}

/**
 * Outbound TLS beyond opportunistic: smtp_tls_security_level dane with a validating resolver,
 * and the MTA-STS policy map with the public CAs as trust store; relays hand everything to the
 * pool, opportunistically.
 */
function outboundTls(root: string, peers: PostfixPeers) {
  const dane = peers.unbound !== undefined;
  const mtaSts = peers.mtaSts !== undefined;
  return {
    dane,
    mtaSts,
    level: dane ? ("dane" as const) : ("may" as const),
    ...(peers.mtaSts ? { policyMap: `socketmap:inet:${peers.mtaSts.address}:${peers.mtaSts.port}:postfix`, caFile: `${root}/etc/ssl/certs/ca-certificates.crt` } : {}),
  };
}

/** The listeners master.cf declares: a relay answers port 25 (postscreen); a smarthost also takes submission. */
function listeners(role: HostInput["host"]["role"]): PostfixFacts["listeners"] {
  const at = "127.0.0.1"; // master.cf binds every address (inet_interfaces = all); loopback is where a probe asks.
  const smtp = { service: "smtp", address: at, port: 25, tls: false };
  if (role === "relay") return [smtp];
  return [smtp, { service: "submission", address: at, port: 587, tls: false }, { service: "smtps", address: at, port: 465, tls: true }];
}

/** The key pair smtpd offers (made on the host by the applier, never rendered). */
export function tlsPair(root: string): { cert: string; key: string } {
  return { cert: `${root}/etc/facteur/tls/cert.pem`, key: `${root}/etc/facteur/tls/key.pem` };
}

/** Where the applier writes a host's next managed TLS key (tlsKey.next) for the ACME client. */
export function nextTlsKeyPath(root: string): string {
  return `${root}/etc/facteur/tls/next.pem`;
}

/** The Cyrus sasldb submission logins live in (smarthosts). */
export function saslDbPath(root: string): string {
  return `${root}/etc/sasldb2`;
}

/**
 * With a shared quota store, policyd itself unreachable is answered like its store unreachable
 * (policy.quotaStore.whenUnreachable), within seconds: fail open is Postfix's DUNNO, fail closed
 * its own default (451 4.3.5).
 */
function quotaUnreachable(policyd: PolicydFacts): { failOpen: boolean } | undefined {
  return policyd.store ? { failOpen: policyd.store.whenUnreachable === "accept" } : undefined;
}

export function postfix(input: HostInput, peers: PostfixPeers): DaemonPart<PostfixFacts> {
  const { model, plan, host, root } = input;
  const pf = `${root}/etc/postfix`;
  const queueDirectory = `${root}/var/spool/postfix`;
  const dataDirectory = `${root}/var/lib/postfix`;
  const maillog = `${root}/var/log/postfix.log`;
  const hasSasl = plan.routing.saslCredentials.length > 0;
  // The domains this host receives: those it is MX for, and the operator's (SRS, role addresses).
  const mxFor = new Set(host.mxFor); // a Set: 1,000 domains against 1,000 names is a million comparisons
  const received = model.domains.filter((d) => mxFor.has(d.name) || d.operator);
  const common = [{ template: "postfix/master.cf", path: `${pf}/master.cf` }];
  const files =
    host.role === "relay"
      ? [
          ...common,
          { template: "postfix/relay-main.cf", path: `${pf}/main.cf` },
          { template: "postfix/virtual", path: `${pf}/virtual`, postmap: true },
          ...(hasSasl
            ? [
                { template: "postfix/sasl_passwd", path: `${pf}/sasl_passwd`, mode: "0600" as const, postmap: true },
                { template: "postfix/tls_policy", path: `${pf}/tls_policy`, postmap: true },
              ]
            : []),
          ...(plan.routing.spamRelayhost ? [{ template: "postfix/spam_lane", path: `${pf}/spam_lane` }] : []),
        ]
      : [
          ...common,
          { template: "postfix/smarthost-main.cf", path: `${pf}/main.cf` },
          { template: "postfix/relay_clients", path: `${pf}/relay_clients` },
          { template: "postfix/transport", path: `${pf}/transport`, postmap: true },
          { template: "postfix/sender_logins", path: `${pf}/sender_logins`, postmap: true },
          { template: "postfix/sasl-smtpd.conf", path: `${pf}/sasl/smtpd.conf` },
        ];
  const need = <T>(what: string, v: T | undefined): T => {
    if (!v) throw new Error(`render ${host.name}: Postfix needs ${what} on a ${host.role}`);
    return v;
  };
  const tls = peers.acme ? { cert: peers.acme.cert, key: peers.acme.key } : tlsPair(root);
  const outbound = outboundTls(root, peers);
  const wiring =
    host.role === "relay"
      ? { milter: need("rspamd", peers.rspamd).milter, srs: { forward: need("postsrsd", peers.postsrsd).forward, reverse: peers.postsrsd!.reverse } }
      : { milter: need("OpenDKIM", peers.opendkim).socket, policy: need("policyd-rate-limit", peers.policyd).socket, quotaUnreachable: quotaUnreachable(peers.policyd!) };
  return {
    facts: {
      name: "postfix",
      label: "Postfix",
      service: "postfix",
      packages: ["postfix", "sasl2-bin", "libsasl2-modules"],
      config: `${pf}/main.cf`,
      user: "postfix",
      group: "postfix",
      // Created for postfix before the first start, never by a root-run command: postsuper
      // writes it directly while postlogd is down and must be able to open it.
      logs: [{ path: maillog, owner: "postfix", group: "adm", mode: "0640" }],
      syslog: false,
      dirs: [
        { path: queueDirectory, owner: "root", group: "root", mode: "0755" },
        { path: dataDirectory, owner: "postfix", group: "postfix", mode: "0755" },
      ],
      configCheck: ["postfix", "-c", pf, "check"],
      readiness: listeners(host.role).map((l) => ({
        what: `${l.service} on ${l.address}:${l.port}${l.tls ? " (TLS)" : ""}: 220 banner`,
        check: { kind: "smtp" as const, address: l.address, port: l.port, ...(l.tls ? { tls: true } : {}) },
      })),
      configDir: pf,
      queueDirectory,
      dataDirectory,
      maillog,
      listeners: listeners(host.role),
      ...(outbound.caFile ? { tlsCaFile: outbound.caFile } : {}),
    },
    files,
    context: {
      smarthost: host.role === "smarthost",
      roleTitle: host.role === "relay" ? "relay (MX host)" : `smarthost (${host.lane} lane)`,
      operatorDomain: model.operator.domain,
      domains: received,
      virtualDomains: received.map((d) => d.name),
      routing: plan.routing,
      // Weighted pool (src/plan/weights.ts): the pool MX first among the fallbacks, then the external relays.
      ...(plan.routing.weightedPool ? { weightedPool: plan.routing.weightedPool } : {}),
      fallbackRelays: plan.routing.weightedPool ? [plan.routing.relayhost, ...plan.routing.fallbackRelays] : plan.routing.fallbackRelays,
      relayClients: plan.routing.relayClients,
      externalRelays: model.externalRelays.filter((e) => e.auth),
      submissionUsers: model.submissionUsers,
      inbound: model.policy.inbound,
      spam: model.policy.spam,
      dnsbl: model.policy.dnsbl,
      pacing: { default: model.policy.pacing.default, domains: model.policy.pacing.domains },
      saslDb: saslDbPath(root),
      tls,
      outboundTls: outbound,
      smtpTlsLevel: outbound.level,
      queueDirectory,
      dataDirectory,
      maillog,
      ...wiring,
    },
  };
}
