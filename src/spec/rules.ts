// Rules that span several fields and so cannot live in the zod schema's per-field checks.
import type { Spec } from "./schema.ts";
import type { SpecProblem } from "./errors.ts";
import { countSpfLookups } from "./spf.ts";

export const ROLE_LOCAL_PARTS = ["postmaster", "abuse", "hostmaster"] as const;

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1);
}

/** Alias graph checks: a target inside one of our domains must exist, and no chain may loop. */
function aliasRules(spec: Spec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const edges = new Map<string, { targets: string[]; group: boolean; path: (string | number)[] }>();
  for (const [domain, d] of Object.entries(spec.domains)) {
    for (const [local, t] of Object.entries(d.aliases)) {
      const group = Array.isArray(t);
      edges.set(`${local}@${domain}`, { targets: group ? t : [t], group, path: ["domains", domain, "aliases", local] });
    }
  }
  const ours = new Set(Object.keys(spec.domains));
  const isRole = (a: string) => (ROLE_LOCAL_PARTS as readonly string[]).includes(a.slice(0, a.lastIndexOf("@")));
  for (const [source, { targets, group, path }] of edges) {
    const seen = new Set<string>();
    targets.forEach((target, i) => {
      const at = group ? [...path, i] : path;
      if (seen.has(target)) problems.push({ path: at, message: `target ${target} is listed twice` });
      seen.add(target);
      if (target === source) problems.push({ path: at, message: `alias ${source} points to itself` });
      else if (ours.has(domainOf(target)) && !edges.has(target) && !isRole(target))
        problems.push({
          path: at,
          message: `dangling alias target ${target}: ${domainOf(target)} is one of our domains and has no alias ${target.slice(0, target.lastIndexOf("@"))}`,
        });
    });
  }
  // Loop detection: depth-first search with colours; report each cycle once, at its first alias.
  const state = new Map<string, "active" | "done">();
  const reported = new Set<string>();
  const visit = (node: string, stack: string[]) => {
    state.set(node, "active");
    for (const next of edges.get(node)?.targets ?? []) {
      if (next === node) continue;
      if (state.get(next) === "active") {
        const cycle = [...stack.slice(stack.indexOf(next)), node, next];
        const key = [...new Set(cycle)].sort().join(" ");
        if (!reported.has(key)) {
          reported.add(key);
          problems.push({ path: edges.get(next)!.path, message: `alias loop: ${cycle.slice(cycle.indexOf(next)).join(" -> ")}` });
        }
      } else if (!state.has(next) && edges.has(next)) visit(next, [...stack, node]);
    }
    state.set(node, "done");
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node, []);
  return problems;
}

function hostRules(spec: Spec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const relayNames = new Set(Object.keys(spec.relays));
  for (const name of Object.keys(spec.smarthosts)) {
    if (relayNames.has(name))
      problems.push({ path: ["smarthosts", name], message: `duplicate host name ${name}: already a relay; every host needs its own name` });
  }
  for (const [domain, d] of Object.entries(spec.domains)) {
    d.relays?.forEach((r, i) => {
      if (!relayNames.has(r))
        problems.push({ path: ["domains", domain, "relays", i], message: `unknown relay ${r}; known relays: ${[...relayNames].join(", ")}` });
    });
    if (d.relays && d.relays.length === 0)
      problems.push({ path: ["domains", domain, "relays"], message: `domain ${domain} has no relay: it needs at least one MX host` });
    if (d.dkim?.active && !d.dkim.selectors.includes(d.dkim.active))
      problems.push({ path: ["domains", domain, "dkim", "active"], message: `unknown selector ${d.dkim.active}; listed: ${d.dkim.selectors.join(", ")}` });
  }
  const op = spec.operator.dkim;
  if (op.active && !op.selectors.includes(op.active))
    problems.push({ path: ["operator", "dkim", "active"], message: `unknown selector ${op.active}; listed: ${op.selectors.join(", ")}` });
  const backupSeen = new Set<string>();
  spec.backupMx.forEach((b, i) => {
    if (backupSeen.has(b.host)) problems.push({ path: ["backupMx", i, "host"], message: `duplicate backup MX ${b.host}` });
    backupSeen.add(b.host);
  });
  const active = Object.values(spec.smarthosts).filter((s) => !s.drain && s.lane === "clean");
  if (active.length === 0)
    problems.push({ path: ["smarthosts"], message: "every clean-lane smarthost is drained: outbound mail would have nowhere to go" });
  if (spec.policy.spam.rejectScore <= spec.policy.spam.tagScore)
    problems.push({ path: ["policy", "spam", "rejectScore"], message: `the reject score must be above the tag score (${spec.policy.spam.tagScore}), or tagged mail would never be delivered` });
  if (spec.policy.inbound.hardErrorLimit < spec.policy.inbound.softErrorLimit)
    problems.push({ path: ["policy", "inbound", "hardErrorLimit"], message: `must be at least softErrorLimit (${spec.policy.inbound.softErrorLimit})` });
  if (spec.operator.domain in spec.domains)
    problems.push({ path: ["domains", spec.operator.domain], message: `the operator domain ${spec.operator.domain} is managed by facteur itself; do not list it under domains` });
  const mailboxDomain = domainOf(spec.operator.roleMailbox);
  if (mailboxDomain in spec.domains && !spec.domains[mailboxDomain]!.aliases[spec.operator.roleMailbox.split("@")[0]!])
    problems.push({ path: ["operator", "roleMailbox"], message: `${spec.operator.roleMailbox} is in one of our domains but is not an alias there` });
  return problems;
}

function spfRules(spec: Spec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const poolLookups = countSpfLookups(
    Object.values(spec.smarthosts).flatMap((s) => (s.kind === "external" && s.spfInclude ? [`include:${s.spfInclude}`] : [])),
  );
  for (const [domain, d] of Object.entries(spec.domains)) {
    // The domain's own record: include:_spf.<operator> (1) + extra mechanisms; the included pool
    // record's own lookups count towards the same limit of 10 (RFC 7208 section 4.6.4).
    const total = 1 + poolLookups + countSpfLookups(d.spf?.extra ?? []);
    if (total > 10)
      problems.push({
        path: ["domains", domain, "spf", "extra"],
        message: `SPF for ${domain} needs ${total} DNS lookups (pool ${poolLookups + 1}, extra ${total - 1 - poolLookups}); receivers stop at 10 and fail the check`,
      });
  }
  return problems;
}

export function crossFieldRules(spec: Spec): SpecProblem[] {
  return [...aliasRules(spec), ...hostRules(spec), ...spfRules(spec)];
}
