// facteur's command line: the third front on the same plan (beside Pulumi and the lab).
import { SpecError } from "../spec/errors.ts";
import { UsageError } from "./usage.ts";
import { OutputError } from "./renderOut.ts";

const HELP = `facteur: mail relays, smarthost pool, PTR and DNS from one spec per environment

usage: facteur <command> [options]

  validate --stack NAME | --file PATH     check a stack spec; errors name file:line:col and path
  plan     --stack NAME [--addresses FILE] [--json]
                                          hosts, PTRs and DNS records (each with its reason)
  render   --stack NAME --out DIR [--addresses FILE]
                                          per-host config bundles and dns.txt, for review and diff
  schema   [--out FILE]                   JSON Schema of the spec, for editors
  lab      up|down|status [--stack NAME]  the whole stack on this machine, in network namespaces
  check    --stack NAME [--resolver IP[:PORT]] [--addresses FILE] [--dnsbl LIST]...
           [--smtp-port N | --no-smtp] [--timeout SECONDS] [--json]
                                          live DNS, PTR, banners and DNSBLs against the plan;
                                          Nagios exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)
  check    --delivery --stack NAME [--since DURATION] [--json]
                                          queues, deferrals and provider push-back per smarthost (lab)
  diff     --stack NAME [--repo DIR] BASE_REF [HEAD_REF]
                                          markdown of what a change does to DNS, hosts and configs
  trace    --stack NAME (--message-id ID | --to ADDR | --from ADDR) [--since DURATION] [--json]
                                          one message's path per recipient across the fleet's logs

common options: --stacks DIR (default: stacks)
`;

type Handler = (argv: string[]) => Promise<number>;

// Each command loads what it needs when it runs: validate never loads Handlebars (render),
// Pulumi, or the check's DNS and SMTP code. The specifiers are literal so that the build
// (tsc, rewriteRelativeImportExtensions) points them at the compiled .js files.
const commands: Record<string, Handler> = {
  validate: async (argv) => (await import("./commands.ts")).validateCommand(argv),
  plan: async (argv) => (await import("./commands.ts")).planCommand(argv),
  render: async (argv) => (await import("./commands.ts")).renderCommand(argv),
  schema: async (argv) => (await import("./commands.ts")).schemaCommand(argv),
  lab: async (argv) => (await import("./lab.ts")).labCommand(argv),
  check: async (argv) => (await import("./check.ts")).checkCommand(argv),
  diff: async (argv) => (await import("./diff.ts")).diffCommand(argv),
  trace: async (argv) => (await import("./trace.ts")).traceCommand(argv),
};

/** Commands that print their own, longer usage for --help (lab, check, trace). */
const OWN_HELP = new Set(["lab", "check", "trace"]);

/** The lines of HELP about one command (its entries and their continuation lines), for `facteur <command> --help`. */
export function commandHelp(command: string): string {
  const lines = HELP.split("\n");
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (/^ {2}[a-z]/.test(line)) inside = line.startsWith(`  ${command} `);
    else if (!/^ {3,}/.test(line)) inside = false;
    if (inside) out.push(line);
  }
  return `usage: facteur ${command} [options]\n\n${out.join("\n")}\n\ncommon options: --stacks DIR (default: stacks)\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  const handler = commands[command];
  if (handler && !OWN_HELP.has(command) && (rest.includes("--help") || rest.includes("-h"))) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  if (!handler) {
    process.stderr.write(`facteur: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await handler(rest);
  } catch (e) {
    if (e instanceof SpecError || e instanceof OutputError) {
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`facteur ${command}: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

