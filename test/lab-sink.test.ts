// The lab sinks' store (src/lab/sink.ts): its LMTP server, spoken to as Postfix's lmtp client
// speaks to it, on a socket in a temporary directory. No namespace needed.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { userInfo, tmpdir } from "node:os";
import { join } from "node:path";
import { SINK_LMTP_PY, byArrival, maildirArrival, sinkDirName, sinkMaildirNew } from "../src/lab/sink.ts";
import { waitFor } from "../src/lab/proc.ts";

const ROOT = process.getuid?.() === 0;
const nobody = () => {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("nobody:"));
  return Number(line!.split(":")[2]);
};

/** The server on a fresh socket, storing under <dir>/mail (made for the user it runs as, as the lab makes it), stopped after the test. */
async function sink(t: TestContext, base?: (dir: string) => string): Promise<{ dir: string; mail: string; socket: string }> {
  const dir = mkdtempSync(join(tmpdir(), "facteur-sink-"));
  chmodSync(dir, 0o755); // as the lab's directories are: the server, once it runs as nobody, goes through
  const mail = base ? base(dir) : join(dir, "mail");
  if (!base) {
    mkdirSync(mail);
    if (ROOT) chownSync(mail, nobody(), -1);
  }
  const socket = join(dir, "sinkstore");
  const child = spawn("/usr/bin/python3", ["-c", SINK_LMTP_PY, socket, mail, "mx.doe.tld", ROOT ? "nobody" : userInfo().username], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  t.after(() => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  assert.ok(await waitFor(async () => existsSync(socket), 10_000, 20), `the sink's LMTP server did not listen: ${err}`);
  return { dir, mail, socket };
}

/** One LMTP session, step by step: each step's reply lines, read until it has `replies` final lines (1, or one per recipient after DATA's text). */
function lmtp(socket: string, steps: { send: string; replies?: number }[]): Promise<string[][]> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    const got: string[][] = [];
    const todo = [{ send: "", replies: 1 }, ...steps]; // the greeting first
    let buf = "";
    let current: string[] = [];
    s.on("data", (d) => {
      buf += d.toString("utf8");
      for (let i = buf.indexOf("\r\n"); i >= 0; i = buf.indexOf("\r\n")) {
        current.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
        if (current.filter((l) => /^\d{3} /.test(l)).length < (todo[0]!.replies ?? 1)) continue;
        got.push(current);
        current = [];
        todo.shift();
        if (todo.length) s.write(todo[0]!.send);
        else s.end();
      }
    });
    s.on("close", () => resolve(got));
    s.on("error", reject);
  });
}

const files = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

