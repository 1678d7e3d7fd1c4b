// The lab sinks' store program (src/lab/sink.ts), run as Postfix's pipe(8) runs it: argv
// (maildir base, domain, local part), the message on stdin. No namespace needed.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SINK_STORE_PL, byArrival, maildirArrival, sinkDirName, sinkMaildirNew } from "../src/lab/sink.ts";

/** The store program written into a temporary directory, as the lab writes it for a sink. */
function storeProgram(t: TestContext): { dir: string; store: string } {
  const dir = mkdtempSync(join(tmpdir(), "facteur-sink-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = join(dir, "store.pl");
  writeFileSync(store, SINK_STORE_PL);
  chmodSync(store, 0o755);
  return { dir, store };
}

test("the sink stores a message in <base>/<domain>/<local>/new/ under the directory name sinkDirName gives, named by its arrival", (t) => {
  const { dir, store } = storeProgram(t);
  const base = join(dir, "mail"); // made by the lab, owned by nobody
  mkdirSync(base);
  const before = Date.now() / 1000;
  // A name a hostile recipient could try (a leading dot, a slash, upper case) stays one directory under the domain.
  for (const local of ["john", "Foo.Bar", "..", "a/../../b", "x+tag=1"]) {
    const message = `Subject: to ${local}\n\nbody\n`;
    const r = spawnSync(store, [base, "DOE.tld", local], { input: message, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const name = sinkDirName(local);
    assert.doesNotMatch(name, /\//);
    assert.ok(!name.startsWith("."), name);
    // Where the readers (tests, trace) look for it.
    assert.equal(sinkMaildirNew(base, "DOE.tld", local), join(base, "doe.tld", name, "new"));
    const files = readdirSync(join(base, "doe.tld", name, "new"));
    assert.equal(files.length, 1, `${local} -> ${name}`);
    assert.equal(readFileSync(join(base, "doe.tld", name, "new", files[0]!), "utf8"), message);
    assert.deepEqual(readdirSync(join(base, "doe.tld", name, "tmp")), []);
    const at = maildirArrival(files[0]!);
    assert.ok(at >= Math.floor(before) && at <= Date.now() / 1000 + 1, `${files[0]} arrived at ${at}`);
  }
  assert.deepEqual(readdirSync(join(base, "doe.tld")).sort(), ["_.", "a_.._.._b", "foo.bar", "john", "x+tag=1"]);
  assert.deepEqual(readdirSync(dir).sort(), ["mail", "store.pl"]);
});

test("a store that cannot write defers (75), never bounces", (t) => {
  const { dir, store } = storeProgram(t);
  writeFileSync(join(dir, "mail"), "a file where the maildir base should be");
  const r = spawnSync(store, [join(dir, "mail"), "doe.tld", "john"], { input: "Subject: x\n\nbody\n" });
  assert.equal(r.status, 75);
});

test("arrival order reads seconds and microseconds; other names are not arrivals", () => {
  assert.equal(maildirArrival("/m/new/1796662423.M550077P12256.sink"), 1796662423.550077);
  assert.ok(Number.isNaN(maildirArrival("1796662423.550077.12256")));
  assert.deepEqual(byArrival(["1796662424.M000001P9.sink", "1796662423.M900000P10.sink", "1796662423.M100000P11.sink"]), [
    "1796662423.M100000P11.sink",
    "1796662423.M900000P10.sink",
    "1796662424.M000001P9.sink",
  ]);
});
