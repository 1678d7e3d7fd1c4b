// The shared daily-quota store (policy.quotaStore): one PostgreSQL database on a host the spec
// already has, in which every smarthost's policyd-rate-limit counts (its pgsql backend), so a
// login's quota holds across the whole pool instead of once per smarthost.
import type { Model } from "../model/model.ts";
import type { PlannedHost } from "./plan.ts";
import { hostCidr } from "./addresses.ts";
import type { FirewallRule } from "./firewall.ts";

export const QUOTA_STORE_PORT = 5432;

export interface PlannedQuotaStore {
  /** The host that runs PostgreSQL, and the name the smarthosts reach it by (TLS required). */
  host: string;
  fqdn: string;
  port: number;
  database: string;
  user: string;
  passwordSecret: string;
  /** Smarthost addresses allowed to log in (pg_hba and the firewall). */
  clients: string[];
  /** What a smarthost answers at RCPT when it cannot count (store or policy daemon unreachable). */
  whenUnreachable: "defer" | "accept";
  reason: string;
}

export function planQuotaStore(model: Model, hosts: PlannedHost[]): PlannedQuotaStore | undefined {
  const s = model.policy.quotaStore;
  if (!s) return undefined;
  const smarthosts = hosts.filter((h) => h.role === "smarthost");
  return {
    host: s.host,
    fqdn: s.fqdn,
    port: QUOTA_STORE_PORT,
    database: "facteur_quota",
    user: "facteur_quota",
    passwordSecret: s.passwordSecret,
    clients: smarthosts.flatMap((h) => [hostCidr(h.ipv4), hostCidr(h.ipv6)]),
    whenUnreachable: s.whenUnreachable,
    reason: `policy.quotaStore: the daily quota of each login is counted once for the pool (${smarthosts.map((h) => h.name).join(", ")}), in PostgreSQL on ${s.host}; when it cannot be counted, submission is ${s.whenUnreachable === "defer" ? "deferred (fail closed)" : "accepted uncounted (fail open)"}`,
  };
}

/** The store's firewall rule, on the firewall of the role whose host runs it: the smarthosts only. */
export function quotaStoreRules(store: PlannedQuotaStore | undefined, role: PlannedHost["role"], storeRole: PlannedHost["role"] | undefined): FirewallRule[] {
  if (!store || role !== storeRole) return [];
  return [
    {
      id: `fw:${role}:quota-store`,
      protocol: "tcp",
      port: store.port,
      sources: [...store.clients],
      reason: `quota store (PostgreSQL on ${store.host}) from the smarthosts only: their policyd-rate-limit counts every login's recipients there`,
    },
  ];
}
