// Renders, for every host of the plan, the bundle of files it runs: its names and its daemons'
// files (src/render/daemons: one module per daemon), with the daemons' runtime facts as data.
// Output is deterministic (everything arrives sorted from the model and plan) so two renders diff small and readable. Secrets stay ${secret:NAME} refs.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { Model } from "../model/model.ts";
import type { Plan, PlannedHost } from "../plan/plan.ts";
import { hostCidr } from "../plan/addresses.ts";
import { secretRef, type BundleFile, type HostBundle } from "./bundle.ts";
import { daemonFacts, daemonsOf, packagesOf, type DaemonFacts, type FileSpec } from "./daemons/index.ts";
import { signers } from "./daemons/opendkim.ts";
import { saslDbPath, tlsPair } from "./daemons/postfix.ts";
import { virtualMap, type VirtualMapContext } from "./virtualMap.ts";
import { COMPILE_OPTIONS, PRECOMPILED_FILE, TEMPLATES_DIR, templateFiles, type HandlebarsEnv, type Precompiled, type TemplateFile } from "./templates.ts";
import { byText } from "../order.ts";

export interface RenderOptions {
  /** Prefix for every absolute path, in file locations and inside configs: "" on a real host, a per-host directory in the lab. */
  root?: string;
}

const require = createRequire(import.meta.url);

/** The build's precompiled templates beside this module (dist/render/), or none (running the sources). */
function precompiledTemplates(): Precompiled {
  const file = fileURLToPath(new URL(`./${PRECOMPILED_FILE}`, import.meta.url));
  return existsSync(file) ? (require(file) as Precompiled) : {};
}

export interface TemplateEngine {
  render(name: string, context: object): { content: string; secretRefs: string[] };
  /** Templates used as the build precompiled them, and templates compiled here (from the sources, or edited since the build). */
  precompiled: number;
  compiled: number;
}

/** One Handlebars environment for all templates (templates/), with the helpers they may call. */
export function templateEngine(files: TemplateFile[] = templateFiles(), built: Precompiled = precompiledTemplates()): TemplateEngine {
  // A template is used as the build compiled it only while templates/ holds that very text.
  const current = (f: TemplateFile) => Object.hasOwn(built, f.file) && built[f.file]!.source === f.source;
  // Handlebars' runtime alone when nothing needs compiling: its compiler is most of its load time.
  const hb = (require(files.every(current) ? "handlebars/runtime" : "handlebars") as HandlebarsEnv).create();
  hb.registerHelper("join", (list: unknown[], sep: string) => list.join(typeof sep === "string" ? sep : " "));
  // Every reference the templates make goes through here and is recorded: the only legitimate ones.
  let emitted: string[] = [];
  hb.registerHelper("secret", (name: string) => {
    emitted.push(name);
    return secretRef(name);
  });
  hb.registerHelper("cidr", (address: string) => hostCidr(address));
  let precompiled = 0;
  let compiled = 0;
  const load = (f: TemplateFile): HandlebarsTemplateDelegate => {
    if (current(f)) {
      precompiled++;
      return hb.template(built[f.file]!.spec);
    }
    compiled++;
    return hb.compile(f.source, COMPILE_OPTIONS);
  };
  const templates = new Map<string, HandlebarsTemplateDelegate>();
  for (const f of files) {
    if (f.partial) hb.registerPartial(f.name, load(f));
    else templates.set(f.name, load(f));
  }
  const render = (name: string, context: object): { content: string; secretRefs: string[] } => {
    const code = Object.hasOwn(CODE_RENDERED, name) ? CODE_RENDERED[name] : undefined;
    const t = code ? undefined : templates.get(name);
    if (!code && !t) throw new Error(`no template ${name}.hbs in ${TEMPLATES_DIR}`);
    emitted = [];
    let content = code ? code(context) : t!(context);
    // Blank runs left by block tags; a large map has none, and is not copied again for nothing.
    if (content.includes("\n\n\n")) content = content.replace(/\n{3,}/g, "\n\n");
    // A reference in the output that the helper did not make came from a value: never legitimate.
    let found = 0;
    for (let at = content.indexOf("${secret:"); at >= 0; at = content.indexOf("${secret:", at + 1)) found++;
    if (found !== emitted.length) throw new Error(`render ${name}: ${found} secret reference(s) in the output, ${emitted.length} made by passwordSecret fields`);
    return { content, secretRefs: [...new Set(emitted)].sort() };
  };
  return { render, precompiled, compiled };
}

