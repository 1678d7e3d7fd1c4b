// Loads a stack spec from YAML and validates it, mapping every problem back to the
// file, line and column where the reader has to look. Nothing here throws anything but a
// SpecError: a hostile file gets located errors, never a stack trace.
//
// Two ways to read the text, one result: the fast path (yamlFast.ts) reads the files people
// and generators write straight into data; anything else, and any text with a problem, takes
// the careful path (`yaml`'s Document + yamlData.ts), which says where. A text the fast path
// read is parsed again with `yaml` only when a problem found later needs a line and column.
import { readFileSync } from "node:fs";
import type { LineCounter, Document, Node } from "yaml";
import type { z } from "zod";
import { safeParseSpec, specSchema, type Spec } from "./schema.ts";
import { SpecError, type SpecPath, type SpecProblem } from "./errors.ts";
import { crossFieldRules } from "./rules.ts";
import { documentData } from "./yamlData.ts";
import { fastYamlData } from "./yamlFast.ts";
import { yamlLib } from "./yamlLib.ts";
import { mayHavePlaceholders, placeholderProblems } from "./placeholders.ts";
import { describeValue } from "./grammar.ts";

/**
 * Where a reader should look: the key itself for an unknown key, otherwise the deepest YAML
 * node along `path` (a problem about a missing key points at its parent).
 */
function locate(doc: Document, lines: LineCounter, path: SpecPath, atKey = false): { line: number; column: number } {
  const { isMap, isNode, isScalar } = yamlLib();
  const pos = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const nodeAt = (p: SpecPath): unknown => {
    // Our own walk (keys as written), not doc.getIn: a key "1" must find the YAML key `1`.
    let node: unknown = doc.contents;
    for (const seg of p) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isScalar(it.key) && keyMatches(it.key, seg));
        if (!pair) return undefined;
        node = pair.value;
      } else if (node && Array.isArray((node as { items?: unknown[] }).items) && typeof seg === "number") {
        node = (node as { items: unknown[] }).items[seg];
      } else return undefined;
    }
    return node;
  };
  if (atKey && path.length > 0) {
    const parent = nodeAt(path.slice(0, -1));
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && keyMatches(it.key, path[path.length - 1]!));
      if (pair && isNode(pair.key) && pair.key.range) return pos(pair.key.range[0]);
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = nodeAt(path.slice(0, depth));
    if (isNode(node) && (node as Node).range) return pos((node as Node).range![0]);
  }
  return { line: 1, column: 1 };
}

function keyMatches(key: unknown, seg: string | number): boolean {
  if (!yamlLib().isScalar(key)) return false;
  const source = (key as { source?: string; type?: string }).type === "PLAIN" ? (key as { source?: string }).source : undefined;
  return (source ?? String(key.value)) === String(seg);
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return `missing: expected ${issue.expected}`;
      if (issue.message && !/^Invalid input/.test(issue.message)) return issue.message;
      const expected = issue.expected === "string" ? "text" : issue.expected === "record" || issue.expected === "object" ? "a map" : issue.expected === "array" ? "a list" : issue.expected;
      return `expected ${expected}, got ${describeValue(input)}${issue.expected === "string" && typeof input !== "object" ? ` (quote it if it is text: "${String(input)}")` : ""}`;
    }
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union":
      return issue.message === "Invalid input" ? "does not match any accepted form" : issue.message;
    case "invalid_key":
      return issue.issues.map((i) => i.message).join("; ");
    default:
      return issue.message;
  }
}

type Located = { path: SpecPath; message: string; atKey: boolean };

/** Zod issues as reader-facing problems: unknown and invalid keys point at the key, unions at the branch that matched the type. */
function flattenIssue(issue: z.core.$ZodIssue, prefix: SpecPath = []): Located[] {
  const base = [...prefix, ...(issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)) as SpecPath)];
  if (issue.code === "unrecognized_keys") return issue.keys.map((k) => ({ path: [...base, k], message: describeZodIssue(issue), atKey: true }));
  if (issue.code === "invalid_key") return [{ path: base, message: describeZodIssue(issue), atKey: true }];
  if (issue.code === "invalid_union" && "errors" in issue && issue.errors.length > 0 && issue.message === "Invalid input") {
    // The branch whose top-level type matched (a string for a single target, a list for a group) says what is wrong.
    const branch = issue.errors.find((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0));
    if (branch) return branch.flatMap((e) => flattenIssue(e, base));
  }
  return [{ path: base, message: describeZodIssue(issue), atKey: false }];
}

