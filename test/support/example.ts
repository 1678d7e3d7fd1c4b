// Shared fixtures: the example stack of the field notes, and variations of it as YAML text.
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { parseSpec } from "../../src/spec/load.ts";
import { SpecError } from "../../src/spec/errors.ts";
import { buildModel } from "../../src/model/model.ts";
import { buildPlan } from "../../src/plan/plan.ts";
import type { AddressBook } from "../../src/plan/addresses.ts";

export const EXAMPLE_FILE = fileURLToPath(new URL("../../stacks/example.facteur.yaml", import.meta.url));
export const exampleText = (): string => readFileSync(EXAMPLE_FILE, "utf8");

/**
 * A fresh stacks directory holding the example as `<stack>.facteur.yaml`, for commands that take
 * --stack: a test's own name, never the user's `example` (whose lab `check --delivery` would read).
 * The caller removes it.
 */
export function exampleStacksDir(stack: string): string {
  const dir = mkdtempSync(join(tmpdir(), `facteur-${stack}-`));
  copyFileSync(EXAMPLE_FILE, join(dir, `${stack}.facteur.yaml`));
  return dir;
}

/** Replaces one exact piece of the example; fails loudly if the piece is not there. */
export function exampleWith(from: string, to: string): string {
  const text = exampleText();
  if (!text.includes(from)) throw new Error(`fixture: "${from}" is not in the example stack`);
  return text.replace(from, to);
}

const OUT1 = "  out1: { kind: own, location: fsn1, serverType: cx23 }\n";
const OUT2 = "  out2: { kind: own, location: hel1, serverType: cx23 }\n";
/** The example with options added to its own smarthosts out1 and out2 (", weight: 4"), and `extra` lines after them. */
export function exampleSmarthosts(out1: string, out2: string, extra = ""): string {
  const t = exampleText();
  if (!t.includes(OUT1) || !t.includes(OUT2)) throw new Error("fixture: the example's out1 and out2 lines changed");
  return t.replace(OUT1, `  out1: { kind: own, location: fsn1, serverType: cx23${out1} }\n`).replace(OUT2, `  out2: { kind: own, location: hel1, serverType: cx23${out2} }\n${extra}`);
}

/** Replaces a pattern in a spec text derived from the example (lab stacks); fails loudly if it is not there. */
export function rewrite(text: string, re: RegExp, by: string): string {
  if (!re.test(text)) throw new Error(`stacks/example.facteur.yaml: ${re} not found (the derived lab spec needs it)`);
  return text.replace(re, by);
}

/** Documentation-range addresses, as the lab gives them. */
export const EXAMPLE_ADDRESSES: AddressBook = {
  mx1: { ipv4: "198.51.100.11", ipv6: "2001:db8:100::11" },
  mx2: { ipv4: "198.51.100.12", ipv6: "2001:db8:100::12" },
  out1: { ipv4: "203.0.113.21", ipv6: "2001:db8:113::21" },
  out2: { ipv4: "203.0.113.22", ipv6: "2001:db8:113::22" },
  spam1: { ipv4: "203.0.113.31", ipv6: "2001:db8:113::31" },
};

export function examplePlan(text = exampleText(), addresses: AddressBook = EXAMPLE_ADDRESSES) {
  const model = buildModel(parseSpec(text, "stacks/example.facteur.yaml"));
  return { model, plan: buildPlan(model, { addresses, dkimKeys: { "relais.tld/f2026a": "MIIBfake" } }) };
}

/** The message a spec text is refused with (parsed as `file`); fails the test if it is accepted or refused otherwise. */
export function specRefusal(text: string, file = "s.yaml", options: { fastPath?: boolean } = {}): string {
  try {
    parseSpec(text, file, options);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${(e as Error).stack}`);
    return e.message;
  }
  assert.fail("the spec was accepted");
}
