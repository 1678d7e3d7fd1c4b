// Loads a stack spec from YAML and validates it, mapping every problem back to the
// file, line and column where the reader has to look.
import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document, type Node } from "yaml";
import type { z } from "zod";
import { specSchema, type Spec } from "./schema.ts";
import { SpecError, type SpecPath, type SpecProblem } from "./errors.ts";
import { crossFieldRules } from "./rules.ts";

/**
 * Where a reader should look: the key itself for an unknown key, otherwise the deepest YAML
 * node along `path` (a problem about a missing key points at its parent).
 */
function locate(doc: Document, lines: LineCounter, path: SpecPath, atKey = false): { line: number; column: number } {
  if (atKey && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === path[path.length - 1]);
      if (pair && isNode(pair.key) && pair.key.range) {
        const { line, col } = lines.linePos(pair.key.range[0]);
        return { line, column: col };
      }
    }
  }
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && (node as Node).range) {
      const { line, col } = lines.linePos((node as Node).range![0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

function describeZodIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      const received = (issue as { input?: unknown }).input;
      if (received === undefined) return `missing: expected ${issue.expected}`;
      return `expected ${issue.expected}, got ${Array.isArray(received) ? "array" : received === null ? "null" : typeof received}`;
    }
    case "unrecognized_keys":
      return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_union": {
      return issue.message === "Invalid input" ? "does not match any accepted form" : issue.message;
    }
    default:
      return issue.message;
  }
}

/** Zod reports unknown keys at the parent object; point at the key itself instead. */
function issuePaths(issue: z.core.$ZodIssue): SpecPath[] {
  const base = issue.path.map((p) => (typeof p === "symbol" ? String(p) : p)) as SpecPath;
  if (issue.code === "unrecognized_keys") return issue.keys.map((k) => [...base, k]);
  return [base];
}

/** Parses YAML (or JSON) and validates it against a zod schema; problems carry file:line:col. */
export function parseYamlWith<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  rules: (data: z.infer<S>) => Omit<SpecProblem, "line" | "column">[] = () => [],
): z.infer<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new SpecError(
      file,
      doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return { path: [], message: `YAML: ${e.message.split("\n")[0]}`, line, column: col };
      }),
    );
  }
  const withPos = (p: Omit<SpecProblem, "line" | "column">, atKey = false): SpecProblem => ({ ...p, ...locate(doc, lines, p.path, atKey) });
  const parsed = schema.safeParse(doc.toJS(), { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issuePaths(issue).map((path) => withPos({ path, message: describeZodIssue(issue) }, issue.code === "unrecognized_keys")),
    );
    throw new SpecError(file, problems);
  }
  const problems = rules(parsed.data).map((p) => withPos(p));
  if (problems.length > 0) throw new SpecError(file, problems);
  return parsed.data;
}

export function parseSpec(text: string, file: string): Spec {
  return parseYamlWith(specSchema, text, file, crossFieldRules);
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

/** Where a stack's spec lives: stacks/<stack>.facteur.yaml beside the Pulumi stack config. */
export function stackSpecPath(stacksDir: string, stack: string): string {
  return `${stacksDir}/${stack}.facteur.yaml`;
}
