// A generated stack for benchmarks: the example's shape (aliases, groups, chains) at scale.
import { stringify } from "yaml";

/** A stack like the example, scaled: groups and chains included, 100 aliases per domain. */
export function generatedSpecText(domains: number, aliasesPerDomain: number): string {
  const spec = {
    version: 1,
    operator: { domain: "relais.tld", roleMailbox: "ops@gestion.tld", dkim: { selectors: ["f2026a"] } },
    domains: Object.fromEntries(
      Array.from({ length: domains }, (_, d) => {
        const name = `client${d}.tld`;
        const aliases: Record<string, string | string[]> = {};
        for (let a = 0; a < aliasesPerDomain; a++) {
          if (a % 10 === 8) aliases[`groupe${a}`] = [`personne${a - 1}@${name}`, `personne${a - 2}@${name}`];
          else if (a % 10 === 9) aliases[`chaine${a}`] = `groupe${a - 1}@${name}`;
          else aliases[`personne${a}`] = `p${a}@dest${a % 50}.tld`;
        }
        return [name, { aliases, dkim: { selectors: ["s2026a"] } }];
      }),
    ),
    relays: { mx1: { location: "fsn1", serverType: "cx23" }, mx2: { location: "nbg1", serverType: "cx23", mxPriority: 20 } },
    smarthosts: { out1: { kind: "own", location: "fsn1", serverType: "cx23" }, out2: { kind: "own", location: "hel1", serverType: "cx23" } },
  };
  return stringify(spec);
}

