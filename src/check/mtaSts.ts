// facteur check, MTA-STS (RFC 8461): the _mta-sts record (exactly one, with the planned id), the
// policy as senders fetch it (HTTPS, certificate valid for mta-sts.<domain>, text/plain, the planned
// mode, max_age and MX list), and the domain's live MX hosts all matching the policy.
import { request } from "node:https";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { readFileSync } from "node:fs";
import type { Plan } from "../plan/plan.ts";
import type { DnsRecord } from "../plan/dns.ts";
import { MTA_STS_PATH, mxMatches, parsePolicy, type MtaStsPolicy } from "../plan/mtaSts.ts";
import { LookupFailure, type Lookups } from "./lookups.ts";
import type { CheckResult } from "./checks.ts";

export interface HttpsAnswer {
  status: number;
  contentType: string;
  body: string;
  /** Why the certificate is not trusted for the name (chain or name), or undefined when it is. */
  certProblem?: string;
  /** The certificate's notAfter, as epoch ms. */
  validTo: number;
}

/** GET https://<servername><path> from `address`; never follows redirects (RFC 8461 3.3). */
export type HttpsFetcher = (target: { address: string; servername: string; path: string; timeoutMs: number }) => Promise<HttpsAnswer>;

/** Days before expiry from which check warns: ACME renews at 30 days left, so 14 means renewal is failing. */
export const CERT_WARN_DAYS = 14;
/** RFC 8461 3.3: senders refuse larger policy bodies. */
const MAX_POLICY_BYTES = 64 * 1024;

