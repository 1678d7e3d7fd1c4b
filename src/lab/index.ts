// `facteur lab up|down|status`: the whole stack on this machine, in network namespaces, with
// the real daemons running exactly the rendered bundles. See src/lab/topology.ts for what is
// built, src/lab/net.ts for the network, src/lab/hosts.ts for each host's bring-up.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { loadSpecFile } from "../spec/load.ts";
import { buildModel, type Model } from "../model/model.ts";
import { buildPlan, type Plan } from "../plan/plan.ts";
import { renderHost } from "../render/render.ts";
import { plannedKeys } from "../plan/dns.ts";
import { SpecError } from "../spec/errors.ts";
import type { HostBundle } from "../render/bundle.ts";
import { daemonFacts, type DaemonFacts } from "../render/daemons/index.ts";
import { buildTopology, nsName, type OutsideHost, type Topology } from "./topology.ts";
import { LAB_ROOT, STACKS_DIR, labStackRoot, stackSpecPath } from "../paths.ts";
import { createNetwork, deleteNamespaces, listNamespaces, type NetHost } from "./net.ts";
import { killNamespace, run } from "./proc.ts";
import { labZones, startKnot, trustAnchors } from "./knot.ts";
import type { ZoneRecord } from "./zones.ts";
import { generateDkimKey, generateTlsKey, startOutsideHost, startOwnHost, type HostContext, type HostReport } from "./hosts.ts";
import { describeDown, runProbes, type LabProbe, type ProbeResult } from "./probes.ts";
import { switchLabFirewalls, writeLabFirewalls, type LabFirewall } from "./firewall.ts";
import { makeLabCa } from "./ca.ts";
import { startMtaStsWeb } from "./mtaSts.ts";
import { startPebble } from "./acme.ts";

export interface LabOptions {
  /** Directory holding <stack>.facteur.yaml (default "stacks"). */
  stacks?: string;
  /** Use this spec file instead of stacks/<stack>.facteur.yaml (the bench writes its own). */
  specFile?: string;
  /** Print progress lines. */
  log?: (line: string) => void;
  /**
   * Records added to the lab DNS, each in the zone it falls in (a name outside every zone gets
   * its parent two-label zone), e.g. a DNSBL listing: `66.113.0.203.bl.lab.tld A 127.0.0.2`.
   */
  extraRecords?: ZoneRecord[];
  /** Records that replace every planned record with the same name and type (e.g. a wrong PTR). */
  overrideRecords?: ZoneRecord[];
  /**
   * Zones the lab's Knot signs (DNSSEC) besides those the plan signs (operator.dnssec,
   * domains.<d>.dnssec); smarthosts' validating resolvers (policy.outboundTls.dane) trust their
   * keys. Every other zone stays unsigned (insecure).
   */
  dnssec?: string[];
  /**
   * Apply the plan's firewall rules in each host's namespace, as Hetzner does (src/lab/firewall.ts).
   * `lab up` does; tests that probe a daemon's own refusals from anywhere leave it off.
   */
  firewall?: boolean;
  /** The day (YYYY-MM-DD) smarthost warm-up schedules are read at; default today (UTC). */
  at?: string;
}

export interface LabHostInfo {
  name: string;
  ns: string;
  role: string;
  names: string[];
  ipv4: string[];
  ipv6: string[];
  root: string;
  /** Postfix config directory (postfix -c, postqueue -c). */
  postfixDir: string;
  /** Postfix's log (maillog_file), when the host runs Postfix. */
  maillog?: string;
  /** The lab's syslog listener's file, for daemons that log only to syslog. */
  syslog?: string;
  /** Where the host's daemons' output goes (<logDir>/<daemon>.out; the syslog listener's file). */
  logDir: string;
  logs: string[];
  /** The plan's hosts: their daemons' runtime facts, as render made them (src/render/daemons). */
  daemons?: DaemonFacts[];
}

