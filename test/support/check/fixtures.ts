// Test fixtures shared by the check tests: the example stack with fixed addresses, and the DNS a
// correct deployment of a plan would publish (as a lookup table, or as records for zone files).
import { generateKeyPairSync } from "node:crypto";
import { loadSpecFile, stackSpecPath } from "../../../src/spec/load.ts";
import { buildModel, type Model } from "../../../src/model/model.ts";
import { buildPlan, type Plan } from "../../../src/plan/plan.ts";
import { plannedKeys, type DkimPublicKeys } from "../../../src/plan/dns.ts";
import type { AddressBook } from "../../../src/plan/addresses.ts";
import { planZoneRecords, type ZoneRecord } from "../../../src/lab/zones.ts";

/** Loopback IPv4, and IPv4-mapped IPv6 of the same loopback address, so every probe stays on this machine. */
export function loopbackAddresses(hosts: string[], thirdOctet = 53): AddressBook {
  return Object.fromEntries(
    hosts.map((h, i) => {
      const last = i + 1;
      return [h, { ipv4: `127.0.${thirdOctet}.${last}`, ipv6: `::ffff:7f00:${(thirdOctet * 256 + last).toString(16)}` }];
    }),
  );
}

export function exampleModel(root = "."): Model {
  return buildModel(loadSpecFile(stackSpecPath(`${root}/stacks`, "example")));
}

export function dkimKeysFor(model: Model): DkimPublicKeys {
  const keys: DkimPublicKeys = {};
  for (const k of plannedKeys(model)) {
    const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    keys[k.id] = publicKey.export({ type: "spki", format: "der" }).toString("base64");
  }
  return keys;
}

/** What a lookup returns: the zone record type of src/lab/zones.ts. */
export type LiveRecord = ZoneRecord;

export function liveRecordsOf(plan: Plan, model: Model): LiveRecord[] {
  const out: LiveRecord[] = planZoneRecords(plan);
  for (const e of model.externalRelays) if (e.spfInclude) out.push({ name: e.spfInclude, type: "TXT", value: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:fa1::/48 -all" });
  return out;
}

export function lookupTable(records: LiveRecord[]): Record<string, string[]> {
  const t: Record<string, string[]> = {};
  for (const r of records) (t[`${r.type} ${r.name.toLowerCase()}`] ??= []).push(r.value);
  return t;
}

export function examplePlan(root = ".", withKeys = true): { model: Model; plan: Plan; addresses: AddressBook; dkimKeys: DkimPublicKeys } {
  const model = exampleModel(root);
  const addresses = loopbackAddresses([...model.relays, ...model.smarthosts].map((h) => h.name));
  const dkimKeys = withKeys ? dkimKeysFor(model) : {};
  return { model, plan: buildPlan(model, { addresses, dkimKeys }), addresses, dkimKeys };
}
