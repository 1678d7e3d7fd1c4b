// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) per mail domain: the policy file senders fetch over
// HTTPS from mta-sts.<domain>, its id, and the two TXT records. Pure data, from the model.
import { createHash } from "node:crypto";
import type { Model, MailDomain } from "../model/model.ts";
import { compareText } from "../order.ts";

export interface MtaStsPolicy {
  domain: string;
  /** Where senders fetch the policy: https://<host>/.well-known/mta-sts.txt. */
  host: string;
  url: string;
  mode: "testing" | "enforce" | "none";
  maxAge: number;
  /** Every MX host name of the domain (our relays and third-party backup MX), as listed in the policy. */
  mx: string[];
  /** The policy file, exactly as served (CRLF line ends, RFC 8461 3.2). */
  text: string;
  /** The TXT record's id: derived from the text, so it changes exactly when the policy changes. */
  id: string;
}

export const MTA_STS_PATH = "/.well-known/mta-sts.txt";

export function mtaStsHost(domain: string): string {
  return `mta-sts.${domain}`;
}

/** RFC 8461 3.1: id is 1 to 32 letters and digits; 20 hex digits of the policy's SHA-256. */
export function policyId(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 20);
}

export function policyText(p: { mode: string; maxAge: number; mx: string[] }): string {
  return ["version: STSv1", `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`, ""].join("\r\n");
}

/** The MX host names a domain publishes, in preference order, as dnsRecords lists them. */
export function mxHostsOf(model: Model, d: MailDomain): string[] {
  const ours = model.relays.filter((r) => d.relays.includes(r.name)).sort((a, b) => a.mxPriority - b.mxPriority || compareText(a.name, b.name));
  return [...new Set([...ours.map((r) => r.fqdn), ...model.backupMx.map((b) => b.host)])];
}

export function mtaStsPolicies(model: Model): MtaStsPolicy[] {
  return model.domains.flatMap((d) => {
    if (!d.mtaSts) return [];
    const mx = mxHostsOf(model, d);
    const text = policyText({ mode: d.mtaSts.mode, maxAge: d.mtaSts.maxAge, mx });
    const host = mtaStsHost(d.name);
    return [{ domain: d.name, host, url: `https://${host}${MTA_STS_PATH}`, mode: d.mtaSts.mode, maxAge: d.mtaSts.maxAge, mx, text, id: policyId(text) }];
  });
}

/** The _smtp._tls record of a domain with TLS-RPT. */
export function tlsRptRecord(rua: string[]): string {
  return `v=TLSRPTv1; rua=${rua.map((a) => `mailto:${a}`).join(",")}`;
}

/** Parses a policy file as a sender does (RFC 8461 3.2): key: value lines, mx repeated. */
export function parsePolicy(text: string): { version?: string; mode?: string; maxAge?: number; mx: string[]; problems: string[] } {
  const out: { version?: string; mode?: string; maxAge?: number; mx: string[]; problems: string[] } = { mx: [], problems: [] };
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([a-z_]+):\s*(.*)$/.exec(line);
    if (!m) {
      out.problems.push(`not a key: value line: ${line}`);
      continue;
    }
    const [, k, v] = m as unknown as [string, string, string];
    if (k === "version") out.version = v;
    else if (k === "mode") out.mode = v;
    else if (k === "max_age") out.maxAge = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
    else if (k === "mx") out.mx.push(v.toLowerCase());
  }
  if (out.version !== "STSv1") out.problems.push(`version is ${out.version ?? "missing"}, not STSv1`);
  if (!["testing", "enforce", "none"].includes(out.mode ?? "")) out.problems.push(`mode is ${out.mode ?? "missing"}`);
  if (out.maxAge === undefined || Number.isNaN(out.maxAge)) out.problems.push("max_age is missing or not a number");
  return out;
}

/** Whether an MX host name matches a policy mx pattern ("*.example.tld" matches one label). */
export function mxMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.toLowerCase().replace(/\.$/, "");
  if (p.startsWith("*.")) {
    const rest = p.slice(2);
    return h.endsWith(`.${rest}`) && !h.slice(0, -rest.length - 1).includes(".");
  }
  return h === p;
}