export interface LabState {
  stack: string;
  root: string;
  specFile: string;
  switchNs: string;
  resolver: string;
  resolv: string;
  hosts: LabHostInfo[];
  zones: string[];
  checks: string[];
  /** Notes that stop nothing (a `postfix check` warning). A daemon that does not answer fails bring-up instead. */
  warnings: string[];
  /** The live probe of every daemon: all answered when the stack came up; `lab status` asks them again. */
  probes: LabProbe[];
  secrets: Record<string, string>;
  senderDomain: string;
  senderSelector: string;
  /** PEM private key of the outside sender's DKIM key. */
  senderDkimKey: string;
  /** The lab CA's certificate (PEM file): it issued every own host's certificate and the MTA-STS web host's. */
  ca?: string;
  /** Zones Knot signs (LabOptions.dnssec). */
  signedZones?: string[];
  /** Host TLS keys (tlsKey, current and next) by key id (tls:<fqdn>/<key>) -> their PEM file: what a rollover test switches to. */
  tlsKeyFiles?: Record<string, string>;
  /** Sinks: mail domain -> maildir base (<base>/<domain>/<local>/new/...). */
  mailboxes: Record<string, string>;
  /** The plan's firewall of each own host, written at bring-up (loaded by LabOptions.firewall or setLabFirewall). */
  firewalls: LabFirewall[];
  startedMs: number;
  upSeconds: number;
  /** Where bring-up spent its time: phases in order, then each host from its start to all its daemons answering. */
  timings: { step: string; seconds: number }[];
}

const statePath = (root: string) => `${root}/state.json`;

/** What the lab refuses to do as asked (a bad stack name, a protected stack, no spec): the CLI reports it as a usage error. */
export class LabRefusal extends Error {
  override name = "LabRefusal";
}

/** Why a lab stack name cannot be used, or undefined: it names network namespaces. */
export function labStackNameProblem(stack: string): string | undefined {
  return /^[a-z0-9][a-z0-9-]{0,15}$/.test(stack) ? undefined : `lab stack name "${stack}" must be 1-16 of [a-z0-9-] (it names network namespaces)`;
}

function stackRoot(stack: string): string {
  const problem = labStackNameProblem(stack);
  if (problem) throw new LabRefusal(problem);
  return buildTopologyRoot(stack);
}
function buildTopologyRoot(stack: string): string {
  return labStackRoot(stack);
}

/** The running lab stack of that name; undefined when none runs, or the name cannot be a lab stack's (a production stack's, say). */
export function readLabState(stack: string): LabState | undefined {
  if (labStackNameProblem(stack)) return undefined;
  const p = statePath(buildTopologyRoot(stack));
  return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as LabState) : undefined;
}

const nsListPath = (root: string) => `${root}/namespaces`;

function claimedBy(root: string): string[] {
  const f = nsListPath(root);
  return existsSync(f) ? readFileSync(f, "utf8").split("\n").filter(Boolean) : [];
}

/**
 * The stack's namespaces: those it recorded when it came up, and any unrecorded fl-<stack>-*
 * (left by a bring-up that died before recording them) that no other stack recorded either.
 * Stack "policy" never takes down "policy-fai"'s fl-policy-fai-*, nor stack "example-mx" the
 * example's fl-example-mx-doe.
 */
async function stackNamespaces(stack: string): Promise<string[]> {
  const prefix = `fl-${stack}-`;
  const mine = new Set(claimedBy(buildTopologyRoot(stack)));
  const others = new Set<string>();
  if (existsSync(LAB_ROOT)) for (const d of readdirSync(LAB_ROOT)) if (d !== stack) for (const n of claimedBy(labStackRoot(d))) if (!mine.has(n)) others.add(n);
  return (await listNamespaces()).filter((n) => mine.has(n) || (n.startsWith(prefix) && !others.has(n)));
}

/**
 * Stacks this process must leave alone: FACTEUR_LAB_PROTECT, space-separated. The test suite
 * sets it to "example" (test/support/labStacks.ts), so no test, bench or CLI run it spawns can
 * bring up or take down the lab a user started with scripts/lab.sh.
 */
export function protectedStacks(): string[] {
  return (process.env.FACTEUR_LAB_PROTECT ?? "").split(/[\s,]+/).filter(Boolean);
}

function refuseProtected(stack: string, action: string): void {
  if (protectedStacks().includes(stack))
    throw new LabRefusal(`lab stack "${stack}" is protected here (FACTEUR_LAB_PROTECT=${process.env.FACTEUR_LAB_PROTECT}): refusing to ${action} it`);
}

/** Stops every process of the stack's namespaces and deletes them. Safe to run twice. */
export async function labDown(stack: string): Promise<string[]> {
  stackRoot(stack);
  refuseProtected(stack, "take down");
  const names = await stackNamespaces(stack);
  await Promise.all(names.map((n) => killNamespace(n)));
  await deleteNamespaces(names);
  const st = statePath(buildTopologyRoot(stack));
  if (existsSync(st)) rmSync(st);
  // The namespaces file stays: it keeps claiming these names against a shorter stack name's prefix.
  return names;
}

