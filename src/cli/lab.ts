// `facteur lab up|down|status`: the command line of the lab (src/lab), its arguments parsed here.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { SpecError } from "../spec/errors.ts";
import { STACKS_DIR, stackSpecPath } from "../paths.ts";
import { LabRefusal, formatReport, formatStatus, labDown, labStackNameProblem, labStatus, labUp } from "../lab/index.ts";
import { UsageError } from "./usage.ts";

const USAGE = [
  "usage: facteur lab up|down|status [--stack NAME] [--stacks DIR]",
  "  status exits 0 when every daemon answers, 1 when one is down (named, with its log), 3 when the stack is not running",
].join("\n");

export async function labCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { stack: { type: "string", default: "example" }, stacks: { type: "string", default: STACKS_DIR }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const [action, ...extra] = positionals;
  if (!action || !["up", "down", "status"].includes(action) || extra.length) throw new UsageError(`expected one of up, down, status${extra.length ? ` (unexpected: ${extra.join(" ")})` : ""}\n${USAGE}`);
  const stack = values.stack!;
  const problem = labStackNameProblem(stack);
  if (problem) throw new UsageError(problem);
  try {
    return await labAction(action, stack, values.stacks!);
  } catch (e) {
    // The lab's own refusals (a protected stack...) are usage errors of the command line.
    if (e instanceof LabRefusal) throw new UsageError(e.message);
    throw e;
  }
}

async function labAction(action: string, stack: string, stacks: string): Promise<number> {
  if (action === "up") {
    const file = stackSpecPath(stacks, stack);
    if (!existsSync(file)) throw new UsageError(`no stack "${stack}": ${file} does not exist`);
    try {
      const state = await labUp(stack, { stacks, firewall: true, log: (l) => process.stderr.write(`lab: ${l}\n`) });
      process.stdout.write(formatReport(state));
      return 0;
    } catch (e) {
      if (e instanceof SpecError || e instanceof LabRefusal) throw e;
      process.stderr.write(`facteur lab up: ${(e as Error).message}\n(the lab is left as it is for inspection; take it down with: npm run -s facteur -- lab down --stack ${stack})\n`);
      return 1;
    }
  }
  if (action === "down") {
    const gone = await labDown(stack);
    process.stdout.write(gone.length ? `facteur lab: stack ${stack} is down (${gone.length} namespaces removed)\n` : `facteur lab: stack ${stack} was not running\n`);
    return 0;
  }
  const st = await labStatus(stack);
  process.stdout.write(formatStatus(st));
  // Nagios-like: 0 every daemon answers, 1 something is down, 3 the stack is not running.
  return !st.namespaces.length ? 3 : st.up ? 0 : 1;
}