/** The real fetcher: node's TLS, verified against `caFile` when given (else the system's roots). */
export function httpsFetcher(caFile?: string): HttpsFetcher {
  const ca = caFile ? readFileSync(caFile) : undefined;
  return ({ address, servername, path, timeoutMs }) =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: address, servername, port: 443, path, method: "GET", headers: { host: servername }, ...(ca ? { ca } : {}), rejectUnauthorized: false, timeout: timeoutMs, agent: false },
        (res) => {
          const sock = res.socket as import("node:tls").TLSSocket;
          const peer = sock.getPeerCertificate() as PeerCertificate;
          const nameProblem = peer && Object.keys(peer).length ? checkServerIdentity(servername, peer)?.message : "no certificate";
          const certProblem = !sock.authorized ? String(sock.authorizationError) : nameProblem;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (c: Buffer) => {
            size += c.length;
            if (size > MAX_POLICY_BYTES) res.destroy(new Error(`the policy is larger than ${MAX_POLICY_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              contentType: String(res.headers["content-type"] ?? ""),
              body: Buffer.concat(chunks).toString("utf8"),
              ...(certProblem ? { certProblem } : {}),
              validTo: peer?.valid_to ? Date.parse(peer.valid_to) : 0,
            }),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
}

/** The TXT check of _mta-sts.<domain>: exactly one v=STSv1 record, with the planned id. */
export function checkStsRecord(r: DnsRecord, live: string[]): CheckResult {
  const what = `MTA-STS record ${r.name}`;
  const sts = live.filter((v) => /^v=STSv1(;|\s|$)/.test(v.trim()));
  if (sts.length === 0) return { id: r.id, state: "CRITICAL", what, expected: r.content, found: live.length ? live.join(" | ") : "nothing", note: "no v=STSv1 record: senders see no policy" };
  if (sts.length > 1) return { id: r.id, state: "CRITICAL", what, expected: r.content, found: sts.join(" | "), note: "several v=STSv1 records: RFC 8461 says senders then ignore the policy" };
  const want = /id=([A-Za-z0-9]+)/.exec(r.content)?.[1];
  const got = /(?:^|;)\s*id=([A-Za-z0-9]{1,32})\s*(;|$)/.exec(sts[0]!)?.[1];
  if (got !== want) return { id: r.id, state: "CRITICAL", what, expected: r.content, found: sts[0]!, note: "the id is not the planned policy's: senders keep a stale policy or fetch one that differs" };
  return { id: r.id, state: "OK", what, found: sts[0]! };
}

async function addressOf(lookups: Lookups, name: string): Promise<string | LookupFailure | undefined> {
  for (const type of ["A", "AAAA"] as const) {
    try {
      const got = await lookups.resolve(name, type);
      if (got[0]) return got[0];
    } catch (e) {
      if (e instanceof LookupFailure) return e;
      throw e;
    }
  }
  return undefined;
}

async function checkPolicy(p: MtaStsPolicy, lookups: Lookups, fetch: HttpsFetcher, now: number, deadlineAt?: number): Promise<CheckResult[]> {
  const ids = { policy: `mta-sts-policy:${p.domain}`, cert: `mta-sts-cert:${p.domain}`, mx: `mta-sts-mx:${p.domain}` };
  const out: CheckResult[] = [];
  const address = await addressOf(lookups, p.host);
  let served: ReturnType<typeof parsePolicy> | undefined;
  if (address instanceof LookupFailure || address === undefined) {
    const note = address ? `lookup failed: ${address.message}` : `${p.host} has no A or AAAA record`;
    out.push({ id: ids.policy, state: address ? "UNKNOWN" : "CRITICAL", what: `MTA-STS policy ${p.url}`, note });
    out.push({ id: ids.cert, state: address ? "UNKNOWN" : "CRITICAL", what: `certificate of ${p.host}`, note });
  } else {
    const timeoutMs = Math.max(1000, Math.min(10_000, (deadlineAt ?? now + 10_000) - Date.now()));
    let answer: HttpsAnswer | undefined;
    try {
      answer = await fetch({ address, servername: p.host, path: MTA_STS_PATH, timeoutMs });
    } catch (e) {
      const note = `no HTTPS answer from ${address}: ${(e as Error).message}`;
      out.push({ id: ids.policy, state: "CRITICAL", what: `MTA-STS policy ${p.url}`, note });
      out.push({ id: ids.cert, state: "CRITICAL", what: `certificate of ${p.host}`, note });
    }
    if (answer) {
      const days = Math.floor((answer.validTo - now) / 86_400_000);
      out.push(
        answer.certProblem
          ? { id: ids.cert, state: "CRITICAL", what: `certificate of ${p.host}`, note: `senders refuse the policy: ${answer.certProblem}` }
          : days < CERT_WARN_DAYS
            ? { id: ids.cert, state: days < 0 ? "CRITICAL" : "WARNING", what: `certificate of ${p.host}`, found: `expires in ${days} days`, note: "renewal is not happening" }
            : { id: ids.cert, state: "OK", what: `certificate of ${p.host}`, found: `valid for ${p.host}, expires in ${days} days` },
      );
      const what = `MTA-STS policy ${p.url}`;
      const parsed = parsePolicy(answer.body);
      const problems: string[] = [];
      if (answer.status !== 200) problems.push(`HTTP ${answer.status}, not 200`);
      if (!/^text\/plain(;|$)/i.test(answer.contentType.trim())) problems.push(`content-type ${answer.contentType || "missing"}, not text/plain`);
      if (answer.status === 200) {
        served = parsed;
        problems.push(...parsed.problems);
        if (parsed.mode !== p.mode) problems.push(`mode ${parsed.mode}, planned ${p.mode}`);
        if (parsed.maxAge !== p.maxAge) problems.push(`max_age ${parsed.maxAge}, planned ${p.maxAge}`);
        const [a, b] = [[...parsed.mx].sort().join(" "), [...p.mx].sort().join(" ")];
        if (a !== b) problems.push(`mx ${a || "none"}, planned ${b}`);
      }
      out.push(
        problems.length
          ? { id: ids.policy, state: "CRITICAL", what, expected: p.text.trim().replace(/\r\n/g, "; "), found: answer.body.trim().replace(/\r?\n/g, "; "), note: problems.join("; ") }
          : { id: ids.policy, state: "OK", what, found: `${p.mode}, max_age ${p.maxAge}, mx ${p.mx.join(" ")}` },
      );
    }
  }
  // Every live MX must be allowed by the policy senders hold, or enforcing senders refuse it.
  let live: string[];
  try {
    live = (await lookups.resolve(p.domain, "MX")).map((v) => v.split(/\s+/)[1] ?? v).map((h) => h.toLowerCase().replace(/\.$/, ""));
  } catch (e) {
    if (!(e instanceof LookupFailure)) throw e;
    out.push({ id: ids.mx, state: "UNKNOWN", what: `MX of ${p.domain} against its MTA-STS policy`, note: `lookup failed: ${e.message}` });
    return out;
  }
  const patterns = served?.mx.length ? served.mx : p.mx;
  const unmatched = live.filter((h) => !patterns.some((pat) => mxMatches(h, pat)));
  out.push(
    unmatched.length
      ? { id: ids.mx, state: "CRITICAL", what: `MX of ${p.domain} against its MTA-STS policy`, expected: patterns.join(" "), found: live.join(" "), note: `not in the policy: ${unmatched.join(", ")} (enforcing senders will not deliver there)` }
      : { id: ids.mx, state: "OK", what: `MX of ${p.domain} against its MTA-STS policy`, found: live.join(" ") || "no MX" },
  );
  return out;
}

export async function checkMtaSts(plan: Plan, lookups: Lookups, fetch: HttpsFetcher, deadlineAt?: number): Promise<CheckResult[]> {
  const now = Date.now();
  return (await Promise.all((plan.mtaSts ?? []).map((p) => checkPolicy(p, lookups, fetch, now, deadlineAt)))).flat();
}