function secretsFor(model: Model, old: Record<string, string> | undefined): Record<string, string> {
  const s: Record<string, string> = {};
  // Lab passwords never start with "-": swaks (the lab's SMTP client) reads such an argument as
  // an option even in --auth-password=-x form, which failed 1 run in 32.
  const gen = () => `p${randomBytes(12).toString("base64url")}`;
  const keep = (name: string) => (old?.[name] && !old[name]!.startsWith("-") ? old[name]! : gen());
  for (const u of model.submissionUsers) s[u.passwordSecret] = keep(u.passwordSecret);
  for (const e of model.externalRelays) if (e.auth) s[e.auth.passwordSecret] = keep(e.auth.passwordSecret);
  if (model.policy.quotaStore) s[model.policy.quotaStore.passwordSecret] = keep(model.policy.quotaStore.passwordSecret);
  s.srs = old?.srs ?? randomBytes(24).toString("base64url");
  return s;
}

/** Brings the stack up from scratch (anything left from an earlier run is taken down first). */
export async function labUp(stack: string, opts: LabOptions = {}): Promise<LabState> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const root = stackRoot(stack);
  refuseProtected(stack, "bring up");
  const timings: { step: string; seconds: number }[] = [];
  let mark = t0;
  const lap = (step: string) => {
    const now = Date.now();
    timings.push({ step, seconds: (now - mark) / 1000 });
    mark = now;
  };
  const specFile = opts.specFile ?? stackSpecPath(opts.stacks ?? STACKS_DIR, stack);
  if (!opts.specFile && !existsSync(specFile)) throw new LabRefusal(`no stack "${stack}": ${specFile} does not exist`);
  // Spec errors surface as the loader's SpecError before anything is touched.
  const model = buildModel(loadSpecFile(specFile));
  if (process.getuid?.() !== 0) throw new Error("facteur lab needs root (it creates network namespaces and runs mail daemons)");

  await labDown(stack);
  lap("take down what ran before");
  const topo = buildTopology(model, stack);
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  // Fresh host trees every time: the lab runs exactly what render produces now.
  for (const d of ["hosts", "outside", "dns"]) rmSync(`${root}/${d}`, { recursive: true, force: true });
  const secretsFile = `${root}/secrets.json`;
  const oldSecrets = existsSync(secretsFile) ? (JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>) : undefined;
  const secrets = secretsFor(model, oldSecrets);
  writeFileSync(secretsFile, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });

  // DKIM and ARC keys: one RSA-2048 key per (domain, selector) of the model, and the outside sender's.
  log("generating DKIM keys");
  const keyDir = `${root}/dkim`;
  mkdirSync(keyDir, { recursive: true, mode: 0o700 });
  const planned = plannedKeys(model);
  const wanted = planned.filter((k) => k.purpose !== "tls").map((k) => ({ domain: k.domain, selector: k.selector }));
  wanted.push({ domain: topo.senderDomain, selector: topo.senderSelector });
  const keys = await Promise.all(wanted.map((k) => generateDkimKey(keyDir, k.domain, k.selector)));
  // Host TLS keys (tlsKey): current and next, so the plan's TLSA records pin real keys.
  const tls = await Promise.all(planned.filter((k) => k.purpose === "tls").map(async (k) => ({ id: k.id, ...(await generateTlsKey(keyDir, k.domain, k.selector)) })));
  const dkimPrivate = new Map([...keys.map((k): [string, string] => [`${k.domain}/${k.selector}`, k.pem]), ...tls.map((k): [string, string] => [k.id, k.pem])]);
  const dkimPublic = Object.fromEntries([...keys.map((k) => [`${k.domain}/${k.selector}`, k.publicB64]), ...tls.map((k) => [k.id, k.publicB64])]);
  const tlsKeyFiles = Object.fromEntries(tls.map((k) => [k.id, k.file]));
  // Warm-up schedules are read at the applier's day: today, unless the caller gives one.
  const plan: Plan = buildPlan(model, { addresses: topo.addresses, dkimKeys: dkimPublic, at: opts.at ?? new Date().toISOString().slice(0, 10) });
  lap("DKIM keys and plan");

  // Network.
  log("creating namespaces");
  writeFileSync(nsListPath(root), [topo.switchNs, ...plan.hosts.map((h) => nsName(stack, h.name)), ...topo.outside.map((o) => nsName(stack, o.name))].join("\n") + "\n");
  const ownNet: NetHost[] = plan.hosts.map((h) => ({ ns: nsName(stack, h.name), ipv4: [h.ipv4], ipv6: [h.ipv6] }));
  const outNet: NetHost[] = topo.outside.map((o) => ({ ns: nsName(stack, o.name), ipv4: o.ipv4, ipv6: o.ipv6 }));
  await createNetwork(topo.switchNs, [...ownNet, ...outNet]);
  lap("network namespaces");

  // DNS.
  const resolver = topo.dns.ipv4[0]!;
  const resolv = `${root}/resolv.conf`;
  writeFileSync(resolv, `# facteur lab: only the lab's own DNS\nnameserver ${resolver}\noptions timeout:1 attempts:2\n`);
  const { zones, files } = labZones(model, plan, topo, dkimPublic[`${topo.senderDomain}/${topo.senderSelector}`]!, {
    ...(opts.extraRecords ? { extraRecords: opts.extraRecords } : {}),
    ...(opts.overrideRecords ? { overrideRecords: opts.overrideRecords } : {}),
  });
  log(`starting Knot (${zones.length} zones)`);
  // As Cloudflare would: every zone the plan signs, and the outside zones a test asks for.
  const signed = [...new Set([...(plan.dnssec ?? []).map((d) => d.zone), ...(opts.dnssec ?? [])])].sort();
  for (const z of signed) if (!zones.includes(z)) throw new Error(`lab: cannot sign ${z}: the lab serves no such zone (${zones.join(" ")})`);
  const knotProbe = await startKnot(`${root}/dns`, nsName(stack, "dns"), topo.dns, files, signed);
  const anchors = await trustAnchors(nsName(stack, "dns"), resolver, signed);
  lap(`lab DNS (Knot serving every zone${signed.length ? `, signing ${signed.join(" ")}` : ""})`);

  const ca = await makeLabCa(`${root}/ca`, stack);
  const ctx = (name: string, hostRoot: string): HostContext => ({ name, ns: nsName(stack, name), resolv, root: hostRoot, logDir: `${hostRoot}/var/log`, ca, dnsServer: resolver, trustAnchors: anchors });
  const checks: string[] = [`dns: ${knotProbe.what}`];
  const warnings: string[] = [];
  // Every host's firewall is written; loaded now when asked (setLabFirewall switches it later).
  const firewalls = writeLabFirewalls(plan, (h) => nsName(stack, h), `${root}/firewall`);
  if (opts.firewall) checks.push(...(await switchLabFirewalls(firewalls, true)));

  // Every host at once, outside and own: each one is up when all its daemons answer.
  const outsideHosts = topo.outside.filter((o) => o.kind !== "dns");
  const bundles = new Map<string, HostBundle>();
  log(`starting ${plan.hosts.length} hosts of the plan and ${outsideHosts.length} outside hosts`);
  const [ownReports, outsideReports] = await Promise.all([
    Promise.all(
      plan.hosts.map(async (h) => {
        const hostRoot = `${root}/hosts/${h.name}`;
        const bundle = renderHost(model, plan, h, { root: hostRoot });
        bundles.set(h.name, bundle);
        return startOwnHost(bundle, ctx(h.name, hostRoot), secrets, dkimPrivate, { ipv4: h.ipv4, ipv6: h.ipv6 });
      }),
    ),
    Promise.all(
      outsideHosts.map((o) =>
        o.kind === "web"
          ? startMtaStsWeb(o, ctx(o.name, `${root}/outside/${o.name}`), plan.mtaSts ?? [], ca)
          : o.kind === "acme"
            ? startPebble(o, ctx(o.name, `${root}/outside/${o.name}`), model.acme!.directory, ca, resolver)
            : startOutsideHost(o, ctx(o.name, `${root}/outside/${o.name}`), secrets),
      ),
    ),
  ]);
  const reports: HostReport[] = [...ownReports, ...outsideReports];
  for (const r of reports) {
    checks.push(...r.checks);
    warnings.push(...r.warnings);
  }
  lap(`hosts (${reports.length}, in parallel, until every daemon answers)`);
  [...plan.hosts.map((h) => h.name), ...outsideHosts.map((o) => o.name)].forEach((name, i) => {
    if (reports[i]!.probes.length) timings.push({ step: `  host ${name}: ${reports[i]!.steps.join(", ")}`, seconds: reports[i]!.seconds });
  });

  const hosts: LabHostInfo[] = [
    ...plan.hosts.map((h, i) => ({
      name: h.name,
      ns: nsName(stack, h.name),
      role: h.role === "relay" ? `relay (MX for ${h.mxFor.join(", ")})` : `smarthost (${h.lane} lane${h.drain ? ", drained" : ""})`,
      names: [h.fqdn],
      ipv4: [h.ipv4],
      ipv6: [h.ipv6],
      root: `${root}/hosts/${h.name}`,
      postfixDir: daemonFacts(bundles.get(h.name)!.daemons, "postfix")!.configDir,
      maillog: daemonFacts(bundles.get(h.name)!.daemons, "postfix")!.maillog,
      logDir: ctx(h.name, `${root}/hosts/${h.name}`).logDir,
      logs: ownReports[i]!.logs,
      daemons: bundles.get(h.name)!.daemons,
      ...(ownReports[i]!.syslog ? { syslog: ownReports[i]!.syslog } : {}),
    })),
    ...[topo.dns, ...outsideHosts].map((o) => ({
      name: o.name,
      ns: nsName(stack, o.name),
      role: outsideRole(o),
      names: o.names,
      ipv4: o.ipv4,
      ipv6: o.ipv6,
      root: o.kind === "dns" ? `${root}/dns` : `${root}/outside/${o.name}`,
      postfixDir: o.kind === "dns" || o.kind === "client" || o.kind === "web" || o.kind === "acme" ? "" : `${root}/outside/${o.name}/etc/postfix`,
      ...(o.kind !== "dns" && outsideReports[outsideHosts.indexOf(o)]!.maillog ? { maillog: outsideReports[outsideHosts.indexOf(o)]!.maillog! } : {}),
      logDir: o.kind === "dns" ? `${root}/dns` : ctx(o.name, `${root}/outside/${o.name}`).logDir,
      logs: o.kind === "dns" ? [`${root}/dns/knot.log`] : outsideReports[outsideHosts.indexOf(o)]!.logs,
    })),
  ];
  const mailboxes: Record<string, string> = {};
  for (const o of outsideHosts) if (o.kind === "sink") for (const d of o.domains) mailboxes[d] = `${root}/outside/${o.name}/mail`;
  const state: LabState = {
    stack,
    root,
    specFile,
    switchNs: topo.switchNs,
    resolver,
    resolv,
    hosts,
    zones,
    checks,
    warnings,
    probes: [knotProbe, ...reports.flatMap((r) => r.probes)],
    secrets,
    senderDomain: topo.senderDomain,
    senderSelector: topo.senderSelector,
    senderDkimKey: dkimPrivate.get(`${topo.senderDomain}/${topo.senderSelector}`)!,
    ca: ca.cert,
    signedZones: signed,
    ...(Object.keys(tlsKeyFiles).length ? { tlsKeyFiles } : {}),
    mailboxes,
    firewalls,
    startedMs: Date.now(),
    upSeconds: (Date.now() - t0) / 1000,
    timings,
  };
  writeFileSync(statePath(root), JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  return state;
}