/**
 * Files written by plain code instead of a template, under the name a template would have: the
 * large maps, whose text grows with the aliases (virtualMap.ts says why).
 */
const CODE_RENDERED: Record<string, (context: object) => string> = {
  "postfix/virtual": (context) => virtualMap(context as VirtualMapContext),
};

let engine: TemplateEngine | undefined;

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

/**
 * The private keys the applier writes: OpenDKIM's signing keys (smarthosts), rspamd's ARC key
 * (relays), each owned by its daemon's user; and the host's current managed TLS key (tlsKey),
 * root's, where main.cf names smtpd's key. The next key is not served: it is held only where the
 * ACME client pre-issues its certificate (acme facts preIssued), for a switch with no self-signed gap.
 */
function dkimKeys(model: Model, host: PlannedHost, root: string, facts: DaemonFacts[]): HostBundle["dkimKeys"] {
  const signer = daemonFacts(facts, "opendkim");
  const arc = daemonFacts(facts, "rspamd")?.arcKey;
  const next = daemonFacts(facts, "acme")?.preIssued;
  return [
    ...(signer ? signers({ model, root }).map((s) => ({ domain: s.domain, selector: s.selector, path: s.path })) : []),
    ...(arc ? [{ ...arc, owner: { owner: "_rspamd", group: "_rspamd" } }] : []),
    ...(host.tlsKey ? [{ domain: host.fqdn, selector: host.tlsKey.current, path: tlsPair(root).key, owner: { owner: "root", group: "root" }, purpose: "tls" as const }] : []),
    ...(host.tlsKey?.next && next ? [{ domain: host.fqdn, selector: host.tlsKey.next, path: next.key, owner: { owner: "root", group: "root" }, purpose: "tls-next" as const }] : []),
  ];
}

/** The key pair smtpd offers: where lego writes it with ACME (the applier bootstraps a self-signed one there), else facteur's own. */
function tlsOf(root: string, facts: DaemonFacts[]): HostBundle["tls"] {
  const acme = daemonFacts(facts, "acme");
  return acme ? { cert: acme.cert, key: acme.key } : tlsPair(root);
}

export function renderHost(model: Model, plan: Plan, host: PlannedHost, options: RenderOptions = {}): HostBundle {
  engine ??= templateEngine();
  const root = options.root ?? "";
  const daemons = daemonsOf({ model, plan, host, root });
  const rendered = (specs: FileSpec[], context: object) =>
    specs.map(({ template, path, mode, postmap }): BundleFile => {
      const { content, secretRefs } = engine!.render(template, context);
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
    files: files.sort(byText((f) => f.path)),
    dkimKeys: dkimKeys(model, host, root, facts),
    saslUsers: host.role === "smarthost" ? model.submissionUsers.map((u) => ({ login: u.login, passwordSecret: u.passwordSecret })) : [],
    tls: tlsOf(root, facts),
    ...(host.role === "smarthost" ? { saslDb: saslDbPath(root) } : {}),
    probeRecipients: probeRecipients(model, host),
    packages: packagesOf(facts),
    daemons: facts,
  };
}

export function renderStack(model: Model, plan: Plan, options: RenderOptions = {}): HostBundle[] {
  return plan.hosts.map((h) => renderHost(model, plan, h, options));
}
