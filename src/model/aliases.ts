// Follows alias chains to the addresses that finally receive a copy. The spec rules have
// already rejected loops and dangling targets, so this only has to expand and de-duplicate
// (a person reached twice through two groups gets one copy, as Postfix does).

export function expandAliases(table: Map<string, string[]>): Map<string, string[]> {
  const memo = new Map<string, string[]>();
  const expand = (address: string, path: Set<string>): string[] => {
    const cached = memo.get(address);
    if (cached) return cached;
    const targets = table.get(address);
    if (!targets) return [address];
    if (path.has(address)) throw new Error(`alias loop through ${address}`);
    path.add(address);
    const out = [...new Set(targets.flatMap((t) => expand(t, path)))].sort();
    path.delete(address);
    memo.set(address, out);
    return out;
  };
  for (const address of table.keys()) expand(address, new Set());
  return memo;
}
