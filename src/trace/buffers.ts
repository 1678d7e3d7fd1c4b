// Searching log bytes. A day of a busy host is hundreds of megabytes: the trace reads a whole
// log only to find what was asked (one pass, in reused chunks, with Buffer.indexOf's native
// search) and otherwise reads small windows around the times it already knows (bisection on
// timestamps). Lines are decoded only when they matter.
//
// A LogBytes is whatever holds the bytes: a Buffer (tests, an SSH answer) or a file read on
// demand (the lab reader), so the core itself does no I/O.

export interface LogBytes {
  readonly size: number;
  /** The bytes [start, end). The result is only valid until the next read() on the same source. */
  read(start: number, end: number): Buffer;
}

export function memoryBytes(buf: Buffer): LogBytes {
  return { size: buf.length, read: (s, e) => buf.subarray(s, e) };
}

export interface Line {
  /** Byte offset of the line's first character. */
  pos: number;
  text: string;
}

const NL = 10;
const FIRST_CHUNK = 16 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

/** The line holding byte `pos`. */
export function lineAt(src: LogBytes, pos: number): Line {
  let half = 2048;
  for (;;) {
    const s = Math.max(0, pos - half);
    const e = Math.min(src.size, pos + half);
    const b = src.read(s, e);
    const rel = pos - s;
    const back = rel > 0 ? b.lastIndexOf(NL, rel - 1) : -1;
    const fwd = b.indexOf(NL, rel);
    if ((back >= 0 || s === 0) && (fwd >= 0 || e === src.size)) {
      const ls = back >= 0 ? back + 1 : 0;
      const le = fwd >= 0 ? fwd : b.length;
      return { pos: s + ls, text: b.toString("utf8", ls, le) };
    }
    half *= 4;
  }
}

/**
 * Lines holding `needle` in [from, to), in order, each once. `stop` ends the search after the
 * line it accepts (e.g. a queue id's "removed"). Chunks start small and double: a search that
 * ends early reads little.
 */
export function linesWith(src: LogBytes, needle: string | Buffer, from = 0, to = src.size, stop?: (l: Line) => boolean): Line[] {
  const n = typeof needle === "string" ? Buffer.from(needle, "utf8") : needle;
  const out: Line[] = [];
  let lastLine = -1;
  let chunk = FIRST_CHUNK;
  let s = from;
  while (s < to) {
    const e = Math.min(to, s + chunk);
    const b = src.read(s, e);
    const hits: number[] = [];
    for (let at = b.indexOf(n); at >= 0; at = b.indexOf(n, at + 1)) hits.push(s + at);
    for (const h of hits) {
      const l = lineAt(src, h);
      if (l.pos === lastLine) continue;
      lastLine = l.pos;
      out.push(l);
      if (stop?.(l)) return out;
    }
    if (e >= to) break;
    s = e - (n.length - 1);
    chunk = Math.min(MAX_CHUNK, chunk * 2);
  }
  return out;
}

/** Lines holding `needle` in [from, to), newest first, until `stop` accepts one. */
export function linesWithBackward(src: LogBytes, needle: string, to: number, from = 0, stop?: (l: Line) => boolean): Line[] {
  const n = Buffer.from(needle, "utf8");
  const out: Line[] = [];
  let lastLine = -1;
  let chunk = FIRST_CHUNK;
  let e = to;
  while (e > from) {
    const s = Math.max(from, e - chunk);
    const b = src.read(s, e);
    const hits: number[] = [];
    for (let at = b.lastIndexOf(n); at >= 0; at = at > 0 ? b.lastIndexOf(n, at - 1) : -1) hits.push(s + at);
    for (const h of hits) {
      const l = lineAt(src, h);
      if (l.pos === lastLine || l.pos >= to) continue;
      lastLine = l.pos;
      out.push(l);
      if (stop?.(l)) return out;
    }
    if (s <= from) break;
    e = s + (n.length - 1);
    chunk = Math.min(MAX_CHUNK, chunk * 2);
  }
  return out;
}

