// Renders one stack as it stands at one git revision, with that revision's own code and
// templates: a worktree of the ref, this checkout's node_modules linked in, and its src/
// imported dynamically. The base side then shows what is deployed, and the head side shows
// what a change to spec, code or templates does, exactly as that code will render it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { DnsRecord } from "../plan/dns.ts";
import type { PlannedHost } from "../plan/plan.ts";
import type { FirewallRule, PlannedFirewall } from "../plan/firewall.ts";

// The plan's own shapes: a revision's plan is read through them (the zone of a record is not compared;
// its kind is not either: older revisions have none, and a record's identity is its id).
export type RecordView = Omit<DnsRecord, "zone" | "kind">;
export type HostView = PlannedHost;
/** One member's share of the weighted pool (src/plan/weights.ts). */
export interface PoolShareView {
  host: string;
  weight: number;
  percent: number;
  reason: string;
}
/** One inbound rule, with the firewall (role) it belongs to. */
export type FirewallRuleView = FirewallRule & { firewall: string };
export interface Rendered {
  /** Absent when the stack does not exist at this revision. */
  exists: boolean;
  records: RecordView[];
  ptrs: { id: string; address: string; name: string }[];
  hosts: HostView[];
  /** Inbound rules; revisions from before firewalls were plan data have none. */
  firewall: FirewallRuleView[];
  /** The relays' weighted choice among the clean pool (smarthost weights): each member's share; empty when the pool MX shares (no weights, or an older revision). */
  pool?: PoolShareView[];
  /** "host:/etc/postfix/main.cf" -> content */
  files: Map<string, { content: string; mode: string }>;
}

/**
 * A revision that cannot be rendered: its spec is invalid (the SpecError of that revision's own
 * code is another class than ours, so it is recognised by name), or its code fails. Exit 1.
 */
export class RevisionError extends Error {
  override name = "RevisionError";
}

export function git(repo: string, args: string[]): string {
  const r = spawnSync("git", ["-C", repo, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

/** The node_modules facteur's own dependencies come from: the checkout's, or the one the package is installed in. */
function ownNodeModules(): string {
  const yaml = fileURLToPath(import.meta.resolve("yaml"));
  return yaml.slice(0, yaml.lastIndexOf(`${sep}node_modules${sep}`) + `${sep}node_modules`.length);
}

/**
 * A revision's code is TypeScript: facteur imports it through tsx (a dependency), registered
 * once, unless node was started with tsx's loader already (the sources run through tsx, or as
 * Pulumi.yaml's nodeargs start them). Whether this module is a .ts file says nothing of that:
 * the tests' bundle of the CLI keeps the sources' paths and runs without tsx.
 */
let tsxRegistered = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) => /\btsx\b/.test(a));
async function importSource(url: string): Promise<Record<string, (...a: unknown[]) => unknown>> {
  if (!tsxRegistered) {
    const { register } = await import("tsx/esm/api");
    register();
    tsxRegistered = true;
  }
  return import(url) as Promise<Record<string, (...a: unknown[]) => unknown>>;
}

/** Renders `stack` from the tree at `dir` (a worktree or the working tree), importing that tree's modules. */
export async function renderTree(dir: string, stack: string, label = "the working tree", at?: string): Promise<Rendered> {
  try {
    return await renderTreeUnguarded(dir, stack, at);
  } catch (e) {
    if (e instanceof RevisionError) throw e;
    const err = e as Error;
    if (err?.name === "SpecError") throw new RevisionError(`the spec of stack ${stack} at ${label} is invalid:\n${err.message.replaceAll(`${dir}/`, "")}`);
    throw new RevisionError(`cannot render stack ${stack} at ${label}: ${err?.message ?? String(e)}`);
  }
}

async function renderTreeUnguarded(dir: string, stack: string, at: string | undefined): Promise<Rendered> {
  const specFile = join(dir, "stacks", `${stack}.facteur.yaml`);
  if (!existsSync(specFile)) return { exists: false, records: [], ptrs: [], hosts: [], firewall: [], pool: [], files: new Map() };
  const mod = async (p: string) => {
    const f = join(dir, "src", p);
    if (!existsSync(f)) return undefined;
    return importSource(pathToFileURL(f).href);
  };
  const load = await mod("spec/load.ts");
  const model = await mod("model/model.ts");
  const plan = await mod("plan/plan.ts");
  if (!load?.loadSpecFile || !model?.buildModel || !plan?.buildPlan) throw new RevisionError(`${dir}: this revision has no spec/model/plan modules facteur diff can use`);
  const m = model.buildModel(load.loadSpecFile(specFile));
  // Both sides read warm-up schedules at the same day (--at, else today): the diff shows the change, not the calendar.
  const p = plan.buildPlan(m, at ? { at } : {}) as {
    dns: RecordView[];
    ptrs: RecordView[] & { address: string }[];
    hosts: HostView[];
    firewalls?: PlannedFirewall[];
    routing?: { weightedPool?: { members: PoolShareView[] } };
  };
  const render = await mod("render/render.ts");
  const files = new Map<string, { content: string; mode: string }>();
  if (render?.renderStack) {
    const bundles = render.renderStack(m, p, {}) as { host: string; files: { path: string; content: string; mode: string }[] }[];
    for (const b of bundles) for (const f of b.files) files.set(`${b.host}:${f.path}`, { content: f.content, mode: f.mode });
  }
  // MTA-STS policies are served by Cloudflare, not a host: shown under their own name.
  for (const x of (p as { mtaSts?: { host: string; text: string }[] }).mtaSts ?? []) files.set(`${x.host}:/.well-known/mta-sts.txt`, { content: x.text, mode: "0644" });
  return {
    exists: true,
    records: p.dns.map((r) => ({ id: r.id, name: r.name, type: r.type, content: r.content, ...(r.priority !== undefined ? { priority: r.priority } : {}), ttl: r.ttl, reason: r.reason })),
    ptrs: (p.ptrs as unknown as { id: string; address: string; name: string }[]).map((x) => ({ id: x.id, address: x.address, name: x.name })),
    hosts: p.hosts,
    firewall: (p.firewalls ?? []).flatMap((f) => f.rules.map((r) => ({ ...r, firewall: f.id }))),
    pool: (p.routing?.weightedPool?.members ?? []).map((x) => ({ host: x.host, weight: x.weight, percent: x.percent, reason: x.reason })),
    files,
  };
}

/** Checks out `ref` into a temporary worktree, renders it, removes the worktree. */
export async function renderRef(repo: string, ref: string, stack: string, at?: string): Promise<Rendered & { commit: string }> {
  const commit = git(repo, ["rev-parse", "--verify", `${ref}^{commit}`]);
  const dir = mkdtempSync(join(tmpdir(), "facteur-diff-"));
  rmSync(dir, { recursive: true });
  git(repo, ["worktree", "add", "--detach", "--quiet", dir, commit]);
  try {
    if (!existsSync(join(dir, "node_modules"))) symlinkSync(existsSync(join(repo, "node_modules")) ? join(repo, "node_modules") : ownNodeModules(), join(dir, "node_modules"));
    return { ...(await renderTree(dir, stack, `${ref} (${commit.slice(0, 10)})`, at)), commit };
  } finally {
    spawnSync("git", ["-C", repo, "worktree", "remove", "--force", dir]);
    rmSync(dir, { recursive: true, force: true });
    spawnSync("git", ["-C", repo, "worktree", "prune"]);
  }
}
