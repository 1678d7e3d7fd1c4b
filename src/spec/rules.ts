// Rules that span several fields and so cannot live in the zod schema's per-field checks.
// Spec data is only ever read through own keys (Object.hasOwn, Maps): a local part called
// "constructor" or "toString" is a name like any other, never Object.prototype's.
import type { Spec } from "./schema.ts";
import type { SpecPath, SpecProblem } from "./errors.ts";
import { countSpfLookups } from "./spf.ts";
import { OUTSIDE, SELF, aliasCycles, aliasEdges, aliasTable, chainStats, domainOf, localOf, type AliasNode } from "./aliasGraph.ts";
import { POSTFIX, pacingTransportName } from "./limits.ts";

export { ROLE_LOCAL_PARTS } from "./aliasGraph.ts";

type Problem = Omit<SpecProblem, "line" | "column">;

const has = (o: object, k: string) => Object.hasOwn(o, k);

/** Alias graph checks, role addresses included: targets in our domains exist, no loop, what Postfix can expand. */
function aliasRules(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const table = aliasTable(spec);
  const op = spec.operator.domain;
  const ours = new Set([...Object.keys(spec.domains), op]);

  if (domainOf(spec.operator.roleMailbox) === op) {
    problems.push({
      path: ["operator", "roleMailbox"],
      message: `${spec.operator.roleMailbox} is in the operator domain ${op}, which has no mailboxes (only its postmaster@, abuse@ and hostmaster@, sent to this very address): use an address outside`,
    });
    return problems;
  }

  // Where a target is written (a group's item, or the alias itself): made only for a problem.
  const targetPath = (node: AliasNode, i: number): SpecPath => (node.group ? [...node.path, i] : node.path);
  // Every target resolved once: another alias of ours, the alias itself, or an address outside the table.
  const { offsets, edges } = aliasEdges(table);
  let n = 0;
  for (const [source, node] of table) {
    const first = offsets[n++]!;
    // Most aliases have one target: a set only for groups.
    const seen = node.targets.length > 1 ? new Set<string>() : undefined;
    for (let i = 0; i < node.targets.length; i++) {
      const target = node.targets[i]!;
      const edge = edges[first + i]!;
      if (seen?.has(target)) problems.push({ path: targetPath(node, i), message: `target ${target} is listed twice` });
      seen?.add(target);
      if (edge === SELF) problems.push({ path: targetPath(node, i), message: `alias ${source} points to itself` });
      else if (!node.role && edge === OUTSIDE && ours.has(domainOf(target)))
        problems.push({
          path: targetPath(node, i),
          message:
            domainOf(target) === op
              ? `${target} does not exist: ${op} is the operator domain, which only has postmaster@, abuse@ and hostmaster@; mail to ${target} would bounce`
              : `dangling alias target ${target}: ${domainOf(target)} is one of our domains and has no alias ${localOf(target)}`,
        });
    }
  }
  // The role mailbox, when it is in one of our domains, must be an alias there (it receives the role addresses' mail).
  const box = spec.operator.roleMailbox;
  if (ours.has(domainOf(box)) && !table.has(box))
    problems.push({ path: ["operator", "roleMailbox"], message: `${box} is in one of our domains but is not an alias there: role mail would bounce` });
  if (problems.length > 0) return problems;

  const cycles = aliasCycles(table);
  for (const cycle of cycles) {
    const first = cycle[0]!;
    const roles = [...new Set(cycle)].filter((a) => table.get(a)!.role);
    problems.push({
      path: table.get(first)!.path,
      message: `alias loop: ${cycle.join(" -> ")}${roles.length ? ` (${roles.join(", ")} ${roles.length > 1 ? "are role addresses" : "is a role address"} that facteur sends to operator.roleMailbox)` : ""}`,
    });
  }
  if (cycles.length > 0) return problems;

  // What Postfix's cleanup does with a chain (cleanup_map1n.c): past the recursion or expansion limit it defers the mail.
  const { addresses, order, depth, expansion } = chainStats(table, POSTFIX.virtualAliasExpansionLimit + 1);
  let deepest: [string, number] | undefined;
  let widest: [string, number] | undefined;
  // Of equals, the first in post-order is the one reported.
  for (const node of order) {
    const d = depth[node]!;
    const x = expansion[node]!;
    if (d >= POSTFIX.virtualAliasRecursionLimit && (!deepest || d > deepest[1])) deepest = [addresses[node]!, d];
    if (x > POSTFIX.virtualAliasExpansionLimit && (!widest || x > widest[1])) widest = [addresses[node]!, x];
  }
  if (deepest)
    problems.push({
      path: table.get(deepest[0])!.path,
      message: `${deepest[0]} starts a chain of ${deepest[1]} nested aliases; Postfix defers such mail past virtual_alias_recursion_limit (${POSTFIX.virtualAliasRecursionLimit}): point aliases at their final addresses`,
    });
  if (widest)
    problems.push({
      path: table.get(widest[0])!.path,
      message: `${widest[0]} expands to more than ${POSTFIX.virtualAliasExpansionLimit} addresses (repeats counted); Postfix defers such mail past virtual_alias_expansion_limit (${POSTFIX.virtualAliasExpansionLimit})`,
    });
  return problems;
}

