// The fast parse path (issue 13): stack files as people and generators write them (block maps
// and lists, one-line flow collections, plain and simple quoted scalars, comments) read straight
// into data, about ten times faster than building a `yaml` Document and with a fraction of the
// memory. It never reports a problem itself: whenever the text uses anything else (anchors, tags,
// block scalars, escapes, multi-line scalars, tabs, a CR...) or anything the careful path would
// refuse or question (a duplicate key, __proto__, a number not in plain decimal, a key YAML
// would read as a number or a boolean, deep nesting), it answers `undefined` and the caller
// takes the careful path (`yaml` + yamlData.ts), which reports with file:line:col. So every
// protection of yamlData.ts holds by construction; what this module must get exactly right is
// the data of the texts it accepts (test/spec-fastpath.test.ts compares both paths on
// generated and hostile texts).

/** What the careful path would make of the same text, or undefined: "take the careful path". */
export function fastYamlData(text: string): { data: unknown } | undefined {
  if (UNSUPPORTED_CHARS.test(text)) return undefined;
  try {
    return { data: new FastReader(text).document() };
  } catch (e) {
    if (e === BAIL) return undefined;
    throw e;
  }
}

// Anything but LF, printable ASCII and ordinary non-ASCII text (no C1 controls, no BOM, no
// LS/PS, no surrogates): tabs and CR take the careful path.
const UNSUPPORTED_CHARS = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;

const BAIL = Symbol("bail");
function bail(): never {
  throw BAIL;
}

/** Deeper than any stack file (6 levels) and well under YAML_LIMITS.depth, which the careful path reports. */
const MAX_DEPTH = 24;
/** YAML limits implicit keys to 1024 characters; longer ones take the careful path and its error. */
const MAX_KEY = 1000;

// YAML 1.2 core schema, as the `yaml` library resolves plain scalars (schema/core, common/null).
const NULL = /^(?:~|[Nn]ull|NULL)$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
/** Any other number form of the core schema (octal, hex, signed, exponent, .inf, .nan, 1., .5): the careful path refuses or locates it. */
const OTHER_NUMBER =
  /^(?:0o[0-7]+|[-+]?[0-9]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+|[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*))$/;
/** Plain decimal, the only number form a stack file may use (yamlData.ts numberFormProblem). */
const PLAIN_DECIMAL = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
/** Plain scalars taken here: printable ASCII not starting with a YAML indicator or a space. */
const PLAIN = /^[^-?:,[\]{}#&*!|>'"%@` ][\x20-\x7e]*$/;

/** A plain value as the core schema reads it (numbers only in plain decimal, else bail). */
function plainValue(s: string): unknown {
  if (!PLAIN.test(s) || s.includes(": ") || s.endsWith(":") || s.includes(" #")) bail();
  const c = s.charCodeAt(0);
  // Only strings starting with a digit, '.', '+', '~', n/N, t/T, f/F can be anything but a string.
  if ((c >= 48 && c <= 57) || c === 46 || c === 43) {
    if (PLAIN_DECIMAL.test(s)) {
      const n = s.includes(".") ? parseFloat(s) : parseInt(s, 10);
      if (!Number.isFinite(n)) bail();
      return n;
    }
    if (OTHER_NUMBER.test(s)) bail();
    return s;
  }
  if (c === 126 || c === 110 || c === 78) return NULL.test(s) ? null : s;
  if (c === 116 || c === 84 || c === 102 || c === 70) return BOOL.test(s) ? s.charCodeAt(0) === 116 || s.charCodeAt(0) === 84 : s;
  return s;
}

/** A plain key is kept as written, but one YAML reads as null, a boolean or a number takes the careful path (its duplicate rules differ). */
function plainKey(s: string): string {
  if (!PLAIN.test(s) || s.endsWith(":") || s.endsWith(" ") || s.includes(" #") || s === "<<") bail();
  const c = s.charCodeAt(0);
  if ((c >= 48 && c <= 57) || c === 46 || c === 43) {
    if (OTHER_NUMBER.test(s) || PLAIN_DECIMAL.test(s)) bail();
  } else if (NULL.test(s) || BOOL.test(s)) bail();
  return s;
}

/** `rest` after a closing quote or bracket: nothing, or spaces and a comment. */
function onlyComment(rest: string): void {
  if (rest === "") return;
  if (rest.charCodeAt(0) !== 32) bail();
  const t = rest.trimStart();
  if (t !== "" && t.charCodeAt(0) !== 35) bail();
}

/** A quoted scalar at `s[from]` on one line: its value and where it ends. Escapes take the careful path. */
function quoted(s: string, from: number): { value: string; end: number } {
  const q = s[from];
  if (q === '"') {
    const close = s.indexOf('"', from + 1);
    if (close < 0) bail();
    const value = s.slice(from + 1, close);
    if (value.includes("\\")) bail();
    return { value, end: close + 1 };
  }
  let value = "";
  let i = from + 1;
  for (;;) {
    const close = s.indexOf("'", i);
    if (close < 0) bail();
    value += s.slice(i, close);
    if (s[close + 1] === "'") {
      value += "'";
      i = close + 2;
    } else return { value, end: close + 1 };
  }
}

/** Where `a` followed by `b` (char codes) first occurs in s[from, end), or -1; searches stay within a line. */
function findPair(s: string, a: number, b: number, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) if (s.charCodeAt(i) === a && s.charCodeAt(i + 1) === b) return i;
  return -1;
}

