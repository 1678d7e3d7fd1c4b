// Golden files: expected output committed beside the tests and reviewed like any other change.
// - A missing golden file fails (it is never written behind the reviewer's back), except with
//   UPDATE_SNAPSHOTS=1, which writes what the code produces now for review.
// - A stale golden file (nothing produces it any more) fails too, named; UPDATE_SNAPSHOTS=1
//   removes it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const DIR = fileURLToPath(new URL("../__snapshots__/", import.meta.url));
const updating = () => process.env.UPDATE_SNAPSHOTS === "1";
const HOW = "run UPDATE_SNAPSHOTS=1 npm test and review the change";

/** Every file under dir, as paths relative to it ("/"-separated). */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out.push(r);
    }
  };
  walk("");
  return out.sort();
}

/** One golden file under test/__snapshots__/. */
export function matchSnapshot(name: string, actual: string): void {
  const file = join(DIR, name);
  if (updating()) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `snapshot ${name} is missing: ${HOW}`);
  assert.equal(actual, readFileSync(file, "utf8"), `snapshot ${name} differs (${HOW})`);
}

/**
 * A whole golden tree: `actual` maps relative paths to contents and must be exactly what `dir`
 * holds, no file missing, none stale, every byte equal. Reports every difference at once.
 */
export function matchTree(dir: string, actual: Record<string, string>): void {
  const want = Object.keys(actual).sort();
  const have = filesUnder(dir);
  const stale = have.filter((f) => !(f in actual));
  const name = relative(fileURLToPath(new URL("../..", import.meta.url)), dir);
  if (updating()) {
    for (const f of want) {
      const path = join(dir, f);
      if (existsSync(path) && readFileSync(path, "utf8") === actual[f]) continue;
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, actual[f]!);
    }
    for (const f of stale) rmSync(join(dir, f));
    if (stale.length) console.log(`# ${name}: removed ${stale.length} stale golden file(s): ${stale.join(", ")}`);
    return;
  }
  const missing = want.filter((f) => !have.includes(f));
  const differing = want.filter((f) => have.includes(f) && readFileSync(join(dir, f), "utf8") !== actual[f]);
  const problems = [
    ...missing.map((f) => `missing golden file ${name}/${f}`),
    ...stale.map((f) => `stale golden file ${name}/${f}: nothing renders it any more`),
    ...differing.map((f) => `${name}/${f} differs`),
  ];
  if (differing.length === 1 && !missing.length && !stale.length) {
    assert.equal(actual[differing[0]!], readFileSync(join(dir, differing[0]!), "utf8"), `${problems[0]} (${HOW})`);
  }
  assert.deepEqual(problems, [], `${problems.length} golden file problem(s) in ${name} (${HOW})`);
}
