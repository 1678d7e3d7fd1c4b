// render --out writes only where it may: an absent or empty directory, or an earlier render
// output (its marker lists every file it wrote). Anything else is refused and left untouched:
// `--out stacks` once deleted the stack files, `--out .` would have wiped the checkout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RENDER_MARKER, outputDirProblem, writeRenderTree } from "../src/cli/renderOut.ts";
import { UsageError } from "../src/cli/usage.ts";
import { exampleText } from "./support/example.ts";
import { spawnFacteur } from "./support/facteurCli.ts";

/** This file's own stack name, never the user's `example`. */
const STACK = "renderout";

function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "facteur-out-"));
  mkdirSync(join(dir, "stacks"));
  writeFileSync(join(dir, "stacks", `${STACK}.facteur.yaml`), exampleText());
  return dir;
}

const tree = (n: number) => new Map([["dns.txt", `records ${n}\n`], ["hosts/mx1/etc/postfix/main.cf", `main ${n}\n`]]);

test("render --out stacks is refused with exit 2; nothing is deleted (--out . and the others: below)", () => {
  const dir = sandbox();
  try {
    const r = spawnFacteur(["render", "--stack", STACK, "--out", "stacks"], { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^facteur render: --out: stacks is not empty and is not an earlier render output/);
    assert.equal(readFileSync(join(dir, "stacks", `${STACK}.facteur.yaml`), "utf8"), exampleText());
    assert.deepEqual(readdirSync(dir).sort(), ["stacks"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("outputDirProblem says why a directory is refused", () => {
  const dir = sandbox();
  try {
    assert.match(outputDirProblem(join(dir, "stacks"))!, /stacks is not empty and is not an earlier render output \(it has no \.facteur-render\)/);
    assert.match(outputDirProblem(".", dir)!, /\. contains the current directory/);
    assert.match(outputDirProblem(dir, dir)!, /contains the current directory/);
    assert.throws(() => writeRenderTree(".", tree(1)), (e: Error) => e instanceof UsageError && /contains the current directory/.test(e.message));
    assert.match(outputDirProblem("..", join(dir, "stacks"))!, /contains the current directory/);
    assert.match(outputDirProblem(join(dir, "stacks", `${STACK}.facteur.yaml`))!, /exists and is not a directory/);
    symlinkSync(join(dir, "stacks"), join(dir, "link"));
    assert.match(outputDirProblem(join(dir, "link"))!, /is a symbolic link/);
    mkdirSync(join(dir, "empty"));
    assert.equal(outputDirProblem(join(dir, "empty")), undefined);
    assert.equal(outputDirProblem(join(dir, "new", "deeper")), undefined);
    assert.match(outputDirProblem(join(dir, "stacks", `${STACK}.facteur.yaml`, "x"))!, /a parent of it is not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an earlier render output is replaced; a foreign file in it stops the render and stays", () => {
  const dir = sandbox();
  const out = join(dir, "render-out");
  try {
    writeRenderTree(out, tree(1));
    assert.deepEqual(readFileSync(join(out, RENDER_MARKER), "utf8").split("\n").filter((l) => l && !l.startsWith("#")), ["dns.txt", "hosts/mx1/etc/postfix/main.cf"]);
    writeRenderTree(out, new Map([["dns.txt", "records 2\n"]]));
    assert.equal(readFileSync(join(out, "dns.txt"), "utf8"), "records 2\n");
    assert.ok(!existsSync(join(out, "hosts")), "files of the earlier render that are gone are removed");
    writeFileSync(join(out, "notes.md"), "mine\n");
    assert.throws(() => writeRenderTree(out, tree(3)), (e: Error) => e instanceof UsageError && /holds files an earlier render did not write \(notes\.md\)/.test(e.message));
    assert.equal(readFileSync(join(out, "notes.md"), "utf8"), "mine\n");
    assert.equal(readFileSync(join(out, "dns.txt"), "utf8"), "records 2\n");
    assert.deepEqual(readdirSync(dir).sort(), ["render-out", "stacks"], "no staging or old tree left beside it");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
