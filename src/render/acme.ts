// ACME certificates (spec acme): every host gets its own name's certificate from lego over
// HTTP-01, renewed by a systemd timer; Postfix reads it where lego writes it. What it adds to a
// bundle: the renewal script and its timer (templates/acme), the TLS paths, the package and the
// service, and where the script is (the lab runs it as the timer would).
import type { Model } from "../model/model.ts";
import type { PlannedHost } from "../plan/plan.ts";

export const ACME_DIR = "/etc/facteur/acme";

export interface AcmeContext {
  email: string;
  directory: string;
  renewDays: number;
  /** lego's --path. */
  dir: string;
  cert: string;
  key: string;
  script: string;
}

export function acmeContext(model: Model, host: PlannedHost, root: string): AcmeContext | undefined {
  if (!model.acme) return undefined;
  const dir = `${root}${ACME_DIR}`;
  return {
    ...model.acme,
    dir,
    cert: `${dir}/certificates/${host.fqdn}.crt`,
    key: `${dir}/certificates/${host.fqdn}.key`,
    script: `${dir}/renew.sh`,
  };
}

export function acmeFiles(acme: AcmeContext | undefined, root: string): { template: string; path: string }[] {
  if (!acme) return [];
  return [
    { template: "acme/renew.sh", path: acme.script },
    { template: "acme/facteur-acme.service", path: `${root}/etc/systemd/system/facteur-acme.service` },
    { template: "acme/facteur-acme.timer", path: `${root}/etc/systemd/system/facteur-acme.timer` },
  ];
}
