// Plain-text tables for the plan: what a reviewer reads in a terminal or in render output.
import type { Plan } from "../plan/plan.ts";

export function table(header: string[], rawRows: string[][]): string {
  // A cell is one line: text can never forge a row of its own.
  const rows = rawRows.map((r) => r.map((c) => c.replace(/[\u0000-\u001f\u007f]/g, " ")));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** A smarthost's place in the relays' weighted choice (smarthost weights), when there is one. */
function poolShare(plan: Plan, host: string): string {
  const pool = plan.routing.weightedPool;
  if (!pool) return "";
  const m = pool.members.find((x) => x.host === host);
  if (m) return `, ${m.percent}% of clean mail (weight ${m.weight})`;
  return pool.excluded.some((x) => x.host === host) ? ", no weighted share" : "";
}

export function formatHostsTable(plan: Plan): string {
  return table(
    ["HOST", "ROLE", "FQDN / HELO", "IPV4", "IPV6", "LOCATION", "TYPE", "NOTES"],
    plan.hosts.map((h) => [
      h.name,
      h.role,
      h.fqdn,
      h.ipv4,
      h.ipv6,
      h.location,
      h.serverType,
      h.role === "relay" ? `MX for ${h.mxFor.join(", ")}` : `${h.lane} lane${h.drain ? ", DRAINING" : ""}${poolShare(plan, h.name)}`,
    ]),
  );
}

export function formatPtrTable(plan: Plan): string {
  return table(["PTR", "ADDRESS", "NAME"], plan.ptrs.map((p) => [p.id, p.address, p.name]));
}

export function formatDnsTable(plan: Plan): string {
  return table(
    ["ID", "NAME", "TYPE", "PRIO", "TTL", "CONTENT", "REASON"],
    plan.dns.map((r) => [r.id, r.name, r.type, r.priority === undefined ? "" : String(r.priority), String(r.ttl), r.content, `# ${r.reason}`]),
  );
}
