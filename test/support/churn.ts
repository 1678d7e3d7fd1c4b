// What `pulumi up` would do between two runs of the program, computed from two mock runs the
// way the engine decides it: a resource is the same resource when its URN (or one of its
// aliases) matches; it is updated when an input it does not ignore changes; it is REPLACED when
// one of those inputs is a property its provider replaces on (test/fixtures/provider-replace-
// triggers.json, derived from the providers' sources by scripts/derive-replace-triggers.ts) or
// one the program lists in replaceOnChanges.
import { readFileSync } from "node:fs";
import { plain, type ProgramRun, type RecordedResource } from "../../src/pulumi/mocks.ts";

interface Trigger {
  property: string;
  how: string;
  source: string;
}
export const REPLACE_TRIGGERS = JSON.parse(readFileSync(new URL("../fixtures/provider-replace-triggers.json", import.meta.url), "utf8")) as {
  sources: { repo: string; ref: string; commit: string }[];
  types: Record<string, Trigger[]>;
};

/** The URN the engine gives a resource (pulumi sdk/go/common/resource/urn: urn.New): parent types chained with "$", the root stack left out. */
export function urnOf(run: ProgramRun, r: RecordedResource, stack = "example", project = "facteur"): string {
  const chain: string[] = [r.type];
  for (let p = r.parent; p; p = run.resources.get(p)?.parent) chain.unshift(run.resources.get(p)!.type);
  return `urn:pulumi:${stack}::${project}::${chain.join("$")}::${r.name}`;
}

/**
 * The URNs the engine also accepts for a resource: one per alias (sdk/go/common/resource/alias.go
 * CreateURN): the alias's name and type, else the resource's own; its parent when it names one
 * (`{ parent: rootStackResource }`, i.e. undefined: none), else the resource's own parent.
 */
export function aliasUrnsOf(run: ProgramRun, r: RecordedResource, stack = "example", project = "facteur"): string[] {
  return (r.options.aliases ?? []).map((a) => {
    if (typeof a === "string") return a;
    const alias = a as { name?: unknown; type?: unknown; parent?: unknown };
    if (alias.parent !== undefined) throw new Error(`${r.name}: alias to a named parent is not modelled by the churn test`);
    const name = typeof alias.name === "string" ? alias.name : r.name;
    const type = typeof alias.type === "string" ? alias.type : r.type;
    const parents: string[] = [];
    if (!Object.prototype.hasOwnProperty.call(alias, "parent")) for (let p = r.parent; p; p = run.resources.get(p)?.parent) parents.unshift(run.resources.get(p)!.type);
    return `urn:pulumi:${stack}::${project}::${[...parents, type].join("$")}::${name}`;
  });
}

export interface Churn {
  created: string[];
  deleted: string[];
  /** Resource name -> changed inputs (ignored ones left out). */
  updated: Record<string, string[]>;
  /** Resource name -> the changed inputs that force the replacement. */
  replaced: Record<string, string[]>;
}

function replacingKeys(r: RecordedResource): string[] {
  const fromProvider = (REPLACE_TRIGGERS.types[r.type] ?? []).map((t) => t.property);
  const fromProgram = ((r.options.replaceOnChanges as string[] | undefined) ?? []).map((p) => p.replace(/\[\*\]$/, "").split(".")[0]!);
  return [...fromProvider, ...fromProgram];
}

/** Custom resources only: components have no inputs and are never replaced. */
export function churn(a: ProgramRun, b: ProgramRun): Churn {
  const urnsA = new Map([...a.resources.values()].map((r) => [urnOf(a, r), r]));
  const matchOf = (r: RecordedResource) => [urnOf(b, r), ...aliasUrnsOf(b, r)].map((u) => urnsA.get(u)).find((x) => x && x.type === r.type);
  const matched = new Set<string>();
  const created: string[] = [];
  const updated: Record<string, string[]> = {};
  const replaced: Record<string, string[]> = {};
  for (const rb of b.resources.values()) {
    const ra = matchOf(rb);
    if (!ra) {
      created.push(rb.name);
      continue;
    }
    matched.add(ra.name);
    if (rb.component) continue;
    const ia = plain(ra.inputs) as Record<string, unknown>;
    const ib = plain(rb.inputs) as Record<string, unknown>;
    const ignored = new Set((rb.options.ignoreChanges as string[] | undefined) ?? []);
    const changed = [...new Set([...Object.keys(ia), ...Object.keys(ib)])].filter((k) => !ignored.has(k) && JSON.stringify(ia[k]) !== JSON.stringify(ib[k])).sort();
    if (changed.length) updated[rb.name] = changed;
    const forcing = changed.filter((k) => replacingKeys(rb).includes(k));
    if (forcing.length) replaced[rb.name] = forcing;
  }
  const deleted = [...a.resources.keys()].filter((n) => !matched.has(n));
  return { created: created.sort(), deleted: deleted.sort(), updated, replaced };
}
