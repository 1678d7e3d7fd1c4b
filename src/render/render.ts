// Renders, for every host of the plan, the bundle of files it runs: its names and its daemons'
// files (src/render/daemons: one module per daemon), with the daemons' runtime facts as data.
// Output is deterministic (everything arrives sorted from the model and plan) so two renders diff small and readable. Secrets stay ${secret:NAME} refs.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import Handlebars from "handlebars";
import type { Model } from "../model/model.ts";
import type { Plan, PlannedHost } from "../plan/plan.ts";
import { hostCidr } from "../plan/addresses.ts";
import { secretRef, type BundleFile, type HostBundle } from "./bundle.ts";
import { daemonFacts, daemonsOf, packagesOf, type FileSpec } from "./daemons/index.ts";
import { signers } from "./daemons/opendkim.ts";
import { saslDbPath, tlsPair } from "./daemons/postfix.ts";

export interface RenderOptions {
  /** Prefix for every absolute path, in file locations and inside configs: "" on a real host, a per-host directory in the lab. */
  root?: string;
}

const TEMPLATES = fileURLToPath(new URL("../../templates/", import.meta.url));

/** One Handlebars environment for all templates; noEscape because these are not HTML. */
function makeEngine() {
  const hb = Handlebars.create();
  hb.registerHelper("join", (list: unknown[], sep: string) => list.join(typeof sep === "string" ? sep : " "));
  // Every reference the templates make goes through here and is recorded: the only legitimate ones.
  let emitted: string[] = [];
  hb.registerHelper("secret", (name: string) => {
    emitted.push(name);
    return secretRef(name);
  });
  hb.registerHelper("cidr", (address: string) => hostCidr(address));
  const compiled = new Map<string, HandlebarsTemplateDelegate>();
  for (const dir of readdirSync(TEMPLATES)) {
    for (const file of readdirSync(join(TEMPLATES, dir))) {
      const source = readFileSync(join(TEMPLATES, dir, file), "utf8");
      const name = `${dir}/${file.replace(/\.hbs$/, "")}`;
      if (file.startsWith("_")) hb.registerPartial(file.slice(1).replace(/\.cf\.hbs$|\.hbs$/, ""), source);
      else compiled.set(name, hb.compile(source, { noEscape: true, strict: false }));
    }
  }
  return (name: string, context: object): { content: string; secretRefs: string[] } => {
    const t = compiled.get(name);
    if (!t) throw new Error(`no template ${name}.hbs in ${TEMPLATES}`);
    emitted = [];
    const content = t(context).replace(/\n{3,}/g, "\n\n");
    // A reference in the output that the helper did not make came from a value: never legitimate.
    const found = [...content.matchAll(/\$\{secret:/g)].length;
    if (found !== emitted.length) throw new Error(`render ${name}: ${found} secret reference(s) in the output, ${emitted.length} made by passwordSecret fields`);
    return { content, secretRefs: [...new Set(emitted)].sort() };
  };
}

let engine: ReturnType<typeof makeEngine> | undefined;

/** The host's own files, beside its daemons': its names. */
function systemFiles(root: string): FileSpec[] {
  return [
    { template: "system/hostname", path: `${root}/etc/hostname` },
    { template: "system/mailname", path: `${root}/etc/mailname` },
  ];
}

/** The deploy gate's probe addresses (see HostBundle.probeRecipients); .invalid never resolves (RFC 2606). */
function probeRecipients(model: Model, host: PlannedHost): string[] {
  if (host.role === "relay") {
    const domain = model.domains.find((d) => !d.operator && host.mxFor.includes(d.name)) ?? model.domains.find((d) => d.operator)!;
    return [`postmaster@${domain.name}`];
  }
  return [...model.policy.pacing.domains.map((p) => `facteur-gate@${p.domain}`), "facteur-gate@gate.invalid"];
}

export function renderHost(model: Model, plan: Plan, host: PlannedHost, options: RenderOptions = {}): HostBundle {
  engine ??= makeEngine();
  const root = options.root ?? "";
  const daemons = daemonsOf({ model, plan, host, root });
  const rendered = (specs: FileSpec[], context: object) =>
    specs.map(({ template, path, mode, postmap }): BundleFile => {
      const { content, secretRefs } = engine!(template, context);
      return {
        path,
        content,
        mode: mode ?? "0644",
        ...(postmap ? { postmap } : {}),
        ...(secretRefs.length ? { secretRefs } : {}),
      };
    });
  // Every template names the host and the root; the rest of its context is its daemon's slice.
  const files = [...rendered(systemFiles(root), { root, host }), ...daemons.flatMap((d) => rendered(d.files, { root, host, ...d.context }))];
  const facts = daemons.map((d) => d.facts);
  return {
    host: host.name,
    fqdn: host.fqdn,
    role: host.role,
    files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
    dkimKeys: daemonFacts(facts, "opendkim") ? signers({ model, root }).map((s) => ({ domain: s.domain, selector: s.selector, path: s.path })) : [],
    saslUsers: host.role === "smarthost" ? model.submissionUsers.map((u) => ({ login: u.login, passwordSecret: u.passwordSecret })) : [],
    tls: tlsPair(root),
    ...(host.role === "smarthost" ? { saslDb: saslDbPath(root) } : {}),
    probeRecipients: probeRecipients(model, host),
    packages: packagesOf(facts),
    daemons: facts,
  };
}

export function renderStack(model: Model, plan: Plan, options: RenderOptions = {}): HostBundle[] {
  return plan.hosts.map((h) => renderHost(model, plan, h, options));
}
