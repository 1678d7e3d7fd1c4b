// The one text order of everything facteur sorts (hosts, domains, records, files): code-point
// order, never the locale's, so a plan, a render and a diff come out the same on every machine.
// A leaf, like paths.ts: every layer may import it, it imports nothing.

/** Code-point order of two strings, for sort(): negative, zero (equal) or positive. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A sort() comparator ordering items by a text key. */
export function byText<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => compareText(key(a), key(b));
}
