// The deploy gate for Postfix: "a config a daemon would refuse never replaces a running one".
//
// `postfix check` reads main.cf and master.cf but does not run the daemons' own parameter
// validation: smtpd exits on "bad numerical configuration", qmgr on "bad time value" (for a
// paced transport only when mail for it arrives), master on a service name too long for its
// socket. So the gate runs the staged configuration for real, briefly, where it can harm
// nothing: a throwaway Postfix instance (a copy of main.cf and master.cf, its own queue and
// log in a private directory) inside a private network namespace (unshare -n: only a
// loopback, nothing leaves, no clash with the running instance on port 25). It connects to
// every inet service (postscreen and smtpd, submission and smtps included), sends one probe
// message to the recipients the bundle names (cleanup and the alias maps, qmgr creating each
// transport with its own parameters, the delivery agents), waits until each got a delivery
// status, stops, and reads the log: any fatal, panic, or daemon that exited is a refusal,
// reported in the daemon's own words.
//
// The throwaway instance runs no milter and no SRS daemon (those are checked on their own),
// so those parameters are emptied in its copy. Every lookup table main.cf names is read where
// main.cf names it (the apply step postmaps them first).
//
// The bash lives in postfix-gate.sh; the apply script embeds gateFunctions() and the local
// runner (run.ts, used by the tests) runs the very same text.
import { readFileSync, utimesSync } from "node:fs";
import type { HostBundle } from "../render/bundle.ts";
import { daemonFacts } from "../render/daemons/index.ts";

/**
 * Postfix reads main.cf again, 0.3 s later, for as long as the file changed less than about two
 * seconds ago (util/dict.c, dict_load_file_xt: "Read the file again if it is hot", so that it
 * never takes a file half-written). postmap, postconf, postfix check and every daemon started on
 * a main.cf just written wait up to 2 s for that. A writer that has put the whole file in place
 * dates it a few seconds back: the content is the same, and Postfix reads it at once. The
 * shell's form is COOL_SH (the apply script and the gate).
 */
export function cool(path: string): void {
  const past = Date.now() / 1000 - COOL_SECONDS;
  utimesSync(path, past, past);
}
const COOL_SECONDS = 5;
/** `cool` for bash (5.0 or later, for EPOCHSECONDS): `${COOL_SH} FILE...`. */
export const COOL_SH = `touch -d "@$((EPOCHSECONDS - ${COOL_SECONDS}))"`;

/** A log line where a daemon refused its configuration or died (the same test as the bash's FAILURE_ERE). */
const FAILURE = /(fatal|panic): |warning: process [^ ]+ pid [0-9]+ (exit status [1-9]|killed by signal)|bad command startup|error: open database|unix-domain name too long/;

/** The log lines that make the gate refuse, in order, without their syslog timestamp and host. */
export function daemonFailures(log: string): string[] {
  return log
    .split("\n")
    .filter((l) => FAILURE.test(l))
    .map((l) => l.replace(/^[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} \S+ /, ""));
}

/** Seconds the gate gives smtpd to answer its connections, its probe message to reach delivery agents, master to stop. */
export const GATE_WAIT = { connectSeconds: 10, deliverySeconds: 20, stopSeconds: 10 };

let source: string | undefined;

/** The bash functions facteur_gate (CONFIG_DIR [RECIPIENT...]) and its helpers, ready to embed in a script. */
export function gateFunctions(): string {
  source ??= readFileSync(new URL("./postfix-gate.sh", import.meta.url), "utf8");
  return source
    .replaceAll("@FAILURE_ERE@", FAILURE.source)
    .replaceAll("@CONNECT_SECONDS@", String(GATE_WAIT.connectSeconds))
    .replaceAll("@DELIVERY_SECONDS@", String(GATE_WAIT.deliverySeconds))
    .replaceAll("@STOP_TENTHS@", String(GATE_WAIT.stopSeconds * 10))
    .replaceAll("@COOL@", COOL_SH);
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command an apply script runs to gate a bundle's Postfix (after gateFunctions()): exit 0
 * or the reasons on stderr. "$R" is the apply script's FACTEUR_ROOT (empty on hosts).
 */
export function gateCommand(bundle: Pick<HostBundle, "daemons" | "probeRecipients">): string {
  const dir = daemonFacts(bundle.daemons, "postfix")?.configDir;
  if (!dir) throw new Error("gate: the bundle runs no Postfix");
  return ["facteur_gate_apply", '"$R"', q(dir), ...bundle.probeRecipients.map(q)].join(" ");
}
