// `facteur trace` as an operator meets it without a lab: flags checked before anything is read
// (exit 2, a message naming the flag), and hosts that cannot be reached over SSH named, exit 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseTraceArgs } from "../src/cli/trace.ts";
import { facteurBatch } from "./support/cliBatch.ts";
import { spawnFacteur } from "./support/facteurCli.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function facteur(args: string[]) {
  const r = spawnFacteur(args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("trace: bad flags exit 2 with a message naming what is wrong, and print nothing", () => {
  const cases: [string[], RegExp][] = [
    [["--to", "john@doe.tld"], /--stack NAME is required/],
    [["--stack", "flags"], /give exactly one of --message-id, --to, --from/],
    [["--stack", "flags", "--to", "a@b.tld", "--from", "c@d.tld"], /give exactly one of --message-id, --to, --from \(got --to and --from\)/],
    [["--stack", "flags", "--to", "john"], /--to "john": not a mail address/],
    [["--stack", "flags", "--from", "a b@c.tld"], /--from "a b@c\.tld": not a mail address/],
    [["--stack", "flags", "--message-id", "two words"], /--message-id "two words": not a Message-ID/],
    [["--stack", "flags", "--to", "a@b.tld", "--since", "yesterday"], /--since "yesterday": not a duration/],
    [["--stack", "flags", "--to", "a@b.tld", "--since", "2y"], /--since "2y": not a duration/],
    [["--stack", "flags", "--to", "a@b.tld", "--limit", "0"], /--limit "0"/],
    [["--stack", "flags", "--to", "a@b.tld", "--source", "ftp"], /--source "ftp": lab or ssh/],
    [["--stack", "flags", "--to", "a@b.tld", "--ssh-port", "99999"], /--ssh-port "99999"/],
    [["--stack", "flags", "--to", "a@b.tld", "--identity", "/nonexistent/key"], /--identity \/nonexistent\/key: no such file/],
    [["--stack", "flags", "--to", "a@b.tld", "--bogus"], /Unknown option '--bogus'/],
    [["--stack", "flags", "--to", "a@b.tld", "extra"], /unexpected argument: extra/],
    [["--stack", "nope", "--to", "a@b.tld", "--source", "ssh"], /no stack "nope": stacks\/nope\.facteur\.yaml does not exist/],
    [["--stack", "nope-not-running", "--to", "a@b.tld", "--source", "lab"], /no lab stack "nope-not-running" runs on this machine/],
  ];
  // One process for all the cases: main() as bin.ts runs it.
  const results = facteurBatch(cases.map(([args]) => ["trace", ...args]));
  for (const [i, [args, message]] of cases.entries()) {
    const r = results[i]!;
    assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.err}`);
    assert.match(r.err, /^facteur trace: /, args.join(" "));
    assert.match(r.err, message, args.join(" "));
    assert.equal(r.out, "", args.join(" "));
    assert.doesNotMatch(r.err, /at .*\.ts:\d+/, "no stack trace");
  }
});

test("trace: the query and the window as parsed", () => {
  const now = Date.UTC(2026, 10, 23, 16, 0, 0);
  const a = parseTraceArgs(["--stack", "prod", "--message-id", "<abc@x.tld>", "--since", "1h30m"], now);
  assert.deepEqual([a.query, a.sinceMs, a.limit, a.json, a.source], [{ kind: "message-id", value: "abc@x.tld" }, now - 5_400_000, 20, false, undefined]);
  const b = parseTraceArgs(["--stack", "prod", "--to", "John@Doe.tld", "--json", "--source", "ssh", "--ssh-port", "2222"], now);
  assert.deepEqual([b.query, b.sinceMs, b.json, b.source, b.sshPort], [{ kind: "to", value: "John@Doe.tld" }, now - 86_400_000, true, "ssh", 2222]);
});

test("trace over SSH: hosts that cannot be reached are named with ssh's reason, exit 1, no crash", () => {
  const dir = mkdtempSync(join(tmpdir(), "facteur-trace-"));
  try {
    const book = Object.fromEntries(["mx1", "mx2", "out1", "out2", "spam1"].map((h) => [h, { ipv4: "127.0.0.1", ipv6: "::1" }]));
    writeFileSync(join(dir, "addresses.json"), JSON.stringify(book));
    // The example under a stack name of this test's own (trace looks for a lab of that name).
    mkdirSync(join(dir, "stacks"));
    copyFileSync(join(ROOT, "stacks/example.facteur.yaml"), join(dir, "stacks/unreached.facteur.yaml"));
    const r = facteur(["trace", "--stack", "unreached", "--stacks", join(dir, "stacks"), "--source", "ssh", "--to", "john@doe.tld", "--addresses", join(dir, "addresses.json"), "--ssh-port", "1"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /5 hosts could not be read; the trace is incomplete/);
    for (const h of ["mx1", "mx2", "out1", "out2", "spam1"]) assert.match(r.err, new RegExp(`  ${h}: ssh facteur-logs@127\\.0\\.0\\.1 failed \\(exit 255\\): .*Connection refused`));
    assert.match(r.out, /nothing matched in that window/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
