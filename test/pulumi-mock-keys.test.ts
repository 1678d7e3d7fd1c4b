// The mocks' keys (src/pulumi/mocks.ts) are real key pairs, kept between processes in the user's
// own directory under the temporary directory: a later process reads the pair an earlier one
// made, and a file that is not a pair for that name and algorithm is made again, never used.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { mockKeyFile, strictMocks } from "../src/pulumi/mocks.ts";

const run = `${process.pid}-${Date.now()}`;
let tmp = "";
const oldTmpdir = process.env.TMPDIR;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), "facteur-mock-keys-test-"));
  process.env.TMPDIR = tmp;
});
after(() => {
  if (oldTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = oldTmpdir;
  rmSync(tmp, { recursive: true, force: true });
});

/** The key state the mocks give a tls PrivateKey resource of that name. */
async function keyOf(name: string, algorithm: "RSA" | "ECDSA"): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const r = await strictMocks().mocks.newResource({ type: "tls:index/privateKey:PrivateKey", name, inputs: { algorithm }, custom: true });
  const { privateKeyPem, publicKeyPem } = r.state as { privateKeyPem: string; publicKeyPem: string };
  return { privateKeyPem, publicKeyPem };
}
const spki = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "pem" });
const makePair = (kind: "rsa" | "ec") => {
  const p = kind === "ec" ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { privateKeyPem: p.privateKey.export({ type: kind === "ec" ? "sec1" : "pkcs1", format: "pem" }) as string, publicKeyPem: p.publicKey.export({ type: "spki", format: "pem" }) as string };
};
// The files "an earlier process" left: made once for the file (an RSA pair costs some 100 ms of CPU).
const RSA_A = makePair("rsa");
const RSA_B = makePair("rsa");
const EC_A = makePair("ec");

test("a key is made once and kept, mode 0600 in a 0700 directory of this user's; a later process reads that pair", async () => {
  const name = `dkim-kept-${run}`;
  const k = await keyOf(name, "RSA");
  assert.match(k.privateKeyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(spki(k.privateKeyPem), k.publicKeyPem);
  const file = mockKeyFile(name, "RSA")!;
  assert.equal(dirname(file), join(tmp, `facteur-mock-keys-${process.getuid!()}`));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), k);
  assert.notEqual(mockKeyFile(name, "ECDSA"), file, "another algorithm, another key");

  // What an earlier process left for a name this process never asked for: read, not made again.
  const other = `dkim-earlier-${run}`;
  const earlier = RSA_A;
  writeFileSync(mockKeyFile(other, "RSA")!, JSON.stringify(earlier), { mode: 0o600 });
  assert.deepEqual(await keyOf(other, "RSA"), earlier);
  const ec = `tls-earlier-${run}`;
  const earlierEc = EC_A;
  writeFileSync(mockKeyFile(ec, "ECDSA")!, JSON.stringify(earlierEc), { mode: 0o600 });
  assert.deepEqual(await keyOf(ec, "ECDSA"), earlierEc);
});

test("a kept file that is not a pair for its name and algorithm is never used: a new pair replaces it", async () => {
  const bad: [string, "RSA" | "ECDSA", string][] = [
    [`torn-${run}`, "RSA", '{"privateKeyPem": "-----BEGIN RSA PRIV'],
    [`mismatched-${run}`, "RSA", JSON.stringify({ privateKeyPem: RSA_A.privateKeyPem, publicKeyPem: RSA_B.publicKeyPem })],
    [`wrong-kind-${run}`, "RSA", JSON.stringify(EC_A)],
    [`wrong-kind-ec-${run}`, "ECDSA", JSON.stringify(RSA_A)],
  ];
  for (const [name, alg, text] of bad) {
    writeFileSync(mockKeyFile(name, alg)!, text, { mode: 0o600 });
    const k = await keyOf(name, alg);
    assert.match(k.privateKeyPem, alg === "RSA" ? /^-----BEGIN RSA PRIVATE KEY-----/ : /^-----BEGIN EC PRIVATE KEY-----/, name);
    assert.equal(spki(k.privateKeyPem), k.publicKeyPem, name);
    assert.notEqual(JSON.stringify(k), text, name);
    assert.deepEqual(JSON.parse(readFileSync(mockKeyFile(name, alg)!, "utf8")), k, `${name}: the new pair is kept`);
  }
});

test("no directory of this user's alone, no keeping: a link, or one others can write, is left as it is", async () => {
  const dir = join(tmp, `facteur-mock-keys-${process.getuid!()}`);
  for (const make of [
    () => chmodSync(dir, 0o777),
    () => {
      rmSync(dir, { recursive: true, force: true });
      symlinkSync(mkdtempSync(join(tmp, "elsewhere-")), dir);
    },
  ]) {
    make();
    const before = readdirSync(dir);
    assert.equal(mockKeyFile(`shared-${run}`, "RSA"), undefined);
    const k = await keyOf(`shared-${run}-${before.length}`, "ECDSA");
    assert.equal(spki(k.privateKeyPem), k.publicKeyPem);
    assert.deepEqual(readdirSync(dir), before, "nothing written there");
    rmSync(dir, { recursive: true, force: true });
    assert.equal(existsSync(dir), false);
  }
});
