// The placeholder plan: a plan made before the servers and keys exist names what each text
// waits for (<mx1.ipv4>, <dkim:domain/selector>, <tlsa:tls:host/key>); the Pulumi program asks
// refsIn which values a record or bundle depends on and fillPlaceholders puts them in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fillPlaceholders, hasPlaceholder, isDkimPlaceholder, placeholderFamily, refsIn, tlsaSha256 } from "../src/plan/placeholders.ts";

const TEXT = [
  "v=spf1 ip4:<out-2.ipv4> ip6:<out-2.ipv6> ip4:<mx1.ipv4> -all",
  "v=DKIM1; k=rsa; p=<dkim:relais.tld/f2026a>",
  "3 1 1 <tlsa:tls:mx1.relais.tld/mx2026a>",
  "again <mx1.ipv4> and <dkim:relais.tld/f2026a>",
];

test("refsIn: each address and key a text waits for, once, TLSA digests waiting on their key", () => {
  assert.deepEqual(refsIn(...TEXT), {
    addresses: [
      { host: "out-2", family: "ipv4" },
      { host: "out-2", family: "ipv6" },
      { host: "mx1", family: "ipv4" },
    ],
    dkim: ["relais.tld/f2026a", "tls:mx1.relais.tld/mx2026a"],
  });
  assert.deepEqual(refsIn("no placeholder, <MX1.ipv4> is not one, nor <mx1.ipv5>"), { addresses: [], dkim: [] });
  // Keys come sorted whatever order the texts name them in (a bundle's dependencies are stable).
  assert.deepEqual(refsIn("p=<dkim:z.tld/s1>", "p=<dkim:a.tld/s2>", "3 1 1 <tlsa:tls:b.tld/k>").dkim, ["a.tld/s2", "tls:b.tld/k", "z.tld/s1"]);
  assert.ok(hasPlaceholder(TEXT[0]!) && hasPlaceholder(TEXT[1]!) && hasPlaceholder(TEXT[2]!));
  assert.ok(!hasPlaceholder("v=spf1 ip4:198.51.100.11 -all"));
});

test("fillPlaceholders: every placeholder replaced by its value, a TLSA one by its key's digest; a missing value names the text", () => {
  const spki = Buffer.from("PUBLIC-KEY").toString("base64");
  const values = {
    addresses: { "out-2.ipv4": "203.0.113.22", "out-2.ipv6": "2001:db8:113::22", "mx1.ipv4": "198.51.100.11" },
    dkim: { "relais.tld/f2026a": "MIIBkey", "tls:mx1.relais.tld/mx2026a": spki },
  };
  assert.deepEqual(
    TEXT.map((t) => fillPlaceholders(t, values, "dns")),
    [
      "v=spf1 ip4:203.0.113.22 ip6:2001:db8:113::22 ip4:198.51.100.11 -all",
      "v=DKIM1; k=rsa; p=MIIBkey",
      `3 1 1 ${tlsaSha256(spki)}`,
      "again 198.51.100.11 and MIIBkey",
    ],
  );
  assert.match(tlsaSha256(spki), /^[0-9a-f]{64}$/);
  assert.throws(() => fillPlaceholders("<mx2.ipv6>", values, "record mx2"), /^Error: record mx2: no value for placeholder <mx2\.ipv6>$/);
  assert.throws(() => fillPlaceholders("<dkim:a.tld/s1>", values, "record dkim"), /record dkim: no value for placeholder <dkim:a\.tld\/s1>/);
  assert.throws(() => fillPlaceholders("<tlsa:tls:out1/k>", values, "record tlsa"), /record tlsa: no value for placeholder <tlsa:tls:out1\/k>/);
});

test("whole-value checks: a DKIM placeholder, an address placeholder's family", () => {
  assert.ok(isDkimPlaceholder("<dkim:relais.tld/f2026a>"));
  assert.ok(!isDkimPlaceholder("p=<dkim:relais.tld/f2026a>") && !isDkimPlaceholder("<dkim:relais.tld/f2026a>;") && !isDkimPlaceholder("<dkim:>") && !isDkimPlaceholder("<mx1.ipv4>"));
  assert.equal(placeholderFamily("<mx-1.ipv6>"), "ipv6");
  assert.equal(placeholderFamily("<mx1.ipv4>"), "ipv4");
  assert.equal(placeholderFamily("x<mx1.ipv4>"), undefined);
  assert.equal(placeholderFamily("198.51.100.11"), undefined);
});
