// The machine-wide lab cache on a fresh machine: whichever lab stack creates it first, the
// daemons' own users can reach their entries. Seen on a fresh CI machine: the DKIM key cache
// made the cache directory 0700 on its way, and the next stack's quota store failed at
// "initdb: could not access directory ... Permission denied" (postgres cannot traverse it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { labCacheDir } from "../src/lab/cache.ts";
import { LAB_CACHE } from "../src/paths.ts";

const skip = process.getuid?.() !== 0 ? "needs root (the lab cache is root's)" : !existsSync("/usr/lib/postgresql") ? "postgresql is not installed: run scripts/setup-system.sh" : undefined;

test("a cache directory left 0700 is repaired: postgres can traverse it, the DKIM entry stays private", { skip }, () => {
  labCacheDir("dkim", 0o700);
  chmodSync(LAB_CACHE, 0o700); // as the DKIM key cache used to leave it
  const dir = labCacheDir("postgres");
  assert.equal(statSync(LAB_CACHE).mode & 0o777, 0o755);
  assert.equal(statSync(`${LAB_CACHE}/dkim`).mode & 0o777, 0o700, "the keys' own directory keeps its mode");
  const asPostgres = spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", dir]);
  assert.equal(asPostgres.status, 0, `postgres cannot reach ${dir}`);
});