function outsideRole(o: OutsideHost): string {
  if (o.kind === "dns") return "outside: lab DNS (Knot, authoritative for every zone)";
  if (o.kind === "sender") return "outside: sender (stock Postfix)";
  if (o.kind === "client") return "outside: a bare SMTP client (no daemon; tests list it on the lab DNSBL)";
  if (o.kind === "acme") return `outside: ACME CA ${o.names[0]} (pebble, HTTP-01 through the lab DNS)`;
  if (o.kind === "web") return `outside: HTTPS for ${o.names.join(", ")} (the rendered MTA-STS Workers, lab CA certificate)`;
  if (o.submission) return `outside: MX for ${o.domains.join(", ")} and external relay ${o.submission.map((s) => `${s.host}:${s.port}`).join(", ")} (stock Postfix, SASL)`;
  return `outside: MX for ${o.domains.join(", ")} (stock Postfix, maildir per recipient)`;
}

/**
 * Loads (on) or removes (off) the plan's firewalls in a running stack, as LabOptions.firewall
 * does at bring-up: tests sharing one stack switch them for their own part. Returns the report
 * lines of what it loaded.
 */
export async function setLabFirewall(state: LabState, on: boolean): Promise<string[]> {
  return switchLabFirewalls(state.firewalls, on);
}

