// The alias graph of a stack, role addresses included, and what Postfix would do with it.
// Every walk is iterative with explicit stacks: a chain of 100,000 aliases is refused with a
// reason, never a stack overflow. The spec rules and the model share this one definition.
// Each target is looked up once (indexed): the walks then run on node numbers in typed
// arrays, and every node is visited, and expanded, once.
import type { Spec } from "./schema.ts";
import type { SpecPath } from "./errors.ts";

export const ROLE_LOCAL_PARTS = ["postmaster", "abuse", "hostmaster"] as const;

export interface AliasNode {
  /** The address is local@domain. */
  readonly local: string;
  readonly domain: string;
  /** Targets as written (group order kept). */
  readonly targets: readonly string[];
  /** Added by facteur: a role address the domain does not alias itself, sent to the role mailbox. */
  readonly role: boolean;
  readonly group: boolean;
  /** Where it is written (role addresses: operator.roleMailbox). */
  readonly path: SpecPath;
}

export function localOf(address: string): string {
  return address.slice(0, address.lastIndexOf("@"));
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** A node of the table; its spec path is made only when a problem names it. */
class TableNode implements AliasNode {
  constructor(
    readonly targets: readonly string[],
    readonly role: boolean,
    readonly group: boolean,
    readonly domain: string,
    readonly local: string,
    /** Its position in the table (the order of insertion): its node number in the walks. */
    readonly index: number,
  ) {}

  get path(): SpecPath {
    return this.role ? ["operator", "roleMailbox"] : ["domains", this.domain, "aliases", this.local];
  }
}

/** Tables already built: the spec rules and the model read the same one (a spec is not changed once parsed). */
const tables = new WeakMap<Spec, ReadonlyMap<string, AliasNode>>();

/**
 * Every address our relays accept, in spec order (own aliases first, then the role addresses
 * facteur adds, per domain). Built once per spec: read it, never change it.
 */
export function aliasTable(spec: Spec): ReadonlyMap<string, AliasNode> {
  const known = tables.get(spec);
  if (known) return known;
  const table = new Map<string, AliasNode>();
  const roleTargets = [spec.operator.roleMailbox];
  const add = (domain: string, aliases: Record<string, string | string[]>) => {
    for (const local of Object.keys(aliases)) {
      const t = aliases[local]!;
      const group = Array.isArray(t);
      // A group's list is the spec's own (read only, like the whole table); addresses are unique (a local part has no '@').
      table.set(`${local}@${domain}`, new TableNode(group ? t : [t], false, group, domain, local, table.size));
    }
    for (const local of ROLE_LOCAL_PARTS) {
      const address = `${local}@${domain}`;
      if (!table.has(address)) table.set(address, new TableNode(roleTargets, true, false, domain, local, table.size));
    }
  };
  for (const domain of Object.keys(spec.domains)) add(domain, spec.domains[domain]!.aliases);
  add(spec.operator.domain, {});
  tables.set(spec, table);
  return table;
}

/** A node's target: another node's number, or one of these. */
export const OUTSIDE = -1; // an address that is not an alias of ours: a final destination
export const SELF = -2; // the node itself (the rules report it; the walks skip it)

/** An alias table with every target resolved to a node number: node i's targets are edges[offsets[i]..offsets[i+1]). */
interface Indexed {
  addresses: string[];
  /** Targets as written, per node (for the final addresses an expansion keeps). */
  targets: readonly (readonly string[])[];
  offsets: Int32Array;
  edges: Int32Array;
}

type TargetTable = ReadonlyMap<string, readonly string[] | AliasNode>;

/** Tables already indexed: the rules walk the same table for loops, then for chain limits. */
const indexedTables = new WeakMap<TargetTable, Indexed>();

function indexed(table: TargetTable): Indexed {
  const known = indexedTables.get(table);
  if (known) return known;
  const addresses = [...table.keys()];
  const values = [...table.values()];
  // An alias table (aliasTable) numbers its own nodes; any other table gets a map of numbers.
  let numberOf: (address: string) => number | undefined;
  if (values.every((v, i) => v instanceof TableNode && v.index === i)) numberOf = (a) => (table.get(a) as TableNode | undefined)?.index;
  else {
    const number = new Map<string, number>();
    addresses.forEach((a, i) => number.set(a, i));
    numberOf = (a) => number.get(a);
  }
  const targets = values.map((v) => (Array.isArray(v) ? (v as readonly string[]) : (v as AliasNode).targets));
  const offsets = new Int32Array(addresses.length + 1);
  for (let i = 0; i < addresses.length; i++) offsets[i + 1] = offsets[i]! + targets[i]!.length;
  const edges = new Int32Array(offsets[addresses.length]!);
  for (let i = 0, e = 0; i < addresses.length; i++)
    for (const t of targets[i]!) edges[e++] = t === addresses[i] ? SELF : (numberOf(t) ?? OUTSIDE);
  const g = { addresses, targets, offsets, edges };
  indexedTables.set(table, g);
  return g;
}

/**
 * Each target of each node in the table's order, resolved: edges[offsets[i] + k] is the k-th
 * target of node i as a node number, OUTSIDE or SELF (each address looked up once, shared by
 * the rules and the walks).
 */
export function aliasEdges(table: TargetTable): { offsets: Int32Array; edges: Int32Array } {
  const { offsets, edges } = indexed(table);
  return { offsets, edges };
}

/**
 * Depth-first walk from every node in the table's order, iterative (the stack is two typed
 * arrays, so no chain is too long): `finished(node)` once all the nodes it points to are
 * finished (post-order), `loop(path, target)` for an edge back to `target`, on the current
 * path from the walk's root. Self references and final addresses are not edges here.
 */
function depthFirst(g: Indexed, finished: (node: number) => void, loop: (path: Int32Array, target: number) => void): void {
  const { offsets, edges } = g;
  const n = g.addresses.length;
  const state = new Uint8Array(n); // 0 unvisited, 1 on the current path, 2 finished
  const pathNode = new Int32Array(n);
  const nextEdge = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (state[root]) continue;
    let sp = 0;
    pathNode[0] = root;
    nextEdge[0] = offsets[root]!;
    state[root] = 1;
    while (sp >= 0) {
      const node = pathNode[sp]!;
      const e = nextEdge[sp]!;
      if (e >= offsets[node + 1]!) {
        state[node] = 2;
        finished(node);
        sp--;
        continue;
      }
      nextEdge[sp] = e + 1;
      const t = edges[e]!;
      if (t < 0 || state[t] === 2) continue;
      if (state[t] === 1) loop(pathNode.subarray(0, sp + 1), t);
      else {
        state[t] = 1;
        pathNode[++sp] = t;
        nextEdge[sp] = offsets[t]!;
      }
    }
  }
}

