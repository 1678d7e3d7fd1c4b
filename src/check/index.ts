// facteur check: live DNS, reverse DNS, SMTP banners and DNSBL listings against the plan.
// A Nagios plugin: first line is the status, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
import { parseArgs } from "node:util";
import { loadSpecFile, stackSpecPath } from "../spec/load.ts";
import { SpecError } from "../spec/errors.ts";
import { buildModel } from "../model/model.ts";
import { buildPlan } from "../plan/plan.ts";
import { loadAddressBook } from "../plan/addressBookFile.ts";
import { canonicalIp, type AddressBook, type Family } from "../plan/addresses.ts";
import { runChecks, type CheckResult } from "./checks.ts";
import { LookupFailure, dnsLookups, parseResolver, type Lookups } from "./lookups.ts";
import { probeSmtp } from "./smtp.ts";
import { EXIT, jsonReport, textReport, worst } from "./report.ts";

export { runChecks } from "./checks.ts";

const USAGE = `usage: facteur check --stack NAME [--stacks DIR] [--resolver IP[:PORT]] [--addresses FILE]
                     [--dnsbl LIST]... [--smtp-port PORT] [--no-smtp] [--json]`;

class CheckUsage extends Error {}

/** Without an address book, the hosts' own A/AAAA records say where they are. */
async function resolveAddresses(names: { name: string; fqdn: string }[], lookups: Lookups): Promise<AddressBook> {
  const book: AddressBook = {};
  for (const h of names) {
    book[h.name] = {};
    for (const [family, type] of [["ipv4", "A"], ["ipv6", "AAAA"]] as [Family, "A" | "AAAA"][]) {
      const got = await lookups.resolve(h.fqdn, type).catch((e) => (e instanceof LookupFailure ? [] : Promise.reject(e)));
      if (got[0]) book[h.name]![family] = canonicalIp(got[0]);
    }
  }
  return book;
}

export interface CheckRun {
  results: CheckResult[];
  exitCode: number;
  output: string;
}

export async function runCheckCommand(argv: string[]): Promise<CheckRun> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      stacks: { type: "string", default: "stacks" },
      resolver: { type: "string" },
      addresses: { type: "string" },
      dnsbl: { type: "string", multiple: true, default: [] },
      "smtp-port": { type: "string", default: "25" },
      "no-smtp": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) return { results: [], exitCode: 0, output: `${USAGE}\n` };
  if (!values.stack) throw new CheckUsage("--stack NAME is required");
  let server: string | undefined;
  try {
    server = values.resolver ? parseResolver(values.resolver) : undefined;
  } catch (e) {
    throw new CheckUsage((e as Error).message);
  }
  const smtpPort = Number(values["smtp-port"]);
  if (!Number.isInteger(smtpPort) || smtpPort < 1 || smtpPort > 65535) throw new CheckUsage(`--smtp-port: not a port: ${values["smtp-port"]}`);
  const extraLists = values.dnsbl.flatMap((l) => l.split(",")).map((l) => l.trim().toLowerCase()).filter(Boolean);
  for (const l of extraLists) if (!/^([a-z0-9_-]+\.)+[a-z0-9-]+$/.test(l)) throw new CheckUsage(`--dnsbl: not a DNS zone: ${l}`);

  const model = buildModel(loadSpecFile(stackSpecPath(values.stacks, values.stack)));
  const lookups = dnsLookups(server);
  let addresses: AddressBook;
  if (values.addresses) {
    addresses = loadAddressBook(values.addresses, model);
  } else {
    addresses = await resolveAddresses([...model.relays, ...model.smarthosts], lookups);
  }
  const plan = buildPlan(model, { addresses });
  const results = await runChecks(plan, {
    lookups,
    dnsbls: [...model.policy.dnsbl, ...extraLists],
    ...(values["no-smtp"] ? {} : { smtp: { probe: probeSmtp, port: smtpPort } }),
  });
  const output = values.json ? jsonReport(results, { stack: values.stack, resolver: server ?? "system" }) : textReport(results);
  return { results, exitCode: EXIT[worst(results)], output };
}

export async function checkCommand(argv: string[]): Promise<number> {
  try {
    const run = await runCheckCommand(argv);
    process.stdout.write(run.output);
    return run.exitCode;
  } catch (e) {
    // Nagios: anything that stops the check from running is UNKNOWN (3), with a readable first line.
    const usage = e instanceof CheckUsage || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (usage || e instanceof SpecError) {
      const msg = (e as Error).message;
      process.stdout.write(`FACTEUR UNKNOWN - ${msg.split("\n")[0]}\n${msg.includes("\n") ? `${msg}\n` : ""}${usage ? `${USAGE}\n` : ""}`);
      return EXIT.UNKNOWN;
    }
    throw e;
  }
}
