// Lab stack names for tests and benches. Never "example": that is the stack a user brings up
// with scripts/lab.sh, and labUp starts by taking its stack down. FACTEUR_LAB_TAG (1-4 of
// [a-z0-9]) suffixes every name, so two checkouts can run their suites side by side.
//
// Importing this module also protects the user's stack in this process and every process it
// starts (FACTEUR_LAB_PROTECT, honoured by src/lab: labUp/labDown refuse it), so even a test
// that named "example" by mistake, or ran `facteur lab down --stack example`, would be refused.
// test/lab-isolation.test.ts checks that every test and bench touching the lab imports it.
export const USER_STACK = "example";

const TAG = process.env.FACTEUR_LAB_TAG ?? "";
if (TAG && !/^[a-z0-9]{1,4}$/.test(TAG)) throw new Error(`FACTEUR_LAB_TAG must be 1-4 of [a-z0-9], got "${TAG}"`);

const protectedNow = (process.env.FACTEUR_LAB_PROTECT ?? "").split(/[\s,]+/).filter(Boolean);
if (!protectedNow.includes(USER_STACK)) process.env.FACTEUR_LAB_PROTECT = [...protectedNow, USER_STACK].join(" ");

export function labStack(base: string): string {
  // Not "example", and not "example-..." either: that prefix is the user's stack's namespaces
  // (a stack "example-mx" would own fl-example-mx-*, the name of the example's mx-doe host).
  if (base === USER_STACK || base.startsWith(`${USER_STACK}-`)) throw new Error(`tests never use the lab stack "${base}": "${USER_STACK}" is the user's`);
  return TAG ? `${base}-${TAG}` : base;
}
