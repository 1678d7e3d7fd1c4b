// File snapshots under test/__snapshots__/: reviewed like any other change. Missing snapshots
// are written only outside CI (or with UPDATE_SNAPSHOTS=1), so CI never passes by writing them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const DIR = fileURLToPath(new URL("../__snapshots__/", import.meta.url));

export function matchSnapshot(name: string, actual: string): void {
  const file = join(DIR, name);
  const update = process.env.UPDATE_SNAPSHOTS === "1";
  if (update || (!existsSync(file) && process.env.CI !== "true")) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `snapshot ${name} is missing: run UPDATE_SNAPSHOTS=1 npm test and review it`);
  assert.equal(actual, readFileSync(file, "utf8"), `snapshot ${name} differs (UPDATE_SNAPSHOTS=1 npm test to accept, after review)`);
}
