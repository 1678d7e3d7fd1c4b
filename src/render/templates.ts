// The template files (templates/<dir>/<name>.hbs; a leading "_" marks a partial) and how they
// are compiled: one definition for the renderer, which compiles them at run time, and for the
// build, which precompiles them into dist/ (precompile.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type HandlebarsNS from "handlebars";

/** templates/ at the package root: two levels up from src/render/ and from dist/render/ alike. */
export const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

/** The helpers the renderer registers (with Handlebars' own: if, each...). */
const KNOWN_HELPERS = { join: true, secret: true, cidr: true };

/**
 * noEscape: these are not HTML. knownHelpersOnly: a mustache is a property or one of our
 * helpers, decided at compile time (faster per value, and a misspelt helper fails to compile
 * instead of rendering "").
 */
export const COMPILE_OPTIONS: CompileOptions = { noEscape: true, strict: false, knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true };

export interface TemplateFile {
  /** Path under templates/, the key of a precompiled template: "postfix/virtual.hbs". */
  file: string;
  /** A template's name ("postfix/virtual"), or a partial's ("common-main" for _common-main.cf.hbs). */
  name: string;
  partial: boolean;
  source: string;
}

export function templateFiles(dir = TEMPLATES_DIR): TemplateFile[] {
  const out: TemplateFile[] = [];
  for (const sub of readdirSync(dir).sort())
    for (const f of readdirSync(join(dir, sub)).sort()) {
      const partial = f.startsWith("_");
      out.push({
        file: `${sub}/${f}`,
        name: partial ? f.slice(1).replace(/\.cf\.hbs$|\.hbs$/, "") : `${sub}/${f.replace(/\.hbs$/, "")}`,
        partial,
        source: readFileSync(join(dir, sub, f), "utf8"),
      });
    }
  return out;
}

/** The build's precompiled templates, beside the compiled renderer (dist/render/). */
export const PRECOMPILED_FILE = "templates.precompiled.cjs";

/** Handlebars as the build made it: each template's spec with the source it was compiled from. */
export type Precompiled = Record<string, { source: string; spec: TemplateSpecification }>;

export type HandlebarsEnv = typeof HandlebarsNS;
