// What a change does, as markdown for a pull-request comment: DNS records and PTRs added,
// removed or changed (by record id, with reasons), hosts, firewall rules (by rule id, with
// reasons), and a unified diff per config file.
import type { Rendered, RecordView, HostView, FirewallRuleView, PoolShareView } from "./render-ref.ts";
import { unifiedDiff } from "./unified.ts";

export interface Changes {
  records: { added: RecordView[]; removed: RecordView[]; changed: { before: RecordView; after: RecordView }[] };
  ptrs: { added: string[]; removed: string[]; changed: string[] };
  hosts: { added: HostView[]; removed: HostView[]; changed: { before: HostView; after: HostView; fields: string[] }[] };
  firewall: { added: FirewallRuleView[]; removed: FirewallRuleView[]; changed: { before: FirewallRuleView; after: FirewallRuleView }[] };
  files: { added: string[]; removed: string[]; changed: string[] };
  /** Pool members whose share of the relays' weighted choice changed (percent; undefined: no share on that side). */
  pool: { host: string; before?: number; after?: number; reason?: string }[];
}

function byId<T>(list: T[], key: (t: T) => string): Map<string, T> {
  return new Map(list.map((t) => [key(t), t]));
}

function compare<T>(a: T[], b: T[], key: (t: T) => string, same: (x: T, y: T) => boolean) {
  const A = byId(a, key);
  const B = byId(b, key);
  return {
    added: [...B.keys()].filter((k) => !A.has(k)).sort().map((k) => B.get(k)!),
    removed: [...A.keys()].filter((k) => !B.has(k)).sort().map((k) => A.get(k)!),
    changed: [...A.keys()].filter((k) => B.has(k) && !same(A.get(k)!, B.get(k)!)).sort().map((k) => ({ before: A.get(k)!, after: B.get(k)! })),
  };
}

const json = (x: unknown) => JSON.stringify(x);

function poolChanges(base: PoolShareView[], head: PoolShareView[]): Changes["pool"] {
  const hosts = [...new Set([...base, ...head].map((m) => m.host))].sort();
  return hosts.flatMap((host) => {
    const b = base.find((m) => m.host === host);
    const a = head.find((m) => m.host === host);
    return b?.percent === a?.percent ? [] : [{ host, ...(b ? { before: b.percent } : {}), ...(a ? { after: a.percent, reason: a.reason } : {}) }];
  });
}

export function changes(base: Rendered, head: Rendered): Changes {
  const recordData = (r: RecordView) => json([r.name, r.type, r.content, r.priority, r.ttl]);
  const ptrs = compare(base.ptrs, head.ptrs, (p) => p.id, (x, y) => x.address === y.address && x.name === y.name);
  const hostFields = (h: HostView) => ({ role: h.role, fqdn: h.fqdn, helo: h.helo, location: h.location, serverType: h.serverType, lane: h.lane, drain: h.drain, mxFor: h.mxFor.join(",") });
  const hosts = compare(base.hosts, head.hosts, (h) => h.name, (x, y) => json(hostFields(x)) === json(hostFields(y)));
  const files = compare([...base.files.keys()], [...head.files.keys()], (k) => k, (x) => base.files.get(x)!.content === head.files.get(x)!.content && base.files.get(x)!.mode === head.files.get(x)!.mode);
  const ruleData = (r: FirewallRuleView) => json([r.protocol, r.port, [...r.sources].sort()]);
  return {
    records: compare(base.records, head.records, (r) => r.id, (x, y) => recordData(x) === recordData(y)),
    firewall: compare(base.firewall ?? [], head.firewall ?? [], (r) => r.id, (x, y) => ruleData(x) === ruleData(y)),
    ptrs: { added: ptrs.added.map((p) => p.id), removed: ptrs.removed.map((p) => p.id), changed: ptrs.changed.map((c) => c.after.id) },
    hosts: {
      added: hosts.added,
      removed: hosts.removed,
      changed: hosts.changed.map((c) => ({ ...c, fields: Object.keys(hostFields(c.before)).filter((f) => json(hostFields(c.before)[f as "role"]) !== json(hostFields(c.after)[f as "role"])) })),
    },
    files: { added: files.added, removed: files.removed, changed: files.changed.map((c) => c.after) },
    pool: poolChanges(base.pool ?? [], head.pool ?? []),
  };
}

