// The fast parse path (src/spec/yamlFast.ts) against the careful one (`yaml` + yamlData.ts):
// for every text, the fast path either declines or gives exactly the data the careful path
// gives, and the careful path then finds no problem at all. Texts come from a generator of
// tricky YAML (numbers in every form, keys YAML would merge, comments, quotes, indicators,
// flow and block forms, indentation variants), from random edits of the example, and from the
// specs the benchmarks generate. At the spec level, an error reads the same, file:line:col
// included, whichever path read the text.
//
// FACTEUR_FASTPATH_RUNS (default 2000) texts per property; a larger run:
//   FACTEUR_FASTPATH_RUNS=200000 node --import tsx --test test/spec-fastpath.test.ts
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseDocument } from "yaml";
import { fastYamlData } from "../src/spec/yamlFast.ts";
import { documentData } from "../src/spec/yamlData.ts";
import { parseSpec } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { aliasesAccepted, aliasesMap, safeParseSpec, specSchema } from "../src/spec/schema.ts";
import { exampleText } from "./support/example.ts";
import { generatedSpecText } from "../bench/generated-spec.ts";

const RUNS = Number(process.env.FACTEUR_FASTPATH_RUNS ?? 2000);
const SEED = process.env.FACTEUR_PROPERTY_SEED ? Number(process.env.FACTEUR_PROPERTY_SEED) : undefined;

/** What the careful path makes of a text: its data, or why it would refuse it. */
function careful(text: string): { data: unknown } | { refused: string } {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  const syntax = [...doc.errors, ...doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED")];
  if (syntax.length > 0) return { refused: `YAML: ${syntax[0]!.message}` };
  const { data, problems } = documentData(doc);
  return problems.length > 0 ? { refused: problems[0]!.message } : { data };
}

/** The property: declined, or the careful path's data exactly (null prototypes included). Returns whether the fast path took it. */
function agrees(text: string): boolean {
  const fast = fastYamlData(text);
  if (!fast) return false;
  const slow = careful(text);
  assert.ok("data" in slow, `the fast path accepted a text the careful path refuses (${"refused" in slow ? slow.refused : ""}):\n${text}`);
  assert.deepStrictEqual(fast.data, slow.data, `different data for:\n${text}`);
  return true;
}

// ---------------------------------------------------------------- generated YAML

const KEYS = [
  "a", "b", "key", "john-doe", "tom.smit", "x_y", "constructor", "toString", "__proto__", "<<", "1", "01", "0612345678", "1e3", "0x1F", "0o7",
  "1.5", "-1", "+1", ".5", "1.", ".inf", ".nan", "true", "True", "TRUE", "false", "yes", "no", "on", "null", "Null", "~", "a b", "a  b", "a#b",
  "a #b", "a:b", "a: b", "a:", ":a", "-a", "a-", "?a", "a?", "a,b", "[a]", "{a}", "a]", "'a'", '"a"', "it's", "é", "a\\b", "${x}", "@a", "`a",
  "%a", "!a", "&a", "*a", "|a", ">a", "a ", " a", "a\t", "secretariat", "groupe8", "x".repeat(40),
];
const SCALARS = [
  ...KEYS, "", " ", "john@doe.tld", "ops@gestion.tld", "203.0.113.0/24", "2001:db8::/32", "2001:db8::", "include:_spf.fai.tld",
  "exists:%{i}._spf.x.tld", "1s", "5s", "587", "0", "-0", "00", "10", "1000000000000000000000", "9".repeat(400), "1_000", "0.5", "6.125", "1.50",
  "+.inf", "-.inf", ".NaN", "False", "FALSE", "- a", "-", "--- a", "...", "a: b: c", "|", ">", "a # comment", "a#comment", "http://x.tld/a#b",
  "mailto:ops@gestion.tld", "[]", "{}", "a, b", "a]b", "a}b", "v=spf1 -all", "x y z", "é@doe.tld", "tab\there",
];

type Value = string | Value[] | { [k: string]: Value };
const scalar = fc.constantFrom(...SCALARS);
const key = fc.constantFrom(...KEYS);
const value: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { weight: 6, arbitrary: scalar },
    { weight: 2, arbitrary: fc.array(tie("v"), { maxLength: 4 }) },
    { weight: 2, arbitrary: fc.array(fc.tuple(key, tie("v")), { maxLength: 4 }).map((pairs) => Object.fromEntries(pairs) as Value) },
  ),
})).v;

