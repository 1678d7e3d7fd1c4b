// Changing the running lab's DNS (tests): records set through Knot's control socket, so signed
// zones are re-signed at once (a zone file edit would need a reload, and the lab never reloads).
import type { LabState } from "./index.ts";
import { zoneOf, type ZoneRecord } from "./zones.ts";
import { must } from "./proc.ts";

/** Replaces every record of each (name, type) given with the given ones, zone by zone, and waits for the commit. */
export async function setLabRecords(state: LabState, records: ZoneRecord[], ttl = 60): Promise<void> {
  const conf = `${state.root}/dns/knot.conf`;
  const byZone = new Map<string, ZoneRecord[]>();
  for (const r of records) {
    const z = zoneOf(r.name.toLowerCase().replace(/\.$/, ""), state.zones);
    if (!z) throw new Error(`no lab zone for ${r.name}`);
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
      for (const r of recs) await must(`knotc zone-set ${r.name} ${r.type}`, ["knotc", "-c", conf, "zone-set", zone, `${r.name}.`, String(ttl), r.type, ...r.value.split(/\s+/)]);
      await must(`knotc zone-commit ${zone}`, ["knotc", "-c", conf, "zone-commit", zone]);
    } catch (e) {
      await must(`knotc zone-abort ${zone}`, ["sh", "-c", 'knotc -c "$0" zone-abort "$1"; true', conf, zone]);
      throw e;
    }
  }
}