/**
 * Names facteur publishes or uses itself, each with what it is. A mail domain, host, relay or
 * include that lands on one of them would put MX records inside the pool (a mail loop), two
 * SPF records on one name, or a relay sending to itself.
 */
function ownNames(spec: Spec): Map<string, string> {
  const op = spec.operator.domain;
  const names = new Map<string, string>([
    [op, "the operator domain (host names, SRS, role addresses)"],
    [`pool.${op}`, "the clean pool's name (relays hand outbound mail to it)"],
    [`spam-pool.${op}`, "the spam lane's pool name"],
    [`_spf.${op}`, "the pool's SPF record"],
  ]);
  // Hosts named like a pool are refused separately; the pool meaning stays the one to name.
  for (const r of Object.keys(spec.relays)) if (!names.has(`${r}.${op}`)) names.set(`${r}.${op}`, `relay ${r}'s host name`);
  for (const s of Object.keys(spec.smarthosts))
    if (spec.smarthosts[s]!.kind === "own" && !names.has(`${s}.${op}`)) names.set(`${s}.${op}`, `smarthost ${s}'s host name`);
  return names;
}

function nameRules(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const op = spec.operator.domain;
  const own = ownNames(spec);
  for (const domain of Object.keys(spec.domains)) {
    const path: SpecPath = ["domains", domain];
    if (domain === op) problems.push({ path, message: `the operator domain ${op} is managed by facteur itself; do not list it under domains` });
    else if (own.has(domain)) problems.push({ path, message: `mail domain ${domain} is ${own.get(domain)}: its MX and SPF records would collide with facteur's own` });
    else if (domain.endsWith(`.${op}`)) problems.push({ path, message: `mail domain ${domain} is under the operator domain ${op}, whose names facteur manages (hosts, pools, SPF): use a domain outside it` });
  }
  for (const [kind, names] of [["relays", Object.keys(spec.relays)], ["smarthosts", Object.keys(spec.smarthosts)]] as const) {
    for (const name of names) {
      const fqdn = `${name}.${op}`;
      if (name === "pool" || name === "spam-pool")
        problems.push({ path: [kind, name], message: `host ${name} would be named ${fqdn}, which is ${own.get(fqdn) ?? "a pool name"}` });
      if (fqdn.length > 253) problems.push({ path: [kind, name], message: `${fqdn} is longer than the 253 characters of a DNS name` });
    }
  }
  spec.backupMx.forEach((b, i) => {
    if (own.has(b.host)) problems.push({ path: ["backupMx", i, "host"], message: `backup MX ${b.host} is ${own.get(b.host)}, not a third party's server` });
  });
  for (const [name, s] of Object.entries(spec.smarthosts)) {
    if (s.kind !== "external") continue;
    if (own.has(s.host) || has(spec.domains, s.host))
      problems.push({ path: ["smarthosts", name, "host"], message: `external relay ${s.host} is ${own.get(s.host) ?? "one of our mail domains"}: relays would hand mail back to themselves (a loop)` });
    if (s.spfInclude === `_spf.${op}`)
      problems.push({ path: ["smarthosts", name, "spfInclude"], message: `_spf.${op} is the pool's own SPF record: including it in itself is an SPF loop (permerror)` });
  }
  // DKIM key records: <selector>._domainkey.<domain> must be a DNS name.
  const dkimOf: [string, { selectors: string[] } | undefined, SpecPath][] = [
    [op, spec.operator.dkim, ["operator", "dkim", "selectors"]],
    ...(spec.operator.arc ? [[op, spec.operator.arc, ["operator", "arc", "selectors"]] as [string, { selectors: string[] }, SpecPath]] : []),
    ...Object.entries(spec.domains).map(([d, v]) => [d, v.dkim, ["domains", d, "dkim", "selectors"]] as [string, { selectors: string[] } | undefined, SpecPath]),
  ];
  for (const [domain, dkim, path] of dkimOf)
    dkim?.selectors.forEach((sel, i) => {
      const name = `${sel}._domainkey.${domain}`;
      if (name.length > 253) problems.push({ path: [...path, i], message: `${name} is longer than the 253 characters of a DNS name` });
    });
  // Pacing transports: each destination gets its own master.cf service; two may not share one.
  const transports = new Map<string, string>();
  for (const domain of Object.keys(spec.policy.pacing.domains)) {
    const t = pacingTransportName(domain);
    const other = transports.get(t);
    if (other) problems.push({ path: ["policy", "pacing", "domains", domain], message: `pacing for ${domain} and ${other} would share the Postfix transport ${t}` });
    transports.set(t, domain);
  }
  return problems;
}

