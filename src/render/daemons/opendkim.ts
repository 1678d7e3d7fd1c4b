// OpenDKIM (smarthosts): signs every message leaving, mail of our domains with that domain's
// key, everything else (forwarded mail) with the operator's. A milter on a unix socket that
// Postfix (group postfix) may reach.
import type { DaemonPart, HostInput, OpendkimFacts } from "./types.ts";
import { compareText } from "../../order.ts";

/** The keys it signs with, in KeyTable/SigningTable order: our domains first, the operator's catch-all last. */
export function signers({ model, root }: Pick<HostInput, "model" | "root">) {
  const keyDir = `${root}/etc/opendkim/keys`;
  return model.domains
    .filter((d) => d.dkim)
    .sort((a, b) => Number(a.operator) - Number(b.operator) || compareText(a.name, b.name))
    .map((d) => ({
      domain: d.name,
      selector: d.dkim!.active,
      keyName: d.name,
      pattern: d.operator ? "*" : `*@${d.name}`,
      path: `${keyDir}/${d.name}/${d.dkim!.active}.private`,
    }));
}

export function opendkim(input: HostInput): DaemonPart<OpendkimFacts> {
  const { root, plan } = input;
  const conf = `${root}/etc/opendkim.conf`;
  const run = `${root}/run/opendkim`;
  const socket = `${run}/opendkim.sock`;
  const pidfile = `${run}/opendkim.pid`;
  // The socket's directory: OpenDKIM creates the socket, smtpd (group postfix) connects to it.
  const runDir = { path: run, owner: "opendkim", group: "postfix", mode: "0750" };
  return {
    facts: {
      name: "opendkim",
      label: "OpenDKIM",
      service: "opendkim",
      packages: ["opendkim", "opendkim-tools"],
      config: conf,
      user: "opendkim",
      group: "postfix",
      logs: [],
      syslog: true,
      pidfile,
      dirs: [runDir],
      configCheck: ["opendkim", "-n", "-x", conf],
      foreground: ["opendkim", "-f", "-x", conf],
      readiness: [{ what: `milter on unix:${socket}`, check: { kind: "milter", socket: `unix:${socket}` } }],
      socket: `unix:${socket}`,
      keyOwner: { owner: "opendkim", group: "opendkim" },
    },
    files: [
      { template: "opendkim/opendkim.conf", path: conf },
      { template: "opendkim/KeyTable", path: `${root}/etc/opendkim/KeyTable` },
      { template: "opendkim/SigningTable", path: `${root}/etc/opendkim/SigningTable` },
      { template: "opendkim/TrustedHosts", path: `${root}/etc/opendkim/TrustedHosts` },
    ],
    context: { signers: signers(input), relayClients: plan.routing.relayClients, socket, pidfile, user: "opendkim", group: "postfix" },
  };
}
