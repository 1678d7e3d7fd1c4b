// The single source of truth for a facteur stack spec (stacks/<stack>.facteur.yaml).
// Everything else (JSON Schema for editors, TypeScript types, validation) derives from it.
import { z } from "zod";
import {
  cidrProblem,
  describeValue,
  dmarcReportAddressProblem,
  dayProblem,
  dnsNameProblem,
  domainProblem,
  emailProblem,
  hetznerNameProblem,
  hostLabelProblem,
  localPartProblem,
  saslUsernameProblem,
  secretNameProblem,
  httpsUrlProblem,
} from "./grammar.ts";
import { spfTermProblem } from "./spf.ts";
import { INT_MAX, POSTFIX, postfixSeconds } from "./limits.ts";

/** A text value with a grammar: the function says why a value is refused (see grammar.ts). */
function text(problem: (s: string) => string | undefined, pattern?: string) {
  const base = z.string().superRefine((s, ctx) => {
    const p = problem(s);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });
  // The pattern is for editors (JSON Schema); the function above is what validates, with reasons.
  return pattern ? base.meta({ pattern }) : base;
}

/** A whole number within the bounds of what reads it; `why` says whose bound the maximum is. */
function whole(min: number, max: number, why: string) {
  return z
    .number({ error: (i) => (i.input === undefined ? undefined : `expected a whole number, got ${describeValue(i.input)}`) })
    .int(`expected a whole number`)
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max} (${why})`);
}

const POSTFIX_INT = "Postfix stores it in a C int and stops with \"bad numerical configuration\" above";

export const hostLabel = text(hostLabelProblem, "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
export const domainName = text(domainProblem, "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9-]{2,63}$");
const dnsName = text(dnsNameProblem);
export const emailAddress = text(emailProblem);
const localPart = text(localPartProblem, "^[a-z0-9!$%&'*+/=?^_`{|}~-][a-z0-9!#$%&'*+/=?^_`{|}~.-]{0,63}$");
const secretRef = text(secretNameProblem, "^[A-Za-z][A-Za-z0-9_-]{0,63}$").describe(
  "The name of a secret (pulumi config set --secret NAME): the only field that puts a ${secret:NAME} reference in a rendered file.",
);
/** A Postfix time value shorter than the queue lifetime; `why` says what a longer one would do. */
const durationUnder = (why: string) =>
  z.string().meta({ pattern: "^(0|[1-9][0-9]*)[smhdw]?$" }).superRefine((s, ctx) => {
    const r = postfixSeconds(s);
    if ("problem" in r) ctx.addIssue({ code: "custom", message: r.problem });
    else if (r.seconds >= POSTFIX.maximalQueueLifetimeSeconds)
      ctx.addIssue({ code: "custom", message: `${s} is at least Postfix's queue lifetime (maximal_queue_lifetime, 5d): ${why}` });
  });
const duration = durationUnder("a second message to the same domain would wait that long and bounce");
/** A queued message's age: none gets as old as the queue lifetime (it bounces then). */
const queueAge = durationUnder("no message stays queued that long (it bounces), so the level would never be reached");
const HETZNER_NAME = "^[a-z][a-z0-9-]{0,30}[a-z0-9]$";
const hetznerLocation = text((s) => hetznerNameProblem(s, "location"), HETZNER_NAME);
const hetznerServerType = text((s) => hetznerNameProblem(s, "server type"), HETZNER_NAME);
const selectors = z
  .array(hostLabel)
  .min(1, "at least one DKIM selector is needed")
  .superRefine((list, ctx) => {
    list.forEach((sel, i) => {
      if (list.indexOf(sel) !== i) ctx.addIssue({ code: "custom", path: [i], message: `selector ${sel} is listed twice (each one is a DNS record of its own)` });
    });
  });

const aliasTargets = z.union([emailAddress, z.array(emailAddress).min(1, "a group alias needs at least one target")]);
/** A domain's aliases: local part -> one address, or a non-empty list of them (a group). */
export const aliasesMap = z.record(localPart, aliasTargets);

const dkimSpec = z
  .object({
    selectors: selectors.describe("Every selector published in DNS. Keep the old one listed while a rotation overlaps."),
    active: hostLabel.optional().describe("The selector that signs; defaults to the last listed."),
  })
  .strict();

const dmarcSpec = z
  .object({
    policy: z.enum(["none", "quarantine", "reject"]).default("quarantine").describe("What receivers do with mail that fails SPF and DKIM alignment: none (only report), quarantine, reject."),
    rua: text(dmarcReportAddressProblem).optional().describe("Where aggregate reports go (mailto:)."),
    pct: whole(0, 100, "a percentage").default(100).describe("Percentage of failing mail the policy applies to."),
  })
  .strict();

const spfTerm = text(spfTermProblem).describe("One SPF mechanism: include:<domain>, a, mx, ip4:<net>, ip6:<net> or exists:<domain>.");

const mtaStsSpec = z
  .object({
    mode: z
      .enum(["testing", "enforce", "none"])
      .default("testing")
      .describe("RFC 8461 mode: testing (senders report failures over TLS-RPT but still deliver), enforce (senders deliver only over verified TLS to the listed MX), none (withdraws a policy senders may have cached)."),
    maxAge: whole(86400, 31557600, "RFC 8461 caps max_age at 31557600 seconds, about a year")
      .default(604800)
      .describe("Seconds senders may cache the policy (max_age); a week by default, at least a day."),
  })
  .strict();

const tlsRptSpec = z
  .object({
    rua: z
      .array(emailAddress)
      .min(1, "at least one address is needed to receive TLS reports")
      .superRefine((list, ctx) => {
        list.forEach((a, i) => {
          if (list.indexOf(a) !== i) ctx.addIssue({ code: "custom", path: [i], message: `${a} is listed twice` });
        });
      })
      .describe("Where senders mail their daily TLS reports (RFC 8460, rua=mailto:...)."),
  })
  .strict();

const DNSSEC = (zone: string) =>
  `Cloudflare signs ${zone} (DNSSEC, a cloudflare.ZoneDnssec resource); the DS record it hands out (stack output dnssec) goes to the registrar. Validating senders then trust ${zone}'s records, and DANE senders (RFC 7672) use the TLSA records of our hosts`;

const tlsKeySpec = z
  .object({
    current: hostLabel.describe("The name of the key the host serves TLS with (its certificates are issued for it). A new name makes a new key."),
    next: hostLabel
      .optional()
      .describe("The key that replaces current: its TLSA is published beside current's, so senders caching the TLSA set still match after the switch. Switch (current: <next>, next removed) once the records have been out for longer than policy.ttl."),
  })
  .strict()
  .refine((k) => k.next !== k.current, { message: "next must name another key than current", path: ["next"] });

const mailDomain = z
  .object({
    aliases: aliasesMap
      .default({})
      .describe("local part -> one address, or a list for a group alias. Targets may be other aliases (chains)."),
    dkim: dkimSpec.optional().describe("Selectors for this domain's own signing key; mail From this domain is signed with it."),
    dmarc: dmarcSpec.optional().describe("This domain's DMARC record; defaults to policy.dmarc."),
    spf: z
      .object({
        extra: z
          .array(spfTerm)
          .default([])
          .superRefine((list, ctx) => {
            list.forEach((t, i) => {
              if (list.indexOf(t) !== i) ctx.addIssue({ code: "custom", path: [i], message: `${t} is listed twice` });
            });
          })
          .describe("More SPF mechanisms, one per item, e.g. include:_spf.other.tld; counted in the 10-lookup limit."),
      })
      .strict()
      .optional()
      .describe("This domain's SPF record beyond the smarthost pool (include:_spf.<operator>) and -all."),
    relays: z
      .array(hostLabel)
      .optional()
      .describe("Relays that are MX for this domain; defaults to every relay."),
    mtaSts: mtaStsSpec
      .optional()
      .describe("MTA-STS (RFC 8461): a _mta-sts TXT record and a policy served over HTTPS at mta-sts.<domain> (a Cloudflare Worker) naming this domain's MX hosts."),
    tlsRpt: tlsRptSpec.optional().describe("TLS reporting (RFC 8460): the _smtp._tls TXT record."),
    dnssec: z
      .boolean()
      .default(false)
      .describe(`${DNSSEC("this domain's zone")}: its MX records are then signed, which DANE needs besides the TLSA records of the operator zone (operator.dnssec).`),
  })
  .strict();

const ownServer = z.object({
  location: hetznerLocation.describe("Hetzner location, e.g. fsn1, nbg1, hel1"),
  serverType: hetznerServerType.describe("Hetzner server type, e.g. cx23 or cpx22 (cx22 and the cpx11 family are deprecated); see src/plan/serverTypes.ts"),
});

const DNS_PREFERENCE = "a DNS MX preference is 16 bits";

const tlsKey = tlsKeySpec
  .optional()
  .describe(
    "This host's TLS key, managed like the DKIM keys (a Pulumi secret, ECDSA P-256): its TLSA 3 1 1 records pin it and its ACME certificates are requested for it. Defaults to {current: tls1} when operator.dnssec is on; without either, the host makes its own key.",
  );

const relay = ownServer
  .extend({
    tlsKey,
    mxPriority: whole(0, 65535, DNS_PREFERENCE).default(10).describe("MX preference of this relay in every domain it receives (lower is tried first)."),
  })
  .strict();

const lane = z.enum(["clean", "spam"]).default("clean").describe("Outbound lane: spam-tagged mail leaves only through the spam lane.");

/** Pool weights: shares among a handful of smarthosts; the rendered table is bounded (src/plan/weights.ts). */
const WEIGHT_MAX = 100;
const weight = whole(1, WEIGHT_MAX, "a share among pool members: 1:100 is already 1% against 99%");
/** A calendar day, YYYY-MM-DD (UTC). */
const isoDate = text(dayProblem, "^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
const warmupStep = z
  .object({
    from: isoDate.describe("The first day (UTC, YYYY-MM-DD) this step's weight applies; it holds until the next step's day."),
    weight: weight.describe("The member's weight from that day."),
  })
  .strict();

const ownSmarthost = ownServer
  .extend({
    tlsKey,
    kind: z.literal("own").describe("One of our servers: facteur creates it at Hetzner and configures it."),
    preference: whole(0, 65535, DNS_PREFERENCE).default(10).describe("Pool MX preference: equal preferences share the load, lower ones are used first."),
    drain: z.boolean().default(false).describe("Receives no new mail (dropped from the pool MX) but keeps its DNS, IPs and PTRs."),
    lane,
    weight: weight
      .optional()
      .describe(
        "Share of the relays' outbound mail among the clean pool's members of the best preference, in proportion to the others' weights (1 for a member without one). Setting it on any member makes the relays pick each message's smarthost at random in proportion (Postfix randmap); the pool MX stays the fallback.",
      ),
    warmup: z
      .array(warmupStep)
      .min(1, "a warm-up schedule needs at least one step")
      .superRefine((steps, ctx) => {
        steps.forEach((st, i) => {
          if (i > 0 && st.from <= steps[i - 1]!.from) ctx.addIssue({ code: "custom", path: [i, "from"], message: `${st.from} is not after the previous step's ${steps[i - 1]!.from}: list the steps in date order, one per day at most` });
        });
      })
      .optional()
      .describe(
        "A reputation warm-up: weight steps by date, e.g. [{from: 2026-03-02, weight: 1}, {from: 2026-03-09, weight: 3}]. The step active on the day the plan is made applies (the applier gives the day: today, or `--at`); before the first step the member takes no share (still in the pool MX as a fallback). Instead of weight.",
      ),
  })
  .strict();

const externalSmarthost = z
  .object({
    kind: z.literal("external").describe("An ISP's or commercial relay: reached with SMTP AUTH, nothing to create."),
    host: domainName.describe("The relay's name; always reached by this name, never by whatever answers on port 25."),
    port: whole(1, 65535, "a TCP port").default(587).describe("The relay's submission port."),
    tls: z
      .enum(["starttls"])
      .default("starttls")
      .describe("STARTTLS, mandatory before credentials are sent (Postfix encrypt level; the certificate name is not checked). Implicit TLS (465) next hops are not supported yet."),
    auth: z
      .object({
        username: text(saslUsernameProblem, "^[!-9;-~]{1,255}$").describe("The SASL login at the relay (written into sasl_passwd; no spaces, no ':')."),
        passwordSecret: secretRef,
      })
      .strict()
      .optional()
      .describe("The SASL login facteur presents to the relay; the password is a Pulumi secret named by passwordSecret."),
    spfInclude: dnsName.optional().describe("Domain whose SPF record authorises this relay (include:...)."),
    preference: whole(0, 65535, "an order").default(100).describe("Order among external relays (fallback after the own pool)."),
    drain: z.boolean().default(false).describe("No longer used as a fallback, kept declared (its SPF include stays)."),
    lane,
  })
  .strict();

const pacing = z
  .object({
    rateDelay: duration.default("1s").describe("Pause between deliveries to one destination domain (Postfix time value: 1s, 30s, 2m, 1h; less than 5d)."),
    concurrency: whole(1, POSTFIX.defaultProcessLimit, "Postfix runs at most default_process_limit = 100 delivery processes per transport")
      .default(2)
      .describe("Parallel connections to one destination domain."),
  })
  .strict();

const inbound = z
  .object({
    softErrorLimit: whole(1, INT_MAX, POSTFIX_INT).default(3).describe("Errors in one session before each reply is delayed (smtpd_soft_error_limit)."),
    hardErrorLimit: whole(1, INT_MAX, POSTFIX_INT).default(12).describe("Errors in one session before the client is disconnected (smtpd_hard_error_limit)."),
    connectionCountLimit: whole(0, INT_MAX, POSTFIX_INT).default(20).describe("Simultaneous connections per client (0: none)."),
    connectionRateLimit: whole(0, INT_MAX, POSTFIX_INT).default(120).describe("Connections per client per minute (0: none)."),
    dnsblThreshold: whole(1, INT_MAX, POSTFIX_INT).default(1).describe("How many blocklists must list a client before postscreen refuses it; at most the number of lists."),
  })
  .strict();

/** rspamd scores: a decimal with at most two places, so the rendered value is exactly what was written. */
const score = z
  .number()
  .min(0, "must be at least 0")
  .max(1000, "must be at most 1000 (rspamd scores are sums of rule weights; above 1000 the action would never trigger)")
  .refine((n) => Math.abs(Math.round(n * 100) - n * 100) < 1e-9, "write a score with at most two decimals, such as 6 or 7.5");

const spam = z
  .object({
    tagScore: score.default(6).describe("rspamd score from which mail is tagged (X-Spam: Yes) and sent through the spam lane."),
    rejectScore: score.default(15).describe("rspamd score from which mail is refused during the SMTP dialogue."),
  })
  .strict();

const OUTBOUND_TLS_DEFAULTS = { dane: false, mtaSts: false };
const outboundTls = z
  .object({
    dane: z
      .boolean()
      .default(false)
      .describe(
        "Smarthosts deliver with DANE (RFC 7672, Postfix smtp_tls_security_level = dane) behind a local validating resolver (unbound): a destination whose MX and TLSA records are DNSSEC-signed gets TLS verified against them or nothing; the others opportunistic TLS.",
      ),
    mtaSts: z
      .boolean()
      .default(false)
      .describe("Smarthosts honour the destinations' MTA-STS policies (postfix-mta-sts-resolver): verified TLS to the MX the policy lists, or nothing."),
  })
  .strict();

const QUOTA_MAX = "a count kept by policyd-rate-limit; beyond it there is no quota at all";

/** A warning and a critical level: `facteur check --delivery` goes WARNING at the first, CRITICAL at the second. */
function levels(what: string, warning: number, critical: number) {
  return z
    .object({
      warning: whole(1, INT_MAX, "a count").default(warning).describe(`${what}: WARNING from this many.`),
      critical: whole(1, INT_MAX, "a count").default(critical).describe(`${what}: CRITICAL from this many.`),
    })
    .strict()
    .superRefine((l, ctx) => {
      if (l.critical < l.warning) ctx.addIssue({ code: "custom", path: ["critical"], message: levelsOutOfOrder(l.critical, l.warning, critical) });
    });
}
/** Both values, since either may be a default the reader did not write. */
const levelsOutOfOrder = (critical: number | string, warning: number | string, criticalDefault: number | string) =>
  `critical (${critical}${critical === criticalDefault ? ", the default" : ""}) must be at least warning (${warning})`;
const AGE_DEFAULTS = { warning: "1h", critical: "6h" };
const ageLevels = z
  .object({
    warning: queueAge.default(AGE_DEFAULTS.warning).describe("Oldest queued message: WARNING from this age (1h, 30m...)."),
    critical: queueAge.default(AGE_DEFAULTS.critical).describe("Oldest queued message: CRITICAL from this age."),
  })
  .strict()
  .superRefine((l, ctx) => {
    const w = postfixSeconds(l.warning);
    const c = postfixSeconds(l.critical);
    if ("seconds" in w && "seconds" in c && c.seconds < w.seconds) ctx.addIssue({ code: "custom", path: ["critical"], message: levelsOutOfOrder(l.critical, l.warning, AGE_DEFAULTS.critical) });
  });
const deliveryHealth = z
  .object({
    queued: levels("Messages in one host's queue", 100, 1000).prefault({}).describe("Messages in one host's queue: WARNING and CRITICAL levels."),
    oldest: ageLevels.prefault({}).describe("Age of the oldest queued message: WARNING and CRITICAL levels."),
    pushback: levels("Queued recipients one smarthost holds for one destination whose last answer was a provider's push-back (rate limit, block)", 1, 10)
      .prefault({})
      .describe("Recipients held by one smarthost for one destination after a provider's push-back (rate limit, block): WARNING and CRITICAL levels."),
  })
  .strict();

/**
 * One daily quota across the pool: policyd-rate-limit on every smarthost counts in one
 * PostgreSQL database (its pgsql backend) on a host the spec already has.
 */
const quotaStore = z
  .object({
    host: hostLabel.describe("The relay or own smarthost that runs the store (PostgreSQL). Prefer a relay: the store then outlives the loss of any smarthost."),
    passwordSecret: secretRef.describe(
      "The secret the smarthosts' policyd-rate-limit logs in to the store with (pulumi config set --secret NAME \"$(openssl rand -hex 24)\"): letters, digits and -_.~+/= only, 16 to 128 of them.",
    ),
    whenUnreachable: z
      .enum(["defer", "accept"])
      .default("defer")
      .describe(
        "When a smarthost cannot reach the store (or its own policy daemon): defer (fail closed, the default: 450 4.3.0 at RCPT, the client keeps the message and retries, nothing is sent uncounted) or accept (fail open: mail flows uncounted until the store is back).",
      ),
  })
  .strict();

export const specSchema = z
  .object({
    version: z.literal(1).describe("The spec format's version: 1."),
    operator: z
      .object({
        domain: domainName.describe("Where host names live (mx1.<domain>) and the SRS and forwarder-signing domain."),
        roleMailbox: emailAddress.describe("Receives postmaster@, abuse@ and hostmaster@ of every domain unless a domain aliases them itself."),
        dkim: dkimSpec.describe("The operator's selectors: forwarded mail is signed as the operator."),
        arc: dkimSpec
          .optional()
          .describe(
            "Selectors of the operator's ARC key: relays seal every message they forward (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results) as the operator. Published as <selector>._domainkey.<operator domain> and rotated like a DKIM key; never one of operator.dkim's selectors.",
          ),
        dnssec: z
          .boolean()
          .default(false)
          .describe(`${DNSSEC("the operator domain")}: TLSA 3 1 1 records are published for every own host (relays' port 25, smarthosts' 587 and 465), pinning its managed TLS key (tlsKey).`),
        sshSources: z
          .array(text(cidrProblem))
          .default([])
          .superRefine((list, ctx) => {
            list.forEach((c, i) => {
              if (list.indexOf(c) !== i) ctx.addIssue({ code: "custom", path: [i], message: `${c} is listed twice` });
            });
          })
          .describe("CIDRs allowed to reach SSH on every host (never 0.0.0.0/0)."),
        monitoringSources: z
          .array(text((c) => cidrProblem(c, "the metrics")))
          .default([])
          .superRefine((list, ctx) => {
            list.forEach((c, i) => {
              if (list.indexOf(c) !== i) ctx.addIssue({ code: "custom", path: [i], message: `${c} is listed twice` });
            });
          })
          .describe(
            "CIDRs of the Prometheus servers that scrape every host's Postfix metrics (prometheus-postfix-exporter, TCP 9154; never 0.0.0.0/0). Empty: no exporter runs.",
          ),
      })
      .strict()
      .describe("Who runs the fleet: the domain its hosts are named in, the role mailbox, the signing key of forwarded mail, SSH and monitoring sources."),
    domains: z
      .record(domainName, mailDomain)
      .refine((d) => Object.keys(d).length > 0, "at least one mail domain is needed")
      .describe("The mail domains received and forwarded, by name (the operator domain is managed by facteur: not listed here)."),
    relays: z
      .record(hostLabel, relay)
      .refine((r) => Object.keys(r).length > 0, "at least one relay (MX host) is needed")
      .describe("The inbound MX hosts, by name (the name makes the host name <name>.<operator.domain>)."),
    acme: z
      .object({
        email: emailAddress.describe("The ACME account's contact: the CA writes here about expiring certificates and policy changes."),
        directory: text(httpsUrlProblem)
          .default("https://acme-v02.api.letsencrypt.org/directory")
          .describe("The ACME server's directory URL (Let's Encrypt by default)."),
        renewDays: whole(1, 3650, "ten years: longer than any CA issues for")
          .default(30)
          .describe("Renew a certificate when it has this many days left (Let's Encrypt's 90-day certificates: 30)."),
      })
      .strict()
      .optional()
      .describe("ACME certificates for every host's name (relays' inbound TLS, smarthosts' submission), issued over HTTP-01 and renewed twice a day by a systemd timer."),
    backupMx: z
      .array(
        z
          .object({
            host: domainName.describe("The backup MX's host name (a third party's)."),
            priority: whole(0, 65535, DNS_PREFERENCE).describe("Its MX preference: higher than the relays', so it is tried last."),
          })
          .strict(),
      )
      .default([])
      .describe("Third-party backup MX hosts (an ISP acting as secondary MX)."),
    smarthosts: z
      .record(
        hostLabel,
        z.discriminatedUnion("kind", [ownSmarthost, externalSmarthost], {
          error: 'expected kind "own" (one of our servers) or "external" (an ISP or commercial relay)',
        }),
      )
      .refine((s) => Object.keys(s).length > 0, "at least one smarthost is needed: relays never send directly")
      .describe("The outbound pool, by name: own servers (kind own) and external relays (kind external)."),
    submission: z
      .object({
        users: z
          .record(
            emailAddress,
            z
              .object({
                passwordSecret: secretRef,
                dailyQuota: whole(1, INT_MAX, QUOTA_MAX).optional().describe("This login's own daily quota (recipients per sliding day); defaults to policy.dailyQuota."),
              })
              .strict(),
          )
          .default({})
          .describe("Logins that may submit on the smarthosts' 587/465, by address; each sends only as itself."),
      })
      .strict()
      // prefault: an absent object is parsed as {}, so each field's own default applies (written once, on the field).
      .prefault({})
      .describe("Authenticated submission on the smarthosts."),
    policy: z
      .object({
        dailyQuota: whole(1, INT_MAX, QUOTA_MAX).default(300).describe("Recipients per authenticated login per sliding day (policyd-rate-limit on the smarthosts counts each recipient); a login's own dailyQuota overrides it."),
        quotaStore: quotaStore
          .optional()
          .describe("Where the daily quota is counted for the whole pool. Without it each smarthost counts on its own (sqlite), so a login gets the quota once per smarthost it reaches."),
        pacing: z
          .object({
            default: pacing.prefault({}).describe("Pacing towards every destination without its own."),
            domains: z.record(domainName, pacing).default({}).describe("Destination domains with their own pacing (each gets its own Postfix transport)."),
          })
          .strict()
          .prefault({})
          .describe("How fast smarthosts deliver to each destination domain."),
        dnsbl: z
          .array(domainName)
          .default([])
          .superRefine((list, ctx) => {
            list.forEach((l, i) => {
              if (list.indexOf(l) !== i) ctx.addIssue({ code: "custom", path: [i], message: `${l} is listed twice: postscreen would count one list twice against the threshold` });
            });
          })
          .describe("DNS blocklists: postscreen refuses listed clients at connection on relays; facteur check watches our own addresses on them."),
        inbound: inbound.prefault({}).describe("The relays' listener limits (postscreen and smtpd)."),
        spam: spam.prefault({}).describe("rspamd's scores on the relays: tag, then refuse."),
        dmarc: dmarcSpec.prefault({}).describe("The DMARC record of every domain without its own."),
        ttl: whole(60, 86400, "Cloudflare accepts 60 s to 1 day").default(3600).describe("TTL of every published record."),
        outboundTls: outboundTls.default(OUTBOUND_TLS_DEFAULTS).describe("How smarthosts secure delivery to destinations beyond opportunistic TLS."),
        deliveryHealth: deliveryHealth
          .prefault({})
          .describe("Thresholds of `facteur check --delivery`: queue size, oldest message, provider push-back per smarthost and destination."),
      })
      .strict()
      .prefault({})
      .describe("Fleet-wide policy: quotas, the shared quota store, pacing, blocklists, limits, spam scores, DMARC, TTL, delivery health."),
  })
  .strict();

export type Spec = z.infer<typeof specSchema>;

// ---------------------------------------------------------------- the aliases' fast path
//
// zod validates a value by building its output beside it, with a result object per value: at
// 100,000 aliases that is most of the validation's time and garbage. Aliases are plain text
// with a grammar (the same grammar.ts functions the schema calls), so plain code checks them
// first: a map it accepts is one aliasesMap accepts, with an output equal to its input. zod
// then validates the rest of the spec with those maps set aside, and they are put back
// unchanged. When anything is refused, zod validates the whole spec as written, so every error
// (its text, its path, its order) is zod's own. test/spec-fastpath.test.ts holds
// aliasesAccepted to aliasesMap on generated and hostile maps.

const isPlainMap = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === null || proto === Object.prototype;
};

/**
 * Whether aliasesMap accepts `v` with an output equal to it. false means "let zod say": it is
 * never wrong to answer false (a key __proto__, which zod drops, is one such case).
 */
export function aliasesAccepted(v: unknown): boolean {
  if (!isPlainMap(v)) return false;
  for (const local of Object.keys(v)) {
    if (local === "__proto__" || localPartProblem(local) !== undefined) return false;
    const t = v[local];
    if (typeof t === "string") {
      if (emailProblem(t) !== undefined) return false;
    } else if (Array.isArray(t)) {
      if (t.length === 0) return false;
      for (const x of t) if (typeof x !== "string" || emailProblem(x) !== undefined) return false;
    } else return false;
  }
  return true;
}

type SpecParse = ReturnType<typeof specSchema.safeParse>;

/** specSchema.safeParse, with the aliases maps plain code accepts checked by it (see above). */
export function safeParseSpec(data: unknown, params?: Parameters<typeof specSchema.safeParse>[1]): SpecParse {
  const domains = isPlainMap(data) && isPlainMap(data.domains) ? data.domains : undefined;
  const setAside = new Map<string, Record<string, unknown>>();
  if (domains)
    for (const name of Object.keys(domains)) {
      // A domain named __proto__ (refused by zod): the whole spec goes to zod as written.
      if (name === "__proto__") return specSchema.safeParse(data, params);
      const d = domains[name];
      if (isPlainMap(d) && Object.hasOwn(d, "aliases") && aliasesAccepted(d.aliases)) setAside.set(name, d.aliases as Record<string, unknown>);
    }
  if (setAside.size > 0) {
    const lighter: Record<string, unknown> = {};
    for (const name of Object.keys(domains!)) {
      const d = domains![name];
      lighter[name] = setAside.has(name) ? { ...(d as object), aliases: {} } : d;
    }
    const parsed = specSchema.safeParse({ ...(data as object), domains: lighter }, params);
    if (parsed.success) {
      for (const [name, aliases] of setAside) parsed.data.domains[name]!.aliases = aliases as Spec["domains"][string]["aliases"];
      return parsed;
    }
  }
  return specSchema.safeParse(data, params);
}
export type SpecInput = z.input<typeof specSchema>;
export type MailDomainSpec = z.infer<typeof mailDomain>;
export type SmarthostSpec = Spec["smarthosts"][string];
export type OwnSmarthostSpec = z.infer<typeof ownSmarthost>;
export type ExternalSmarthostSpec = z.infer<typeof externalSmarthost>;
export type DkimSpec = z.infer<typeof dkimSpec>;
export type MtaStsSpec = z.infer<typeof mtaStsSpec>;
export type PacingSpec = z.infer<typeof pacing>;
export type QuotaStoreSpec = z.infer<typeof quotaStore>;
export type WarmupStepSpec = z.infer<typeof warmupStep>;
