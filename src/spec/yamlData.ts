// From a parsed YAML document to plain data, refusing what YAML would silently change or what
// would exhaust the loader. Each protection is its own function so that a faster parse path
// (issue 13) can keep them; test/spec-yaml.test.ts holds their behaviour at the text level.
//
// - keys are the text written: `0612345678:` stays "0612345678", `1e3:` stays "1e3", and two
//   keys that become the same text (`1` and `"1"`) are a duplicate, not a silent overwrite;
// - a number must be written in plain decimal: `0612345678` (YAML 1.1 octal, or a phone number
//   that lost its 0) and `1e3` / `0x1F` / `.inf` are refused, with how to write it instead;
// - aliases are expanded against a budget (an "anchor bomb" stops with an error, not a hang
//   or a stack trace), an alias to an undefined anchor or into itself is an error;
// - maps become null-prototype objects, so `constructor` or `toString` are ordinary names and
//   `__proto__`, which every JavaScript object layer downstream drops, is refused by name;
// - nesting is bounded, explicit tags other than !!str are refused.
import type { Document, Node, Scalar } from "yaml";
import type { SpecPath } from "./errors.ts";
import { yamlLib } from "./yamlLib.ts";

export interface DataProblem {
  path: SpecPath;
  message: string;
  /** Offset in the source text where the reader should look. */
  offset?: number;
}

export const YAML_LIMITS = {
  /** Values that aliases may add in total (a real spec repeats a list or two; a bomb adds millions). */
  aliasedValues: 10_000,
  /** Nesting depth of maps and lists (a stack file nests 6 deep). */
  depth: 64,
};

const STR_TAG = "tag:yaml.org,2002:str";

/** The key as the author wrote it: plain scalars keep their source text, quoted ones their value. */
export function keyText(key: unknown): { text: string } | { problem: string } {
  const { isAlias, isScalar } = yamlLib();
  if (isAlias(key)) return { problem: "an alias may not be used as a key" };
  if (!isScalar(key)) return { problem: "a key must be a plain name, not a list or a map" };
  const s = key as Scalar & { source?: string };
  if (s.type === "PLAIN") {
    const text = typeof s.source === "string" ? s.source : String(s.value);
    if (text === "") return { problem: "empty key" };
    return { text };
  }
  return { text: String(s.value) };
}

const PLAIN_DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?$/;

/** Why a plain scalar that YAML read as a number must be written otherwise, or undefined. */
export function numberFormProblem(source: string, value: number): string | undefined {
  if (PLAIN_DECIMAL.test(source) && Number.isFinite(value)) return undefined;
  if (/^[-+]?0[0-9]+$/.test(source))
    return `${source} starts with 0, which YAML readers disagree on (octal ${source.replace(/^[-+]?0+/, "") || "0"} or decimal); write the number without leading zeros, or quote it if it is text: "${source}"`;
  return `write numbers in plain decimal (such as 1000), not ${source}; quote it if it is text: "${source}"`;
}

/** Counts the values aliases add; refuses once the budget is spent. */
export class AliasBudget {
  private used = 0;
  constructor(private readonly limit = YAML_LIMITS.aliasedValues) {}
  /** Charges `n` values; returns a problem message once the budget is exceeded. */
  charge(n: number): string | undefined {
    this.used += n;
    return this.used > this.limit
      ? `aliases expand to more than ${this.limit} values: refused (a YAML "alias bomb" would exhaust memory)`
      : undefined;
  }
}

/** Number of values under a node, aliases counted by what they expand to (memoised, capped). */
function sizeOf(node: unknown, doc: Document, memo: Map<unknown, number>, cap: number, active = new Set<unknown>(), depth = 0): number {
  const { isAlias, isMap, isSeq } = yamlLib();
  if (memo.has(node)) return memo.get(node)!;
  // A cycle or an absurd depth: reported by the walk itself; here it only has to stop.
  if (active.has(node) || depth > YAML_LIMITS.depth) return cap;
  active.add(node);
  let n = 1;
  if (isAlias(node)) n = sizeOf(node.resolve(doc), doc, memo, cap, active, depth + 1);
  else if (isMap(node)) for (const p of node.items) n = Math.min(cap, n + sizeOf(p.value, doc, memo, cap, active, depth + 1));
  else if (isSeq(node)) for (const it of node.items) n = Math.min(cap, n + sizeOf(it, doc, memo, cap, active, depth + 1));
  active.delete(node);
  memo.set(node, n);
  return n;
}

