// The lab's own certificate authority: one per stack, so that TLS in the lab can be verified the
// way the world verifies it (MTA-STS senders, DANE, `facteur check --ca`). Lab-only: production
// hosts get their certificates elsewhere. ECDSA P-256 keys: quick to make under load.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { must } from "./proc.ts";

export interface LabCa {
  cert: string;
  key: string;
}

/** Makes the stack's CA under dir (a fresh one each bring-up: the lab runs from scratch). */
export async function makeLabCa(dir: string, stack: string): Promise<LabCa> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { cert: `${dir}/ca.pem`, key: `${dir}/ca.key` };
  await must(`lab CA of ${stack}`, [
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
    "-subj", `/CN=facteur lab CA ${stack}`, "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", ca.key, "-out", ca.cert,
  ]);
  chmodSync(ca.key, 0o600);
  chmodSync(ca.cert, 0o644);
  return ca;
}

/** A server certificate for `names` (the first is the CN), signed by the lab CA; for a new key, or for the one at `key` (existingKey). */
export async function issueLabCert(ca: LabCa, cert: string, key: string, names: string[], options: { existingKey?: boolean } = {}): Promise<void> {
  for (const f of [cert, key]) mkdirSync(dirname(f), { recursive: true });
  const csr = `${key}.csr`;
  const ext = `${key}.ext`;
  writeFileSync(ext, `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  // existingKey: a certificate for the key already there (a managed host key), not a new one.
  const keyArgs = options.existingKey ? ["-key", key] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key];
  await must(`TLS key for ${names[0]}`, ["openssl", "req", "-new", ...keyArgs, "-subj", `/CN=${names[0]}`, "-out", csr]);
  await must(`TLS certificate for ${names[0]} (lab CA)`, ["openssl", "x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", `0x${randomBytes(16).toString("hex")}`, "-days", "30", "-extfile", ext, "-out", cert]);
  chmodSync(key, 0o600);
  if (existsSync(csr)) chmodSync(csr, 0o600);
}
