// The MTA-STS policy as a Cloudflare Worker module (templates/mta-sts/worker.js.hbs): the Pulumi
// program uploads it for mta-sts.<domain>, and the lab runs the very same module under node's
// HTTPS server (src/lab/mtaSts.ts), so what the lab proves is what production serves.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import Handlebars from "handlebars";
import { MTA_STS_PATH, type MtaStsPolicy } from "../plan/mtaSts.ts";

const TEMPLATE = new URL("../../templates/mta-sts/worker.js.hbs", import.meta.url);
let compiled: HandlebarsTemplateDelegate | undefined;

export function mtaStsWorker(policy: MtaStsPolicy): string {
  compiled ??= Handlebars.create().compile(readFileSync(TEMPLATE, "utf8"), { noEscape: true, strict: true });
  // JSON is a JavaScript string literal; the policy holds only names and numbers the spec validated.
  return compiled({ policy, policyLiteral: JSON.stringify(policy.text), path: MTA_STS_PATH });
}

/**
 * The Worker's script name at Cloudflare: one per domain, from the domain (dots are not allowed;
 * at most 63 characters, so a long domain keeps its start and a hash of the whole).
 */
export function mtaStsWorkerName(domain: string): string {
  const name = `facteur-mta-sts-${domain.replace(/\./g, "-")}`;
  return name.length <= 63 ? name : `${name.slice(0, 54)}-${createHash("sha256").update(domain).digest("hex").slice(0, 8)}`;
}
