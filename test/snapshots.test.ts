// The golden-file helper itself: a missing golden file fails outside UPDATE_SNAPSHOTS=1, a stale
// one is named and fails, a differing one fails; UPDATE_SNAPSHOTS=1 writes and prunes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { filesUnder, matchTree } from "./support/snapshot.ts";

function withUpdate<T>(value: string | undefined, f: () => T): T {
  const saved = process.env.UPDATE_SNAPSHOTS;
  if (value === undefined) delete process.env.UPDATE_SNAPSHOTS;
  else process.env.UPDATE_SNAPSHOTS = value;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.UPDATE_SNAPSHOTS;
    else process.env.UPDATE_SNAPSHOTS = saved;
  }
}

test("golden trees: missing, stale and differing files fail; UPDATE_SNAPSHOTS=1 writes and prunes", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-golden-"));
  try {
    const actual = { "a.txt": "A\n", "sub/b.txt": "B\n" };
    // Nothing committed yet: a missing golden file is a failure, and nothing gets written.
    assert.throws(() => withUpdate(undefined, () => matchTree(dir, actual)), /missing golden file .*a\.txt[\s\S]*missing golden file .*sub\/b\.txt/);
    assert.deepEqual(filesUnder(dir), []);
    assert.throws(() => withUpdate("0", () => matchTree(dir, actual)), /missing golden file/);
    // Accepted on purpose.
    withUpdate("1", () => matchTree(dir, actual));
    assert.deepEqual(filesUnder(dir), ["a.txt", "sub/b.txt"]);
    withUpdate(undefined, () => matchTree(dir, actual));
    // A file nothing produces any more is named.
    mkdirSync(join(dir, "old"), { recursive: true });
    writeFileSync(join(dir, "old/c.txt"), "C\n");
    assert.throws(() => withUpdate(undefined, () => matchTree(dir, actual)), /stale golden file .*old\/c\.txt: nothing renders it any more/);
    // A changed byte is a failure showing the difference.
    assert.throws(() => withUpdate(undefined, () => matchTree(dir, { ...actual, "a.txt": "A!\n" })), /a\.txt differs/);
    // UPDATE_SNAPSHOTS=1 removes the stale file and rewrites the changed one.
    withUpdate("1", () => matchTree(dir, { ...actual, "a.txt": "A!\n" }));
    assert.ok(!existsSync(join(dir, "old/c.txt")));
    assert.equal(readFileSync(join(dir, "a.txt"), "utf8"), "A!\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
