// Reading an apply script (src/pulumi/apply.ts) in tests: the files its `put` lines stage.
/** Each staged file by path: its mode, owner and content, the $'...' word unquoted as bash does. */
export function stagedFiles(script: string): Map<string, { mode: string; owner: string; content: string }> {
  const out = new Map<string, { mode: string; owner: string; content: string }>();
  for (const m of script.matchAll(/^put '((?:[^']|'\\'')*)' (\d{4}) (\S+) \$'((?:[^'\\]|\\[\\'])*)'$/gm)) {
    out.set(m[1]!.replaceAll("'\\''", "'"), { mode: m[2]!, owner: m[3]!, content: m[4]!.replace(/\\([\\'])/g, "$1") });
  }
  return out;
}