interface Read {
  data: unknown;
  /** The Document and line index, for locating problems (parsed on first use after the fast path). */
  located: () => { doc: Document; lines: LineCounter };
}

/** The careful path: `yaml`'s Document, refusing what YAML would silently change (yamlData.ts). */
function readCarefully(text: string, file: string): Read {
  const { LineCounter, parseDocument } = yamlLib();
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return { line: 1, column: 1 };
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED")];
  if (syntax.length > 0)
    throw new SpecError(
      file,
      syntax.map((e) => ({ path: [], message: `YAML: ${e.message.split("\n")[0]}`, ...at(e.pos[0]) })),
    );
  const { data, problems } = documentData(doc);
  if (problems.length > 0) throw new SpecError(file, problems.map((p) => ({ path: p.path, message: p.message, ...at(p.offset) })));
  return { data, located: () => ({ doc, lines }) };
}

/** Options of the loader; tests compare both paths with `fastPath: false`. */
export interface ReadOptions {
  /** Try the fast path first (default). */
  fastPath?: boolean;
}

function readYaml(text: string, file: string, options: ReadOptions): Read {
  const fast = options.fastPath === false ? undefined : fastYamlData(text);
  if (!fast) return readCarefully(text, file);
  let located: ReturnType<Read["located"]> | undefined;
  return {
    data: fast.data,
    located: () => {
      if (!located) {
        const { LineCounter, parseDocument } = yamlLib();
        const lines = new LineCounter();
        located = { doc: parseDocument(text, { lineCounter: lines, uniqueKeys: true }), lines };
      }
      return located;
    },
  };
}

/** A YAML text's data for a first look, before validation: undefined when it is not YAML at all. */
export function peekYaml(text: string): unknown {
  const fast = fastYamlData(text);
  if (fast) return fast.data;
  try {
    return yamlLib().parse(text);
  } catch {
    return undefined;
  }
}

/** Parses YAML (or JSON) and validates it against a zod schema; problems carry file:line:col. */
export function parseYamlWith<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  rules: (data: z.infer<S>) => Omit<SpecProblem, "line" | "column">[] = () => [],
  preChecks: (data: unknown) => (Omit<SpecProblem, "line" | "column"> & { atKey?: boolean })[] = () => [],
  options: ReadOptions = {},
  safeParse: (data: unknown, params: { reportInput: boolean }) => z.ZodSafeParseResult<z.infer<S>> = (data, params) => schema.safeParse(data, params),
): z.infer<S> {
  try {
    const { data, located } = readYaml(text, file, options);
    const withPos = (p: Omit<SpecProblem, "line" | "column">, atKey = false): SpecProblem => {
      const { doc, lines } = located();
      return { ...p, ...locate(doc, lines, p.path, atKey) };
    };
    const early = preChecks(data);
    if (early.length > 0) throw new SpecError(file, early.map(({ atKey, ...p }) => withPos(p, atKey)));
    const parsed = safeParse(data, { reportInput: true });
    if (!parsed.success) {
      const seen = new Set<string>();
      const problems = parsed.error.issues
        .flatMap((issue) => flattenIssue(issue))
        .filter((p) => {
          const k = `${JSON.stringify(p.path)} ${p.message}`;
          return seen.has(k) ? false : (seen.add(k), true);
        })
        .map((p) => withPos({ path: p.path, message: p.message }, p.atKey));
      throw new SpecError(file, problems);
    }
    const problems = rules(parsed.data).map((p) => withPos(p));
    if (problems.length > 0) throw new SpecError(file, problems);
    return parsed.data;
  } catch (e) {
    // A structure deep enough to exhaust the stack somewhere in a parser is refused like any
    // other problem. Anything else is a bug of ours and surfaces as one.
    if (e instanceof RangeError && /call stack/i.test(e.message))
      throw new SpecError(file, [{ path: [], message: "cannot read this file: it nests too deeply" }]);
    throw e;
  }
}

export function parseSpec(text: string, file: string, options: ReadOptions = {}): Spec {
  const preChecks = mayHavePlaceholders(text) ? placeholderProblems : () => [];
  return parseYamlWith(specSchema, text, file, crossFieldRules, preChecks, options, safeParseSpec);
}

/** Reads a file for a loader; a missing or unreadable file is reported like any spec problem. */
export function readInput(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new SpecError(file, [{ path: [], message: `cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }]);
  }
}

export function loadSpecFile(file: string): Spec {
  return parseSpec(readInput(file, "spec"), file);
}

export { stackSpecPath } from "../paths.ts";
