// Renders, for every host of the plan, the bundle of files it runs: Postfix, OpenDKIM,
// postsrsd and the host's names. Output is deterministic (everything arrives sorted from the
// model and plan) so two renders diff small and readable. Secrets stay ${secret:NAME} refs.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import Handlebars from "handlebars";
import type { Model } from "../model/model.ts";
import type { Plan, PlannedHost } from "../plan/plan.ts";
import { hostCidr } from "../plan/addresses.ts";
import { secretRef, type BundleFile, type HostBundle } from "./bundle.ts";
import { acmeContext, acmeFiles } from "./acme.ts";
import { MTA_STS_RESOLVER_PORT, outboundTlsDaemons, outboundTlsFiles, outboundTlsOf } from "./outboundTls.ts";

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

function hostContext(model: Model, plan: Plan, host: PlannedHost, root: string) {
  const keyDir = `${root}/etc/opendkim/keys`;
  const signers = model.domains
    .filter((d) => d.dkim)
    // Our domains first, each by its own key; the operator's key last, as the catch-all.
    .sort((a, b) => Number(a.operator) - Number(b.operator) || (a.name < b.name ? -1 : 1))
    .map((d) => ({
      domain: d.name,
      selector: d.dkim!.active,
      keyName: d.name,
      pattern: d.operator ? "*" : `*@${d.name}`,
      path: `${keyDir}/${d.name}/${d.dkim!.active}.private`,
    }));
  // The operator's ARC key (relays seal what they forward); its file is written by the applier.
  const arc = model.operator.arc && {
    domain: model.operator.domain,
    selector: model.operator.arc.active,
    path: `${root}/var/lib/rspamd/arc/${model.operator.domain}.${model.operator.arc.active}.key`,
  };
  // Smarthosts' outbound TLS (DANE, MTA-STS); relays hand everything to the pool, opportunistically.
  const outboundTls = host.role === "smarthost" ? outboundTlsOf(model, root) : { dane: false, mtaSts: false, level: "may" as const };
  const acme = acmeContext(model, host, root);
  // The domains this host receives: those it is MX for, and the operator's (SRS, role addresses).
  const received = model.domains.filter((d) => host.mxFor.includes(d.name) || d.operator);
  return {
    root,
    host,
    smarthost: host.role === "smarthost",
    roleTitle: host.role === "relay" ? "relay (MX host)" : `smarthost (${host.lane} lane)`,
    operatorDomain: model.operator.domain,
    domains: received,
    virtualDomains: received.map((d) => d.name),
    routing: plan.routing,
    relayClients: plan.routing.relayClients,
    externalRelays: model.externalRelays.filter((e) => e.auth),
    submissionUsers: model.submissionUsers,
    dailyQuota: model.policy.dailyQuota,
    inbound: model.policy.inbound,
    spam: model.policy.spam,
    dnsbl: model.policy.dnsbl,
    pacing: {
      default: model.policy.pacing.default,
      domains: model.policy.pacing.domains,
    },
    signers,
    arc,
    saslDb: `${root}/etc/sasldb2`,
    // With ACME, Postfix reads the certificate where lego writes it (the apply step bootstraps a
    // self-signed one there until the first issuance).
    tls: acme ? { cert: acme.cert, key: acme.key } : { cert: `${root}/etc/facteur/tls/cert.pem`, key: `${root}/etc/facteur/tls/key.pem` },
    acme,
    outboundTls: outboundTls,
    smtpTlsLevel: outboundTls.level,
    mtaStsResolverPort: MTA_STS_RESOLVER_PORT,
  };
}

interface FileSpec {
  template: string;
  path: string;
  mode?: BundleFile["mode"];
  postmap?: boolean;
}

