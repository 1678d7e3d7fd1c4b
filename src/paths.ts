// Where facteur keeps things on the operator's machine, in one place: the stack specs and the
// lab's trees. (Paths on the mail hosts are the daemons' facts: src/render/daemons.) A leaf:
// every layer may import it, it imports nothing.

/** The directory holding <stack>.facteur.yaml beside Pulumi.<stack>.yaml (--stacks DIR overrides it). */
export const STACKS_DIR = "stacks";

/** Where a stack's spec lives: stacks/<stack>.facteur.yaml beside the Pulumi stack config. */
export function stackSpecPath(stacksDir: string, stack: string): string {
  return `${stacksDir}/${stack}.facteur.yaml`;
}

/** The lab's trees: one directory per lab stack (hosts' roots, DNS, state.json), and a shared cache. */
export const LAB_ROOT = "/var/lib/facteur-lab";

export function labStackRoot(stack: string): string {
  return `${LAB_ROOT}/${stack}`;
}

/** Shared by every lab stack on the machine: DKIM keys, rspamd's compiled hyperscan cache. */
export const LAB_CACHE = `${LAB_ROOT}/.cache`;
