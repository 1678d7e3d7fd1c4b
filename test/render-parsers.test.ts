// Every rendered config of the example stack through the real parsers: postconf -n / -M must
// accept each Postfix config without a warning, and opendkim -n each OpenDKIM config.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { renderStack } from "../src/render/render.ts";
import { cool } from "../src/gate/postfix.ts";
import { examplePlan } from "./support/example.ts";

const { model, plan } = examplePlan();

const hasPostconf = spawnSync("postconf", ["-d", "mail_version"]).status === 0;

test("the real postconf and opendkim parse every rendered config without a warning", { skip: !hasPostconf && "postfix is not installed (scripts/setup-system.sh)" }, () => {
  const base = mkdtempSync(join(tmpdir(), "facteur-render-"));
  try {
    for (const b of renderStack(model, plan, { root: join(base, "ROOT") })) {
      const root = join(base, b.host);
      for (const f of b.files) {
        const path = f.path.replace(join(base, "ROOT"), root);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, f.content.replaceAll(join(base, "ROOT"), root));
      }
      cool(join(root, "etc/postfix/main.cf")); // whole: no waiting for it to cool down (src/gate/postfix.ts)
      for (const args of [["-n"], ["-M"]]) {
        const r = spawnSync("postconf", ["-c", join(root, "etc/postfix"), ...args], { encoding: "utf8" });
        assert.equal(r.status, 0, `${b.host}: postconf ${args} failed: ${r.stderr}`);
        assert.equal(r.stderr, "", `${b.host}: postconf ${args} warned: ${r.stderr}`);
      }
      if (b.role === "smarthost") execFileSync("opendkim", ["-n", "-x", join(root, "etc/opendkim.conf")]);
    }
    // The check itself is sharp: a misspelt parameter is reported.
    const main = join(base, "mx1", "etc/postfix/main.cf");
    writeFileSync(main, "relayhots = pool.relais.tld\n", { flag: "a" });
    cool(main);
    const r = spawnSync("postconf", ["-c", dirname(main), "-n"], { encoding: "utf8" });
    assert.match(r.stderr, /unused parameter: relayhots=pool\.relais\.tld/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
