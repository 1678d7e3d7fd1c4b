// "${" in a spec value: refused everywhere. The only place a rendered file gets a secret is a
// ${secret:NAME} reference, and only fields designed for it (passwordSecret) make one, from a
// plain name. A value that carries "${secret:sshPrivateKey}" itself must never reach a file the
// applier fills (see render/bundle.ts for the second line of defence).
import type { SpecPath, SpecProblem } from "./errors.ts";

const WHY = 'may not contain "${": facteur reserves it for secret references, which only passwordSecret fields make (write the name of the secret there)';

/** Where a value sits: its parent's place and its own key or index (built into a path only for a problem). */
type Place = { parent: Place; key: string | number } | undefined;

function pathOf(place: Place): SpecPath {
  const path: SpecPath = [];
  for (let p = place; p; p = p.parent) path.push(p.key);
  return path.reverse();
}

/**
 * Whether any value or name read from `text` can hold "${": every character of YAML data comes
 * from the text itself, except what an escape (a backslash in a double-quoted scalar) makes;
 * folding only ever adds spaces and line breaks. A text without "$" and without a backslash
 * has none, and the walk over every value (100,000 aliases) is skipped.
 */
export function mayHavePlaceholders(text: string): boolean {
  return text.includes("$") || text.includes("\\");
}

export function placeholderProblems(data: unknown): (Omit<SpecProblem, "line" | "column"> & { atKey?: boolean })[] {
  const out: (Omit<SpecProblem, "line" | "column"> & { atKey?: boolean })[] = [];
  const walk = (v: unknown, place: Place, depth: number) => {
    if (depth > 100) return;
    if (typeof v === "string") {
      if (v.includes("${")) out.push({ path: pathOf(place), message: `this value ${WHY}` });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, { parent: place, key: i }, depth + 1));
    else if (v && typeof v === "object")
      for (const k of Object.keys(v)) {
        if (k.includes("${")) out.push({ path: pathOf({ parent: place, key: k }), message: `a name ${WHY}`, atKey: true });
        const x = (v as Record<string, unknown>)[k];
        // A string needs no place of its own unless it is a problem.
        if (typeof x === "string") {
          if (depth < 100 && x.includes("${")) out.push({ path: pathOf({ parent: place, key: k }), message: `this value ${WHY}` });
        } else walk(x, { parent: place, key: k }, depth + 1);
      }
  };
  walk(data, undefined, 0);
  return out;
}
