// What `facteur trace` reads and what it answers. Pure data: the readers (lab files, SSH) fill
// HostLog, the core (join.ts) turns them into a Trace, the CLI prints it as text or JSON.

/** How to read a host's local timestamps: its UTC offset and the time its logs were read. */
export interface Clock {
  /** Minutes east of UTC of the host's local time (Postfix and rspamd log local time, no zone). */
  offsetMinutes: number;
  /** When the logs were read: the year of a "Nov 23 15:06:24" line is the one that puts it at or before this. */
  nowMs: number;
}

import type { LogBytes } from "./buffers.ts";

export type HostRole = "relay" | "smarthost" | "external-relay" | "destination";

/** One host's logs, as raw bytes, and what the fleet knows about it. */
export interface HostLog {
  /** Short name (mx1, out2, or a lab outside host such as mx-doe). */
  host: string;
  role: HostRole;
  /** Names it answers to (relay=NAME[IP] and client=NAME[IP] are matched against these and the addresses). */
  names: string[];
  addresses: string[];
  /** Smarthosts: the lane the spec gives it. */
  lane?: "clean" | "spam";
  /** Postfix's maillog_file (/var/log/postfix.log): "Mon DD HH:MM:SS host postfix/daemon[pid]: ...". */
  postfix: Buffer | LogBytes;
  /** rspamd's log file (relays): "YYYY-MM-DD HH:MM:SS #pid(proc) <id>; proxy; rspamd_task_write_log: ...". */
  rspamd?: Buffer | LogBytes;
  /**
   * Lines of the daemons that log through syslog (OpenDKIM, postsrsd): journalctl -o short-iso on
   * hosts, the lab's syslog listener file in the lab. Any line holding `opendkim[pid]: ` or
   * `postsrsd[pid]: ` after a timestamp is read.
   */
  syslog?: Buffer | LogBytes;
  clock: Clock;
}

export type Query = { kind: "message-id" | "to" | "from"; value: string };

export interface Peer {
  name: string;
  ip: string;
  /** The fleet host it is, when it is one of ours (or a lab outside host whose logs were read). */
  host?: string;
}

/** How a message reached a host: the SMTP session that handed it over. */
export interface Arrival {
  at: number;
  client: Peer;
  helo?: string;
  /** e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384 (Anonymous)"; absent: plain text. */
  tls?: string;
  /** Authenticated submission: the SASL login. */
  sasl?: string;
  /** The envelope sender the client gave (MAIL FROM), before any rewriting. */
  from?: string;
  /** Local submission (pickup) instead of SMTP. */
  local?: boolean;
}

export interface ScanVerdict {
  at: number;
  /** rspamd's action: "no action", "add header", "rewrite subject", "soft reject", "reject", "greylist". */
  action: string;
  score: number;
  /** The reject threshold rspamd reported. */
  required: number;
  /** Symbols with a non-zero score, highest first (name(score)). */
  symbols: string[];
}

export interface Signature {
  at: number;
  domain: string;
  selector: string;
}

/** One try at handing a recipient to the next hop (or the final destination). */
export interface Attempt {
  at: number;
  status: "sent" | "deferred" | "bounced" | "expired" | "refused" | string;
  /** The next hop as Postfix logged it (out2.relais.tld[2001:db8:5100::14]:25, none, sinkstore). */
  relay: string;
  peer?: Peer;
  dsn?: string;
  /** Seconds from arrival on this host to this attempt's end. */
  delay?: number;
  /** The reply or reason in parentheses (250 2.0.0 Ok: queued as X / connect to ...: Connection refused). */
  reply: string;
  /** The next hop's queue id, from "queued as". */
  queuedAs?: string;
  tls?: string;
  /** Servers tried and passed over before this result (connection refused, 4xx from a non-final MX). */
  skipped: string[];
  /** Deferred: when Postfix tries again at the earliest (its backoff: the message's age, 300 s to 4000 s). */
  nextTryAfter?: number;
}

/** A message's stay on one host. */
export interface Hop {
  host: string;
  role: HostRole;
  queueId?: string;
  arrival?: Arrival;
  messageIds: string[];
  /** The envelope sender as queued here (after SRS on relays). */
  envelopeFrom?: string;
  /** The SRS rewrite on this hop: original -> rewritten. */
  srs?: { from: string; to: string; logged: boolean };
  scan?: ScanVerdict;
  /** The relay's lane switch: the scanner's header that sent it to the spam lane. */
  laneFilter?: { at: number; header: string; nexthop: string };
  signatures: Signature[];
  /** OpenDKIM lines about this queue id that are not a signature (errors, "no signing table match"). */
  signerNotes: string[];
  attempts: Attempt[];
}

export type PathStatus = "delivered" | "deferred" | "refused" | "bounced" | "expired" | "in transit" | "queued" | "unknown";

export interface Outcome {
  status: PathStatus;
  at: number;
  host: string;
  /** delivered: the host that took it last; refused: who refused it and at which stage. */
  detail: string;
  dsn?: string;
  reply?: string;
  /** refused: the SMTP stage (RCPT, END-OF-MESSAGE, CONNECT ...). */
  stage?: string;
}

export interface DestinationCheck {
  /** The stored copy that was verified. */
  file: string;
  verifier: string;
  spf: string;
  dkim: string[];
  dmarc: string;
  arc: string;
  /** The Authentication-Results header the verifier would add. */
  authResults: string;
}

/** One recipient's way through the fleet. */
export interface Path {
  /** The recipient as the sender addressed it (an alias), when it was rewritten. */
  origTo?: string;
  /** The recipient the message was delivered (or refused) to. */
  to: string;
  hops: Hop[];
  outcome: Outcome;
  destination?: DestinationCheck;
}

export interface TracedMessage {
  /** The first hop we have logs of. */
  first: { host: string; queueId?: string; at: number };
  messageIds: string[];
  from?: string;
  paths: Path[];
}

export interface Trace {
  query: Query;
  since: number;
  until: number;
  /** Hosts whose logs were read, and how many bytes of their maillog fell in the window. */
  hosts: { host: string; role: HostRole; bytes: number }[];
  messages: TracedMessage[];
  /** Messages left out past the limit. */
  more: number;
  warnings: string[];
}
