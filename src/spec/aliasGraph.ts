// The alias graph of a stack, role addresses included, and what Postfix would do with it.
// Every walk is iterative with explicit stacks: a chain of 100,000 aliases is refused with a
// reason, never a stack overflow. The spec rules and the model share this one definition.
import type { Spec } from "./schema.ts";
import type { SpecPath } from "./errors.ts";

export const ROLE_LOCAL_PARTS = ["postmaster", "abuse", "hostmaster"] as const;

export interface AliasNode {
  /** Targets as written (group order kept). */
  targets: string[];
  /** Added by facteur: a role address the domain does not alias itself, sent to the role mailbox. */
  role: boolean;
  group: boolean;
  /** Where it is written (role addresses: operator.roleMailbox). */
  path: SpecPath;
}

export function localOf(address: string): string {
  return address.slice(0, address.lastIndexOf("@"));
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** Every address our relays accept, in spec order (own aliases first, then the role addresses facteur adds, per domain). */
export function aliasTable(spec: Spec): Map<string, AliasNode> {
  const table = new Map<string, AliasNode>();
  const domains: [string, Record<string, string | string[]>][] = [
    ...Object.entries(spec.domains).map(([name, d]) => [name, d.aliases] as [string, Record<string, string | string[]>]),
    [spec.operator.domain, Object.create(null) as Record<string, string | string[]>],
  ];
  for (const [domain, aliases] of domains) {
    for (const [local, t] of Object.entries(aliases)) {
      const group = Array.isArray(t);
      table.set(`${local}@${domain}`, { targets: group ? [...t] : [t], role: false, group, path: ["domains", domain, "aliases", local] });
    }
    for (const local of ROLE_LOCAL_PARTS) {
      const address = `${local}@${domain}`;
      if (!table.has(address)) table.set(address, { targets: [spec.operator.roleMailbox], role: true, group: false, path: ["operator", "roleMailbox"] });
    }
  }
  return table;
}

/**
 * Alias loops, each once, as the address list from where it was found back to it
 * (a -> b -> a). Self-references are left to the caller (they read better on their own).
 */
export function aliasCycles(table: Map<string, AliasNode>): string[][] {
  const state = new Map<string, "active" | "done">();
  const reported = new Set<string>();
  const cycles: string[][] = [];
  for (const root of table.keys()) {
    if (state.has(root)) continue;
    // Explicit DFS stack: node and the index of its next target to visit.
    const stack: { node: string; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, "active");
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const targets = table.get(top.node)!.targets;
      if (top.next >= targets.length) {
        state.set(top.node, "done");
        stack.pop();
        continue;
      }
      const t = targets[top.next++]!;
      if (t === top.node || !table.has(t)) continue;
      const s = state.get(t);
      if (s === "active") {
        const from = stack.findIndex((f) => f.node === t);
        const cycle = [...stack.slice(from).map((f) => f.node), t];
        const key = [...new Set(cycle)].sort().join(" ");
        if (!reported.has(key)) {
          reported.add(key);
          cycles.push(cycle);
        }
      } else if (s === undefined) {
        state.set(t, "active");
        stack.push({ node: t, next: 0 });
      }
    }
  }
  return cycles;
}

/**
 * Calls `visit` on every node of an alias table after all the aliases it points to (post-order),
 * each once, with an explicit stack. The table must be acyclic (a loop throws).
 */
export function postOrder(targetsOf: (node: string) => string[] | undefined, roots: Iterable<string>, visit: (node: string) => void): void {
  const done = new Set<string>();
  const active = new Set<string>();
  for (const root of roots) {
    if (done.has(root) || !targetsOf(root)) continue;
    const stack: { node: string; next: number }[] = [{ node: root, next: 0 }];
    active.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const targets = targetsOf(top.node)!;
      if (top.next < targets.length) {
        const t = targets[top.next++]!;
        if (t === top.node || done.has(t) || !targetsOf(t)) continue;
        if (active.has(t)) throw new Error(`alias loop through ${t}`);
        active.add(t);
        stack.push({ node: t, next: 0 });
        continue;
      }
      visit(top.node);
      active.delete(top.node);
      done.add(top.node);
      stack.pop();
    }
  }
}

export interface ChainStats {
  /** Nested lookups Postfix makes for this address before reaching final addresses. */
  depth: number;
  /** Addresses Postfix's expansion holds, repeats counted (it de-duplicates only later), capped at `cap`. */
  expansion: number;
}

/** Depth and expansion size of every alias of an acyclic table (post-order, memoised). */
export function chainStats(table: Map<string, AliasNode>, cap: number): Map<string, ChainStats> {
  const out = new Map<string, ChainStats>();
  postOrder((n) => table.get(n)?.targets, table.keys(), (node) => {
    let depth = 1;
    let expansion = 0;
    for (const t of table.get(node)!.targets) {
      if (t === node) continue;
      const s = out.get(t);
      depth = Math.max(depth, s ? s.depth + 1 : 1);
      expansion = Math.min(cap, expansion + (s ? s.expansion : 1));
    }
    out.set(node, { depth, expansion });
  });
  return out;
}

/**
 * Final destinations of every alias: chains followed, duplicates removed, sorted (what actually
 * receives a copy; Postfix too delivers one copy per address). The table must be acyclic.
 */
export function expandAliases(table: Map<string, string[]>): Map<string, string[]> {
  const memo = new Map<string, string[]>();
  postOrder((n) => table.get(n), table.keys(), (node) => {
    const set = new Set<string>();
    for (const t of table.get(node)!) {
      if (t === node) continue;
      const m = memo.get(t);
      if (m) for (const x of m) set.add(x);
      else set.add(t);
    }
    memo.set(node, [...set].sort());
  });
  return memo;
}
