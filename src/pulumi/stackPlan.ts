// Everything the Pulumi program declares, planned once per stack and without Pulumi: the model,
// the plan and every bundle, built from placeholders (addresses and DKIM keys do not exist yet),
// and for each resource the placeholders its content waits for. The program (program.ts,
// hosts.ts) is then a thin shell that creates resources from this data and fills each one's
// placeholders with exactly the Outputs it names, so adding a host leaves unrelated records
// and bundles known during `pulumi preview`.
import type { Spec } from "../spec/schema.ts";
import { buildModel, type Model } from "../model/model.ts";
import { buildPlan, type Plan, type PlannedHost, type Ptr } from "../plan/plan.ts";
import { heldKeyId, plannedKeys, type DnsRecord, type PlannedKey } from "../plan/dns.ts";
import type { PlannedFirewall } from "../plan/firewall.ts";
import { serverTypeWarnings } from "../plan/serverTypes.ts";
import { renderStack } from "../render/render.ts";
import type { HostBundle } from "../render/bundle.ts";
import { secretsNeeded } from "./apply.ts";
import { refsIn, type Refs } from "./records.ts";

export interface HostPlan {
  host: PlannedHost;
  ptrs: Ptr[];
  /** As render makes it from placeholders: the apply step fills in `refs`. */
  bundle: HostBundle;
  refs: Refs;
  /** Secret config keys the bundle needs (passwordSecret names). */
  secrets: string[];
  /** DKIM private keys the host holds: file path and key id. */
  dkimKeys: { path: string; id: string }[];
  packages: string[];
}

export interface StackPlan {
  model: Model;
  /** The placeholder plan the resource set is made from. */
  plan: Plan;
  hosts: HostPlan[];
  records: { record: DnsRecord; refs: Refs }[];
  firewalls: { firewall: PlannedFirewall; refs: Refs }[];
  /** Every DKIM and ARC key of the model: (domain, selector). */
  dkimKeys: PlannedKey[];
  /** Every placeholder of the stack (the stack outputs wait for all of them). */
  allRefs: Refs;
  warnings: string[];
}

/** `at`: the day warm-up schedules are read at (facteur:at, else today, UTC): the applier's clock, never the core's. */
export function planStack(spec: Spec, at: string = new Date().toISOString().slice(0, 10)): StackPlan {
  const model = buildModel(spec);
  const plan = buildPlan(model, { at });
  const bundles = new Map(renderStack(model, plan, { root: "" }).map((b) => [b.host, b]));
  const dkimKeys = plannedKeys(model);
  const declared = new Set(dkimKeys.map((k) => k.id));
  const hosts = plan.hosts.map((host): HostPlan => {
    const bundle = bundles.get(host.name);
    if (!bundle) throw new Error(`render gave no bundle for ${host.name}`);
    const held = bundle.dkimKeys.map((k) => ({ path: k.path, id: heldKeyId(k) }));
    for (const k of held) if (!declared.has(k.id)) throw new Error(`${host.name}: bundle needs key ${k.id}, which the model does not declare`);
    return {
      host,
      ptrs: plan.ptrs.filter((p) => p.host === host.name),
      bundle,
      refs: refsIn(...bundle.files.map((f) => f.content)),
      secrets: secretsNeeded(bundle),
      dkimKeys: held,
      packages: bundle.packages,
    };
  });
  const warnings = serverTypeWarnings(plan.hosts).map((w) => w.message);
  if (plan.hosts.length && model.operator.sshSources.length === 0)
    warnings.push("operator.sshSources is empty: SSH is closed on every host, so the configuration cannot be pushed (apply:<host> will fail to connect)");
  if (!model.operator.dnssec)
    for (const d of model.domains.filter((d) => d.dnssec))
      warnings.push(
        `domains.${d.name}.dnssec is on but operator.dnssec is off: ${d.name}'s MX records are signed, but the TLSA records of its MX hosts (in ${model.operator.domain}) are not published, so DANE senders fall back to opportunistic TLS`,
      );
  for (const d of model.domains.filter((d) => d.mtaSts?.mode === "enforce"))
    warnings.push(
      model.acme
        ? `domains.${d.name}.mtaSts.mode is enforce: every MX it lists must present a publicly trusted certificate for its name; the relays get theirs from ACME, a backup MX (${model.backupMx.map((b) => b.host).join(", ") || "none"}) must have its own`
        : `domains.${d.name}.mtaSts.mode is enforce: senders that honour it deliver only to MX hosts whose certificate is publicly trusted for their name, and the relays' certificates are self-signed without acme: set acme, or use mode testing`,
    );
  return {
    model,
    plan,
    hosts,
    records: plan.dns.map((record) => ({ record, refs: refsIn(record.content) })),
    firewalls: plan.firewalls.map((firewall) => ({ firewall, refs: refsIn(...firewall.rules.flatMap((r) => r.sources)) })),
    dkimKeys,
    allRefs: {
      addresses: plan.hosts.flatMap((h) => (["ipv4", "ipv6"] as const).map((family) => ({ host: h.name, family }))),
      dkim: dkimKeys.map((k) => k.id).sort(),
    },
    warnings,
  };
}
