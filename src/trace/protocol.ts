// What `facteur trace` and `facteur check --delivery` ask a host for over SSH, and how the host's
// answer is framed. Shared by the forced command that the apply step installs (logUser.ts) and
// the SSH reader (ssh.ts).
//
// Requests (the only commands the log user's key may run):
//   maillog since <unix seconds>    (trace) the mail logs written since then
//   delivery since <unix seconds>   (check --delivery) the queue (postqueue -j), then Postfix's log
// Answer: sections, each opened by a marker line (log lines never start with "#", nor do
// postqueue's: JSON objects or "postqueue: ..." errors):
//   #facteur-maillog v1 host=mx1 now=1795532784 tz=+0000
//   #facteur-maillog source=queue status=0          (delivery only: postqueue's exit status)
//   #facteur-maillog source=postfix file=/var/log/postfix.log
//   ...
//   #facteur-maillog source=rspamd file=/var/log/rspamd.log   (maillog only)
//   #facteur-maillog source=journal                           (maillog only)
//   #facteur-maillog end

export const LOG_USER = "facteur-logs";
export const MARK = "#facteur-maillog";
export const REQUEST_PATTERN = "^(maillog|delivery) since ([0-9]{1,11})$";
export type RequestKind = "maillog" | "delivery";

export function request(sinceMs: number, kind: RequestKind = "maillog"): string {
  return `${kind} since ${Math.max(0, Math.floor(sinceMs / 1000))}`;
}

export interface MaillogAnswer {
  hostname: string;
  nowMs: number;
  /** Minutes east of UTC of the host's local time. */
  offsetMinutes: number;
  postfix: Buffer;
  rspamd: Buffer;
  journal: Buffer;
  /** `postqueue -j`'s output (a delivery answer), and its exit status (undefined: not asked). */
  queue: Buffer;
  queueStatus?: number;
  complete: boolean;
}

/** Splits the forced command's output into its sources (no copy of the big parts beyond one concat). */
export function parseAnswer(out: Buffer): MaillogAnswer {
  const head = out.subarray(0, Math.min(out.length, 200)).toString("utf8").split("\n")[0] ?? "";
  const h = /^#facteur-maillog v1 host=(\S*) now=(\d+) tz=([+-]\d{4})$/.exec(head);
  if (!h) throw new Error(`not a facteur maillog answer (first line: ${JSON.stringify(head.slice(0, 80))})`);
  const tz = h[3]!;
  const offsetMinutes = (tz[0] === "-" ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
  const parts: Record<string, Buffer[]> = { postfix: [], rspamd: [], journal: [], queue: [] };
  let queueStatus: number | undefined;
  const marker = Buffer.from(`\n${MARK} `);
  let pos = out.indexOf(10) + 1;
  let complete = false;
  // Walk the markers; each section runs to the next one.
  let at = pos > 0 ? out.indexOf(marker, pos - 1) : -1;
  while (at >= 0) {
    const lineEnd = out.indexOf(10, at + 1);
    const line = out.toString("utf8", at + 1, lineEnd < 0 ? out.length : lineEnd);
    if (line === `${MARK} end`) {
      complete = true;
      break;
    }
    const src = /^#facteur-maillog source=(\w+)/.exec(line)?.[1];
    const status = src === "queue" ? /^#facteur-maillog source=queue status=(\d{1,3})$/.exec(line) : null;
    if (status) queueStatus = Number(status[1]);
    const bodyStart = lineEnd < 0 ? out.length : lineEnd + 1;
    const next = out.indexOf(marker, bodyStart - 1);
    const body = out.subarray(bodyStart, next < 0 ? out.length : next + 1);
    if (src && parts[src]) parts[src]!.push(body);
    at = next;
    pos = bodyStart;
  }
  const cat = (b: Buffer[]) => (b.length === 1 ? b[0]! : Buffer.concat(b));
  return {
    hostname: h[1]!,
    nowMs: Number(h[2]) * 1000,
    offsetMinutes,
    postfix: cat(parts.postfix!),
    rspamd: cat(parts.rspamd!),
    journal: cat(parts.journal!),
    queue: cat(parts.queue!),
    ...(queueStatus !== undefined ? { queueStatus } : {}),
    complete,
  };
}
