// Postfix metrics (operator.monitoringSources): every host runs Debian's
// prometheus-postfix-exporter, which reads Postfix's own log and its showq socket; only the
// operator's Prometheus servers may scrape it (the firewall rule below, on every role).
import type { Model } from "../model/model.ts";
import type { PlannedHost } from "./plan.ts";
import type { FirewallRule } from "./firewall.ts";

/** The exporter's registered port (Prometheus' default port allocations). */
export const METRICS_PORT = 9154;

export interface PlannedMetrics {
  port: number;
  path: string;
  /** Who may scrape (operator.monitoringSources). */
  sources: string[];
  reason: string;
}

export function planMetrics(model: Model): PlannedMetrics | undefined {
  const sources = model.operator.monitoringSources;
  if (!sources.length) return undefined;
  return {
    port: METRICS_PORT,
    path: "/metrics",
    sources: [...sources],
    reason: `operator.monitoringSources: every host exposes Postfix's counters and queue (prometheus-postfix-exporter on TCP ${METRICS_PORT}) to ${sources.join(", ")} only`,
  };
}

export function metricsRules(metrics: PlannedMetrics | undefined, role: PlannedHost["role"]): FirewallRule[] {
  if (!metrics) return [];
  return [
    {
      id: `fw:${role}:metrics`,
      protocol: "tcp",
      port: metrics.port,
      sources: [...metrics.sources],
      reason: "Postfix metrics (prometheus-postfix-exporter) from the operator's Prometheus servers only (operator.monitoringSources)",
    },
  ];
}