function filesFor(host: PlannedHost, root: string, plan: Plan, model: Model): FileSpec[] {
  const hasSasl = plan.routing.saslCredentials.length > 0;
  const pf = `${root}/etc/postfix`;
  const common: FileSpec[] = [
    { template: "system/hostname", path: `${root}/etc/hostname` },
    { template: "system/mailname", path: `${root}/etc/mailname` },
    { template: "postfix/master.cf", path: `${pf}/master.cf` },
  ];
  if (host.role === "relay") {
    return [
      ...common,
      { template: "postfix/relay-main.cf", path: `${pf}/main.cf` },
      { template: "postfix/virtual", path: `${pf}/virtual`, postmap: true },
      ...(hasSasl
        ? [
            { template: "postfix/sasl_passwd", path: `${pf}/sasl_passwd`, mode: "0600" as const, postmap: true },
            { template: "postfix/tls_policy", path: `${pf}/tls_policy`, postmap: true },
          ]
        : []),
      ...(plan.routing.spamRelayhost ? [{ template: "postfix/spam_lane", path: `${pf}/spam_lane` }] : []),
      { template: "system/postsrsd", path: `${root}/etc/default/postsrsd` },
      { template: "rspamd/actions.conf", path: `${root}/etc/rspamd/local.d/actions.conf` },
      { template: "rspamd/worker-proxy.inc", path: `${root}/etc/rspamd/local.d/worker-proxy.inc` },
      { template: "rspamd/logging.inc", path: `${root}/etc/rspamd/local.d/logging.inc` },
      ...(model.operator.arc ? [{ template: "rspamd/arc.conf", path: `${root}/etc/rspamd/local.d/arc.conf` }] : []),
    ];
  }
  return [
    ...common,
    { template: "postfix/smarthost-main.cf", path: `${pf}/main.cf` },
    { template: "postfix/relay_clients", path: `${pf}/relay_clients` },
    { template: "postfix/transport", path: `${pf}/transport`, postmap: true },
    { template: "postfix/sender_logins", path: `${pf}/sender_logins`, postmap: true },
    { template: "postfix/sasl-smtpd.conf", path: `${pf}/sasl/smtpd.conf` },
    { template: "opendkim/opendkim.conf", path: `${root}/etc/opendkim.conf` },
    { template: "opendkim/KeyTable", path: `${root}/etc/opendkim/KeyTable` },
    { template: "opendkim/SigningTable", path: `${root}/etc/opendkim/SigningTable` },
    { template: "opendkim/TrustedHosts", path: `${root}/etc/opendkim/TrustedHosts` },
    { template: "system/policyd-rate-limit.yaml", path: `${root}/etc/policyd-rate-limit.yaml` },
    ...outboundTlsFiles(model, root),
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
  const context = hostContext(model, plan, host, root);
  const files = [...filesFor(host, root, plan, model), ...(acmeFiles(context.acme, root) as FileSpec[])].map(({ template, path, mode, postmap }): BundleFile => {
    const { content, secretRefs } = engine!(template, context);
    return {
      path,
      content,
      mode: mode ?? "0644",
      ...(postmap ? { postmap } : {}),
      ...(secretRefs.length ? { secretRefs } : {}),
    };
  });
  return {
    host: host.name,
    fqdn: host.fqdn,
    role: host.role,
    files: files.sort((a, b) => (a.path < b.path ? -1 : 1)),
    dkimKeys:
      host.role === "smarthost"
        ? context.signers.map((s) => ({ domain: s.domain, selector: s.selector, path: s.path }))
        : context.arc
          ? [{ domain: context.arc.domain, selector: context.arc.selector, path: context.arc.path, owner: "_rspamd" }]
          : [],
    saslUsers: host.role === "smarthost" ? model.submissionUsers.map((u) => ({ login: u.login, passwordSecret: u.passwordSecret })) : [],
    tls: context.tls,
    ...(host.role === "smarthost" ? { saslDb: context.saslDb } : {}),
    probeRecipients: probeRecipients(model, host),
    ...extraDaemons(model, host),
    ...(context.acme ? { acme: { script: context.acme.script } } : {}),
  };
}

/** Packages and services a host's bundle needs beyond its role's: outbound TLS (smarthosts), ACME (every host). */
function extraDaemons(model: Model, host: PlannedHost): { packages?: string[]; services?: string[] } {
  const tls = host.role === "smarthost" ? outboundTlsDaemons(model) : { packages: [], services: [] };
  const packages = [...tls.packages, ...(model.acme ? ["lego"] : [])];
  const services = [...tls.services, ...(model.acme ? ["facteur-acme.timer"] : [])];
  return packages.length ? { packages, services } : {};
}

export function renderStack(model: Model, plan: Plan, options: RenderOptions = {}): HostBundle[] {
  return plan.hosts.map((h) => renderHost(model, plan, h, options));
}
