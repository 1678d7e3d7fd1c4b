// "${" in a spec value: refused everywhere. The only place a rendered file gets a secret is a
// ${secret:NAME} reference, and only fields designed for it (passwordSecret) make one, from a
// plain name. A value that carries "${secret:sshPrivateKey}" itself must never reach a file the
// applier fills (see render/bundle.ts for the second line of defence).
import type { SpecPath, SpecProblem } from "./errors.ts";

const WHY = 'may not contain "${": facteur reserves it for secret references, which only passwordSecret fields make (write the name of the secret there)';

export function placeholderProblems(data: unknown): (Omit<SpecProblem, "line" | "column"> & { atKey?: boolean })[] {
  const out: (Omit<SpecProblem, "line" | "column"> & { atKey?: boolean })[] = [];
  const walk = (v: unknown, path: SpecPath, depth: number) => {
    if (depth > 100) return;
    if (typeof v === "string") {
      if (v.includes("${")) out.push({ path, message: `this value ${WHY}` });
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i], depth + 1));
    else if (v && typeof v === "object")
      for (const k of Object.keys(v)) {
        if (k.includes("${")) out.push({ path: [...path, k], message: `a name ${WHY}`, atKey: true });
        walk((v as Record<string, unknown>)[k], [...path, k], depth + 1);
      }
  };
  walk(data, [], 0);
  return out;
}
