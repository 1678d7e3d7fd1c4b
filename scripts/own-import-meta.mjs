// An esbuild plugin for the bundles the build and the mutation run make: every bundled module
// keeps what it knew of its own location. Its import.meta.url (and import.meta.dirname and
// filename, where the bundle gives them) is replaced by an expression for the value it had as
// a file of its own; a module using one the bundle does not give is refused, since in the
// bundle it would name the bundle file instead. import.meta.resolve is left as is: it names
// npm packages, found the same from the bundle.
import { readFile } from "node:fs/promises";

/**
 * filter: the modules to rewrite; loader: esbuild's loader for them; meta(path): JavaScript
 * expressions for that module's { url, dirname?, filename? }.
 */
export function ownImportMeta({ filter, loader, meta }) {
  return {
    name: "own-import-meta",
    setup(b) {
      b.onLoad({ filter }, async ({ path }) => {
        let source = await readFile(path, "utf8");
        const own = meta(path);
        for (const key of ["url", "dirname", "filename"]) {
          const token = `import.meta.${key}`;
          if (!source.includes(token)) continue;
          if (own[key] === undefined) throw new Error(`${path}: ${token} would name the bundle, not the module`);
          source = source.replaceAll(token, `(${own[key]})`);
        }
        return { contents: source, loader };
      });
    },
  };
}
