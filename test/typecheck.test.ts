// The whole project typechecks (tsc --noEmit, tsconfig.json): run as one test file among the
// others, so it overlaps with them instead of delaying every test by its own half minute.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

test("tsc --noEmit passes on the whole project", () => {
  const r = spawnSync(`${ROOT}node_modules/.bin/tsc`, ["--noEmit", "-p", ROOT], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
});
