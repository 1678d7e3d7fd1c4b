// Records already in a zone that would fight the plan's, found before anything is created.
//
// A zone that already carries MX, SPF or DMARC records facteur does not own would end up with
// two SPF records (a permerror: receivers then fail SPF for every message), a second DMARC
// policy, or stale MX hosts still receiving mail. facteur refuses, listing them, unless the
// operator opts in (facteur:adoptRecords): each conflicting record is then imported into the
// planned record of the same name and kind and updated to the plan; facteur never deletes a
// record it did not create, so one without a planned counterpart still stops the deployment.
import type { DnsRecord } from "../plan/dns.ts";
import { byText, compareText } from "../order.ts";

/** A record as Cloudflare lists it (cloudflare.getDnsRecords results). */
export interface ExistingRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  priority?: number;
  comment?: string | null;
}

/** The comment facteur puts on every record it manages; it identifies them in a zone. */
export function recordComment(id: string): string {
  return `facteur ${id}`;
}

type Kind = "mx" | "spf" | "dmarc" | "dkim" | "address" | "cname";

const norm = (name: string) => name.toLowerCase().replace(/\.$/, "");
const unquote = (content: string) => content.replace(/^"|"$/g, "").replace(/"\s+"/g, "");

/** What a planned record is, for conflict purposes; undefined when others may coexist with it. */
function plannedKind(r: DnsRecord): Kind | undefined {
  if (r.type === "MX") return "mx";
  if (r.type === "A" || r.type === "AAAA") return "address";
  if (r.content.startsWith("v=spf1")) return "spf";
  if (r.content.startsWith("v=DMARC1")) return "dmarc";
  if (r.content.startsWith("v=DKIM1")) return "dkim";
  return undefined;
}

function existingKind(r: ExistingRecord): Kind | undefined {
  if (r.type === "MX") return "mx";
  if (r.type === "A" || r.type === "AAAA") return "address";
  if (r.type === "CNAME") return "cname";
  if (r.type !== "TXT") return undefined;
  const c = unquote(r.content);
  if (/^v=spf1(\s|$)/i.test(c)) return "spf";
  if (/^v=DMARC1/i.test(c)) return "dmarc";
  if (/^v=DKIM1/i.test(c) || /(^|;)\s*p=/.test(c)) return "dkim";
  return undefined;
}

export interface Conflict {
  zone: string;
  existing: ExistingRecord;
  /** The planned record it would be adopted into, when there is one. */
  planned?: DnsRecord;
}

/** A record as a reader recognises it in the Cloudflare dashboard. */
export function describeExisting(r: ExistingRecord): string {
  return `${r.name} ${r.type}${r.priority !== undefined && r.type === "MX" ? ` ${r.priority}` : ""} ${r.content} (Cloudflare id ${r.id})`;
}

/**
 * The foreign records of one zone that clash with the plan's records in it, each paired with
 * the planned record it could be adopted into: same name, same kind (A with A, AAAA with
 * AAAA), in priority order for MX (the old primary becomes the new primary). A CNAME at a
 * planned name can never coexist and has no counterpart; neither has a second SPF record.
 */
export function zoneConflicts(zone: string, planned: DnsRecord[], existing: ExistingRecord[]): Conflict[] {
  const mine = planned.filter((r) => r.zone === zone);
  const plannedNames = new Set(mine.map((r) => norm(r.name)));
  const foreign = existing.filter((e) => !e.comment?.startsWith("facteur "));
  const byPriority = <T extends { priority?: number }>(key: (t: T) => string) => (a: T, b: T) => (a.priority ?? 0) - (b.priority ?? 0) || compareText(key(a), key(b));
  const groups = new Map<string, ExistingRecord[]>();
  for (const e of foreign) {
    const kind = existingKind(e);
    if (!kind || !plannedNames.has(norm(e.name))) continue;
    const g = `${norm(e.name)} ${kind} ${kind === "address" ? e.type : ""}`;
    groups.set(g, [...(groups.get(g) ?? []), e]);
  }
  const out: Conflict[] = [];
  for (const [g, records] of groups) {
    const [name, kind, type] = g.split(" ") as [string, Kind, string];
    const candidates = kind === "cname" ? [] : mine.filter((p) => norm(p.name) === name && plannedKind(p) === kind && (kind !== "address" || p.type === type)).sort(byPriority((p) => p.id));
    if (kind !== "cname" && candidates.length === 0) continue; // e.g. an MX where facteur plans none: not ours to judge
    records.sort(byPriority((e) => `${e.content} ${e.id}`)).forEach((e, i) => out.push({ zone, existing: e, ...(candidates[i] ? { planned: candidates[i] } : {}) }));
  }
  return out.sort(byText((c) => describeExisting(c.existing)));
}

/** The error that stops a deployment, listing every conflict and both ways out. */
export function conflictError(conflicts: Conflict[], adopting: boolean): string {
  const lines = conflicts.map((c) => `  ${c.zone}: ${describeExisting(c.existing)}${c.planned ? ` (would become ${c.planned.id})` : " (no planned record to adopt it into)"}`);
  return adopting
    ? `these records were not created by facteur and have no planned counterpart to adopt them into; delete them in Cloudflare first (facteur never deletes what it did not create):\n${lines.join("\n")}`
    : `these records were not created by facteur and clash with the plan (two SPF or DMARC records break both; a stale MX keeps receiving mail):\n${lines.join("\n")}\n` +
        `Delete them in Cloudflare, or let facteur take them over: pulumi config set facteur:adoptRecords true (each is imported into the planned record named above and updated to the plan).`;
}