// Text from a revision is data: it cannot start a line, close a code span or add a table cell.
const flat = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, " ");
const code = (s: string) => `\`${flat(s).replace(/`/g, "'")}\``;
const cell = (s: string) => flat(s).replace(/\|/g, "\\|");
const rule = (r: FirewallRuleView) => `${r.protocol}${r.port !== undefined ? ` ${r.port}` : ""} from ${r.sources.join(" ")}`;
const rdata = (r: RecordView) => `${r.name} ${r.ttl} ${r.type} ${r.priority !== undefined ? `${r.priority} ` : ""}${r.content}`;

/**
 * Lines that look like a secret in clear text: in a file that holds secrets once filled (mode
 * 0600) every line should carry a ${secret:NAME} reference, and nothing should read
 * "password = value". The render never sees a secret value, so such a line can only come from
 * the spec itself, which the pull request already shows: the diff shows the file anyway, with a
 * warning. Withholding it would hide from the reviewer exactly what injected text changed.
 */
export function secretLeak(path: string, content: string, mode: string): string | undefined {
  const suspicious = content
    .split("\n")
    .filter((l) => l.trim() && !l.trim().startsWith("#"))
    .filter((l) => (mode === "0600" && !l.includes("${secret:")) || /(password|passwd|secret)\s*[=:]\s*(?!\/|\$|[a-z]+:\/)\S{6,}/i.test(l.replace(/\$\{secret:[^}]*\}/g, "<ref>")));
  return suspicious.length ? `${path}: ${suspicious.length} line(s) look like a secret in clear text` : undefined;
}