/** The lines before `start` (a line start), newest first, read in blocks. */
export function* linesBefore(src: LogBytes, start: number, floor = 0): Generator<Line> {
  let end = start;
  let size = 16 * 1024;
  while (end > floor) {
    const s = Math.max(floor, end - size);
    size = Math.min(1 << 20, size * 2);
    const block = Buffer.from(src.read(s, end)); // a copy: callers may read the source meanwhile
    let e = block.length;
    if (e > 0 && block[e - 1] === NL) e--;
    let yielded = false;
    for (;;) {
      const nl = e > 0 ? block.lastIndexOf(NL, e - 1) : -1;
      if (nl < 0) break;
      yield { pos: s + nl + 1, text: block.toString("utf8", nl + 1, e) };
      yielded = true;
      e = nl;
    }
    if (s === floor) {
      yield { pos: s, text: block.toString("utf8", 0, e) };
      return;
    }
    if (!yielded) {
      // A line longer than a block: take it whole.
      const l = lineAt(src, Math.max(s, end - 2));
      yield l;
      end = l.pos;
      continue;
    }
    end = s + e + 1; // the partial line at the block's start, read whole with the next block
  }
}

/** The lines from `start` on, in order, read in blocks. */
export function* linesFrom(src: LogBytes, start: number, to = src.size): Generator<Line> {
  let s = start;
  let size = 16 * 1024;
  while (s < to) {
    const block = Buffer.from(src.read(s, Math.min(to, s + size)));
    size = Math.min(1 << 20, size * 2);
    let p = 0;
    for (;;) {
      const nl = block.indexOf(NL, p);
      if (nl < 0) break;
      yield { pos: s + p, text: block.toString("utf8", p, nl) };
      p = nl + 1;
    }
    if (s + block.length >= to) {
      if (p < block.length) yield { pos: s + p, text: block.toString("utf8", p) };
      return;
    }
    if (p === 0) {
      // A line longer than the block: take it whole.
      const l = lineAt(src, s);
      yield l;
      s = l.pos + Buffer.byteLength(l.text) + 1;
      continue;
    }
    s += p;
  }
}

const SEP = Buffer.from("]: ");

/**
 * Lines (in [from, to)) whose Postfix queue id (the token after "daemon[pid]: ") is in `ids`,
 * in one pass: what a trace does when it follows many messages over a whole window.
 */
export function linesOfQueueIds(src: LogBytes, ids: Set<string>, from = 0, to = src.size): Map<string, Line[]> {
  const out = new Map<string, Line[]>();
  let s = from;
  while (s < to) {
    const e = Math.min(to, s + MAX_CHUNK);
    const buf = src.read(s, e);
    // Complete lines only; the last partial one starts the next chunk.
    const last = e === to ? buf.length : buf.lastIndexOf(NL) + 1;
    if (last <= 0) {
      const l = lineAt(src, s); // a line longer than a chunk: no queue id of ours in there
      s = l.pos + Buffer.byteLength(l.text) + 1;
      continue;
    }
    let pos = 0;
    while (pos < last) {
      let nl = buf.indexOf(NL, pos);
      if (nl < 0 || nl >= last) nl = last;
      const k = buf.indexOf(SEP, pos);
      if (k < 0 || k >= last) break;
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
            list.push({ pos: s + pos, text: buf.toString("utf8", pos, nl) });
          }
        }
        pos = nl + 1;
      } else {
        // No "]: " on this line: go on from the line holding the next one.
        pos = buf.lastIndexOf(NL, k) + 1;
      }
    }
    if (e >= to) break;
    s += last;
  }
  return out;
}

/**
 * The offset of the first line at or after `sinceMs`, by bisection on line timestamps (logs are
 * written in time order, give or take a second). `timeOf` reads a line's time (NaN: unreadable).
 */
export function windowStart(src: LogBytes, sinceMs: number, timeOf: (line: string) => number): number {
  let lo = 0;
  let hi = src.size;
  while (hi - lo > 8192) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const l = lineAt(src, mid);
    const next = l.pos + Buffer.byteLength(l.text) + 1;
    if (next >= hi) {
      hi = mid;
      continue;
    }
    const t = timeOf(lineAt(src, next).text.slice(0, 48));
    if (Number.isNaN(t) || t < sinceMs) lo = next;
    else hi = next;
  }
  for (const l of linesFrom(src, lineAt(src, lo).pos)) {
    const t = timeOf(l.text.slice(0, 48));
    if (!Number.isNaN(t) && t >= sinceMs) return l.pos;
  }
  return src.size;
}
