// Changing the running lab's DNS (tests): records set through Knot's control socket, so signed
// zones are re-signed at once (a zone file edit would need a reload, and the lab never reloads).
import type { LabState } from "./index.ts";
import { rdata, zoneOf, type ZoneRecord } from "./zones.ts";
import { must } from "./proc.ts";

/** The lab zone a record name falls in; a name outside every zone is an error. */
function labZone(state: LabState, name: string): string {
  const zone = zoneOf(name.toLowerCase().replace(/\.$/, ""), state.zones);
  if (!zone) throw new Error(`no lab zone for ${name}`);
  return zone;
}

/** Replaces every record of each (name, type) given with the given ones, zone by zone, and waits for the commit. */
export async function setLabRecords(state: LabState, records: ZoneRecord[], ttl = 60): Promise<void> {
  // A TXT value is one quoted string; knotc reads the other types' fields as separate words.
  await changeRecords(state, records, (r) => [`${r.name}.`, String(ttl), r.type, ...(r.type === "TXT" ? [rdata(r)] : rdata(r).split(/\s+/))]);
}

/** Removes every record of each (name, type) given, zone by zone (a test puts back what it changed). */
export async function unsetLabRecords(state: LabState, keys: Pick<ZoneRecord, "name" | "type">[]): Promise<void> {
  await changeRecords(state, keys);
}

/** One transaction per zone: unset each (name, type) of `records`, then `knotc zone-set` each record's `set` arguments, then commit. */
async function changeRecords<R extends Pick<ZoneRecord, "name" | "type">>(state: LabState, records: R[], set?: (r: R) => string[]): Promise<void> {
  const conf = `${state.root}/dns/knot.conf`;
  const byZone = new Map<string, R[]>();
  for (const r of records) {
    const z = labZone(state, r.name);
    byZone.set(z, [...(byZone.get(z) ?? []), r]);
  }
  for (const [zone, recs] of byZone) {
    await must(`knotc zone-begin ${zone}`, ["knotc", "-c", conf, "zone-begin", zone]);
    try {
      for (const key of new Set(recs.map((r) => `${r.name}|${r.type}`))) {
        const [name, type] = key.split("|") as [string, string];
        // Owners end with a dot: knotc reads a name without one as relative to the zone.
        await must(`knotc zone-unset ${name} ${type}`, ["sh", "-c", 'knotc -c "$0" zone-unset "$1" "$2" "$3" >/dev/null 2>&1; true', conf, zone, `${name}.`, type]);
      }
      if (set) for (const r of recs) await must(`knotc zone-set ${r.name} ${r.type}`, ["knotc", "-c", conf, "zone-set", zone, ...set(r)]);
      await must(`knotc zone-commit ${zone}`, ["knotc", "-c", conf, "zone-commit", zone]);
    } catch (e) {
      await must(`knotc zone-abort ${zone}`, ["sh", "-c", 'knotc -c "$0" zone-abort "$1"; true', conf, zone]);
      throw e;
    }
  }
}

/** The records Knot serves now for (name, type), with their TTL: what a test changes and puts back. Knot refuses a name it has no record of. */
export async function readLabRecords(state: LabState, name: string, type: ZoneRecord["type"]): Promise<{ records: ZoneRecord[]; ttl: number }> {
  const zone = labZone(state, name);
  const r = await must(`knotc zone-read ${name} ${type}`, ["knotc", "-c", `${state.root}/dns/knot.conf`, "zone-read", zone, `${name.replace(/\.$/, "")}.`, type]);
  // Lines: "[zone.] owner. ttl TYPE data...", the data as a zone file has it: back to a ZoneRecord's value.
  const rows = r.stdout.split("\n").filter((l) => l.trim()).map((l) => l.trim().split(/\s+/));
  const value = (data: string[]): string => {
    if (type === "TXT") return [...data.join(" ").matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, "$1")).join("");
    if (type === "PTR" || type === "MX") return data.join(" ").replace(/\.$/, "");
    return data.join(" ");
  };
  return {
    records: rows.map((f) => ({ name: name.replace(/\.$/, ""), type, value: value(f.slice(4)) })),
    ttl: rows.length ? Number(rows[0]![2]) : 60,
  };
}