export function markdown(stack: string, baseLabel: string, headLabel: string, base: Rendered, head: Rendered): string {
  const c = changes(base, head);
  const out: string[] = [`## facteur diff: stack \`${stack}\`, ${baseLabel} → ${headLabel}`, ""];
  if (!base.exists) out.push(`New stack: \`stacks/${stack}.facteur.yaml\` does not exist at ${baseLabel}.`, "");
  if (!head.exists) out.push(`Stack removed: \`stacks/${stack}.facteur.yaml\` does not exist at ${headLabel}.`, "");
  const n = (x: { added: unknown[]; removed: unknown[]; changed: unknown[] }) => x.added.length + x.removed.length + x.changed.length;
  const total = n(c.records) + n(c.ptrs) + n(c.hosts) + n(c.firewall) + n(c.files) + c.pool.length;
  if (total === 0) return [...out, "No change to DNS records, PTRs, hosts, firewall rules or rendered configuration.", ""].join("\n");
  out.push(
    `**${n(c.records)}** DNS record change(s) (+${c.records.added.length} −${c.records.removed.length} ~${c.records.changed.length}), **${n(c.ptrs)}** PTR, **${n(c.hosts)}** host, **${n(c.firewall)}** firewall rule, **${n(c.files)}** config file change(s).`,
    "",
  );

  if (n(c.records)) {
    out.push("### DNS records", "", "| | id | record | reason |", "|---|---|---|---|");
    for (const r of c.records.added) out.push(`| ➕ added | ${code(r.id)} | ${code(cell(rdata(r)))} | ${cell(r.reason)} |`);
    for (const r of c.records.removed) out.push(`| ➖ removed | ${code(r.id)} | ${code(cell(rdata(r)))} | ${cell(r.reason)} |`);
    for (const { before, after } of c.records.changed)
      out.push(`| ✏️ changed | ${code(after.id)} | ${code(cell(rdata(before)))} → ${code(cell(rdata(after)))} | ${cell(after.reason)} |`);
    out.push("");
  }
  if (n(c.ptrs)) {
    out.push("### Reverse DNS (PTR)", "");
    const ptr = (id: string, r: Rendered) => r.ptrs.find((p) => p.id === id)!;
    for (const id of c.ptrs.added) out.push(`- ➕ ${code(id)}: ${code(`${ptr(id, head).address} PTR ${ptr(id, head).name}`)}`);
    for (const id of c.ptrs.removed) out.push(`- ➖ ${code(id)}: ${code(`${ptr(id, base).address} PTR ${ptr(id, base).name}`)}`);
    for (const id of c.ptrs.changed) out.push(`- ✏️ ${code(id)}: ${code(`${ptr(id, base).address} PTR ${ptr(id, base).name}`)} → ${code(`${ptr(id, head).address} PTR ${ptr(id, head).name}`)}`);
    out.push("");
  }
  if (n(c.hosts)) {
    out.push("### Hosts", "");
    const desc = (h: HostView) => `${h.role}${h.lane ? ` (${h.lane} lane)` : ""} ${code(h.fqdn)}, ${flat(h.serverType)} in ${flat(h.location)}${h.drain ? ", **drained**" : ""}`;
    for (const h of c.hosts.added) out.push(`- ➕ **${h.name}**: new ${desc(h)}`);
    for (const h of c.hosts.removed) out.push(`- ➖ **${h.name}**: ${desc(h)} is removed (its server, IPs and PTRs go with it)`);
    for (const h of c.hosts.changed) out.push(`- ✏️ **${h.after.name}**: ${h.fields.map((f) => `${f} ${code(String((h.before as unknown as Record<string, unknown>)[f] ?? "-"))} → ${code(String((h.after as unknown as Record<string, unknown>)[f] ?? "-"))}`).join(", ")}`);
    out.push("");
  }
  if (n(c.firewall)) {
    out.push("### Firewall (inbound)", "", "| | id | rule | reason |", "|---|---|---|---|");
    for (const r of c.firewall.added) out.push(`| ➕ added | ${code(r.id)} | ${code(cell(rule(r)))} | ${cell(r.reason)} |`);
    for (const r of c.firewall.removed) out.push(`| ➖ removed | ${code(r.id)} | ${code(cell(rule(r)))} | ${cell(r.reason)} |`);
    for (const { before, after } of c.firewall.changed) out.push(`| ✏️ changed | ${code(after.id)} | ${code(cell(rule(before)))} → ${code(cell(rule(after)))} | ${cell(after.reason)} |`);
    out.push("");
  }
  if (c.pool.length) {
    // The shares a reviewer reads, beside the randmap line of the relays' main.cf.
    const share = (p: number | undefined, side: Rendered) => (p !== undefined ? `${p}%` : side.pool?.length ? "none" : "pool MX (no weights)");
    out.push("### Smarthost pool shares (relays' weighted choice)", "", "| member | before | after | why |", "|---|---|---|---|");
    for (const p of c.pool) out.push(`| **${p.host}** | ${share(p.before, base)} | ${share(p.after, head)} | ${cell(p.reason ?? "no share: drained, before its warm-up, or weights removed")} |`);
    out.push("");
  }
  if (n(c.files)) {
    out.push("### Rendered configuration", "");
    const leaks: string[] = [];
    const section = (key: string, before: string, after: string, mode: string) => {
      const [host, path] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
      const leak = secretLeak(key, after, mode) ?? secretLeak(key, before, mode);
      if (leak) leaks.push(leak);
      const body = unifiedDiff(before, after);
      // A fence longer than any backtick run inside, so file content cannot close it early.
      const fence = "`".repeat(Math.max(3, ...[...`${before}\n${after}`.matchAll(/`+/g)].map((m) => m[0].length + 1)));
      return [
        `#### ${host}: ${code(path)}`,
        "",
        ...(leak ? ["> ⚠️ some lines look like a secret in clear text: secrets belong in Pulumi config, named by a passwordSecret field.", ""] : []),
        `${fence}diff`,
        `--- ${before === "" ? "/dev/null" : `a/${host}${path}`}`,
        `+++ ${after === "" ? "/dev/null" : `b/${host}${path}`}`,
        body,
        fence,
        "",
      ];
    };
    const hostsAdded = new Set(c.hosts.added.map((h) => h.name));
    const newHostFiles = c.files.added.filter((k) => hostsAdded.has(k.slice(0, k.indexOf(":"))));
    for (const k of c.files.changed) out.push(...section(k, base.files.get(k)!.content, head.files.get(k)!.content, head.files.get(k)!.mode));
    for (const k of c.files.added.filter((k) => !newHostFiles.includes(k))) out.push(...section(k, "", head.files.get(k)!.content, head.files.get(k)!.mode));
    for (const k of c.files.removed) out.push(...section(k, base.files.get(k)!.content, "", base.files.get(k)!.mode));
    for (const h of [...hostsAdded]) {
      const keys = newHostFiles.filter((k) => k.startsWith(`${h}:`));
      out.push(`<details><summary>New host <b>${h}</b>: ${keys.length} new files (${keys.map((k) => k.slice(k.indexOf(":") + 1)).join(", ")})</summary>`, "");
      for (const k of keys) out.push(...section(k, "", head.files.get(k)!.content, head.files.get(k)!.mode));
      out.push("</details>", "");
    }
    if (leaks.length) out.push(`> ⚠️ ${leaks.length} file(s) have lines that look like a secret in clear text (shown above, for review): ${leaks.join("; ")}`, "");
  }
  return out.join("\n");
}
