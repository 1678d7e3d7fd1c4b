// The render's machinery below the daemon modules: how templates/ is read (names, partials),
// the build's precompiled templates and when they are used, the helpers templates may call,
// the secret references a render may make, the secrets an apply fills, and the names derived
// for MTA-STS Workers. Run on a small template tree of its own, so each rule shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { templateFiles, type Precompiled, type TemplateFile } from "../src/render/templates.ts";
import { precompiledModule } from "../src/render/precompile.ts";
import { templateEngine } from "../src/render/render.ts";
import { fillSecrets, secretRef, secretRefsIn, secretValue } from "../src/render/bundle.ts";
import { mtaStsWorkerName } from "../src/render/mtaSts.ts";
import { virtualMap } from "../src/render/virtualMap.ts";
import { quotaStorePasswordProblem } from "../src/render/daemons/postgresql.ts";

/** A template tree: { "dir/file": text }. */
function tree(files: Record<string, string>): { dir: string; files: TemplateFile[]; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "facteur-templates-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path.split("/")[0]!), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return { dir, files: templateFiles(dir), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the build writes (dist/render/templates.precompiled.cjs), loaded as node would load it. */
function built(files: TemplateFile[]): Precompiled {
  const module = { exports: {} as Precompiled };
  new Function("module", precompiledModule(files))(module);
  return module.exports;
}

const TREE = {
  "b/main.cf.hbs": "# main\n{{> common-main}}\nname = {{name}}\n",
  "b/_common-main.cf.hbs": "common = {{join list \", \"}}\n",
  "a/virtual.hbs": "{{#each rows}}{{this}}\n{{/each}}\n\n\n\nend {{cidr address}}\n",
  "a/secret.hbs": "password = {{secret name}}\nvalue = {{value}}\n",
};

test("templateFiles: every file under templates/<dir>/, in name order; _x.cf.hbs and _x.hbs are partial x, the rest dir/name without .hbs", () => {
  const t = tree({ ...TREE, "a/_plain.hbs": "p" });
  try {
    assert.deepEqual(
      t.files.map((f) => [f.file, f.name, f.partial]),
      [
        ["a/_plain.hbs", "plain", true],
        ["a/secret.hbs", "a/secret", false],
        ["a/virtual.hbs", "a/virtual", false],
        ["b/_common-main.cf.hbs", "common-main", true],
        ["b/main.cf.hbs", "b/main.cf", false],
      ],
    );
    assert.equal(t.files.find((f) => f.name === "common-main")!.source, TREE["b/_common-main.cf.hbs"]);
  } finally {
    t.done();
  }
});

test("the build's templates are used while templates/ holds their very text; an edited one is compiled again, and both render alike", () => {
  const t = tree(TREE);
  try {
    const ctx = { name: "mx1", list: ["a", "b"] };
    const fresh = templateEngine(t.files, {});
    assert.deepEqual([fresh.precompiled, fresh.compiled], [0, 4]);
    const fromBuild = templateEngine(t.files, built(t.files));
    assert.deepEqual([fromBuild.precompiled, fromBuild.compiled], [4, 0]);
    assert.equal(fromBuild.render("b/main.cf", ctx).content, "# main\ncommon = a, b\nname = mx1\n");
    assert.equal(fromBuild.render("b/main.cf", ctx).content, fresh.render("b/main.cf", ctx).content);
    const edited = t.files.map((f) => (f.name === "b/main.cf" ? { ...f, source: f.source.replace("name =", "host =") } : f));
    const mixed = templateEngine(edited, built(t.files));
    assert.deepEqual([mixed.precompiled, mixed.compiled], [3, 1]);
    assert.equal(mixed.render("b/main.cf", ctx).content, "# main\ncommon = a, b\nhost = mx1\n", "the edit shows, not the build's text");
    assert.throws(() => fresh.render("b/nothing", ctx), /^Error: no template b\/nothing\.hbs in /);
  } finally {
    t.done();
  }
});

test("helpers and layout: join with a separator (a space without one), cidr per family, runs of blank lines kept to one", () => {
  const t = tree({ ...TREE, "c/join.hbs": "{{join list}}|{{cidr a4}}|{{cidr a6}}\n" });
  try {
    const e = templateEngine(t.files, {});
    assert.equal(e.render("c/join", { list: ["x", "y"], a4: "198.51.100.11", a6: "2001:db8::11" }).content, "x y|198.51.100.11/32|2001:db8::11/128\n");
    assert.equal(e.render("a/virtual", { rows: ["r1", "r2"], address: "<mx1.ipv6>" }).content, "r1\nr2\n\nend <mx1.ipv6>/128\n");
    assert.equal(e.render("a/virtual", { rows: [], address: "198.51.100.11" }).content, "\n\nend 198.51.100.11/32\n");
    // Configs, not HTML: a value is written as it is; a property a context lacks is empty, not an error.
    assert.equal(e.render("a/secret", { name: "n", value: `v=spf1 <a> & 'b' "c" \`d\`` }).content, `password = \${secret:n}\nvalue = v=spf1 <a> & 'b' "c" \`d\`\n`);
    assert.equal(e.render("b/main.cf", { list: [] }).content, "# main\ncommon = \nname = \n");
  } finally {
    t.done();
  }
});

test("secret references: only the secret helper makes them, each recorded once; one arriving in a value stops the render", () => {
  const t = tree(TREE);
  try {
    const e = templateEngine(t.files, {});
    assert.deepEqual(e.render("a/secret", { name: "quotaStorePassword", value: "plain" }), { content: "password = ${secret:quotaStorePassword}\nvalue = plain\n", secretRefs: ["quotaStorePassword"] });
    assert.throws(() => e.render("a/secret", { name: "a", value: "${secret:b}" }), /^Error: render a\/secret: 2 secret reference\(s\) in the output, 1 made by passwordSecret fields$/);
  } finally {
    t.done();
  }
});

test("filling secrets: the references a render made, each by its value; a missing one is named, a smuggled one refused", () => {
  assert.equal(secretRef("s1"), "${secret:s1}");
  assert.deepEqual(secretRefsIn("${secret:b} ${secret:a} ${secret:b} ${secret:}"), ["a", "b"]);
  assert.equal(fillSecrets("p=${secret:a} q=${secret:a}", { a: "x1" }, "out1 /etc/f", ["a"]), "p=x1 q=x1");
  assert.throws(() => fillSecrets("p=${secret:a}", {}, "out1 /etc/f", ["a"]), /^Error: out1 \/etc\/f: secret a is not set \(pulumi config set --secret a \.\.\.\)$/);
  assert.throws(() => fillSecrets("p=${secret:toString}", {}, "f", ["toString"]), /secret toString is not set/, "an object's own properties are not secrets");
  assert.throws(() => fillSecrets("p=${secret:a} ${secret:b}", { a: "1", b: "2" }, "f", ["a"]), /^Error: f: refusing to fill \$\{secret:b\}: no passwordSecret field put it there$/);
  assert.throws(() => fillSecrets("${secret:c} ${secret:b}", { b: "2", c: "3" }, "f", []), /^Error: f: refusing to fill \$\{secret:b\}, \$\{secret:c\}: no passwordSecret field put them there$/);
  assert.equal(secretValue("a", { a: "v" }, "sasl"), "v");
  assert.throws(() => secretValue("constructor", {}, "sasl john"), /^Error: sasl john: secret constructor is not set/);
});

test("MTA-STS Worker names: one per domain, dots made dashes, at most 63 characters (a long domain keeps its start and a hash of the whole)", () => {
  assert.equal(mtaStsWorkerName("entreprise.tld"), "facteur-mta-sts-entreprise-tld");
  const exact = `${"a".repeat(63 - "facteur-mta-sts-".length - 4)}.tld`;
  assert.equal(mtaStsWorkerName(exact).length, 63);
  assert.equal(mtaStsWorkerName(exact), `facteur-mta-sts-${exact.replace(".", "-")}`, "63 characters still fit");
  const long = `${"b".repeat(60)}.example.tld`;
  const name = mtaStsWorkerName(long);
  assert.match(name, /^facteur-mta-sts-b{38}-[0-9a-f]{8}$/);
  assert.notEqual(mtaStsWorkerName(`${"b".repeat(60)}.example.tle`), name, "two long domains with the same start get different names");
});

test("the quota store password: 16 to 128 characters that need no quoting in YAML or SQL", () => {
  for (const ok of ["a".repeat(16), "A-Za-z0-9._~+/=-".repeat(2), "x".repeat(128)]) assert.equal(quotaStorePasswordProblem(ok), undefined, ok);
  for (const bad of ["a".repeat(15), "x".repeat(129), `${"a".repeat(16)}'`, `'${"a".repeat(16)}`, `${"a".repeat(16)} `, `${"a".repeat(16)}"`])
    assert.match(quotaStorePasswordProblem(bad) ?? "", /^the quota store password must be 16 to 128 of A-Z a-z 0-9 \. _ ~ \+ \/ = - /, JSON.stringify(bad));
});

test("the virtual map: relays sharing a model's domains share its text, and a relay with fewer domains gets only its own", () => {
  const a = { name: "a.tld", aliases: [{ address: "x@a.tld", targets: ["y@ailleurs.tld"], role: false }, { address: "postmaster@a.tld", targets: ["ops@gestion.tld"], role: true }] };
  const b = { name: "b.tld", aliases: [{ address: "g@b.tld", targets: ["u@ailleurs.tld", "v@ailleurs.tld"], role: false }] };
  const both = virtualMap({ host: { fqdn: "mx1.relais.tld" }, domains: [a, b] });
  const onlyA = virtualMap({ host: { fqdn: "mx2.relais.tld" }, domains: [a] });
  const again = virtualMap({ host: { fqdn: "mx3.relais.tld" }, domains: [a, b] });
  const body = "\n# a.tld\nx@a.tld y@ailleurs.tld\n# role address, always deliverable\npostmaster@a.tld ops@gestion.tld\n";
  assert.equal(both.split("\n").slice(2).join("\n"), `${body}\n# b.tld\ng@b.tld u@ailleurs.tld, v@ailleurs.tld\n`);
  assert.equal(onlyA.split("\n").slice(2).join("\n"), body, "mx2 does not receive b.tld");
  assert.match(onlyA, /^# mx2\.relais\.tld: where each address of our domains goes\. Rendered by facteur\.\n# Chains/);
  assert.equal(again.replace("mx3", "mx1"), both);
  assert.equal(virtualMap({ host: { fqdn: "mx4.relais.tld" }, domains: [] }).split("\n").length, 3, "no domain: the header alone");
});
