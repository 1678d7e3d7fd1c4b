// Story 5 of the field notes, against the running lab: `facteur check` reads the lab's DNS (Knot)
// and talks SMTP to the real Postfix instances. The lab's blocklist lists one smarthost and one
// PTR is deliberately wrong: check must say CRITICAL for exactly those, name the list, and pass
// everything else (records, SPF lookups, DKIM keys, DMARC, FCrDNS, banners and EHLO names).
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import type { LabState } from "../src/lab/index.ts";
import { readLabRecords, setLabRecords, unsetLabRecords } from "../src/lab/dnsUpdate.ts";
import type { ZoneRecord } from "../src/lab/zones.ts";
import { labSkipReason, inHost, hostOf } from "./support/lab.ts";
import { reverseName } from "../src/plan/addresses.ts";
import "./support/labStacks.ts";
import { exampleLab, exampleLabStack } from "./support/exampleLab.ts";
import { exampleStacksDir } from "./support/example.ts";
import { FACTEUR } from "./support/facteurCli.ts";

// Its own namespaces and root (can run beside the example lab), or the stack the lab-example suite shares.
const STACK = exampleLabStack("check");
/** A stacks directory holding the example under this test's own stack name, for `facteur check --stack`: never the user's `example`. */
let STACKS: string;
const skip = labSkipReason();

let lab: LabState;

interface Result {
  id: string;
  state: string;
  what: string;
  note?: string;
  found?: string;
}

async function facteurCheck(args: string[]): Promise<{ code: number; report: { state: string; results: Result[] }; stdout: string }> {
  const r = await inHost(lab, "sender", [...FACTEUR, "check", "--stack", STACK, "--stacks", STACKS, ...args], undefined, 120_000);
  return { code: r.code, report: args.includes("--json") ? JSON.parse(r.stdout) : { state: "", results: [] }, stdout: r.stdout };
}

describe("facteur check against the lab", { skip }, () => {
  /** The PTR this file replaces, as Knot served it before: put back at the end, for the files sharing the stack. */
  let ptrBefore: { records: ZoneRecord[]; ttl: number } | undefined;
  let listing: ZoneRecord[] = [];
  before(async () => {
    STACKS = exampleStacksDir(STACK);
    lab = await exampleLab(STACK);
    // The lab's blocklist lists out1; out2's PTR names mx1. Set in the running DNS, taken out after.
    const out1 = hostOf(lab, "out1").ipv4[0]!;
    const out2 = reverseName(hostOf(lab, "out2").ipv4[0]!)!;
    const listed = out1.split(".").reverse().join(".");
    listing = [
      { name: `${listed}.bl.lab.tld`, type: "A", value: "127.0.0.2" },
      { name: `${listed}.bl.lab.tld`, type: "TXT", value: "listed for the facteur lab test" },
    ];
    ptrBefore = await readLabRecords(lab, out2, "PTR");
    await setLabRecords(lab, [...listing, { name: out2, type: "PTR", value: "mx1.relais.tld" }]);
  });
  /** Takes the listing out and puts out2's PTR back (twice is once). */
  async function putBack() {
    await unsetLabRecords(lab, listing);
    if (ptrBefore) await setLabRecords(lab, ptrBefore.records, ptrBefore.ttl);
  }
  after(async () => {
    if (STACKS) rmSync(STACKS, { recursive: true, force: true });
    // Also after a failed test: the files after this one share the stack.
    if (lab) await putBack();
  });

  it("is CRITICAL for exactly the listed smarthost and the wrong PTR, naming the list, and OK for the rest", async () => {
    const { code, report } = await facteurCheck(["--resolver", lab.resolver, "--json"]);
    assert.equal(code, 2, JSON.stringify(report.results.filter((r) => r.state !== "OK"), null, 1));
    const bad = report.results.filter((r) => r.state !== "OK");
    assert.deepEqual(bad.map((r) => `${r.state} ${r.id}`).sort(), ["CRITICAL dnsbl:bl.lab.tld:out1:ipv4", "CRITICAL fcrdns:out2:ipv4", "CRITICAL ptr:out2:ipv4"].sort());
    const listing = bad.find((r) => r.id.startsWith("dnsbl:"))!;
    assert.match(`${listing.what} ${listing.found ?? ""} ${listing.note ?? ""}`, /bl\.lab\.tld/);
    assert.match(`${listing.found ?? ""} ${listing.note ?? ""}`, /listed for the facteur lab test/);
    const ids = report.results.map((r) => r.id);
    for (const h of ["mx1", "mx2", "out1", "out2", "spam1"])
      for (const f of ["ipv4", "ipv6"]) assert.ok(ids.includes(`smtp:${h}:${f}`), `no SMTP banner check of ${h} over ${f}`);
    assert.ok(ids.includes("spf-pool:lookups") && ids.includes("dkim:relais.tld:f2026a"));
  });

  it("speaks Nagios: first line, perf data, exit code", async () => {
    const { code, stdout } = await facteurCheck(["--resolver", lab.resolver]);
    assert.equal(code, 2);
    assert.match(stdout.split("\n")[0]!, /^FACTEUR CRITICAL - 3 critical \| ok=\d+ warning=0 critical=3 unknown=0$/);
  });

  // Last: the files after this one in the lab-example suite get the stack's DNS as it was.
  it("puts the DNS back as it found it: then check finds nothing wrong", async () => {
    await putBack();
    const { code, report } = await facteurCheck(["--resolver", lab.resolver, "--json"]);
    assert.equal(code, 0, JSON.stringify(report.results.filter((r) => r.state !== "OK"), null, 1));
  });
});