/**
 * Alias loops, each once, as the address list from where it was found back to it
 * (a -> b -> a). Self-references are left to the caller (they read better on their own).
 */
export function aliasCycles(table: TargetTable): string[][] {
  const g = indexed(table);
  const reported = new Set<string>();
  const cycles: string[][] = [];
  depthFirst(
    g,
    () => {},
    (path, target) => {
      const cycle = [...path.subarray(path.indexOf(target))].map((i) => g.addresses[i]!);
      cycle.push(g.addresses[target]!);
      const key = [...new Set(cycle)].sort().join(" ");
      if (!reported.has(key)) {
        reported.add(key);
        cycles.push(cycle);
      }
    },
  );
  return cycles;
}

/** Every node after all the aliases it points to (post-order), each once. The table must be acyclic (a loop throws). */
function postOrder(g: Indexed): Int32Array {
  const order = new Int32Array(g.addresses.length);
  let visited = 0;
  depthFirst(
    g,
    (node) => {
      order[visited++] = node;
    },
    (_, target) => {
      throw new Error(`alias loop through ${g.addresses[target]}`);
    },
  );
  return order;
}

export interface ChainStats {
  addresses: string[];
  /** Node numbers in post-order: each after the aliases it points to. */
  order: Int32Array;
  /** Per node: nested lookups Postfix makes for this address before reaching final addresses. */
  depth: Int32Array;
  /** Per node: addresses Postfix's expansion holds, repeats counted (it de-duplicates only later), capped at `cap`. */
  expansion: Int32Array;
}

/** Depth and expansion size of every alias of an acyclic table (post-order, each node once). */
export function chainStats(table: TargetTable, cap: number): ChainStats {
  const g = indexed(table);
  const { offsets, edges } = g;
  const order = postOrder(g);
  const depth = new Int32Array(order.length);
  const expansion = new Int32Array(order.length);
  for (const node of order) {
    let d = 1;
    let x = 0;
    for (let e = offsets[node]!; e < offsets[node + 1]!; e++) {
      const t = edges[e]!;
      if (t === SELF) continue;
      if (t === OUTSIDE) x = Math.min(cap, x + 1);
      else {
        d = Math.max(d, depth[t]! + 1);
        x = Math.min(cap, x + expansion[t]!);
      }
    }
    depth[node] = d;
    expansion[node] = x;
  }
  return { addresses: g.addresses, order, depth, expansion };
}

/**
 * Final destinations of every alias, in the table's order: chains followed, duplicates
 * removed, sorted (what actually receives a copy; Postfix too delivers one copy per address).
 * Each node is expanded once, after the aliases it points to; an alias with one alias as its
 * target shares that alias's list, one with a single final address its own target list: the
 * lists are shared, read them, never change them. The table must be acyclic.
 */
export function aliasExpansions(table: TargetTable): (readonly string[])[] {
  const g = indexed(table);
  const { offsets, edges, targets } = g;
  const out: (readonly string[])[] = new Array<readonly string[]>(g.addresses.length);
  for (const node of postOrder(g)) {
    const from = offsets[node]!;
    const to = offsets[node + 1]!;
    if (to - from === 1) {
      const t = edges[from]!;
      // One final address: the node's own target list is its expansion (shared, read only).
      out[node] = t === OUTSIDE ? targets[node]! : t === SELF ? [] : out[t]!;
      continue;
    }
    const set = new Set<string>();
    for (let e = from; e < to; e++) {
      const t = edges[e]!;
      if (t === SELF) continue;
      if (t === OUTSIDE) set.add(targets[node]![e - from]!);
      else for (const x of out[t]!) set.add(x);
    }
    out[node] = [...set].sort();
  }
  return out;
}

/** aliasExpansions as a map from each alias to its final destinations. */
export function expandAliases(table: TargetTable): Map<string, readonly string[]> {
  const lists = aliasExpansions(table);
  return new Map([...table.keys()].map((a, i) => [a, lists[i]!]));
}
