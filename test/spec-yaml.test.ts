// The loader's protections (src/spec/yamlData.ts), one by one at the function level and at the
// text level, so that a faster parse path (issue 13) can be held to the same behaviour.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseDocument } from "yaml";
import { AliasBudget, YAML_LIMITS, documentData, keyText, numberFormProblem } from "../src/spec/yamlData.ts";
import { parseYamlWith } from "../src/spec/load.ts";
import { SpecError } from "../src/spec/errors.ts";
import { z } from "zod";

const data = (text: string) => documentData(parseDocument(text, { uniqueKeys: true }));
const messages = (text: string) => data(text).problems.map((p) => `${JSON.stringify(p.path)} ${p.message}`);

test("keyText: keys are the text written, whatever YAML would make of them", () => {
  const keys = (parseDocument("0612345678: a\n1e3: b\ntrue: c\n0x1F: d\n'1': e\n~: f\n").contents as { items: { key: unknown }[] }).items.map((p) => keyText(p.key));
  assert.deepEqual(keys, [{ text: "0612345678" }, { text: "1e3" }, { text: "true" }, { text: "0x1F" }, { text: "1" }, { text: "~" }]);
  const complex = (parseDocument("? [a]\n: b\n").contents as { items: { key: unknown }[] }).items[0]!.key;
  assert.deepEqual(keyText(complex), { problem: "a key must be a plain name, not a list or a map" });
});

test("numberFormProblem: plain decimal only, with how to write it instead", () => {
  assert.equal(numberFormProblem("587", 587), undefined);
  assert.equal(numberFormProblem("-5", -5), undefined);
  assert.equal(numberFormProblem("7.5", 7.5), undefined);
  assert.match(numberFormProblem("0612345678", 612345678)!, /starts with 0, which YAML readers disagree on \(octal 612345678 or decimal\).*quote it if it is text: "0612345678"/);
  assert.match(numberFormProblem("010", 10)!, /starts with 0/);
  for (const s of ["1e3", "0x1F", "0o17", ".inf", "-.inf", "+5", "1_000"]) assert.match(numberFormProblem(s, Number(s))!, /write numbers in plain decimal/, s);
});

test("AliasBudget: charges until the limit, then refuses", () => {
  const b = new AliasBudget(10);
  assert.equal(b.charge(6), undefined);
  assert.equal(b.charge(4), undefined);
  assert.match(b.charge(1)!, /aliases expand to more than 10 values/);
});

test("documentData: null-prototype maps, so constructor and toString are plain keys", () => {
  const { data: d, problems } = data("constructor: 1\ntoString: 2\nhasOwnProperty: 3\n");
  assert.deepEqual(problems, []);
  assert.equal(Object.getPrototypeOf(d), null);
  assert.deepEqual(Object.keys(d as object), ["constructor", "toString", "hasOwnProperty"]);
});

test("documentData: duplicates after coercion, __proto__, tags, cycles, undefined anchors, depth", () => {
  assert.deepEqual(messages('1: a\n"1": b\n'), ['["1"] duplicate key "1": each name may appear once (1 and "1" are the same name)']);
  assert.deepEqual(messages("__proto__: {a: 1}\n"), ['["__proto__"] __proto__ cannot be used as a name here (JavaScript reserves it); choose another']);
  assert.deepEqual(messages("a: !!binary aGVsbG8=\n"), ['["a"] YAML tags such as !!binary are not used in a stack file']);
  assert.deepEqual(messages("a: !!str 0612\n"), []);
  assert.deepEqual(messages("a: &x [1, *x]\n"), ['["a",1] alias *x refers to a value that contains it']);
  assert.deepEqual(messages("a: *y\n"), ['["a"] alias *y refers to no anchor: define &y before using it']);
  const deep = `a: ${"[".repeat(YAML_LIMITS.depth + 5)}${"]".repeat(YAML_LIMITS.depth + 5)}\n`;
  assert.match(messages(deep)[0]!, /nested deeper than 64 levels/);
});

test("documentData: a few honest aliases pass, a bomb is stopped at the budget", () => {
  assert.deepEqual(data("base: &b {x: 1, y: [1, 2]}\nother: *b\nthird: *b\n").problems, []);
  const levels = ["a: &a [x,x,x,x,x,x,x,x,x,x]"];
  for (let i = 1; i < 8; i++) levels.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? "*a" : `*l${i - 1}`).join(",")}]`);
  const started = Date.now();
  const { problems } = data(`${levels.join("\n")}\n`);
  assert.ok(Date.now() - started < 2000, "the budget stops the walk early");
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /aliases expand to more than 10000 values/);
});

test("parseYamlWith: loader problems come out with file:line:col, never a stack trace", () => {
  const schema = z.object({ a: z.unknown() }).strict();
  const err = (text: string) => {
    try {
      parseYamlWith(schema, text, "f.yaml");
    } catch (e) {
      assert.ok(e instanceof SpecError, String(e));
      return e.message;
    }
    assert.fail("accepted");
  };
  assert.equal(err("a: 1\nb: *nope\n"), "f.yaml:2:4: b: alias *nope refers to no anchor: define &nope before using it");
  assert.equal(err("a: 0612\n"), 'f.yaml:1:4: a: 0612 starts with 0, which YAML readers disagree on (octal 612 or decimal); write the number without leading zeros, or quote it if it is text: "0612"');
  assert.match(err(`a: ${"[".repeat(100000)}`), /^f\.yaml:1:\d+: /);
  assert.match(err("a: 1\n---\na: 2\n"), /^f\.yaml:2:1: YAML: Source contains multiple documents/);
});
