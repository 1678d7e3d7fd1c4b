// MTA-STS policies on Cloudflare: per domain, a Worker (the rendered module, src/render/mtaSts.ts)
// and a Workers custom domain mta-sts.<domain>, for which Cloudflare makes the DNS record and the
// certificate. Why a Worker and not the relays: the policy must be reachable over HTTPS with a
// publicly trusted certificate for mta-sts.<domain>, a name per customer domain. Cloudflare already
// holds every one of these zones; the relays keep port 443 closed, need no web server and no
// certificate per customer domain, and the policy stays reachable while a relay is down or replaced.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import type { MtaStsPolicy } from "../plan/mtaSts.ts";
import { mtaStsWorker, mtaStsWorkerName } from "../render/mtaSts.ts";

/** Workers' compatibility date: the runtime behaviour the module was written against. */
export const WORKER_COMPATIBILITY_DATE = "2025-01-01";

export interface MtaStsResources {
  scripts: Record<string, cloudflare.WorkersScript>;
  domains: Record<string, cloudflare.WorkersCustomDomain>;
}

export function mtaStsGroup(policies: MtaStsPolicy[], zoneIds: Record<string, string>, accountId: string | undefined): MtaStsResources {
  const out: MtaStsResources = { scripts: {}, domains: {} };
  if (!policies.length) return out;
  if (!accountId)
    throw new Error(
      `facteur:cloudflareAccountId is not set: MTA-STS policies (${policies.map((p) => p.domain).join(", ")}) are served by Cloudflare Workers of that account; pulumi config set facteur:cloudflareAccountId <id>`,
    );
  for (const p of policies) {
    const scriptName = mtaStsWorkerName(p.domain);
    const script = new cloudflare.WorkersScript(`mta-sts-worker:${p.domain}`, {
      accountId,
      scriptName,
      content: mtaStsWorker(p),
      mainModule: "worker.js",
      compatibilityDate: WORKER_COMPATIBILITY_DATE,
    });
    out.scripts[p.domain] = script;
    out.domains[p.domain] = new cloudflare.WorkersCustomDomain(
      `mta-sts-host:${p.domain}`,
      { accountId, zoneId: zoneIds[p.domain]!, hostname: p.host, service: scriptName },
      { dependsOn: [script] as pulumi.Resource[] },
    );
  }
  return out;
}