/** How each piece is written: quoting, comments, flow or block, indentation, blank lines. */
interface Style {
  quote: number[];
  flow: boolean[];
  comment: boolean[];
  indent: number[];
  indentless: boolean[];
  blank: boolean[];
  trailing: boolean[];
}
const style = fc.record({
  quote: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 30 }),
  flow: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
  comment: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
  indent: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 30 }),
  indentless: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
  blank: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
  trailing: fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
});

function writeYaml(root: Value, st: Style): string {
  let n = 0;
  const pick = <T>(list: T[]) => list[n++ % list.length]!;
  const scalarText = (s: string) => {
    const q = pick(st.quote);
    if (q === 1) return `'${s.replaceAll("'", "''")}'`;
    if (q === 2) return `"${s}"`;
    return s; // plain, as written: often not valid YAML, which is the point
  };
  const flow = (v: Value): string => {
    if (typeof v === "string") return scalarText(v);
    if (Array.isArray(v)) return `[${v.map(flow).join(", ")}]`;
    return `{ ${Object.entries(v).map(([k, x]) => `${scalarText(k)}: ${flow(x)}`).join(", ")} }`;
  };
  const end = () => `${pick(st.comment) ? " # note: a, b" : ""}${pick(st.trailing) ? "  " : ""}`;
  const lines: string[] = [];
  const gap = () => {
    if (pick(st.blank)) lines.push(pick(st.comment) ? `${" ".repeat(pick(st.indent))}# a comment` : "");
  };
  /** Writes `v` as the value of the last line (a key or a dash at `indent`); `compact`: a map may start on a dash's line. */
  const block = (v: Value, indent: number, afterDash: boolean) => {
    if (typeof v === "string" || pick(st.flow)) {
      lines[lines.length - 1] += ` ${flow(v)}${end()}`;
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return void (lines[lines.length - 1] += " []");
      const at = !afterDash && pick(st.indentless) ? indent : indent + pick(st.indent);
      for (const item of v) {
        gap();
        lines.push(`${" ".repeat(at)}-`);
        block(item, at, true);
      }
      return;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return void (lines[lines.length - 1] += " {}");
    // After a dash, the map may start on the dash's line (`- key: v`), its keys at that column.
    const compact = afterDash && pick(st.indentless);
    const at = compact ? indent + 2 : indent + pick(st.indent);
    entries.forEach(([k, x], i) => {
      if (compact && i === 0) lines[lines.length - 1] += ` ${scalarText(k)}:`;
      else {
        gap();
        lines.push(`${" ".repeat(at)}${scalarText(k)}:`);
      }
      block(x, at, false);
    });
  };
  for (const [k, x] of Object.entries(root as Record<string, Value>)) {
    gap();
    lines.push(`${scalarText(k)}:`);
    block(x, 0, false);
  }
  return `${lines.join("\n")}\n`;
}

const document = fc.tuple(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 6 }), style).map(([pairs, st]) => writeYaml(Object.fromEntries(pairs), st));

/** The property over `texts`; not vacuous: a good share of them must take the fast path. */
function agreesOnMost(texts: fc.Arbitrary<string>, what: string): void {
  let taken = 0;
  let runs = 0;
  fc.assert(
    fc.property(texts, (text) => {
      runs++;
      if (agrees(text)) taken++;
    }),
    { numRuns: RUNS, seed: SEED },
  );
  if (process.env.FACTEUR_FASTPATH_VERBOSE) console.log(`${what}: ${taken} of ${runs} took the fast path`);
  assert.ok(taken > runs / 10, `only ${taken} of ${runs} ${what} texts took the fast path`);
}

test("fast path: generated YAML is declined or read exactly as the careful path reads it", () => {
  agreesOnMost(document, "generated");
});

// ---------------------------------------------------------------- edits of the example

