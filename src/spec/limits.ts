// What the daemons that read our values accept, from their sources (Postfix 3.7):
// - integer parameters go through strtol into an int: more than INT_MAX is "bad numerical
//   configuration" and the daemon exits (global/mail_conf_int.c), each with its own minimum
//   (smtpd.c, postscreen.c, qmgr.c parameter tables);
// - time parameters go through conv_time (global/conv_time.c): an int count of s/m/h/d/w whose
//   product in seconds must stay below INT_MAX, else "bad time value" and qmgr exits;
// - master.cf service names become unix sockets "private/NAME" under the queue directory, and
//   sun_path holds 108 bytes (util/unix_listen.c: "unix-domain name too long", master exits);
// - virtual alias expansion stops at virtual_alias_recursion_limit nested lookups and
//   virtual_alias_expansion_limit addresses (cleanup/cleanup_map1n.c): mail is then deferred.
import { createHash } from "node:crypto";

/** C int, as Postfix stores integer and time parameters. */
export const INT_MAX = 2147483647;

/** Postfix defaults we do not change, that bound what the spec may ask for. */
export const POSTFIX = {
  /** maximal_queue_lifetime (5d): a message older than this bounces. */
  maximalQueueLifetimeSeconds: 5 * 86400,
  /** virtual_alias_recursion_limit */
  virtualAliasRecursionLimit: 1000,
  /** virtual_alias_expansion_limit */
  virtualAliasExpansionLimit: 1000,
  /** default_process_limit: no transport runs more processes, so no more parallel connections. */
  defaultProcessLimit: 100,
};

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as const;

/** Seconds of a Postfix time value ("5s", "2m", "1h", "30"), or why Postfix would refuse it. */
export function postfixSeconds(value: string): { seconds: number } | { problem: string } {
  const m = /^(0|[1-9][0-9]*)([smhdw]?)$/.exec(value);
  if (!m) return { problem: `expected a duration such as 1s, 30s, 2m or 1h (a whole number and one unit: s, m, h, d or w), got ${JSON.stringify(value)}` };
  const n = Number(m[1]);
  const unit = (m[2] || "s") as keyof typeof UNIT_SECONDS;
  const seconds = n * UNIT_SECONDS[unit];
  // conv_time: the count must fit an int, and for m/h/d/w count < INT_MAX / unit.
  if (n > INT_MAX || (unit !== "s" && n >= Math.floor(INT_MAX / UNIT_SECONDS[unit])))
    return { problem: `${value} is more than Postfix can store (about 68 years in seconds): it stops with "bad time value"` };
  return { seconds };
}

/** The longest master.cf service name we generate: "private/NAME" must fit sun_path (108 bytes) with room to spare. */
export const MAX_TRANSPORT_NAME = 64;

/**
 * The Postfix transport that paces delivery to one destination domain. Readable and
 * one-to-one: a hyphen becomes "--" and a dot "-" (labels never start or end with a hyphen,
 * so a-b.tld -> pace-a--b-tld and a.b.tld -> pace-a-b-tld stay apart). A name that would be
 * longer than MAX_TRANSPORT_NAME keeps its start and ends with a hash of the whole domain.
 */
export function pacingTransportName(domain: string): string {
  const readable = `pace-${domain.replace(/-/g, "--").replace(/\./g, "-")}`;
  if (readable.length <= MAX_TRANSPORT_NAME) return readable;
  const hash = createHash("sha256").update(domain).digest("hex").slice(0, 12);
  return `${readable.slice(0, MAX_TRANSPORT_NAME - hash.length - 1).replace(/-+$/, "")}-${hash}`;
}
