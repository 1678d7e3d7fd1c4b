// The lab's DNS record changes (extraRecords / overrideRecords of labUp): pure, no root needed.
import { it } from "node:test";
import assert from "node:assert/strict";
import { applyRecordChanges } from "../src/lab/knot.ts";
import { dnsblListing, zoneFiles } from "../src/lab/zones.ts";

it("lab DNS: extra records are added, overrides replace the same name and type only", () => {
  const planned = [
    { name: "11.100.51.198.in-addr.arpa", type: "PTR" as const, value: "mx1.relais.tld" },
    { name: "mx1.relais.tld", type: "A" as const, value: "198.51.100.11" },
  ];
  const out = applyRecordChanges(planned, {
    overrideRecords: [{ name: "11.100.51.198.in-addr.arpa.", type: "PTR", value: "wrong.relais.tld" }],
    extraRecords: dnsblListing("203.0.113.66", "bl.lab.tld", "spammer"),
  });
  assert.deepEqual(out.filter((r) => r.type === "PTR").map((r) => r.value), ["wrong.relais.tld"]);
  assert.ok(out.some((r) => r.type === "A" && r.value === "198.51.100.11"));
  const files = zoneFiles(out, ["bl.lab.tld", "relais.tld", "100.51.198.in-addr.arpa"]);
  assert.match(files.get("bl.lab.tld")!, /^66\.113\.0\.203\.bl\.lab\.tld\. 60 IN A 127\.0\.0\.2$/m);
  assert.match(files.get("bl.lab.tld")!, /^66\.113\.0\.203\.bl\.lab\.tld\. 60 IN TXT "spammer"$/m);
  assert.equal(dnsblListing("2001:db8::1", "bl.lab.tld")[0]!.name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.lab.tld");
});
