// A small unified diff (LCS over lines; config files are a few hundred lines at most).

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

function ops(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push({ kind: " ", line: a[i]!, a: i++, b: j++ });
    else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push({ kind: "-", line: a[i]!, a: i++, b: j });
    else out.push({ kind: "+", line: b[j]!, a: i, b: j++ });
  }
  return out;
}

const split = (s: string) => (s === "" ? [] : s.replace(/\n$/, "").split("\n"));

/** Unified diff body (hunks only, no ---/+++ header); "" when equal. */
export function unifiedDiff(before: string, after: string, context = 3): string {
  const all = ops(split(before), split(after));
  const changed = all.map((o, k) => (o.kind !== " " ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return "";
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(all.length - 1, k + context);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1] + 1) last[1] = hi;
    else hunks.push([lo, hi]);
  }
  return hunks
    .map(([lo, hi]) => {
      const slice = all.slice(lo, hi + 1);
      const aLen = slice.filter((o) => o.kind !== "+").length;
      const bLen = slice.filter((o) => o.kind !== "-").length;
      const aStart = aLen ? slice.find((o) => o.kind !== "+")!.a + 1 : slice[0]!.a;
      const bStart = bLen ? slice.find((o) => o.kind !== "-")!.b + 1 : slice[0]!.b;
      return [`@@ -${aStart},${aLen} +${bStart},${bLen} @@`, ...slice.map((o) => `${o.kind}${o.line}`)].join("\n");
    })
    .join("\n");
}