export interface LabStatus {
  stack: string;
  namespaces: { ns: string; pids: number }[];
  state?: LabState;
  /** Every daemon of the stack, asked now (none when the stack is not running or never came up). */
  probes: ProbeResult[];
  /** Running, and every daemon answered. */
  up: boolean;
}

/** What runs now: each daemon of each host is asked live (a banner, a milter negotiation, a lookup...). */
export async function labStatus(stack: string): Promise<LabStatus> {
  stackRoot(stack);
  const names = (await stackNamespaces(stack)).sort();
  const namespaces = await Promise.all(
    names.map(async (ns) => ({ ns, pids: (await run(["ip", "netns", "pids", ns])).stdout.split(/\s+/).filter(Boolean).length })),
  );
  const state = readLabState(stack);
  const probes = names.length && state?.probes ? await runProbes(state.probes) : [];
  const up = names.length > 0 && probes.length > 0 && probes.every((p) => p.ok);
  return { stack, namespaces, ...(state ? { state } : {}), probes, up };
}

/** `lab status` as printed: what is down first, with the log to read, then what answers. */
export function formatStatus(st: LabStatus): string {
  if (!st.namespaces.length) return `facteur lab: stack ${st.stack} is not running\n`;
  const out: string[] = [];
  if (!st.state) {
    out.push(`facteur lab: stack ${st.stack} is DOWN: ${st.namespaces.length} namespaces but no state (its bring-up did not finish); take it down and up again`);
  } else if (!st.probes.length) {
    out.push(`facteur lab: stack ${st.stack} is DOWN: its state names no daemon to ask (brought up by an older facteur); take it down and up again`);
  } else {
    const down = st.probes.filter((p) => !p.ok);
    out.push(
      down.length
        ? `facteur lab: stack ${st.stack} is DOWN: ${down.length} of ${st.probes.length} daemons not answering`
        : `facteur lab: stack ${st.stack} is up: all ${st.probes.length} daemons answer (asked just now)`,
    );
    for (const r of down) out.push(`  DOWN  ${describeDown(r)}`);
    const w = Math.max(...st.probes.map((r) => r.probe.host.length));
    for (const r of st.probes.filter((p) => p.ok)) out.push(`  ok    ${r.probe.host.padEnd(w)}  ${r.probe.daemon}: ${r.probe.what}: ${r.detail}`);
  }
  out.push("", "namespaces:", ...st.namespaces.map((n) => `  ${n.ns.padEnd(24)} ${n.pids} processes`));
  if (st.state) out.push("", "logs:", ...st.state.hosts.map((h) => `  ${h.name}: ${h.logs.join(" ")}`));
  return out.join("\n") + "\n";
}