const EDITS = [" ", "  ", "\n", "-", "- ", ":", ": ", "#", " #", "'", '"', "[", "]", "{", "}", ",", "&a ", "*a", "!", "|", ">", "?", "%", "@", "0", "1", ".", "e", "x", "\t", "\r", "é", "---", "..."];
const edited = fc
  .array(fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.constantFrom(...EDITS)), { minLength: 1, maxLength: 3 })
  .map((edits) => {
    let text = exampleText();
    for (const [at, cut, piece] of edits) {
      const i = at % (text.length + 1);
      text = text.slice(0, i) + piece + text.slice(i + cut);
    }
    return text;
  });

test("fast path: random edits of the example are declined or read exactly as the careful path reads them", () => {
  agreesOnMost(edited, "edited");
});

// ---------------------------------------------------------------- what the fast path is for

test("fast path: the example and generated stacks take it, with the careful path's data", () => {
  for (const text of [exampleText(), generatedSpecText(3, 20), generatedSpecText(20, 100)]) assert.ok(agrees(text), text.slice(0, 200));
});

test("fast path: anything it does not read takes the careful path (anchors, tags, escapes, tabs, CRLF, block scalars, numbers in other forms)", () => {
  for (const text of [
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    'a: "x\\ny"\n',
    "a:\n\t- 1\n",
    "a: 1\r\nb: 2\r\n",
    "a: |\n  text\n",
    "a: 0612\n",
    "a: 1e3\n",
    "1: x\n",
    "true: x\n",
    "a: 1\na: 2\n",
    "__proto__: 1\n",
    "a: x\n  continued\n",
    "---\na: 1\n",
    "a: [1,\n  2]\n",
  ])
    assert.equal(fastYamlData(text), undefined, text);
});

// Every number form of YAML's core schema but plain decimal, as a value, a list item and a flow
// item: the careful path reads each as a number (and refuses its form), so the fast path must
// never take one as a string (the mutation run's survivors in OTHER_NUMBER and NULL/BOOL).
test("fast path: each other number form, null and boolean spelling, wherever a value goes, takes the careful path or reads as the careful path does", () => {
  const forms = [
    "0o17", "+12", "-12", "0x1F", "0xff", "+.inf", "-.Inf", ".INF", ".nan", ".NaN", ".NAN",
    "1e5", "1E5", "1e+5", "1e-5", "-1E-5", "+1.5e3", ".5e3", "-.5E+3", "12.e3", "+.5", "-.5", ".5", "1.", "-1.", "+1.5", "12.50e1",
    "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
  ];
  let taken = 0;
  for (const f of forms)
    for (const text of [`a: ${f}\n`, `a:\n  - ${f}\n`, `a: [${f}, x]\n`, `a: { b: ${f} }\n`, `a: x${f}\n`, `a: ${f}x\n`]) if (agrees(text)) taken++;
  // Not by declining everything: the plain strings around them (x1e5, 1e5x, nullx...) are its own.
  assert.ok(taken >= forms.length, `${taken} texts taken`);
});

test("fast path: a spec error reads the same, file:line:col included, whichever path read the text", () => {
  const messageOf = (text: string, fastPath: boolean): string => {
    try {
      return JSON.stringify(parseSpec(text, "stacks/x.facteur.yaml", { fastPath }));
    } catch (e) {
      assert.ok(e instanceof SpecError, (e as Error).stack);
      return e.message;
    }
  };
  const texts = [
    exampleText(),
    exampleText().replace("john-doe: john@doe.tld", "John-Doe: john@doe.tld"),
    exampleText().replace("mxPriority: 20", "mxPriority: 70000"),
    exampleText().replace("accueil: secretariat@entreprise.tld", "accueil: nobody@entreprise.tld"),
    exampleText().replace("selectors: [e2026a]", "selectors: [e2026a, e2026a]"),
    exampleText().replace("location: hel1", "location: Hel1, extra: 1"),
    exampleText().replace("rua: ops@gestion.tld", "rua: ${secret:x}@gestion.tld"),
    `${exampleText()}  inbound: { softErrorLimit: 0 }\n`,
  ];
  fc.assert(
    fc.property(fc.oneof(fc.constantFrom(...texts), edited), (text) => {
      assert.equal(messageOf(text, true), messageOf(text, false));
    }),
    { numRuns: Math.max(50, Math.floor(RUNS / 10)), seed: SEED },
  );
});

