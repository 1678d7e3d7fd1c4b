// Provider push-back: the replies large receivers give a sending IP they rate-limit or block,
// recognised by their codes, each with what an operator of a smarthost pool should do about it.
// Sources: the providers' postmaster pages (Gmail "SMTP error reference", Microsoft's "NDR
// S3140/S3150" notes, Yahoo's "SMTP error codes" TSS list). Matched on the reply text a
// deferral records (`said: 421-4.7.28 ...` in the queue's delay_reason and in the log).

export type PushbackKind = "rate-limited" | "blocked" | "authentication";

export interface PushbackRule {
  id: string;
  provider: string;
  kind: PushbackKind;
  match: RegExp;
  /** What it means, in words. */
  meaning: string;
  /** What to do, for a smarthost `{smarthost}` delivering to `{domain}`. */
  action: string;
}

const SLOW = "slow the pacing for {domain} (policy.pacing.domains: a larger rateDelay, concurrency 1) and let the queue retry; drain {smarthost} if it persists";
const DRAIN = "drain {smarthost} (drain: true) so its queue leaves and new mail goes through the others, then ask {provider} for delisting";

export const PUSHBACK_RULES: PushbackRule[] = [
  { id: "gmail-4.7.28", provider: "Gmail", kind: "rate-limited", match: /\b4\d\d[ -]4\.7\.28\b/, meaning: "rate limited: an unusual rate of unsolicited mail from this IP", action: SLOW },
  { id: "gmail-4.7.0-rate", provider: "Gmail", kind: "rate-limited", match: /\b421[ -]4\.7\.0\b.*(?:unusual rate|rate limit)/i, meaning: "rate limited", action: SLOW },
  { id: "gmail-5.7.1-spam", provider: "Gmail", kind: "blocked", match: /\b550[ -]5\.7\.1\b.*(?:likely unsolicited|unsolicited mail|spam)/i, meaning: "blocked as likely unsolicited mail", action: DRAIN },
  { id: "gmail-5.7.26", provider: "Gmail", kind: "authentication", match: /\b5\d\d[ -]5\.7\.2[67]\b/, meaning: "unauthenticated mail (SPF/DKIM/DMARC)", action: "check SPF, DKIM and DMARC alignment of the mail {smarthost} sends to {domain} (facteur check; facteur trace --to ...)" },
  { id: "microsoft-S3140", provider: "Microsoft", kind: "blocked", match: /\bS3140\b/, meaning: "the sending IP is on Microsoft's block list", action: `${DRAIN} (https://sender.office.com)` },
  { id: "microsoft-S3150", provider: "Microsoft", kind: "blocked", match: /\bS3150\b/, meaning: "the sending IP is on Microsoft's block list", action: `${DRAIN} (https://sender.office.com)` },
  { id: "microsoft-4.7.650", provider: "Microsoft", kind: "rate-limited", match: /\b4\.7\.65\d\b/, meaning: "temporarily rate limited (IP reputation)", action: SLOW },
  { id: "yahoo-TSS04", provider: "Yahoo", kind: "rate-limited", match: /\bTSS04\b/, meaning: "temporarily deferred: unexpected volume or user complaints", action: SLOW },
  { id: "yahoo-TSS09", provider: "Yahoo", kind: "blocked", match: /\bTSS09\b/, meaning: "all messages from this IP will be permanently deferred", action: DRAIN },
  { id: "yahoo-TSS11", provider: "Yahoo", kind: "rate-limited", match: /\bTSS11\b/, meaning: "temporarily deferred: excessive unknown recipients or complaints", action: SLOW },
];

export interface Pushback {
  rule: PushbackRule;
  /** The action with the smarthost, destination and provider filled in. */
  action: string;
}

/** The push-back a reply is, if any (first rule that matches). */
export function classifyPushback(reply: string, smarthost: string, domain: string): Pushback | undefined {
  const rule = PUSHBACK_RULES.find((r) => r.match.test(reply));
  if (!rule) return undefined;
  return { rule, action: rule.action.replaceAll("{smarthost}", smarthost).replaceAll("{domain}", domain).replaceAll("{provider}", rule.provider) };
}