export function formatReport(s: LabState): string {
  const out: string[] = [];
  out.push(`facteur lab: stack ${s.stack} is up in ${s.upSeconds.toFixed(1)} s, every daemon answering; root ${s.root}`);
  out.push("", "hosts:");
  const w = Math.max(...s.hosts.map((h) => h.name.length));
  for (const h of s.hosts) out.push(`  ${h.name.padEnd(w)}  ${[...h.ipv4, ...h.ipv6].join(" ").padEnd(40)}  ${h.names.join(", ")}  ${h.role}`);
  out.push("", `zones served by ${s.resolver} (Knot): ${s.zones.join(" ")}`);
  out.push("", `checks passed (${s.checks.length}):`, ...s.checks.map((c) => `  ok  ${c}`));
  out.push("", `daemons answering (${(s.probes ?? []).length}):`, ...(s.probes ?? []).map((p) => `  ok  ${p.host.padEnd(w)}  ${p.daemon}: ${p.what}`));
  if (s.warnings.length) out.push("", "notes:", ...s.warnings.map((c) => `  !!  ${c}`));
  out.push("", "logs:");
  for (const h of s.hosts) out.push(`  ${h.name.padEnd(w)}  ${h.logs.join(" ")}`);
  out.push("", "mailboxes (outside MX hosts, one maildir per recipient):");
  for (const [d, base] of Object.entries(s.mailboxes)) out.push(`  ${d}: ${base}/${d}/<local>/new/`);
  if (s.timings?.length) out.push("", `bring-up time: ${s.upSeconds.toFixed(1)} s`, ...s.timings.map((t) => `  ${t.seconds.toFixed(1).padStart(6)} s  ${t.step}`));
  out.push(
    "",
    `run a command on a host: ip netns exec fl-${s.stack}-<host> CMD   (e.g. swaks from fl-${s.stack}-sender)`,
    `what runs now:           npm run -s facteur -- lab status --stack ${s.stack}`,
    `take it down:            npm run -s facteur -- lab down --stack ${s.stack}`,
    "",
  );
  return out.join("\n");
}
