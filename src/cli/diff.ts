// facteur diff: what a change (BASE_REF..HEAD_REF, or BASE_REF..working tree) does to one stack's
// DNS records, PTRs, hosts and rendered configuration, as markdown for a pull-request comment.
import { parseArgs } from "node:util";
import { RevisionError, git, renderRef, renderTree } from "../diff/render-ref.ts";
import { markdown } from "../diff/markdown.ts";
import { UsageError } from "./usage.ts";
import { planDay } from "./commands.ts";

const USAGE = "usage: facteur diff --stack NAME [--repo DIR] [--at YYYY-MM-DD] BASE_REF [HEAD_REF]   (HEAD_REF defaults to the working tree; --at: the day warm-up schedules are read at, default today)";

export async function runDiff(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { stack: { type: "string" }, repo: { type: "string" }, at: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (!values.stack) throw new UsageError("--stack NAME is required");
  if (positionals.length < 1 || positionals.length > 2) throw new UsageError("expected BASE_REF [HEAD_REF]");
  const at = planDay(values.at);
  const repo = git(values.repo ?? process.cwd(), ["rev-parse", "--show-toplevel"]);
  const [baseRef, headRef] = positionals as [string, string | undefined];
  const short = (c: string) => c.slice(0, 10);
  const base = await renderRef(repo, baseRef, values.stack, at);
  const head = headRef ? await renderRef(repo, headRef, values.stack, at) : { ...(await renderTree(repo, values.stack, "the working tree", at)), commit: "" };
  return markdown(values.stack, `\`${baseRef}\` (${short(base.commit)})`, headRef ? `\`${headRef}\` (${short(head.commit)})` : "working tree", base, head);
}

export async function diffCommand(argv: string[]): Promise<number> {
  try {
    process.stdout.write(await runDiff(argv));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`facteur diff: ${(e as Error).message}\n${USAGE}\n`);
      return 2;
    }
    if (e instanceof RevisionError || /^git /.test((e as Error).message)) {
      process.stderr.write(`facteur diff: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
