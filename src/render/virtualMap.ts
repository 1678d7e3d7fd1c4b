// Postfix's virtual alias map, written by plain code rather than a Handlebars template: at
// 100,000 aliases it is by far the largest file a render writes, and the template's per-alias
// helper calls and context lookups were most of the render's time. The text is what the
// former templates/postfix/virtual.hbs rendered, byte for byte (the render snapshots and the
// scenarios pin it). Relays receiving the same domains share one body: only the header line
// names the host.
import type { MailDomain } from "../model/model.ts";

/** What the map needs of a mail domain. */
export type VirtualDomain = Pick<MailDomain, "name"> & { aliases: readonly Pick<MailDomain["aliases"][number], "address" | "targets" | "role">[] };

export interface VirtualMapContext {
  host: { fqdn: string };
  domains: readonly VirtualDomain[];
}

const ROLE_NOTE = "# role address, always deliverable\n";

/** Bodies already written: per first domain object (one model's domains, which its hosts share), then per list of domain names. */
const bodies = new WeakMap<VirtualDomain, Map<string, string>>();

function body(domains: readonly VirtualDomain[]): string {
  const first = domains[0];
  let known = first && bodies.get(first);
  if (first && !known) bodies.set(first, (known = new Map()));
  const key = domains.map((d) => d.name).join(" ");
  const cached = known?.get(key);
  if (cached !== undefined) return cached;
  // Appended to one string (V8 keeps it as a rope, flattened once below): several times
  // faster than joining an array of 100,000 lines.
  let text = "";
  for (const d of domains) {
    text += `\n# ${d.name}\n`;
    for (const a of d.aliases) {
      if (a.role) text += ROLE_NOTE;
      text += `${a.address} ${a.targets.length === 1 ? a.targets[0] : a.targets.join(", ")}\n`;
    }
  }
  text.charCodeAt(0); // flattens the rope now, once for every relay that shares it
  known?.set(key, text);
  return text;
}

/** The map's text for one relay: a header naming it, then each domain it receives and its aliases. */
export function virtualMap(context: VirtualMapContext): string {
  const head = `# ${context.host.fqdn}: where each address of our domains goes. Rendered by facteur.\n# Chains (an alias to another alias) are followed by Postfix; unknown addresses get 550.\n`;
  return head + body(context.domains);
}
