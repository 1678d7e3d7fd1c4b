// Timestamps of mail logs. Postfix's maillog_file and classic syslog write "Nov 23 15:06:24"
// (host local time, no year, no zone); rspamd writes "2026-11-23 15:06:24" (local time);
// journalctl -o short-iso writes "2026-11-23T15:06:24+0000". All become epoch milliseconds.
import type { Clock } from "./types.ts";

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const DAY = 86_400_000;

/** The clock of this machine now (the lab's logs are written by daemons on this machine). */
export function localClock(nowMs = Date.now()): Clock {
  return { offsetMinutes: -new Date(nowMs).getTimezoneOffset(), nowMs };
}

/** "+0100" / "-0530" / "Z" -> minutes east of UTC, or undefined. */
export function parseOffset(text: string): number | undefined {
  if (text === "Z") return 0;
  const m = /^([+-])(\d\d):?(\d\d)$/.exec(text);
  if (!m) return undefined;
  return (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

/**
 * Reads syslog-style timestamps ("Nov 23 15:06:24", day possibly space-padded) for one clock.
 * Lines come in long runs of the same second, so results are cached by their 15 characters.
 */
export class SyslogTimes {
  private cache = new Map<string, number>();
  constructor(private clock: Clock) {}

  /** Epoch ms of a "Mmm dd HH:MM:SS" prefix, or NaN when it is not one. */
  at(stamp: string): number {
    let t = this.cache.get(stamp);
    if (t !== undefined) return t;
    t = this.parse(stamp);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(stamp, t);
    return t;
  }

  private parse(stamp: string): number {
    const m = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)$/.exec(stamp);
    const mon = m ? MONTHS[m[1]!] : undefined;
    if (!m || mon === undefined) return NaN;
    const off = this.clock.offsetMinutes * 60_000;
    const localNow = new Date(this.clock.nowMs + off);
    const at = (year: number) => Date.UTC(year, mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) - off;
    // No year in the line: take the latest one that is not in the future (a day of slack for
    // clocks that disagree); December's lines read in January belong to last year.
    let t = at(localNow.getUTCFullYear());
    if (t > this.clock.nowMs + DAY) t = at(localNow.getUTCFullYear() - 1);
    return t;
  }
}

/** "2026-11-23 15:06:24" or "2026-11-23T15:06:24" with an optional zone ("+0000", "Z"); local time without one. */
export function isoTime(text: string, clock: Clock): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,]\d+)?(Z|[+-]\d\d:?\d\d)?$/.exec(text);
  if (!m) return NaN;
  const off = m[7] !== undefined ? parseOffset(m[7]) : clock.offsetMinutes;
  if (off === undefined) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - off * 60_000;
}

/** A duration for --since: 90s, 45m, 2h, 1d, 1w, or a sum (1h30m); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!/^(\d{1,6}[smhdw])+$/.test(text)) return undefined;
  const unit: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };
  let ms = 0;
  for (const [, n, u] of text.matchAll(/(\d+)([smhdw])/g)) ms += Number(n) * unit[u!]!;
  return ms > 0 && ms <= 366 * DAY ? ms : undefined;
}

/** Local wall-clock time of a host for display: "2026-11-23 15:06:24". */
export function formatTime(ms: number, offsetMinutes: number): string {
  return new Date(ms + offsetMinutes * 60_000).toISOString().replace("T", " ").slice(0, 19);
}
