// The single source of truth for a facteur stack spec (stacks/<stack>.facteur.yaml).
// Everything else (JSON Schema for editors, TypeScript types, validation) derives from it.
import { z } from "zod";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DOMAIN = /^(?=.{1,253}$)((?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$/;
// Service names such as _spf.fai.tld: labels may start with an underscore.
const DNS_NAME = /^(?=.{1,253}$)((?!-)_?[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$/;
const LOCAL_PART = /^[a-z0-9!#$&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$&'*+/=?^_`{|}~-]+)*$/;
const SECRET_REF = /^[A-Za-z][A-Za-z0-9_-]*$/;
const DURATION = /^\d+(s|m|h)?$/;

export const hostLabel = z
  .string()
  .regex(LABEL, "expected a host label: lower-case letters, digits and inner hyphens, at most 63 characters");
export const domainName = z
  .string()
  .regex(DOMAIN, "expected a lower-case domain name such as entreprise.tld");
export const emailAddress = z
  .string()
  .refine((s) => {
    const at = s.lastIndexOf("@");
    return at > 0 && LOCAL_PART.test(s.slice(0, at)) && DOMAIN.test(s.slice(at + 1));
  }, "expected a lower-case e-mail address such as john@doe.tld");
const secretRef = z
  .string()
  .regex(SECRET_REF, "expected the name of a secret (a Pulumi config key set with --secret), not the secret itself");
const duration = z.string().regex(DURATION, "expected a duration such as 1s, 30s, 2m");

const aliasTargets = z.union([emailAddress, z.array(emailAddress).min(1, "a group alias needs at least one target")]);

const dkimSpec = z
  .object({
    selectors: z
      .array(hostLabel)
      .min(1, "at least one DKIM selector is needed")
      .describe("Every selector published in DNS. Keep the old one listed while a rotation overlaps."),
    active: hostLabel.optional().describe("The selector that signs; defaults to the last listed."),
  })
  .strict();

const dmarcSpec = z
  .object({
    policy: z.enum(["none", "quarantine", "reject"]).default("quarantine"),
    rua: emailAddress.optional().describe("Where aggregate reports go (mailto:)."),
    pct: z.number().int().min(0).max(100).default(100),
  })
  .strict();

const mailDomain = z
  .object({
    aliases: z
      .record(z.string().regex(LOCAL_PART, "expected a local part (the part before @)"), aliasTargets)
      .default({})
      .describe("local part -> one address, or a list for a group alias. Targets may be other aliases (chains)."),
    dkim: dkimSpec.optional().describe("Selectors for this domain's own signing key; mail From this domain is signed with it."),
    dmarc: dmarcSpec.optional(),
    spf: z
      .object({ extra: z.array(z.string()).default([]).describe("More SPF mechanisms, e.g. include:_spf.other.tld") })
      .strict()
      .optional(),
    relays: z
      .array(hostLabel)
      .optional()
      .describe("Relays that are MX for this domain; defaults to every relay."),
  })
  .strict();

const ownServer = z.object({
  location: z.string().min(1).describe("Hetzner location, e.g. fsn1, nbg1, hel1"),
  serverType: z.string().min(1).describe("Hetzner server type, e.g. cx23 or cpx22 (cx22 and the cpx11 family are deprecated); see src/plan/serverTypes.ts"),
});

const relay = ownServer
  .extend({
    mxPriority: z.number().int().min(0).max(65535).default(10),
  })
  .strict();

const lane = z.enum(["clean", "spam"]).default("clean").describe("Outbound lane: spam-tagged mail leaves only through the spam lane.");

const ownSmarthost = ownServer
  .extend({
    kind: z.literal("own"),
    preference: z.number().int().min(0).max(65535).default(10).describe("Pool MX preference: equal preferences share the load, lower ones are used first."),
    drain: z.boolean().default(false).describe("Receives no new mail (dropped from the pool MX) but keeps its DNS, IPs and PTRs."),
    lane,
  })
  .strict();

const externalSmarthost = z
  .object({
    kind: z.literal("external"),
    host: domainName.describe("The relay's name; always reached by this name, never by whatever answers on port 25."),
    port: z.number().int().min(1).max(65535).default(587),
    tls: z
      .enum(["starttls"])
      .default("starttls")
      .describe("STARTTLS, mandatory before credentials are sent (Postfix encrypt level; the certificate name is not checked). Implicit TLS (465) next hops are not supported yet."),
    auth: z
      .object({ username: z.string().min(1), passwordSecret: secretRef })
      .strict()
      .optional(),
    spfInclude: z.string().regex(DNS_NAME, "expected a DNS name such as _spf.fai.tld").optional().describe("Domain whose SPF record authorises this relay (include:...)."),
    preference: z.number().int().min(0).max(65535).default(100).describe("Order among external relays (fallback after the own pool)."),
    drain: z.boolean().default(false),
    lane,
  })
  .strict();

const pacing = z
  .object({
    rateDelay: duration.default("1s").describe("Pause between deliveries to one destination domain."),
    concurrency: z.number().int().min(1).max(100).default(2).describe("Parallel connections to one destination domain."),
  })
  .strict();

const INBOUND_DEFAULTS = { softErrorLimit: 3, hardErrorLimit: 12, connectionCountLimit: 20, connectionRateLimit: 120, dnsblThreshold: 1 };
const inbound = z
  .object({
    softErrorLimit: z.number().int().min(1).default(3).describe("Errors in one session before each reply is delayed."),
    hardErrorLimit: z.number().int().min(1).default(12).describe("Errors in one session before the client is disconnected."),
    connectionCountLimit: z.number().int().min(0).default(20).describe("Simultaneous connections per client (0: none)."),
    connectionRateLimit: z.number().int().min(0).default(120).describe("Connections per client per minute (0: none)."),
    dnsblThreshold: z.number().int().min(1).default(1).describe("How many blocklists must list a client before postscreen refuses it."),
  })
  .strict();

const SPAM_DEFAULTS = { tagScore: 6, rejectScore: 15 };
const spam = z
  .object({
    tagScore: z.number().min(0).default(6).describe("rspamd score from which mail is tagged (X-Spam: Yes) and sent through the spam lane."),
    rejectScore: z.number().min(0).default(15).describe("rspamd score from which mail is refused during the SMTP dialogue."),
  })
  .strict();

export const specSchema = z
  .object({
    version: z.literal(1),
    operator: z
      .object({
        domain: domainName.describe("Where host names live (mx1.<domain>) and the SRS and forwarder-signing domain."),
        roleMailbox: emailAddress.describe("Receives postmaster@, abuse@ and hostmaster@ of every domain unless a domain aliases them itself."),
        dkim: dkimSpec.describe("The operator's selectors: forwarded mail is signed as the operator."),
        sshSources: z.array(z.string().min(1)).default([]).describe("CIDRs allowed to reach SSH on every host."),
      })
      .strict(),
    domains: z.record(domainName, mailDomain).refine((d) => Object.keys(d).length > 0, "at least one mail domain is needed"),
    relays: z.record(hostLabel, relay).refine((r) => Object.keys(r).length > 0, "at least one relay (MX host) is needed"),
    backupMx: z
      .array(z.object({ host: domainName, priority: z.number().int().min(0).max(65535) }).strict())
      .default([])
      .describe("Third-party backup MX hosts (an ISP acting as secondary MX)."),
    smarthosts: z
      .record(
        hostLabel,
        z.discriminatedUnion("kind", [ownSmarthost, externalSmarthost], {
          error: 'expected kind "own" (one of our servers) or "external" (an ISP or commercial relay)',
        }),
      )
      .refine((s) => Object.keys(s).length > 0, "at least one smarthost is needed: relays never send directly"),
    submission: z
      .object({
        users: z
          .record(emailAddress, z.object({ passwordSecret: secretRef, dailyQuota: z.number().int().min(1).optional() }).strict())
          .default({}),
      })
      .strict()
      .default({ users: {} }),
    policy: z
      .object({
        dailyQuota: z.number().int().min(1).default(300).describe("Messages per authenticated sender per day."),
        pacing: z
          .object({
            default: pacing.default({ rateDelay: "1s", concurrency: 2 }),
            domains: z.record(domainName, pacing).default({}),
          })
          .strict()
          .default({ default: { rateDelay: "1s", concurrency: 2 }, domains: {} }),
        dnsbl: z
          .array(domainName)
          .default([])
          .describe("DNS blocklists: postscreen refuses listed clients at connection on relays; facteur check watches our own addresses on them."),
        inbound: inbound.default(INBOUND_DEFAULTS),
        spam: spam.default(SPAM_DEFAULTS),
        dmarc: dmarcSpec.default({ policy: "quarantine", pct: 100 }),
        ttl: z.number().int().min(60).max(86400).default(3600).describe("TTL of every published record."),
      })
      .strict()
      .default({
        dailyQuota: 300,
        pacing: { default: { rateDelay: "1s", concurrency: 2 }, domains: {} },
        dnsbl: [],
        inbound: INBOUND_DEFAULTS,
        spam: SPAM_DEFAULTS,
        dmarc: { policy: "quarantine", pct: 100 },
        ttl: 3600,
      }),
  })
  .strict();

export type Spec = z.infer<typeof specSchema>;
export type SpecInput = z.input<typeof specSchema>;
export type MailDomainSpec = z.infer<typeof mailDomain>;
export type SmarthostSpec = Spec["smarthosts"][string];
export type OwnSmarthostSpec = z.infer<typeof ownSmarthost>;
export type ExternalSmarthostSpec = z.infer<typeof externalSmarthost>;
export type DkimSpec = z.infer<typeof dkimSpec>;
export type PacingSpec = z.infer<typeof pacing>;
