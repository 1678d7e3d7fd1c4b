// The machine-wide lab cache (LAB_CACHE): things every lab stack can reuse (DKIM keys, the
// rspamd hyperscan cache, an initdb'd PostgreSQL cluster). The cache directory itself must be
// traversable by the daemons' own users (postgres runs initdb inside it), whichever of its
// users happens to create it first on a fresh machine; each entry sets its own mode.
import { chmodSync, mkdirSync } from "node:fs";
import { LAB_CACHE } from "../paths.ts";

/** `${LAB_CACHE}/${name}` as a directory with `mode`, under a cache directory of mode 0755. */
export function labCacheDir(name: string, mode = 0o755): string {
  mkdirSync(LAB_CACHE, { recursive: true, mode: 0o755 });
  // An earlier version made the cache 0700 on the way to the DKIM keys: repair it.
  chmodSync(LAB_CACHE, 0o755);
  const dir = `${LAB_CACHE}/${name}`;
  mkdirSync(dir, { recursive: true, mode });
  return dir;
}