function hostRules(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const relayNames = new Set(Object.keys(spec.relays));
  for (const name of Object.keys(spec.smarthosts)) {
    if (relayNames.has(name))
      problems.push({ path: ["smarthosts", name], message: `duplicate host name ${name}: already a relay; every host needs its own name` });
  }
  for (const [domain, d] of Object.entries(spec.domains)) {
    d.relays?.forEach((r, i) => {
      if (!relayNames.has(r))
        problems.push({ path: ["domains", domain, "relays", i], message: `unknown relay ${r}; known relays: ${[...relayNames].join(", ")}` });
      else if (d.relays!.indexOf(r) !== i) problems.push({ path: ["domains", domain, "relays", i], message: `relay ${r} is listed twice` });
    });
    if (d.relays && d.relays.length === 0)
      problems.push({ path: ["domains", domain, "relays"], message: `domain ${domain} has no relay: it needs at least one MX host` });
    if (d.dkim?.active && !d.dkim.selectors.includes(d.dkim.active))
      problems.push({ path: ["domains", domain, "dkim", "active"], message: `unknown selector ${d.dkim.active}; listed: ${d.dkim.selectors.join(", ")}` });
  }
  const opDkim = spec.operator.dkim;
  if (opDkim.active && !opDkim.selectors.includes(opDkim.active))
    problems.push({ path: ["operator", "dkim", "active"], message: `unknown selector ${opDkim.active}; listed: ${opDkim.selectors.join(", ")}` });
  const arc = spec.operator.arc;
  if (arc?.active && !arc.selectors.includes(arc.active))
    problems.push({ path: ["operator", "arc", "active"], message: `unknown selector ${arc.active}; listed: ${arc.selectors.join(", ")}` });
  arc?.selectors.forEach((sel, i) => {
    if (opDkim.selectors.includes(sel))
      problems.push({ path: ["operator", "arc", "selectors", i], message: `${sel} is also a DKIM selector of the operator: ${sel}._domainkey.${spec.operator.domain} can publish only one key; give the ARC key its own selector` });
  });
  const backupSeen = new Set<string>();
  spec.backupMx.forEach((b, i) => {
    if (backupSeen.has(b.host)) problems.push({ path: ["backupMx", i, "host"], message: `duplicate backup MX ${b.host}` });
    backupSeen.add(b.host);
  });
  const active = Object.values(spec.smarthosts).filter((s) => !s.drain && s.lane === "clean");
  if (active.length === 0)
    problems.push({ path: ["smarthosts"], message: "every clean-lane smarthost is drained: outbound mail would have nowhere to go" });
  problems.push(...weightRules(spec));
  if (spec.policy.spam.rejectScore <= spec.policy.spam.tagScore)
    problems.push({ path: ["policy", "spam", "rejectScore"], message: `the reject score must be above the tag score (${spec.policy.spam.tagScore}), or tagged mail would never be delivered` });
  const store = spec.policy.quotaStore;
  if (store && !has(spec.relays, store.host) && !(has(spec.smarthosts, store.host) && spec.smarthosts[store.host]!.kind === "own"))
    problems.push({
      path: ["policy", "quotaStore", "host"],
      message: `${store.host} is not one of our hosts; the quota store runs on a relay or an own smarthost: ${[...Object.keys(spec.relays), ...Object.entries(spec.smarthosts).filter(([, s]) => s.kind === "own").map(([n]) => n)].join(", ")}`,
    });
  const inbound = spec.policy.inbound;
  if (inbound.hardErrorLimit < inbound.softErrorLimit)
    problems.push({ path: ["policy", "inbound", "hardErrorLimit"], message: `must be at least softErrorLimit (${inbound.softErrorLimit})` });
  const lists = spec.policy.dnsbl.length;
  if (inbound.dnsblThreshold > Math.max(1, lists))
    problems.push({
      path: ["policy", "inbound", "dnsblThreshold"],
      message: `${inbound.dnsblThreshold} lists must agree, but policy.dnsbl has ${lists}: postscreen would never block anyone`,
    });
  return problems;
}

