// The other daemons on the path: rspamd's per-message log line (relays), OpenDKIM's and
// postsrsd's syslog lines (journald on hosts, the lab's syslog listener in the lab).
import { isoTime, type SyslogTimes } from "./clock.ts";
import type { Clock, ScanVerdict } from "./types.ts";

export interface RspamdTask extends ScanVerdict {
  qid: string;
  messageId?: string;
  from?: string;
  ip?: string;
}

/**
 * 2026-11-23 15:08:41 #23800(rspamd_proxy) <d125a9>; proxy; rspamd_task_write_log: id: <m@x>,
 * qid: <F316016E061>, ip: 203.0.113.10, from: <a@x>, (default: S (add header): [6.00/15.00] [GTUBE(0.00){}]), len: ...
 */
export function parseRspamdTask(text: string, clock: Clock): RspamdTask | undefined {
  if (!text.includes("rspamd_task_write_log")) return undefined;
  const qid = /\bqid: <([^>]*)>/.exec(text)?.[1];
  const v = /\(\S+: [A-Z] \(([^)]+)\): \[(-?[\d.]+)\/(-?[\d.]+)\] \[(.*?)\]\)/.exec(text);
  if (!qid || !v) return undefined;
  const symbols = [...v[4]!.matchAll(/([A-Z0-9_]+)\((-?[\d.]+)\)/g)]
    .map((s) => ({ name: s[1]!, score: Number(s[2]) }))
    .filter((s) => s.score !== 0 || v[4]!.split(",").length === 1)
    .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
    .map((s) => `${s.name}(${s.score})`);
  const messageId = /\bid: <([^>]*)>/.exec(text)?.[1];
  const from = /\bfrom: <([^>]*)>/.exec(text)?.[1];
  const ip = /\bip: ([0-9a-fA-F:.]+),/.exec(text)?.[1];
  return {
    at: isoTime(text.slice(0, 19), clock),
    qid,
    action: v[1]!,
    score: Number(v[2]),
    required: Number(v[3]),
    symbols,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(ip !== undefined ? { ip } : {}),
  };
}

export interface SyslogEntry {
  at: number;
  program: string;
  msg: string;
}

const PROGRAM = /(?:^|\s)(opendkim|postsrsd)\[\d+\]: (.*)$/;

/**
 * A line of a syslog-like source: journalctl -o short-iso ("2026-11-23T15:06:24+0000 out2
 * opendkim[7]: ..."), classic syslog ("Nov 23 15:06:24 out2 opendkim[7]: ...") or the lab's
 * listener ("15:06:24 <22>Nov 23 15:06:24 opendkim[7]: ...").
 */
export function parseSyslogEntry(text: string, times: SyslogTimes, clock: Clock): SyslogEntry | undefined {
  const p = PROGRAM.exec(text);
  if (!p) return undefined;
  let at = NaN;
  const iso = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s/.exec(text);
  if (iso) at = isoTime(iso[1]!, clock);
  else {
    const s = /(?:^|<\d{1,3}>)([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) /.exec(text);
    if (s) at = times.at(s[1]!);
  }
  return { at, program: p[1]!, msg: p[2]! };
}

/** The time of any line of a syslog-like source (for bisection), NaN when it has none. */
export function syslogLineTime(text: string, times: SyslogTimes, clock: Clock): number {
  const iso = /^(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s/.exec(text);
  if (iso) return isoTime(iso[1]!, clock);
  const s = /^(?:\d\d:\d\d:\d\d <\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) /.exec(text);
  return s ? times.at(s[1]!) : NaN;
}

/** OpenDKIM: "QID: DKIM-Signature field added (s=f2026a, d=relais.tld)". */
export function parseSignature(msg: string): { qid: string; selector: string; domain: string } | undefined {
  const m = /^(\S+): DKIM-Signature (?:field|header) added \(s=([^,]+), d=([^)]+)\)/.exec(msg);
  return m ? { qid: m[1]!, selector: m[2]!, domain: m[3]! } : undefined;
}

/** postsrsd: "srs_forward: <a@x> rewritten as <SRS0=...@y>". */
export function parseSrsForward(msg: string): { from: string; to: string } | undefined {
  const m = /^srs_forward: <([^>]*)> rewritten as <([^>]*)>/.exec(msg);
  return m ? { from: m[1]!, to: m[2]! } : undefined;
}
