// MTA-STS in the lab: an outside web host serving every domain's rendered policy Worker over HTTPS
// (certificate from the lab CA, as Cloudflare's would be publicly trusted), and an outside sender
// that enforces MTA-STS with Debian's postfix-mta-sts-resolver, trusting the lab CA.
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MtaStsPolicy } from "../plan/mtaSts.ts";
import { MTA_STS_PATH } from "../plan/mtaSts.ts";
import { mtaStsWorker } from "../render/mtaSts.ts";
import { issueLabCert, type LabCa } from "./ca.ts";
import { spawnDetached } from "./proc.ts";
import { readyBoundMs, runProbes, describeDown, type LabProbe } from "./probes.ts";
import type { HostContext, HostReport } from "./hosts.ts";
import type { OutsideHost } from "./topology.ts";

const SERVER = fileURLToPath(new URL("./mta-sts-server.mjs", import.meta.url));
/** Where the sender's postfix-mta-sts-resolver listens (its packaged default). */
export const MTA_STS_RESOLVER = { address: "127.0.0.1", port: 8461 };

async function answer(probes: LabProbe[], who: string): Promise<void> {
  const down = (await runProbes(probes, { waitMs: readyBoundMs() })).filter((r) => !r.ok);
  if (down.length) throw new Error(`${who}: not up after ${readyBoundMs() / 1000} s:\n${down.map((r) => `  ${describeDown(r)}`).join("\n")}`);
}

/** The web host: each mta-sts.<domain> name served by that domain's Worker module, on port 443. */
export async function startMtaStsWeb(o: OutsideHost, h: HostContext, policies: MtaStsPolicy[], ca: LabCa): Promise<HostReport> {
  const t0 = Date.now();
  const report: HostReport = { checks: [], warnings: [], logs: [], probes: [], seconds: 0, steps: [] };
  const www = `${h.root}/www`;
  mkdirSync(www, { recursive: true });
  const map: Record<string, string> = {};
  for (const p of policies) {
    const file = `${www}/${p.domain}.worker.mjs`;
    writeFileSync(file, mtaStsWorker(p));
    map[p.host] = file;
  }
  writeFileSync(`${www}/map.json`, JSON.stringify(map, null, 2));
  const cert = `${h.root}/etc/tls/cert.pem`;
  const key = `${h.root}/etc/tls/key.pem`;
  await issueLabCert(ca, cert, key, o.names);
  mkdirSync(h.logDir, { recursive: true });
  const log = `${h.logDir}/mta-sts-web.log`;
  spawnDetached([process.execPath, SERVER, "443", cert, key, `${www}/map.json`], log, { ns: h.ns });
  report.logs.push(log);
  for (const p of policies)
    report.probes.push({
      host: o.name,
      ns: h.ns,
      daemon: "MTA-STS web",
      what: `${p.url}: 200 over TLS verified against the lab CA`,
      check: { kind: "https", address: o.ipv4[0]!, port: 443, host: p.host, path: MTA_STS_PATH, ca: ca.cert },
      logs: [log],
    });
  await answer(report.probes, `outside ${o.name}`);
  report.checks.push(`outside ${o.name}: MTA-STS policies served over HTTPS for ${policies.map((p) => p.host).join(", ")}`);
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

/**
 * The outside sender's MTA-STS enforcement: postfix-mta-sts-resolver (trusting the lab CA for the
 * policy fetch) as Postfix's TLS policy map, and the lab CA as Postfix's trust anchor. Returns the
 * main.cf lines; the resolver's probe goes into the report.
 */
export function startMtaStsResolver(o: OutsideHost, h: HostContext, ca: LabCa, report: HostReport): string[] {
  const conf = `${h.root}/etc/mta-sts-daemon.yml`;
  mkdirSync(`${h.root}/etc`, { recursive: true });
  writeFileSync(
    conf,
    [
      "# facteur lab: the outside sender enforces MTA-STS (Debian's postfix-mta-sts-resolver).",
      `host: ${MTA_STS_RESOLVER.address}`,
      `port: ${MTA_STS_RESOLVER.port}`,
      "reuse_port: true",
      "cache:",
      "  type: internal",
      "  options:",
      "    cache_size: 1000",
      "default_zone:",
      "  strict_testing: false",
      "  timeout: 4",
      "",
    ].join("\n"),
  );
  spawnMtaStsResolver(o.name, h, conf, ca, report);
  return [
    `smtp_tls_policy_maps = socketmap:inet:${MTA_STS_RESOLVER.address}:${MTA_STS_RESOLVER.port}:postfix`,
    `smtp_tls_CAfile = ${ca.cert}`,
    "smtp_tls_loglevel = 1",
  ];
}

/** postfix-mta-sts-resolver with `conf`, in h's namespace and resolver, trusting the lab CA; its probe goes into the report. */
export function spawnMtaStsResolver(host: string, h: HostContext, conf: string, ca: LabCa, report: HostReport): void {
  mkdirSync(h.logDir, { recursive: true });
  const log = `${h.logDir}/mta-sts-daemon.log`;
  // aiohttp verifies the policy server against OpenSSL's default paths: SSL_CERT_FILE points them at the lab CA.
  spawnDetached(["env", `SSL_CERT_FILE=${ca.cert}`, "mta-sts-daemon", "-c", conf, "-v", "debug", "-l", log], `${h.logDir}/mta-sts-daemon.out`, { ns: h.ns, resolv: h.resolv });
  report.logs.push(log);
  report.probes.push({
    host,
    ns: h.ns,
    daemon: "postfix-mta-sts-resolver",
    what: `socketmap on ${MTA_STS_RESOLVER.address}:${MTA_STS_RESOLVER.port}`,
    check: { kind: "socketmap", address: MTA_STS_RESOLVER.address, port: MTA_STS_RESOLVER.port, name: "postfix" },
    logs: [log, `${h.logDir}/mta-sts-daemon.out`],
  });
}