// ---------------------------------------------------------------- the aliases' fast path (schema.ts)

/** Local parts and targets near every rule of the grammar, valid and not. */
const localParts = fc.oneof(
  fc.constantFrom("john", "a.b", "x-y", "#x", "srs0=x", "SRS0=x", "John", "a..b", ".a", "a.", "", "__proto__", "constructor", "a b", "é", "${x}", "x".repeat(64), "x".repeat(65), "1", "0x1"),
  fc.stringMatching(/^[a-z0-9.#=_-]{0,8}$/),
);
const addresses = fc.oneof(
  fc.constantFrom("john@doe.tld", "a@b", "a@b.c1", "a@b.123", "x@xn--bcher-kva.tld", "x@xn--abc.tld", "@doe.tld", "john@", "john", "John@doe.tld", "a@DOE.tld", "a@-x.tld", "a@x..tld", "a@x.tld.", `a@${"x".repeat(64)}.tld`),
  fc.tuple(fc.stringMatching(/^[a-z0-9.#-]{0,6}$/), fc.stringMatching(/^[a-z0-9.-]{0,10}$/)).map(([l, d]) => `${l}@${d}`),
);
const targets = fc.oneof(addresses, fc.array(addresses, { maxLength: 3 }), fc.constantFrom<unknown>(null, 3, true, {}, [3], ["a@b.tld", null]));
const aliasMaps = fc.oneof(
  fc.dictionary(localParts, targets, { maxKeys: 4 }),
  fc.dictionary(localParts, targets, { maxKeys: 4 }).map((m) => Object.assign(Object.create(null) as object, m)),
  fc.constantFrom<unknown>(null, [], "x", 3, Object.assign(Object.create(null) as object, { ["__proto__"]: "a@b.tld" })),
);

test("aliases fast path: a map plain code accepts is one aliasesMap accepts, with an output equal to it", () => {
  let accepted = 0;
  let refused = 0;
  fc.assert(
    fc.property(aliasMaps, (m) => {
      const zod = aliasesMap.safeParse(m);
      if (aliasesAccepted(m)) {
        accepted++;
        assert.ok(zod.success, `plain code accepted what zod refuses: ${JSON.stringify(m)}: ${JSON.stringify(zod.error?.issues)}`);
        assert.deepEqual({ ...zod.data }, { ...(m as object) });
      } else if (!zod.success) refused++;
    }),
    { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
  );
  // Both sides are exercised (the generator is not all valid, nor all invalid).
  assert.ok(accepted > RUNS / 20 && refused > RUNS / 20, `accepted ${accepted}, refused ${refused}`);
});

test("aliases fast path: the spec parses to the same data, and a refused spec gets the same issues, as zod on the whole spec", () => {
  const specs = [exampleText(), generatedSpecText(3, 20)];
  for (const text of specs) {
    const data = fastYamlData(text)!.data;
    const fast = safeParseSpec(data, { reportInput: true });
    const slow = specSchema.safeParse(data, { reportInput: true });
    assert.ok(fast.success && slow.success);
    assert.deepEqual(JSON.parse(JSON.stringify(fast.data)), JSON.parse(JSON.stringify(slow.data)));
  }
  fc.assert(
    fc.property(aliasMaps, fc.constantFrom("ok", "bad-dkim", "bad-domain"), (aliases, other) => {
      const data = fastYamlData(exampleText())!.data as { domains: Record<string, Record<string, unknown>> };
      const [first] = Object.keys(data.domains);
      data.domains[first!]!.aliases = aliases;
      if (other === "bad-dkim") data.domains[first!]!.dkim = { selectors: [] };
      if (other === "bad-domain") data.domains["Bad.tld"] = { aliases };
      const fast = safeParseSpec(data, { reportInput: true });
      const slow = specSchema.safeParse(data, { reportInput: true });
      assert.equal(fast.success, slow.success);
      if (!fast.success) assert.deepEqual(fast.error.issues, slow.error!.issues);
      else assert.deepEqual(JSON.parse(JSON.stringify(fast.data)), JSON.parse(JSON.stringify(slow.data)));
    }),
    { numRuns: Math.ceil(RUNS / 4), ...(SEED === undefined ? {} : { seed: SEED }) },
  );
});
