// How the CLI is bundled, for the package (scripts/bundle-cli.mjs, from dist/) and for a test run
// (test/support/cliBundle.ts, from src/): one ES module per command chunk for node 20, npm
// packages left to node's own resolution.
export const CLI_BUNDLE_OPTIONS = {
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
};