test("the sink's LMTP server stores one copy per recipient in <base>/<domain>/<local>/new/, with pipe's headers, LF endings and dots unstuffed, and replies per recipient", async (t) => {
  const { mail } = await sink(t);
  const before = Date.now() / 1000;
  // A name a hostile recipient could try (a leading dot, a slash, upper case) stays one directory under the domain.
  const rcpts = ["john@DOE.tld", "Foo.Bar@doe.tld", "..@doe.tld", "a/../../b@doe.tld", "x+tag=1@doe.tld"];
  const body = "Subject: hello\r\n\r\nline one\r\n..a line that began with a dot\r\nlast\r\n.\r\n";
  const replies = await lmtp(join(mail, "..", "sinkstore"), [
    { send: "LHLO mx.doe.tld\r\n" },
    { send: "MAIL FROM:<SRS0=x=y=expediteur.tld=alice@relais.tld> BODY=8BITMIME\r\n" },
    ...rcpts.map((r) => ({ send: `RCPT TO:<${r}>\r\n` })),
    { send: "DATA\r\n" },
    { send: body, replies: rcpts.length },
    { send: "QUIT\r\n" },
  ]);
  assert.match(replies[0]![0]!, /^220 mx\.doe\.tld LMTP/);
  assert.deepEqual(replies[1], ["250-mx.doe.tld", "250-PIPELINING", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250 SMTPUTF8"]);
  assert.deepEqual(replies[2], ["250 2.1.0 Ok"]);
  for (let i = 0; i < rcpts.length; i++) assert.deepEqual(replies[3 + i], ["250 2.1.5 Ok"]);
  assert.match(replies[3 + rcpts.length]![0]!, /^354 /);
  assert.deepEqual(replies[4 + rcpts.length], rcpts.map((r) => `250 2.0.0 <${r}> stored`));
  assert.deepEqual(replies[5 + rcpts.length], ["221 2.0.0 Bye"]);
  for (const r of rcpts) {
    const [local, domain] = [r.slice(0, r.lastIndexOf("@")), r.slice(r.lastIndexOf("@") + 1)];
    const name = sinkDirName(local);
    assert.doesNotMatch(name, /\//);
    assert.ok(!name.startsWith("."), name);
    const dir = sinkMaildirNew(mail, domain, local);
    assert.equal(dir, join(mail, "doe.tld", name, "new"), "where the readers (tests, trace) look for it");
    const stored = files(dir);
    assert.equal(stored.length, 1, `${r} -> ${name}`);
    const text = readFileSync(join(dir, stored[0]!), "utf8");
    assert.equal(text, `Return-Path: <SRS0=x=y=expediteur.tld=alice@relais.tld>\nX-Original-To: ${r}\nDelivered-To: ${r.toLowerCase()}\nSubject: hello\n\nline one\n.a line that began with a dot\nlast\n`);
    assert.deepEqual(files(join(mail, "doe.tld", name, "tmp")), []);
    const at = maildirArrival(stored[0]!);
    assert.ok(at >= Math.floor(before) && at <= Date.now() / 1000 + 1, `${stored[0]} arrived at ${at}`);
    if (ROOT) assert.equal(statSync(join(dir, stored[0]!)).uid, nobody(), "stored as the user it was told to run as, not root");
  }
  assert.deepEqual(readdirSync(join(mail, "doe.tld")).sort(), ["_.", "a_.._.._b", "foo.bar", "john", "x+tag=1"]);
});

test("the sink's LMTP server defers (451) a copy it cannot write, never bounces it, and keeps serving", async (t) => {
  const { mail } = await sink(t, (dir) => {
    const m = join(dir, "mail");
    writeFileSync(m, "a file where the maildir base should be");
    return m;
  });
  const replies = await lmtp(join(mail, "..", "sinkstore"), [
    { send: "LHLO mx.doe.tld\r\n" },
    { send: "MAIL FROM:<alice@expediteur.tld>\r\n" },
    { send: "RCPT TO:<john@doe.tld>\r\n" },
    { send: "DATA\r\n" },
    { send: "Subject: x\r\n\r\nbody\r\n.\r\n" },
    { send: "RSET\r\n" },
    { send: "DATA\r\n" },
    { send: "QUIT\r\n" },
  ]);
  assert.match(replies[5]![0]!, /^451 4\.3\.0 <john@doe\.tld> not stored: /);
  assert.deepEqual(replies[6], ["250 2.0.0 Ok"]);
  assert.deepEqual(replies[7], ["503 5.5.1 RCPT first"], "DATA without a recipient is refused");
  assert.deepEqual(replies[8], ["221 2.0.0 Bye"]);
});

test("arrival order reads seconds and microseconds (with or without the delivery counter); other names are not arrivals", () => {
  assert.equal(maildirArrival("/m/new/1796662423.M550077P12256.sink"), 1796662423.550077);
  assert.equal(maildirArrival("/m/new/1796662423.M550077P12256Q17.sink"), 1796662423.550077);
  assert.ok(Number.isNaN(maildirArrival("1796662423.550077.12256")));
  assert.ok(Number.isNaN(maildirArrival("1796662423.M550077P12256X1.sink")));
  assert.deepEqual(byArrival(["1796662424.M000001P9Q1.sink", "1796662423.M900000P9Q3.sink", "1796662423.M100000P9Q2.sink"]), [
    "1796662423.M100000P9Q2.sink",
    "1796662423.M900000P9Q3.sink",
    "1796662424.M000001P9Q1.sink",
  ]);
});
