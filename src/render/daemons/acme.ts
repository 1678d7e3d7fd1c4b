// ACME certificates (spec acme): every host gets its own name's certificate from lego over
// HTTP-01, renewed by a systemd timer (templates/acme); Postfix reads it where lego writes it.
// A host with a managed TLS key (tlsKey) has its certificates requested for that key (lego --csr
// with a CSR made from it on the host), so the TLSA 3 1 1 records pinning it hold across renewals;
// while a next key is announced (tlsKey.next), its certificate is pre-issued beside, for the switch.
import type { AcmeFacts, DaemonPart, HostInput } from "./types.ts";
import { nextTlsKeyPath, tlsPair } from "./postfix.ts";

export const ACME_DIR = "/etc/facteur/acme";

export function runsAcme({ model }: Pick<HostInput, "model">): boolean {
  return model.acme !== undefined;
}

export function acme({ model, host, root }: HostInput): DaemonPart<AcmeFacts> {
  const dir = `${root}${ACME_DIR}`;
  const cert = `${dir}/certificates/${host.fqdn}.crt`;
  const managed = host.tlsKey !== undefined;
  const key = managed ? tlsPair(root).key : `${dir}/certificates/${host.fqdn}.key`;
  const csr = managed ? `${dir}/${host.fqdn}.csr` : undefined;
  const meta = `${dir}/certificates/${host.fqdn}.json`;
  // The next key's certificate, pre-issued in a lego tree of its own (never the served one).
  const next = `${dir}/next`;
  const preIssued = managed
    ? { key: nextTlsKeyPath(root), csr: `${next}/${host.fqdn}.csr`, dir: next, cert: `${next}/certificates/${host.fqdn}.crt`, meta: `${next}/certificates/${host.fqdn}.json` }
    : undefined;
  const script = `${dir}/renew.sh`;
  const service = `${root}/etc/systemd/system/facteur-acme.service`;
  const timer = `${root}/etc/systemd/system/facteur-acme.timer`;
  return {
    facts: {
      name: "acme",
      label: "ACME client (lego)",
      service: "facteur-acme.timer",
      packages: ["lego"],
      config: script,
      user: "root",
      group: "root",
      logs: [],
      syslog: false,
      dirs: [],
      readiness: [],
      script,
      cert,
      key,
      ...(csr ? { csr } : {}),
      meta,
      ...(preIssued ? { preIssued } : {}),
      units: [service, timer],
    },
    files: [
      { template: "acme/renew.sh", path: script },
      { template: "acme/facteur-acme.service", path: service },
      { template: "acme/facteur-acme.timer", path: timer },
    ],
    context: { acme: { ...model.acme!, dir, cert, key, script, meta, ...(csr ? { csr } : {}), ...(preIssued && host.tlsKey?.next ? { preIssue: preIssued } : {}) } },
  };
}
