// Puts a rendered bundle on this machine the way the apply step does on a host (files, postmap,
// the TLS key pair main.cf names), under a root directory the bundle was rendered for, so the
// real daemons and the deploy gate can be run on it.
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import type { HostBundle } from "../../src/render/bundle.ts";
import { fillSecrets } from "../../src/render/bundle.ts";
import { cool } from "../../src/gate/postfix.ts";

const PAIR = join(tmpdir(), "facteur-test-tls");

/** One self-signed pair for every staged host of a test run (openssl takes a while on 2 cores). */
function tlsPair(): { cert: string; key: string } {
  const cert = join(PAIR, "cert.pem");
  const key = join(PAIR, "key.pem");
  if (!existsSync(key)) {
    mkdirSync(PAIR, { recursive: true });
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=facteur-test", "-keyout", key, "-out", cert], { stdio: "ignore" });
  }
  return { cert, key };
}

export function stageBundle(bundle: HostBundle, secrets: Record<string, string> = {}): void {
  for (const f of bundle.files) {
    mkdirSync(dirname(f.path), { recursive: true });
    const fill = Object.fromEntries((f.secretRefs ?? []).map((n) => [n, secrets[n] ?? `test-secret-${n}`]));
    writeFileSync(f.path, fillSecrets(f.content, fill, f.path, f.secretRefs ?? []), { mode: parseInt(f.mode, 8) });
  }
  const pf = dirname(bundle.files.find((f) => f.path.endsWith("/postfix/main.cf"))!.path);
  cool(join(pf, "main.cf")); // as the apply step does: Postfix reads it at once
  for (const f of bundle.files.filter((f) => f.postmap)) execFileSync("postmap", ["-c", pf, `hash:${f.path}`], { stdio: "ignore" });
  const pair = tlsPair();
  mkdirSync(dirname(bundle.tls.cert), { recursive: true });
  mkdirSync(dirname(bundle.tls.key), { recursive: true });
  copyFileSync(pair.cert, bundle.tls.cert);
  copyFileSync(pair.key, bundle.tls.key);
}
