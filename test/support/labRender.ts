// A running lab host's configuration as the plan would render it from another spec: what a
// re-deploy of that one host would write, for tests that change one setting (a drain) on a stack
// already up instead of bringing up a second stack for it. Rendered with the stack's own
// addresses, so a file differs from the live one only where the spec change reaches.
import { parseSpec } from "../../src/spec/load.ts";
import { buildModel } from "../../src/model/model.ts";
import { buildPlan } from "../../src/plan/plan.ts";
import { renderHost } from "../../src/render/render.ts";
import type { LabState } from "../../src/lab/index.ts";
import { hostOf } from "./lab.ts";

/** The content of `path` (absolute, under the host's lab root) in `host`'s bundle rendered from `specText`. */
export function renderedLabFile(state: LabState, specText: string, host: string, path: string): string {
  const model = buildModel(parseSpec(specText, `${state.stack}-changed.facteur.yaml`));
  const planned = new Set([...model.relays, ...model.smarthosts].map((h) => h.name));
  const own = state.hosts.filter((h) => planned.has(h.name));
  const addresses = Object.fromEntries(own.map((h) => [h.name, { ipv4: h.ipv4[0]!, ipv6: h.ipv6[0]! }]));
  const plan = buildPlan(model, { addresses, at: new Date().toISOString().slice(0, 10) });
  const target = plan.hosts.find((h) => h.name === host);
  if (!target) throw new Error(`${host} is not a host of the changed spec`);
  const file = renderHost(model, plan, target, { root: hostOf(state, host).root }).files.find((f) => f.path === path);
  if (!file) throw new Error(`the render of ${host} has no ${path}`);
  return file.content;
}

/** The lines of `a` that `b` does not have, by the name before " = " (the whole comment line for a comment). */
export function changedSettings(a: string, b: string): string[] {
  const other = new Set(b.split("\n"));
  return a
    .split("\n")
    .filter((l) => !other.has(l))
    .map((l) => l.split(" = ")[0]!.slice(0, 40));
}