/**
 * Converts the document's contents to data (null-prototype objects, arrays, strings, numbers,
 * booleans, null). Problems are collected, not thrown; the value at a problem is left out.
 */
export function documentData(doc: Document): { data: unknown; problems: DataProblem[] } {
  const { isAlias, isMap, isScalar, isSeq } = yamlLib();
  const problems: DataProblem[] = [];
  const budget = new AliasBudget();
  const sizes = new Map<unknown, number>();
  let budgetSpent = false;
  const at = (node: unknown): number | undefined => (node && (node as Node).range ? (node as Node).range![0] : undefined);

  // `ancestors`: the YAML nodes on the way here, so an alias to one of them (a cycle) is caught;
  // `inAlias`: inside an expansion, whose aliases sizeOf has already charged.
  const walk = (node: unknown, path: SpecPath, depth: number, ancestors: Set<unknown>, inAlias: boolean): unknown => {
    if (depth > YAML_LIMITS.depth) {
      problems.push({ path, message: `nested deeper than ${YAML_LIMITS.depth} levels`, offset: at(node) });
      return undefined;
    }
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (!target) {
        problems.push({ path, message: `alias *${node.source} refers to no anchor: define &${node.source} before using it`, offset: at(node) });
        return undefined;
      }
      if (ancestors.has(target)) {
        problems.push({ path, message: `alias *${node.source} refers to a value that contains it`, offset: at(node) });
        return undefined;
      }
      if (budgetSpent) return undefined;
      // Charged once, at the outermost alias: sizeOf already counts the aliases inside it.
      const over = !inAlias ? budget.charge(sizeOf(target, doc, sizes, YAML_LIMITS.aliasedValues + 1)) : undefined;
      if (over) {
        budgetSpent = true;
        problems.push({ path, message: over, offset: at(node) });
        return undefined;
      }
      return walk(target, path, depth, ancestors, true);
    }
    const tagged = (node as Node).tag;
    if (tagged && tagged !== STR_TAG) {
      problems.push({ path, message: `YAML tags such as ${tagged.replace(/^tag:yaml\.org,2002:/, "!!")} are not used in a stack file`, offset: at(node) });
      return undefined;
    }
    if (isScalar(node)) {
      const v = node.value;
      if (typeof v === "number" || typeof v === "bigint") {
        const source = (node as Scalar & { source?: string }).source ?? String(v);
        const problem = node.type === "PLAIN" ? numberFormProblem(source, Number(v)) : undefined;
        if (problem) {
          problems.push({ path, message: problem, offset: at(node) });
          return undefined;
        }
        return Number(v);
      }
      if (v === null || typeof v === "string" || typeof v === "boolean") return v;
      problems.push({ path, message: `unsupported value ${String(v)}`, offset: at(node) });
      return undefined;
    }
    if (isSeq(node)) {
      ancestors.add(node);
      const out = node.items.map((it, i) => walk(it, [...path, i], depth + 1, ancestors, inAlias));
      ancestors.delete(node);
      return out;
    }
    if (isMap(node)) {
      ancestors.add(node);
      const out: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = keyText(pair.key);
        if ("problem" in k) {
          problems.push({ path, message: k.problem, offset: at(pair.key) ?? at(node) });
          continue;
        }
        const keyPath = [...path, k.text];
        if (k.text === "__proto__") {
          problems.push({ path: keyPath, message: "__proto__ cannot be used as a name here (JavaScript reserves it); choose another", offset: at(pair.key) });
          continue;
        }
        if (seen.has(k.text)) {
          problems.push({ path: keyPath, message: `duplicate key "${k.text}": each name may appear once (1 and "1" are the same name)`, offset: at(pair.key) });
          continue;
        }
        seen.add(k.text);
        out[k.text] = walk(pair.value, keyPath, depth + 1, ancestors, inAlias);
      }
      ancestors.delete(node);
      return out;
    }
    problems.push({ path, message: "unsupported YAML node", offset: at(node) });
    return undefined;
  };
  const data = walk(doc.contents, [], 0, new Set(), false);
  return { data, problems };
}
