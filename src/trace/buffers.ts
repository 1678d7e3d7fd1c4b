// Searching raw log bytes. A day of a busy host is hundreds of megabytes, so nothing here splits
// a whole file into strings: lines are found with Buffer.indexOf (native memchr/memmem) and
// decoded only when they matter.

export interface Line {
  /** Byte offset of the line's first character. */
  pos: number;
  text: string;
}

const NL = 10;

/** Start of the line holding byte `pos`. */
export function lineStart(buf: Buffer, pos: number): number {
  return pos <= 0 ? 0 : buf.lastIndexOf(NL, pos - 1) + 1;
}

/** The line starting at `start`. */
export function lineFrom(buf: Buffer, start: number): Line {
  const nl = buf.indexOf(NL, start);
  return { pos: start, text: buf.toString("utf8", start, nl < 0 ? buf.length : nl) };
}

/** The line before the one starting at `start`, or undefined at `floor`. */
export function previousLine(buf: Buffer, start: number, floor = 0): Line | undefined {
  if (start <= floor) return undefined;
  const s = Math.max(floor, lineStart(buf, start - 1));
  return { pos: s, text: buf.toString("utf8", s, start - 1) };
}

/** Every line (from `from` on) holding `needle`, each once, in order. */
export function linesWith(buf: Buffer, needle: string | Buffer, from = 0): Line[] {
  const n = typeof needle === "string" ? Buffer.from(needle, "utf8") : needle;
  const out: Line[] = [];
  let at = buf.indexOf(n, from);
  while (at >= 0) {
    const s = lineStart(buf, at);
    const nl = buf.indexOf(NL, at + n.length);
    const e = nl < 0 ? buf.length : nl;
    out.push({ pos: s, text: buf.toString("utf8", s, e) });
    if (nl < 0) break;
    at = buf.indexOf(n, nl + 1);
  }
  return out;
}

const SEP = Buffer.from("]: ");

/**
 * Lines whose Postfix queue id (the token after "daemon[pid]: ") is in `ids`, in one pass:
 * what a trace does when it follows more messages than single searches would pay for.
 */
export function linesOfQueueIds(buf: Buffer, ids: Set<string>, from = 0): Map<string, Line[]> {
  const out = new Map<string, Line[]>();
  let pos = from;
  const len = buf.length;
  while (pos < len) {
    let nl = buf.indexOf(NL, pos);
    if (nl < 0) nl = len;
    const k = buf.indexOf(SEP, pos);
    if (k < 0) break;
    if (k < nl) {
      const q = k + 3;
      let c = q;
      const limit = Math.min(nl, q + 24);
      while (c < limit && buf[c] !== 58 /* : */) c++;
      if (c < limit && c - q >= 6) {
        const id = buf.toString("latin1", q, c);
        if (ids.has(id)) {
          let list = out.get(id);
          if (!list) out.set(id, (list = []));
          list.push({ pos, text: buf.toString("utf8", pos, nl) });
        }
      }
      pos = nl + 1;
    } else {
      // No "]: " on this line: go on from the line holding the next one.
      pos = lineStart(buf, k);
    }
  }
  return out;
}

/**
 * The offset of the first line at or after `sinceMs`, by bisection on line timestamps (logs are
 * written in time order, give or take a second). `timeOf` reads a line's time (NaN: unreadable).
 */
export function windowStart(buf: Buffer, sinceMs: number, timeOf: (line: string) => number): number {
  let lo = 0;
  let hi = buf.length;
  while (hi - lo > 8192) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const nl = buf.indexOf(NL, mid);
    if (nl < 0 || nl + 1 >= hi) {
      hi = mid;
      continue;
    }
    const t = timeOf(lineFrom(buf, nl + 1).text.slice(0, 40));
    if (Number.isNaN(t) || t < sinceMs) lo = nl + 1;
    else hi = nl + 1;
  }
  // Walk the last stretch line by line.
  let pos = lineStart(buf, lo);
  while (pos < buf.length) {
    const l = lineFrom(buf, pos);
    const t = timeOf(l.text.slice(0, 40));
    if (!Number.isNaN(t) && t >= sinceMs) return pos;
    const nl = buf.indexOf(NL, pos);
    if (nl < 0) return buf.length;
    pos = nl + 1;
  }
  return buf.length;
}
