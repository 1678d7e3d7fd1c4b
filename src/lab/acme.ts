// ACME in the lab: Debian's pebble (an RFC 8555 test server) as the CA, in its own outside
// namespace, validating HTTP-01 challenges against the hosts' names through the lab's DNS; and,
// on each own host, the rendered renewal script run the way its systemd timer runs it (no
// systemd in the lab): at bring-up (first issuance), then every few seconds (renewals).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { HostBundle } from "../render/bundle.ts";
import type { AcmeFacts } from "../render/daemons/index.ts";
import { issueLabCert, type LabCa } from "./ca.ts";
import { spawnDetached, waitFor } from "./proc.ts";
import { describeDown, readyBoundMs, runProbes } from "./probes.ts";
import type { HostContext, HostReport } from "./hosts.ts";
import type { OutsideHost } from "./topology.ts";

/** host and port of an ACME directory URL. */
export function acmeEndpoint(directory: string): { host: string; port: number; path: string } {
  const u = new URL(directory);
  return { host: u.hostname, port: Number(u.port || 443), path: u.pathname };
}

/** Seconds between two runs of the renewal script in the lab (a systemd timer fires twice a day on hosts). */
export function labAcmeSeconds(): number {
  const s = Number(process.env.FACTEUR_LAB_ACME_SECONDS ?? 20);
  return Number.isFinite(s) && s >= 1 ? s : 20;
}

/** pebble on the acme host: its API certificate from the lab CA, HTTP-01 checks on port 80, names from the lab DNS. */
export async function startPebble(o: OutsideHost, h: HostContext, directory: string, ca: LabCa, dnsServer: string): Promise<HostReport> {
  const t0 = Date.now();
  const report: HostReport = { checks: [], warnings: [], logs: [], probes: [], seconds: 0, steps: [] };
  const { port, path } = acmeEndpoint(directory);
  const dir = `${h.root}/etc/pebble`;
  mkdirSync(dir, { recursive: true });
  mkdirSync(h.logDir, { recursive: true });
  await issueLabCert(ca, `${dir}/cert.pem`, `${dir}/key.pem`, o.names);
  writeFileSync(
    `${dir}/pebble.json`,
    JSON.stringify({ pebble: { listenAddress: `:${port}`, managementListenAddress: ":15000", certificate: `${dir}/cert.pem`, privateKey: `${dir}/key.pem`, httpPort: 80, tlsPort: 443, ocspResponderURL: "", externalAccountBindingRequired: false } }, null, 2),
  );
  const log = `${h.logDir}/pebble.log`;
  // No artificial validation delays, no spurious bad-nonce errors: the lab wants the real protocol, quickly.
  spawnDetached(["env", "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "pebble", "-config", `${dir}/pebble.json`, "-dnsserver", `${dnsServer}:53`], log, { ns: h.ns });
  report.logs.push(log);
  report.probes.push({ host: o.name, ns: h.ns, daemon: "pebble", what: `ACME directory ${directory}`, check: { kind: "https", address: o.ipv4[0]!, port, host: o.names[0]!, path, ca: ca.cert }, logs: [log] });
  const down = (await runProbes(report.probes, { waitMs: readyBoundMs() })).filter((r) => !r.ok);
  if (down.length) throw new Error(`outside ${o.name}: ${down.map(describeDown).join("; ")}`);
  report.checks.push(`outside ${o.name}: pebble answers at ${directory}`);
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

/** The issuer of a PEM certificate file ("" when it cannot be read). */
export function issuerOf(certFile: string): string {
  try {
    return execFileSync("openssl", ["x509", "-in", certFile, "-noout", "-issuer"], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/**
 * Runs the bundle's renewal script now and then every labAcmeSeconds(), as its timer would, with
 * the lab CA trusted for the ACME server's own HTTPS; resolves once the CA has issued the certificate.
 */
export async function startAcmeTimer(bundle: HostBundle, acme: AcmeFacts, h: HostContext, report: HostReport): Promise<void> {
  if (!h.ca) throw new Error(`${bundle.host}: ACME in the lab needs the lab CA (pebble's HTTPS)`);
  const log = `${h.logDir}/acme-timer.log`;
  const loop = `while :; do echo "== $(date -u +%FT%TZ) facteur-acme.service"; sh "$0"; echo "== exit $?"; sleep ${labAcmeSeconds()}; done`;
  spawnDetached(["env", `LEGO_CA_CERTIFICATES=${h.ca.cert}`, "sh", "-c", loop, acme.script], log, { ns: h.ns, resolv: h.resolv });
  report.logs.push(log);
  const issued = await waitFor(async () => /pebble/i.test(issuerOf(bundle.tls.cert)), readyBoundMs(), 500);
  if (!issued) throw new Error(`${bundle.host}: no ACME certificate at ${bundle.tls.cert} after ${readyBoundMs() / 1000} s (issuer: ${issuerOf(bundle.tls.cert) || "none"}); read ${log}:\n${readFileSync(log, "utf8").trim().split("\n").slice(-8).join("\n")}`);
  report.checks.push(`${bundle.host}: ACME certificate issued for ${bundle.fqdn} (${issuerOf(bundle.tls.cert)})`);
}
