// A host bundle under another root (how the lab applies it: every path inside a per-host
// directory, in file locations and inside the configs alike), and the secret references.
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderStack } from "../src/render/render.ts";
import { fillSecrets, secretRef, secretRefsIn } from "../src/render/bundle.ts";
import { examplePlan } from "./support/example.ts";

test("under a root, every path moves inside it: files, config contents, DKIM keys, TLS pair, sasldb", () => {
  const { model, plan } = examplePlan();
  const atRoot = renderStack(model, plan, { root: "" });
  const moved = renderStack(model, plan, { root: "/R/out1" });
  for (const [i, b] of moved.entries()) {
    const plain = atRoot[i]!;
    assert.deepEqual(b.files.map((f) => f.path), plain.files.map((f) => `/R/out1${f.path}`));
    // Settings (not comments) name the moved paths.
    const settings = (t: string) => t.split("\n").filter((l) => !l.startsWith("#"));
    for (const [j, f] of b.files.entries())
      assert.deepEqual(settings(f.content), settings(plain.files[j]!.content.replace(/(?<=[ :="])\/(etc|var|run)\//g, "/R/out1/$1/")), `${b.host}:${f.path}`);
    assert.deepEqual(b.tls, { cert: `/R/out1${plain.tls.cert}`, key: `/R/out1${plain.tls.key}` });
    assert.deepEqual(b.dkimKeys.map((k) => k.path), plain.dkimKeys.map((k) => `/R/out1${k.path}`));
    assert.equal(b.saslDb, plain.saslDb && `/R/out1${plain.saslDb}`);
  }
  const main = moved.find((b) => b.host === "mx1")!.files.find((f) => f.path.endsWith("/etc/postfix/main.cf"))!.content;
  assert.match(main, /^config_directory = \/R\/out1\/etc\/postfix$/m);
  assert.match(main, /^virtual_alias_maps = hash:\/R\/out1\/etc\/postfix\/virtual$/m);
});

test("bundles list files sorted by path; postmap exactly for hash tables; secrets only in 0600 files", () => {
  const { model, plan } = examplePlan();
  for (const b of renderStack(model, plan, { root: "" })) {
    const paths = b.files.map((f) => f.path);
    assert.deepEqual(paths, [...paths].sort());
    const main = b.files.find((f) => f.path === "/etc/postfix/main.cf")!.content;
    const hashed = new Set([...main.matchAll(/hash:(\S+)/g)].map((m) => m[1]!));
    assert.deepEqual(b.files.filter((f) => f.postmap).map((f) => f.path).sort(), [...hashed].sort(), `${b.host}: postmap what main.cf reads as hash:`);
    for (const f of b.files) assert.equal(f.mode, f.secretRefs ? "0600" : "0644", `${b.host}:${f.path}`);
  }
});

test("secret references: found once each, sorted; filled everywhere they appear; a missing one is named", () => {
  const text = `a ${secretRef("zeta")} b ${secretRef("alpha")} c ${secretRef("zeta")} \${secret:not valid} \${secret:}`;
  assert.deepEqual(secretRefsIn(text), ["alpha", "zeta"]);
  assert.equal(fillSecrets(text, { zeta: "Z", alpha: "A" }, "here", ["alpha", "zeta"]), "a Z b A c Z ${secret:not valid} ${secret:}");
  assert.throws(() => fillSecrets(text, { zeta: "Z" }, "mx1:/etc/x", ["alpha", "zeta"]), /^Error: mx1:\/etc\/x: secret alpha is not set \(pulumi config set --secret alpha \.\.\.\)$/);
  assert.equal(fillSecrets("no refs", {}, "x", []), "no refs");
  assert.equal(fillSecrets(secretRef("e"), { e: "" }, "x", ["e"]), "", "an empty secret is a value, not a missing one");
});

test("without a root, paths are the host's own; placeholders of unknown addresses stay as written (no HTML escaping)", () => {
  const { model, plan } = examplePlan(undefined, {});
  const bundles = renderStack(model, plan);
  assert.ok(bundles.every((b) => b.files.every((f) => f.path.startsWith("/etc/"))));
  const clients = bundles.find((b) => b.host === "out1")!.files.find((f) => f.path === "/etc/postfix/relay_clients")!.content;
  assert.match(clients, /^<mx1\.ipv4>\/32 OK\n<mx1\.ipv6>\/128 OK$/m);
  assert.match(bundles.find((b) => b.host === "mx1")!.files.find((f) => f.path === "/etc/postfix/sasl_passwd")!.content, /^\[smtp\.fai\.tld\]:587 relais@fai\.tld:\$\{secret:faiRelayPassword\}$/m);
});
