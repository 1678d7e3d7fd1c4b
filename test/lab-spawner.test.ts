// The lab's spawn helper (src/lab/spawner.ts) against node's own spawn: the same commands give
// the same exit codes, output, stdin, environment and timeouts both ways. No namespace needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnCaptured, spawnDirect, type SpawnRequest } from "../src/lab/spawner.ts";

const req = (argv: string[], more: Partial<SpawnRequest> = {}): SpawnRequest => ({ argv, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" }, input: "", timeoutMs: 10_000, ...more });

const CASES: [string, SpawnRequest][] = [
  ["exit code, stdout, stderr and stdin", req(["sh", "-c", "echo out; echo err >&2; cat; exit 3"], { input: "from stdin\n" })],
  ["the environment given, and only it", req(["sh", "-c", 'echo "$FOO:${HOME:-no home}"'], { env: { PATH: "/usr/bin:/bin", FOO: "bar" } })],
  ["killed by a signal: 128", req(["sh", "-c", "kill -TERM $$"])],
  ["output that is not UTF-8 comes back replaced, not lost", req(["printf", "a\\377b"])],
  ["a large output whole", req(["sh", "-c", "seq 1 200000"])],
];

for (const [name, r] of CASES) {
  test(`spawn helper = direct spawn: ${name}`, async () => {
    const [viaHelper, direct] = await Promise.all([spawnCaptured(r), spawnDirect(r)]);
    assert.deepEqual(viaHelper, direct);
  });
}

test("a command past its time is killed and reported as timed out, both ways", async () => {
  const r = req(["sleep", "30"], { timeoutMs: 300 });
  const t0 = Date.now();
  const [viaHelper, direct] = await Promise.all([spawnCaptured(r), spawnDirect(r)]);
  assert.ok(Date.now() - t0 < 10_000);
  assert.deepEqual(viaHelper, { code: 128, stdout: "", stderr: "", timedOut: true });
  assert.deepEqual(direct, viaHelper);
});

test("a command that cannot start answers 127 naming it, both ways", async () => {
  const r = req(["/nonexistent/facteur-cmd"]);
  const [viaHelper, direct] = await Promise.all([spawnCaptured(r), spawnDirect(r)]);
  for (const x of [viaHelper, direct]) {
    assert.equal(x.code, 127);
    assert.match(x.stderr, /\/nonexistent\/facteur-cmd/);
  }
});

test("commands run side by side through the helper, each answered with its own output", async () => {
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => spawnCaptured(req(["sh", "-c", `sleep 0.5; echo ${i}`]))));
  assert.deepEqual(rs.map((r) => r.stdout), Array.from({ length: 20 }, (_, i) => `${i}\n`));
  assert.ok(Date.now() - t0 < 8_000, `20 half-second commands took ${Date.now() - t0} ms: not side by side`);
});
