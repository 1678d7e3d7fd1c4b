// What runs against each mutant of src/spec, src/model, src/plan and src/render in mutation
// testing (scripts/mutation.sh, StrykerJS with its command runner): the fast, in-process tests
// of the pure core, all in one process, so a mutant costs one start-up rather than one per file.
// Not a *.test.ts file: npm test runs these files on their own.
import "../spec-errors.test.ts";
import "../aliases.test.ts";
import "../plan.test.ts";
import "../render.test.ts";
import "../options.test.ts";
import "../scenarios.test.ts";
import "../schema.test.ts";
import "../check-compare.test.ts";
import "../spec-rules.test.ts";
import "../model-plan.test.ts";
import "../model-order.test.ts";
import "../render-bundle.test.ts";
import "../order.test.ts";
import "../plan-keys.test.ts";
import "../mta-sts-policy.test.ts";
import "../placeholders.test.ts";
import "../spec-grammar.test.ts";
import "../spec-grammar-messages.test.ts";
import "../spec-limits.test.ts";
import "../spec-spf.test.ts";
import "../spec-refinements.test.ts";
import "../spec-transport.test.ts";
import "../delivery-health.test.ts";
import "../check-transport.test.ts";
import "../render-daemons.test.ts";
import "../render-templates.test.ts";
import "../quota-store.test.ts";
import "../plan-weights.test.ts";
import "../server-types.test.ts";
import "../render-engine.test.ts";
// The slowest last: a mutant is killed at its first failing test (scripts/stryker/bail-shim.mjs).
import "../spec-hostile.test.ts";
import "../spec-yaml.test.ts";
// Its property tests run FACTEUR_FASTPATH_RUNS texts (stryker.config.json sets 300 and a seed).
import "../spec-fastpath.test.ts";
