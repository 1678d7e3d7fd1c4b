// One error type for every problem found in a spec, so the CLI and the Pulumi program
// report the same "file:line:col path: message" lines.

export type SpecPath = (string | number)[];

export interface SpecProblem {
  path: SpecPath;
  message: string;
  line?: number;
  column?: number;
}

/** Renders a path the way a reader finds it in YAML: domains."entreprise.tld".aliases.secretariat[1] */
export function formatPath(path: SpecPath): string {
  if (path.length === 0) return "(root)";
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `${out ? "." : ""}${JSON.stringify(seg)}`;
  }
  return out;
}

/** A problem is one line, whatever text from the spec it quotes. */
function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly problems: SpecProblem[],
  ) {
    super(
      problems
        .map((p) => `${file}:${p.line ?? 1}:${p.column ?? 1}: ${p.path.length ? `${formatPath(p.path)}: ` : ""}${oneLine(p.message)}`)
        .join("\n"),
    );
    this.name = "SpecError";
  }
}
