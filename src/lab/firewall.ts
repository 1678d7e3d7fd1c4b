// The plan's firewall rules (src/plan/firewall.ts) in the lab: one nftables input chain per
// host namespace, with the semantics of a Hetzner firewall. Inbound traffic no rule allows is
// dropped (silently: a probe times out, as at Hetzner), replies to the host's own connections
// and everything outbound pass, loopback is the host's own business. Each nft rule carries the
// plan rule's id as its comment, so `nft list ruleset` in a namespace reads like the plan.
import { isIPv4, isIPv6 } from "node:net";
import type { Plan } from "../plan/plan.ts";
import { ANYWHERE, type FirewallRule, type PlannedFirewall } from "../plan/firewall.ts";
import { mkdirSync, writeFileSync } from "node:fs";
import { must } from "./proc.ts";

const cidrFamily = (cidr: string): 4 | 6 => {
  const addr = cidr.replace(/\/\d+$/, "");
  if (isIPv4(addr)) return 4;
  if (isIPv6(addr)) return 6;
  throw new Error(`firewall source ${cidr} is not a CIDR (a placeholder the lab should have filled?)`);
};

function nftRule(r: FirewallRule): string[] {
  const match = r.protocol === "icmp" ? "meta l4proto { icmp, ipv6-icmp }" : `tcp dport ${r.port}`;
  const tail = `accept comment "${r.id}"`;
  const anywhere = ANYWHERE.every((a) => r.sources.includes(a));
  if (anywhere) return [`${match} ${tail}`];
  const v4 = r.sources.filter((s) => cidrFamily(s) === 4);
  const v6 = r.sources.filter((s) => cidrFamily(s) === 6);
  return [...(v4.length ? [`ip saddr { ${v4.join(", ")} } ${match} ${tail}`] : []), ...(v6.length ? [`ip6 saddr { ${v6.join(", ")} } ${match} ${tail}`] : [])];
}

/** The nftables ruleset of one firewall (pure). */
export function nftRuleset(fw: PlannedFirewall): string {
  return [
    `# facteur lab: ${fw.id}, from the plan`,
    "table inet facteur {",
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    '    iif "lo" accept',
    "    ct state established,related accept",
    // Hetzner firewalls never see neighbour discovery (it stays on the link to Hetzner's
    // router); in the lab the bridge is that link, so it must pass whatever the rules say.
    '    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } accept comment "lab: neighbour discovery"',
    ...fw.rules.flatMap(nftRule).map((l) => `    ${l}`),
    "  }",
    "}",
    "",
  ].join("\n");
}

/** nftables input that empties the table `inet facteur`: declaring it then deleting it works whether or not it exists. */
const NO_TABLE = "table inet facteur\ndelete table inet facteur\n";

/** One host's firewall as the lab keeps it: the ruleset file written at bring-up, and its report line. */
export interface LabFirewall {
  host: string;
  ns: string;
  /** The nftables file: it replaces the table `inet facteur` whole, so loading it twice is loading it once. */
  file: string;
  line: string;
}

/** Writes each host's firewall (by its role) to `<dir>/<host>.nft`; loads nothing. */
export function writeLabFirewalls(plan: Plan, nsOf: (host: string) => string, dir: string): LabFirewall[] {
  mkdirSync(dir, { recursive: true });
  return plan.hosts.flatMap((h) => {
    const fw = plan.firewalls.find((f) => f.role === h.role);
    if (!fw) return [];
    const file = `${dir}/${h.name}.nft`;
    // It starts from no table, whether or not one is loaded.
    writeFileSync(file, `${NO_TABLE}${nftRuleset(fw)}`);
    return [{ host: h.name, ns: nsOf(h.name), file, line: `${h.name}: firewall ${fw.id} (${fw.rules.map((r) => r.id.split(":").pop()).join(", ")})` }];
  });
}

/** Loads (on) or removes (off) each host's firewall in its namespace; returns the report lines of what it loaded. */
export async function switchLabFirewalls(firewalls: LabFirewall[], on: boolean): Promise<string[]> {
  for (const f of firewalls) {
    await must(`nftables ${on ? "on" : "off"} in ${f.ns}`, ["ip", "netns", "exec", f.ns, "nft", "-f", on ? f.file : "-"], on ? {} : { input: NO_TABLE });
  }
  return on ? firewalls.map((f) => f.line) : [];
}
