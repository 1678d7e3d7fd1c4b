// facteur check: live DNS, reverse DNS, SMTP banners and DNSBL listings against the plan.
// A Nagios plugin: first line is the status, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { loadSpecFile } from "../spec/load.ts";
import { STACKS_DIR, stackSpecPath } from "../paths.ts";
import { SpecError } from "../spec/errors.ts";
import { UsageError } from "./usage.ts";
import { buildModel } from "../model/model.ts";
import { buildPlan } from "../plan/plan.ts";
import { loadAddressBook } from "../plan/addressBookFile.ts";
import { canonicalIp, type AddressBook, type Family } from "../plan/addresses.ts";
import { runChecks, type CheckResult } from "../check/checks.ts";
import { LookupFailure, dnsLookups, parseResolver, withDeadline, type Lookups } from "../check/lookups.ts";
import { probeSmtp } from "../check/smtp.ts";
import { EXIT, jsonReport, textReport, worst } from "../check/report.ts";
import { httpsFetcher } from "../check/mtaSts.ts";

export { runChecks } from "../check/checks.ts";

const USAGE = `usage: facteur check --stack NAME [--stacks DIR] [--resolver IP[:PORT]] [--addresses FILE]
                     [--dnsbl LIST]... [--smtp-port PORT] [--no-smtp] [--ca FILE] [--timeout SECONDS] [--json]
       facteur check --delivery --stack NAME [--source lab|ssh] [--since DURATION] [--json]
                     [--addresses FILE] [--ssh-user USER] [--identity FILE] [--ssh-port N] [--ssh-option KEY=VALUE]...
  --ca FILE   trust this CA (PEM) instead of the system's for HTTPS (MTA-STS policies)`;

/**
 * The whole run's deadline by default: below the 60 s a monitoring system (Nagios'
 * service_check_timeout, Icinga's check_timeout) gives a plugin, so the report is ours, with
 * every check not finished in time marked UNKNOWN, rather than the monitor's kill.
 */
export const DEFAULT_TIMEOUT_SECONDS = 50;


/**
 * Without an address book, the hosts' own A/AAAA records say where they are. A record that is
 * absent leaves the address unknown (CRITICAL later); a lookup that failed (timeout, SERVFAIL)
 * is remembered, so what depends on that address is UNKNOWN, not CRITICAL.
 */
async function resolveAddresses(
  names: { name: string; fqdn: string }[],
  lookups: Lookups,
): Promise<{ book: AddressBook; failed: Map<string, LookupFailure> }> {
  const book: AddressBook = {};
  const failed = new Map<string, LookupFailure>();
  await Promise.all(
    names.map(async (h) => {
      book[h.name] = {};
      for (const [family, type] of [["ipv4", "A"], ["ipv6", "AAAA"]] as [Family, "A" | "AAAA"][]) {
        const got = await lookups.resolve(h.fqdn, type).catch((e) => (e instanceof LookupFailure ? e : Promise.reject(e)));
        if (got instanceof LookupFailure) failed.set(`${h.name}:${family}`, got);
        else if (got[0]) book[h.name]![family] = canonicalIp(got[0]);
      }
    }),
  );
  return { book, failed };
}

/** Results that say "no known address" for an address whose lookup failed are UNKNOWN: we could not ask. */
function unknownWhereLookupFailed(results: CheckResult[], failed: Map<string, LookupFailure>): CheckResult[] {
  if (failed.size === 0) return results;
  return results.map((r) => {
    if (r.state !== "CRITICAL" || !/no known address/.test(r.note ?? "")) return r;
    const m = /^(?:a|aaaa|ptr|smtp|fcrdns):([^:]+)(?::(ipv4|ipv6))?$/.exec(r.id);
    if (!m) return r;
    const family = m[2] ?? (r.id.startsWith("aaaa:") ? "ipv6" : "ipv4");
    const f = failed.get(`${m[1]}:${family}`);
    return f ? { ...r, state: "UNKNOWN" as const, note: `its address could not be looked up: ${f.message}` } : r;
  });
}

export interface CheckRun {
  results: CheckResult[];
  exitCode: number;
  output: string;
}

export async function runCheckCommand(argv: string[]): Promise<CheckRun> {
  if (argv.includes("--delivery")) {
    const { runDeliveryCheck } = await import("./delivery.ts");
    return await runDeliveryCheck(argv.filter((a) => a !== "--delivery"));
  }
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string" },
      stacks: { type: "string", default: STACKS_DIR },
      resolver: { type: "string" },
      addresses: { type: "string" },
      dnsbl: { type: "string", multiple: true, default: [] },
      "smtp-port": { type: "string", default: "25" },
      "no-smtp": { type: "boolean", default: false },
      ca: { type: "string" },
      json: { type: "boolean", default: false },
      timeout: { type: "string", default: String(DEFAULT_TIMEOUT_SECONDS) },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) return { results: [], exitCode: 0, output: `${USAGE}\n` };
  const started = Date.now();
  if (!values.stack) throw new UsageError("--stack NAME is required");
  let server: string | undefined;
  try {
    server = values.resolver ? parseResolver(values.resolver) : undefined;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const smtpPort = Number(values["smtp-port"]);
  if (!Number.isInteger(smtpPort) || smtpPort < 1 || smtpPort > 65535) throw new UsageError(`--smtp-port: not a port: ${values["smtp-port"]}`);
  if (values.ca !== undefined && !existsSync(values.ca)) throw new UsageError(`--ca: no such file: ${values.ca}`);
  const timeout = Number(values.timeout);
  if (!/^[1-9][0-9]*$/.test(values.timeout) || timeout > 3600) throw new UsageError(`--timeout: expected whole seconds from 1 to 3600, got ${values.timeout}`);
  const deadlineAt = started + timeout * 1000;
  const extraLists = values.dnsbl.flatMap((l) => l.split(",")).map((l) => l.trim().toLowerCase()).filter(Boolean);
  for (const l of extraLists) if (!/^([a-z0-9_-]+\.)+[a-z0-9-]+$/.test(l)) throw new UsageError(`--dnsbl: not a DNS zone: ${l}`);

  const model = buildModel(loadSpecFile(stackSpecPath(values.stacks, values.stack)));
  const resolver = dnsLookups(server);
  const lookups = withDeadline(resolver, deadlineAt);
  let results: CheckResult[];
  try {
    let addresses: AddressBook;
    let failed = new Map<string, LookupFailure>();
    if (values.addresses) {
      addresses = loadAddressBook(values.addresses, model);
    } else {
      ({ book: addresses, failed } = await resolveAddresses([...model.relays, ...model.smarthosts], lookups));
    }
    const plan = buildPlan(model, { addresses, at: new Date().toISOString().slice(0, 10) });
    results = await runChecks(plan, {
      lookups,
      dnsbls: [...model.policy.dnsbl, ...extraLists],
      deadlineAt,
      https: httpsFetcher(values.ca),
      ...(values["no-smtp"] ? {} : { smtp: { probe: (a: string, p: number, t?: number) => probeSmtp(a, p, t === undefined ? {} : { timeoutMs: t }), port: smtpPort } }),
    });
    results = unknownWhereLookupFailed(results, failed);
  } finally {
    resolver.close();
  }
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
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    if (usage || e instanceof SpecError) {
      const msg = (e as Error).message;
      process.stdout.write(`FACTEUR UNKNOWN - ${msg.split("\n")[0]}\n${msg.includes("\n") ? `${msg}\n` : ""}${usage ? `${USAGE}\n` : ""}`);
      return EXIT.UNKNOWN;
    }
    throw e;
  }
}