function newMap(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

function setKey(map: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "" || key === "__proto__" || key.length > MAX_KEY || Object.hasOwn(map, key)) bail();
  map[key] = value;
}

/** One-line flow collections: [a, b], { k: v, k2: [x] }. */
class FlowReader {
  i: number;
  constructor(
    readonly s: string,
    from: number,
  ) {
    this.i = from;
  }

  private spaces(): void {
    while (this.s.charCodeAt(this.i) === 32) this.i++;
  }

  collection(depth: number): unknown {
    if (depth > MAX_DEPTH) bail();
    const open = this.s[this.i++];
    const close = open === "[" ? "]" : "}";
    const out: unknown = open === "[" ? [] : newMap();
    this.spaces();
    if (this.s[this.i] === close) {
      this.i++;
      return out;
    }
    for (;;) {
      if (open === "[") (out as unknown[]).push(this.value(depth));
      else {
        const key = this.key();
        this.spaces();
        setKey(out as Record<string, unknown>, key, this.value(depth));
      }
      this.spaces();
      const c = this.s[this.i++];
      if (c === close) return out;
      if (c !== ",") bail();
      this.spaces();
      // A trailing comma, an empty entry: the careful path.
      if (this.s[this.i] === close || this.s[this.i] === ",") bail();
    }
  }

  /** A key and its ": " separator. */
  private key(): string {
    const c = this.s[this.i];
    let key: string;
    if (c === '"' || c === "'") {
      const q = quoted(this.s, this.i);
      key = q.value;
      this.i = q.end;
    } else {
      const colon = this.s.indexOf(": ", this.i);
      if (colon < 0) bail();
      const raw = this.s.slice(this.i, colon);
      if (/[,[\]{}]/.test(raw)) bail();
      key = plainKey(raw.trimEnd());
      this.i = colon;
    }
    if (this.s.charCodeAt(this.i) !== 58 || this.s.charCodeAt(this.i + 1) !== 32) bail();
    this.i += 2;
    return key;
  }

  private value(depth: number): unknown {
    const c = this.s[this.i];
    if (c === "[" || c === "{") return this.collection(depth + 1);
    if (c === '"' || c === "'") {
      const q = quoted(this.s, this.i);
      this.i = q.end;
      return q.value;
    }
    // A plain scalar ends at a flow indicator; ':' is part of it only when followed by neither a space nor an indicator.
    let j = this.i;
    for (; j < this.s.length; j++) {
      const ch = this.s[j]!;
      if (ch === "," || ch === "]" || ch === "}" || ch === "[" || ch === "{") break;
      if (ch === "#" || (ch === ":" && /[\s,[\]{}]/.test(this.s[j + 1] ?? " "))) bail();
    }
    const raw = this.s.slice(this.i, j).trimEnd();
    if (raw === "") bail();
    this.i = j;
    return plainValue(raw);
  }
}

/**
 * Block structure by indentation, one significant line at a time (blank and comment lines
 * skipped), read in place in the text: a cursor holds the current line's indent and the bounds
 * of its content. A list item holding a map (`- key: v`) is read as a line of that map, at the
 * column of its key, which is how YAML reads it.
 */
class FastReader {
  /** Start of the next line to scan. */
  private pos = 0;
  /** The current line: its indent (-1 past the end), the start and end of its content (trailing spaces dropped). */
  private indent = -1;
  private start = 0;
  private end = 0;

  constructor(private readonly text: string) {
    this.next();
  }

  private next(): void {
    const t = this.text;
    const len = t.length;
    while (this.pos < len) {
      const lineStart = this.pos;
      let nl = t.indexOf("\n", lineStart);
      if (nl < 0) nl = len;
      this.pos = nl + 1;
      let i = lineStart;
      while (i < nl && t.charCodeAt(i) === 32) i++;
      // Blank lines and comment lines carry nothing (plain scalars never span lines here).
      if (i === nl || t.charCodeAt(i) === 35) continue;
      let e = nl;
      while (t.charCodeAt(e - 1) === 32) e--;
      // Document markers and directives: the careful path.
      if (i === lineStart && (t.startsWith("---", i) || t.startsWith("...", i) || t.charCodeAt(i) === 37)) bail();
      this.indent = i - lineStart;
      this.start = i;
      this.end = e;
      return;
    }
    this.indent = -1;
  }

  document(): unknown {
    if (this.indent !== 0) bail();
    const data = this.map(0, 1);
    if (!this.atEnd()) bail();
    return data;
  }

  private atEnd(): boolean {
    return this.indent === -1;
  }

