// Lab stack names for tests and benches. Never "example": that is the stack a user brings up
// with scripts/lab.sh, and labUp starts by taking its stack down. FACTEUR_LAB_TAG (1-4 of
// [a-z0-9]) suffixes every name, so two checkouts can run their suites side by side.
const TAG = process.env.FACTEUR_LAB_TAG ?? "";
if (TAG && !/^[a-z0-9]{1,4}$/.test(TAG)) throw new Error(`FACTEUR_LAB_TAG must be 1-4 of [a-z0-9], got "${TAG}"`);

export function labStack(base: string): string {
  if (base === "example") throw new Error('tests never use the lab stack "example": it is the user\'s');
  return TAG ? `${base}-${TAG}` : base;
}
