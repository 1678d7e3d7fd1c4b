// The CI workflows' deploy-critical settings (issue 9 section 8): the job that runs `pulumi up`
// (which pushes configuration over SSH, open only to operator.sshSources) runs on a runner the
// repository chooses, and a pull request from a fork (read-only token, no secrets) never fails
// on the PR comment or the preview. Read from the YAML GitHub runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";

type Step = { name?: string; if?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { "runs-on": unknown; if?: string; env?: Record<string, string>; steps: Step[] };
const workflow = (f: string) => parse(readFileSync(new URL(`../.github/workflows/${f}`, import.meta.url), "utf8")) as { jobs: Record<string, Job> };
const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";

test("deploy: `pulumi up` runs on the runner named by vars.FACTEUR_DEPLOY_RUNS_ON (default: self-hosted, facteur-deploy); the rest on hosted runners", () => {
  const { jobs } = workflow("deploy.yml");
  assert.equal(jobs.up!["runs-on"], `\${{ fromJSON(vars.FACTEUR_DEPLOY_RUNS_ON || '["self-hosted", "facteur-deploy"]') }}`);
  assert.deepEqual(JSON.parse('["self-hosted", "facteur-deploy"]'), ["self-hosted", "facteur-deploy"], "the default is valid JSON");
  assert.ok(jobs.up!.steps.some((s) => s.uses?.startsWith("pulumi/actions@") && s.with?.command === "up"));
  for (const j of ["envs", "test"]) assert.equal(jobs[j]!["runs-on"], "ubuntu-24.04");
});

test("pull request: the diff comment is posted only for same-repository pull requests; forks get the job summary", () => {
  const { jobs } = workflow("pull-request.yml");
  const comment = jobs.diff!.steps.find((s) => s.uses?.startsWith("actions/github-script@"))!;
  assert.equal(comment.if, FORK_GUARD);
  assert.ok(jobs.diff!.steps.some((s) => /GITHUB_STEP_SUMMARY/.test(String((s as { run?: string }).run ?? ""))), "the diff always reaches the job summary");
});

test("pull request: the preview is gated at job level (a step's `if` cannot see its own env), and comments only on same-repository pull requests", () => {
  const { jobs } = workflow("pull-request.yml");
  const preview = jobs.preview!;
  assert.equal(preview.env?.CAN_PREVIEW, "${{ secrets.PULUMI_ACCESS_TOKEN != '' }}");
  const step = preview.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;
  assert.equal(step.if, "env.CAN_PREVIEW == 'true'");
  assert.ok(!Object.keys(step.env ?? {}).some((k) => String(step.if).includes(k)), "the gate does not read a variable the step itself defines");
  assert.equal(step.with?.["comment-on-pr"], "${{ env.SAME_REPO == 'true' }}");
  assert.equal(preview.env?.SAME_REPO, `\${{ ${FORK_GUARD} }}`);
});
