// The layering of facteur, enforced by test/architecture.test.ts (npm test):
//
//   paths, order (leaves) <- spec <- model <- plan <- render (+ render/daemons)
//     <- appliers and fronts: pulumi | lab | gate | check | diff | trace, and cli over them all.
//
// No module imports a higher layer; the core has no Pulumi; appliers do not import each other
// (the apply script embeds the deploy gate and the trace log user's setup, both host-side
// pieces below the appliers); nothing but the CLI imports the CLI; nothing in src imports test/.
const CORE = "^src/(spec|model|plan|render)/";
const layer = (name, path, forbidden, comment) => ({ name, severity: "error", comment, from: { path }, to: { path: forbidden } });
/** A named exception to a layer rule: modules under `path` may take only `allowed` from under `other`. */
const onlyFrom = (name, path, other, allowed, comment) => ({ name, severity: "error", comment, from: { path }, to: { path: other, pathNot: allowed } });

module.exports = {
  forbidden: [
    layer("paths-is-a-leaf", "^src/paths\\.ts$", "^src/", "src/paths.ts is imported by every layer: it imports none"),
    layer("order-is-a-leaf", "^src/order\\.ts$", "^src/", "src/order.ts (the one text order of every sort) is imported by every layer: it imports none"),
    layer("spec-is-the-bottom", "^src/spec/", "^src/(model|plan|render|pulumi|lab|gate|check|diff|trace|cli)/", "spec imports no higher layer"),
    layer("model-above-spec-only", "^src/model/", "^src/(plan|render|pulumi|lab|gate|check|diff|trace|cli)/", "model imports spec only"),
    layer("plan-above-model", "^src/plan/", "^src/(render|pulumi|lab|gate|check|diff|trace|cli)/", "plan imports model and spec only"),
    layer("render-above-plan", "^src/render/", "^src/(pulumi|lab|gate|check|diff|trace|cli)/", "render (and its daemons) import the core below them only"),
    layer("gate-is-host-side", "^src/gate/", "^src/(pulumi|lab|check|diff|trace|cli)/", "the deploy gate is embedded by appliers: it reads bundles only"),
    layer("pulumi-is-an-applier", "^src/pulumi/", "^src/(lab|check|diff|cli)/", "the Pulumi program imports no other applier or front"),
    onlyFrom("pulumi-takes-only-the-log-user-from-trace", "^src/pulumi/", "^src/trace/", "^src/trace/(logUser|protocol)\\.ts$", "the apply script embeds the log user's setup (host-side); the rest of trace is a front"),
    layer("lab-is-an-applier", "^src/lab/", "^src/(pulumi|check|diff|trace|cli)/", "the lab imports no other applier or front"),
    layer("check-is-a-front-engine", "^src/check/", "^src/(pulumi|lab|diff|cli)/", "check reads the plan, the live DNS and what the CLI hands it (queues, logs)"),
    onlyFrom("check-takes-only-the-log-parser-from-trace", "^src/check/", "^src/trace/", "^src/trace/(postfix|clock|types)\\.ts$", "check --delivery reads Postfix's log lines with the trace's parser and clock; the rest of trace is a front"),
    layer("diff-is-a-front-engine", "^src/diff/", "^src/(pulumi|lab|check|trace|cli)/", "diff renders two revisions with the core"),
    layer("trace-is-a-front-engine", "^src/trace/", "^src/(pulumi|check|diff|cli)/", "trace reads logs (the lab's through its state)"),
    {
      name: "core-has-no-pulumi",
      severity: "error",
      comment: "the pure core never imports Pulumi",
      from: { path: CORE },
      to: { path: "node_modules/@pulumi/" },
    },
    {
      name: "src-never-imports-tests",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      comment: "cycles hide the layering (type-only imports between two modules of one layer are no cycle at run time)",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a type from a higher layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    // Packages resolve through their "exports" as Node resolves an ESM import (tsx/esm/api).
    enhancedResolveOptions: { extensions: [".ts", ".js", ".json"], exportsFields: ["exports"], conditionNames: ["import", "node", "default"] },
  },
};