  /** Whether the current line is a list item ("- ..." or a lone "-"). */
  private isItem(): boolean {
    return this.text.charCodeAt(this.start) === 45 && (this.end === this.start + 1 || this.text.charCodeAt(this.start + 1) === 32);
  }

  /** The value after `key:` or `-` with nothing more on the line: a nested block, or null. */
  private nested(parentIndent: number, depth: number, inMap: boolean): unknown {
    const indent = this.indent;
    if (indent > parentIndent) return this.isItem() ? this.seq(indent, depth + 1) : this.map(indent, depth + 1);
    // A list may sit at its key's own indent (`key:` then `- item` below it).
    if (inMap && indent === parentIndent && this.isItem()) return this.seq(indent, depth + 1);
    return null;
  }

  /** After a value complete on its line, the next line may not be deeper (a continuation or an error). */
  private endOfValue(indent: number): void {
    if (this.indent > indent) bail();
  }

  /** The value written on the current line from `from` (after "key: " or "- "); moves to the next line. */
  private inline(from: number, depth: number): unknown {
    const t = this.text;
    const end = this.end;
    const c = t.charCodeAt(from);
    let value: unknown;
    if (c === 34 || c === 39 || c === 91 || c === 123) {
      const s = t.slice(from, end);
      if (c === 34 || c === 39) {
        const q = quoted(s, 0);
        onlyComment(s.slice(q.end));
        value = q.value;
      } else {
        const flow = new FlowReader(s, 0);
        value = flow.collection(depth + 1);
        onlyComment(s.slice(flow.i));
      }
    } else {
      let e = end;
      const hash = findPair(t, 32, 35, from, end);
      if (hash >= 0) {
        e = hash;
        while (t.charCodeAt(e - 1) === 32) e--;
      }
      value = plainValue(t.slice(from, e));
    }
    this.next();
    return value;
  }

  private map(indent: number, depth: number): Record<string, unknown> {
    if (depth > MAX_DEPTH) bail();
    const t = this.text;
    const out = newMap();
    while (this.indent >= indent) {
      if (this.indent > indent) bail();
      const start = this.start;
      const end = this.end;
      let key: string;
      let after: number;
      const c = t.charCodeAt(start);
      if (c === 34 || c === 39) {
        const s = t.slice(start, end);
        const q = quoted(s, 0);
        key = q.value;
        after = start + q.end;
      } else {
        // The first ':' followed by a space or the end of the line ends a plain key.
        after = findPair(t, 58, 32, start, end);
        if (after < 0) {
          if (t.charCodeAt(end - 1) !== 58) bail();
          after = end - 1;
        }
        key = plainKey(t.slice(start, after));
      }
      if (t.charCodeAt(after) !== 58 || (after + 1 < end && t.charCodeAt(after + 1) !== 32)) bail();
      let from = after + 1;
      while (from < end && t.charCodeAt(from) === 32) from++;
      let value: unknown;
      if (from >= end || t.charCodeAt(from) === 35) {
        this.next();
        value = this.nested(indent, depth, true);
      } else {
        value = this.inline(from, depth);
        this.endOfValue(indent);
      }
      setKey(out, key, value);
    }
    return out;
  }

  private seq(indent: number, depth: number): unknown[] {
    if (depth > MAX_DEPTH) bail();
    const t = this.text;
    const out: unknown[] = [];
    while (this.indent >= indent) {
      if (this.indent > indent || !this.isItem()) {
        // The end of a list at its key's indent: the map goes on with its next key.
        if (this.indent === indent) break;
        bail();
      }
      const end = this.end;
      let from = this.start + 1;
      while (from < end && t.charCodeAt(from) === 32) from++;
      if (from >= end || t.charCodeAt(from) === 35) {
        this.next();
        out.push(this.nested(indent, depth, false));
        continue;
      }
      if (this.startsMapEntry(from)) {
        // `- key: value`: the first line of a map at the key's column.
        this.indent = indent + (from - this.start);
        this.start = from;
        out.push(this.map(this.indent, depth + 1));
        continue;
      }
      if (t.charCodeAt(from) === 45 && (from + 1 === end || t.charCodeAt(from + 1) === 32)) bail(); // - - nested list
      out.push(this.inline(from, depth));
      this.endOfValue(indent);
    }
    return out;
  }

  /** Whether a list item's text from `from` is a map entry (`key: v`, `key:`, `"key": v`) rather than a scalar. */
  private startsMapEntry(from: number): boolean {
    const t = this.text;
    const c = t.charCodeAt(from);
    if (c === 34 || c === 39) {
      const q = quoted(t.slice(from, this.end), 0);
      return t.charCodeAt(from + q.end) === 58;
    }
    if (c === 91 || c === 123) return false;
    let end = this.end;
    const hash = findPair(t, 32, 35, from, end);
    if (hash >= 0) end = hash;
    return findPair(t, 58, 32, from, end) >= 0 || t.charCodeAt(end - 1) === 58;
  }
}
