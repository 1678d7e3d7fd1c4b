// The pure-core commands: validate, plan, render, schema. Each reads its inputs fully and
// validates them before writing anything, so bad input changes nothing.
import { parseArgs } from "node:util";
import { writeFileSync, existsSync } from "node:fs";
import { loadSpecFile } from "../spec/load.ts";
import { dayProblem } from "../spec/grammar.ts";
import { STACKS_DIR, stackSpecPath } from "../paths.ts";
import { buildModel, type Model } from "../model/model.ts";
import { buildPlan, type Plan } from "../plan/plan.ts";
import { loadAddressBook } from "../plan/addressBookFile.ts";
import { serverTypeWarnings } from "../plan/serverTypes.ts";
import { formatDnsTable, formatHostsTable, formatPtrTable } from "./tables.ts";
import { UsageError } from "./usage.ts";
import { writeRenderTree } from "./renderOut.ts";

const stackOptions = {
  stack: { type: "string" },
  file: { type: "string" },
  stacks: { type: "string", default: STACKS_DIR },
  addresses: { type: "string" },
  at: { type: "string" },
} as const;

function specFile(values: { stack?: string | undefined; file?: string | undefined; stacks?: string | undefined }): string {
  if (values.file && values.stack) throw new UsageError("give either --stack NAME or --file PATH, not both");
  if (values.file) return values.file;
  if (!values.stack) throw new UsageError("--stack NAME is required (the spec is stacks/NAME.facteur.yaml)");
  const file = stackSpecPath(values.stacks ?? STACKS_DIR, values.stack);
  if (!existsSync(file)) throw new UsageError(`no stack "${values.stack}": ${file} does not exist`);
  return file;
}

/** The day warm-up schedules are read at: --at YYYY-MM-DD, else today (UTC). */
export function planDay(at: string | undefined): string {
  if (at === undefined) return new Date().toISOString().slice(0, 10);
  const problem = dayProblem(at);
  if (problem) throw new UsageError(`--at: ${problem}`);
  return at;
}

export function loadStack(values: { stack?: string | undefined; file?: string | undefined; stacks?: string | undefined; addresses?: string | undefined; at?: string | undefined }): {
  file: string;
  model: Model;
  plan: Plan;
} {
  const file = specFile(values);
  const model = buildModel(loadSpecFile(file));
  const addresses = values.addresses ? loadAddressBook(values.addresses, model) : {};
  const plan = buildPlan(model, { addresses, at: planDay(values.at) });
  // A warning, not an error: the spec may describe servers that exist and keep running.
  for (const w of serverTypeWarnings(plan.hosts)) process.stderr.write(`${file}: warning: ${w.message}\n`);
  return { file, model, plan };
}

function noPositionals(positionals: string[]): void {
  if (positionals.length) throw new UsageError(`unexpected argument${positionals.length > 1 ? "s" : ""}: ${positionals.join(" ")}`);
}

export async function validateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: stackOptions, allowPositionals: true });
  noPositionals(positionals);
  const { file, model } = loadStack(values);
  const aliases = model.domains.reduce((n, d) => n + d.aliases.length, 0);
  process.stdout.write(
    `${file}: ok: ${model.domains.length} domains (with ${model.operator.domain}), ${aliases} addresses, ` +
      `${model.relays.length} relays, ${model.smarthosts.length + model.externalRelays.length} smarthosts\n`,
  );
  return 0;
}

export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...stackOptions, json: { type: "boolean", default: false } }, allowPositionals: true });
  noPositionals(positionals);
  const { plan } = loadStack(values);
  if (values.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
  else process.stdout.write(`${formatHostsTable(plan)}\n\n${formatPtrTable(plan)}\n\n${formatDnsTable(plan)}\n`);
  return 0;
}

export async function renderCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...stackOptions, out: { type: "string" } }, allowPositionals: true });
  noPositionals(positionals);
  if (!values.out) throw new UsageError("--out DIR is required");
  const { model, plan } = loadStack(values);
  // Handlebars and the templates load here, not for validate or plan.
  const { renderStack } = await import("../render/render.ts");
  const bundles = renderStack(model, plan, { root: "" });
  const tree = new Map<string, string>();
  for (const b of bundles) for (const f of b.files) tree.set(`hosts/${b.host}${f.path}`, f.content);
  // The MTA-STS Worker's own template (and Handlebars' compiler) only for a stack that has one.
  if (plan.mtaSts?.length) {
    const { mtaStsWorker } = await import("../render/mtaSts.ts");
    for (const p of plan.mtaSts) tree.set(`mta-sts/${p.domain}/worker.js`, mtaStsWorker(p));
  }
  tree.set("dns.txt", `${formatDnsTable(plan)}\n`);
  tree.set("hosts.txt", `${formatHostsTable(plan)}\n\n${formatPtrTable(plan)}\n`);
  writeRenderTree(values.out, tree);
  const files = bundles.reduce((n, b) => n + b.files.length, 0);
  process.stdout.write(`rendered ${bundles.length} hosts, ${files} files, ${plan.dns.length} DNS records into ${values.out}\n`);
  return 0;
}

export async function schemaCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { out: { type: "string" } }, allowPositionals: true });
  noPositionals(positionals);
  const { specJsonSchema } = await import("../spec/jsonSchema.ts");
  const text = `${JSON.stringify(specJsonSchema(), null, 2)}\n`;
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}