/** Weights and warm-up schedules (src/plan/weights.ts): the clean pool's members of the best preference only. */
function weightRules(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const own = Object.entries(spec.smarthosts).flatMap(([name, s]) => (s.kind === "own" ? [[name, s] as const] : []));
  const best = Math.min(...own.filter(([, s]) => s.lane === "clean" && !s.drain).map(([, s]) => s.preference));
  for (const [name, s] of own) {
    const field = s.warmup ? "warmup" : "weight";
    if (s.weight === undefined && !s.warmup) continue;
    if (s.weight !== undefined && s.warmup)
      problems.push({ path: ["smarthosts", name, "warmup"], message: "give weight or warmup, not both: during a warm-up the schedule's step is the weight" });
    else if (s.lane !== "clean")
      problems.push({ path: ["smarthosts", name, field], message: `${name} is in the spam lane: weights share the clean pool only (spam-tagged mail goes to the spam pool MX)` });
    else if (!s.drain && s.preference !== best)
      problems.push({
        path: ["smarthosts", name, field],
        message: `${name} has preference ${s.preference}, but weights share mail among the members of the best preference (${best}); ${name} is only a fallback: give it preference ${best} or drop its ${field}`,
      });
  }
  return problems;
}

/** RFC 7208 section 3.4: a record should fit a 512-byte UDP answer, so about 450 bytes of text. */
const SPF_RECORD_MAX = 450;

function spfRules(spec: Spec): Problem[] {
  const problems: Problem[] = [];
  const poolLookups = countSpfLookups(
    Object.values(spec.smarthosts).flatMap((s) => (s.kind === "external" && s.spfInclude ? [`include:${s.spfInclude}`] : [])),
  );
  for (const [domain, d] of Object.entries(spec.domains)) {
    const extra = d.spf?.extra ?? [];
    // The domain's own record: include:_spf.<operator> (1) + extra mechanisms; the included pool
    // record's own lookups count towards the same limit of 10 (RFC 7208 section 4.6.4).
    const total = 1 + poolLookups + countSpfLookups(extra);
    if (total > 10)
      problems.push({
        path: ["domains", domain, "spf", "extra"],
        message: `SPF for ${domain} needs ${total} DNS lookups (pool ${poolLookups + 1}, extra ${total - 1 - poolLookups}); receivers stop at 10 and fail the check`,
      });
    const record = ["v=spf1", `include:_spf.${spec.operator.domain}`, ...extra, "-all"].join(" ");
    if (record.length > SPF_RECORD_MAX)
      problems.push({
        path: ["domains", domain, "spf", "extra"],
        message: `the SPF record of ${domain} would be ${record.length} characters; keep it under ${SPF_RECORD_MAX} so it fits one DNS answer over UDP (RFC 7208 section 3.4)`,
      });
  }
  return problems;
}

export function crossFieldRules(spec: Spec): Problem[] {
  return [...nameRules(spec), ...aliasRules(spec), ...hostRules(spec), ...spfRules(spec)];
}
