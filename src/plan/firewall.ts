// Inbound firewall rules, one firewall per host role: what may reach a host, each rule with a
// stable id and a reason, like DNS records. Hetzner firewalls (src/pulumi) and the lab's
// nftables (src/lab/firewall.ts) apply this same list; `facteur diff` reviews it. Anything not
// listed is dropped; replies to the host's own connections pass (both appliers are stateful).
import type { Model } from "../model/model.ts";
import type { PlannedHost } from "./plan.ts";
import { hostCidr } from "./addresses.ts";
import { quotaStoreRules, type PlannedQuotaStore } from "./quotaStore.ts";
import { metricsRules, type PlannedMetrics } from "./metrics.ts";

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

export interface FirewallRule {
  /** Stable identity, e.g. fw:smarthost:smtp. */
  id: string;
  protocol: "tcp" | "icmp";
  /** TCP port; absent for ICMP. */
  port?: number;
  /** CIDRs allowed; host addresses may still be placeholders (<mx1.ipv4>/32) before the IPs exist. */
  sources: string[];
  reason: string;
}

export interface PlannedFirewall {
  id: string;
  role: PlannedHost["role"];
  rules: FirewallRule[];
}

export function firewallRules(model: Model, hosts: PlannedHost[], quotaStore?: PlannedQuotaStore, metrics?: PlannedMetrics): PlannedFirewall[] {
  const storeRole = model.policy.quotaStore?.role;
  const ssh = (role: string): FirewallRule[] =>
    model.operator.sshSources.length
      ? [{ id: `fw:${role}:ssh`, protocol: "tcp", port: 22, sources: [...model.operator.sshSources], reason: "SSH from the operator (operator.sshSources): configuration is pushed over it" }]
      : [];
  const icmp = (role: string): FirewallRule => ({ id: `fw:${role}:icmp`, protocol: "icmp", sources: ANYWHERE, reason: "ICMP: ping, and IPv6 path MTU discovery needs it" });
  // ACME HTTP-01: the CA fetches the challenge from port 80 of the host's own name, from anywhere.
  const acme = (role: string): FirewallRule[] =>
    model.acme ? [{ id: `fw:${role}:acme-http`, protocol: "tcp", port: 80, sources: ANYWHERE, reason: "ACME HTTP-01 challenges: the CA checks the host's name before issuing its certificate" }] : [];
  const relays = hosts.filter((h) => h.role === "relay");
  const out: PlannedFirewall[] = [];
  // Every stack has a relay (the spec refuses an empty relays map).
  out.push({
    id: "fw:relay",
    role: "relay",
    rules: [{ id: "fw:relay:smtp", protocol: "tcp", port: 25, sources: ANYWHERE, reason: "SMTP: the relays are MX for every domain" }, icmp("relay"), ...ssh("relay"), ...acme("relay"), ...quotaStoreRules(quotaStore, "relay", storeRole), ...metricsRules(metrics, "relay")],
  });
  if (hosts.some((h) => h.role === "smarthost"))
    out.push({
      id: "fw:smarthost",
      role: "smarthost",
      rules: [
        {
          id: "fw:smarthost:smtp",
          protocol: "tcp",
          port: 25,
          sources: relays.flatMap((h) => [hostCidr(h.ipv4), hostCidr(h.ipv6)]),
          reason: "SMTP from the relays only: a smarthost is never an open relay, and nobody else hands it mail",
        },
        { id: "fw:smarthost:submission", protocol: "tcp", port: 587, sources: ANYWHERE, reason: "submission: SASL over STARTTLS" },
        { id: "fw:smarthost:submissions", protocol: "tcp", port: 465, sources: ANYWHERE, reason: "submissions: SASL over implicit TLS" },
        icmp("smarthost"),
        ...ssh("smarthost"),
        ...acme("smarthost"),
        ...quotaStoreRules(quotaStore, "smarthost", storeRole),
        ...metricsRules(metrics, "smarthost"),
      ],
    });
  return out;
}
