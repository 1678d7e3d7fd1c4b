// The `yaml` library, loaded the first time a Document is needed: the careful path (a text the
// fast path does not take, yamlFast.ts) and locating a problem in a text the fast path read.
// Loading it costs about as much as a whole `facteur validate` of the example otherwise does.
import { createRequire } from "node:module";
import type * as Yaml from "yaml";

let lib: typeof Yaml | undefined;

export function yamlLib(): typeof Yaml {
  // `yaml` resolves to the same CommonJS build for import and require under node, so its nodes
  // are the ones every other importer sees.
  return (lib ??= createRequire(import.meta.url)("yaml") as typeof Yaml);
}
