// Writes a render tree to --out DIR without ever deleting what facteur did not write.
// DIR may be absent, empty, or an earlier render output: the marker file lists every file an
// earlier render wrote, and a directory holding anything else is refused, not wiped
// (`--out stacks` or `--out .` once deleted the stack files or the checkout). The tree is
// built beside DIR and swapped in only when complete, so a failure leaves the old tree.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { UsageError } from "./usage.ts";
import { byText } from "../order.ts";

export const RENDER_MARKER = ".facteur-render";
const MARKER_HEADER = "# facteur render output. `facteur render --out` replaces exactly these files; keep nothing else here.";

/** An output directory facteur cannot write (permissions, a full disk): exit 1. */
export class OutputError extends Error {
  override name = "OutputError";
}

/** Every entry under dir, relative, depth first ("hosts/mx1/etc/postfix/main.cf"); directories end with "/". */
function listTree(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  // The entries' types as the directory gives them (no lstat per entry); lstat only where it does not say.
  const entries = readdirSync(dir, { withFileTypes: true }).sort(byText((e) => e.name));
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    const known = entry.isDirectory() || entry.isFile() || entry.isSymbolicLink() || entry.isFIFO() || entry.isSocket() || entry.isBlockDevice() || entry.isCharacterDevice();
    const st = known ? entry : lstatSync(join(dir, entry.name));
    if (st.isDirectory()) out.push(`${rel}/`, ...listTree(join(dir, entry.name), rel));
    else out.push(st.isFile() ? rel : `${rel} (not a regular file)`);
  }
  return out;
}

/**
 * Removes a tree whose entries `listTree` gave (an earlier render output, moved aside): its
 * files, then its directories deepest first, the fewest calls; anything unexpected (an entry
 * that appeared since) falls back to a recursive removal.
 */
function removeListed(dir: string, entries: string[]): void {
  try {
    for (const e of entries) if (!e.endsWith("/")) unlinkSync(join(dir, e));
    for (const e of [...entries].reverse()) if (e.endsWith("/")) rmdirSync(join(dir, e));
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Why `out` may not receive a render, or undefined. */
export function outputDirProblem(out: string, cwd = process.cwd()): string | undefined {
  return outputDir(out, cwd).problem;
}

/** outputDirProblem, and the entries of the earlier render output found there. */
function outputDir(out: string, cwd = process.cwd()): { problem?: string; entries?: string[] } {
  const problem = (p: string | undefined) => (p === undefined ? {} : { problem: p });
  const abs = resolve(cwd, out);
  const rel = relative(abs, resolve(cwd));
  if (rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep)))
    return problem(`${out} contains the current directory; give a directory of its own, such as render-out`);
  let st;
  try {
    st = lstatSync(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") return problem(`${out}: a parent of it is not a directory`);
    return problem(code === "ENOENT" ? undefined : `${out}: ${code}`);
  }
  if (st.isSymbolicLink()) return problem(`${out} is a symbolic link; give the directory itself`);
  if (!st.isDirectory()) return problem(`${out} exists and is not a directory`);
  const entries = listTree(abs);
  if (entries.length === 0) return { entries };
  if (!entries.includes(RENDER_MARKER))
    return problem(`${out} is not empty and is not an earlier render output (it has no ${RENDER_MARKER}); facteur render replaces only its own output: give an empty or new directory`);
  const written = new Set(readFileSync(join(abs, RENDER_MARKER), "utf8").split("\n").filter((l) => l && !l.startsWith("#")));
  const foreign = entries.filter((e) => !e.endsWith("/") && e !== RENDER_MARKER && !written.has(e));
  if (foreign.length > 0)
    return problem(`${out} holds files an earlier render did not write (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? `, and ${foreign.length - 5} more` : ""}); move them away first, facteur render deletes nothing it did not write`);
  return { entries };
}

/** Writes `files` (relative path -> content) as the tree at `out`, replacing an earlier render output. */
export function writeRenderTree(out: string, files: Map<string, string>): void {
  const { problem, entries: earlier } = outputDir(out);
  if (problem) throw new UsageError(`--out: ${problem}`);
  const abs = resolve(out);
  let staging: string | undefined;
  let old: string | undefined;
  let swapped = false;
  try {
    mkdirSync(dirname(abs), { recursive: true });
    staging = mkdtempSync(`${abs}.facteur-tmp-`);
    const made = new Set<string>();
    for (const [rel, content] of files) {
      if (rel.split("/").some((seg) => seg === ".." || seg === "") || rel === RENDER_MARKER) throw new Error(`render: refusing the path ${rel}`);
      const target = join(staging, rel);
      const dir = dirname(target);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      writeFileSync(target, content);
    }
    writeFileSync(join(staging, RENDER_MARKER), `${MARKER_HEADER}\n${[...files.keys()].sort().join("\n")}\n`);
    let exists = true;
    try {
      lstatSync(abs);
    } catch {
      exists = false;
    }
    if (exists) {
      // Swap: the previous output (verified above to hold only render files) moves aside, the new one in.
      old = mkdtempSync(`${abs}.facteur-old-`);
      renameSync(abs, old);
    }
    renameSync(staging, abs);
    swapped = true;
  } catch (e) {
    if (old && !swapped) {
      try {
        renameSync(old, abs);
        old = undefined;
      } catch {
        /* the previous output stays at `old`, named in the error below, and is not deleted */
      }
    }
    if (e instanceof UsageError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new OutputError(`cannot write ${out}: ${code ?? (e as Error).message}${old ? ` (the previous output is in ${old})` : ""}`);
  } finally {
    if (staging && !swapped) rmSync(staging, { recursive: true, force: true });
    if (old && swapped) removeListed(old, earlier ?? []);
  }
}
