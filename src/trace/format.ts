// A trace as an operator reads it (text) or a program does (JSON, times as ISO 8601).
import { formatTime } from "./clock.ts";
import type { Attempt, Hop, Path, Trace, TracedMessage } from "./types.ts";

const TIME_KEYS = new Set(["at", "since", "until", "nextTryAfter"]);

export function traceJson(t: Trace): string {
  return `${JSON.stringify(t, (k, v) => (TIME_KEYS.has(k) && typeof v === "number" && Number.isFinite(v) ? new Date(v).toISOString() : v), 2)}\n`;
}

function describeQuery(t: Trace): string {
  return `--${t.query.kind} ${t.query.value}`;
}

export function formatTrace(t: Trace, opts: { offsetMinutes: number; source: string }): string {
  const clock = (ms: number) => formatTime(ms, opts.offsetMinutes).slice(11);
  const day = (ms: number) => formatTime(ms, opts.offsetMinutes);
  const out: string[] = [];
  const fleet = t.hosts.filter((h) => h.role === "relay" || h.role === "smarthost").map((h) => h.host);
  const outside = t.hosts.filter((h) => h.role !== "relay" && h.role !== "smarthost").map((h) => h.host);
  out.push(
    `facteur trace ${describeQuery(t)}: ${t.messages.length} message${t.messages.length === 1 ? "" : "s"} since ${day(t.since)}` +
      ` (logs of ${fleet.join(" ")}${outside.length ? `; outside: ${outside.join(" ")}` : ""}; ${opts.source})`,
  );
  for (const w of t.warnings) out.push(`warning: ${w}`);
  if (t.more) out.push(`(${t.more} earlier message${t.more === 1 ? "" : "s"} not shown: use --limit or a shorter --since)`);
  for (const m of t.messages) out.push("", ...formatMessage(m, clock, day));
  if (!t.messages.length) out.push("", "nothing matched in that window.");
  return `${out.join("\n")}\n`;
}

function formatMessage(m: TracedMessage, clock: (ms: number) => string, day: (ms: number) => string): string[] {
  const out: string[] = [];
  const ids = m.messageIds.length ? m.messageIds.map((i) => `<${i}>`).join(" ") : "(no message-id)";
  out.push(`${day(m.first.at)}  ${ids}${m.from !== undefined ? `  from ${m.from || "<>"}` : ""}`);
  const entry = m.paths[0]?.hops[0];
  if (entry) out.push(...entryLines(entry, clock));
  m.paths.forEach((p, i) => out.push(...formatPath(p, i + 1, clock, day)));
  return out;
}

function arrivalText(h: Hop): string {
  const a = h.arrival;
  if (!a) return `${h.host}${h.queueId ? ` ${h.queueId}` : ""}: arrival not in the logs read`;
  if (a.local) return `${h.host}${h.queueId ? ` ${h.queueId}` : ""}: submitted locally`;
  const parts = [`from ${a.client.name}[${a.client.ip}]`];
  if (a.helo) parts.push(`HELO ${a.helo}`);
  parts.push(a.tls ? `TLS ${a.tls}` : "no TLS");
  if (a.sasl) parts.push(`SASL login ${a.sasl}`);
  return `${h.host}${h.queueId ? ` ${h.queueId}` : ""} ${parts.join(", ")}`;
}

function entryLines(h: Hop, clock: (ms: number) => string): string[] {
  const out: string[] = [];
  const at = h.arrival?.at;
  out.push(`  ${at !== undefined ? clock(at) : "        "}  arrived   ${arrivalText(h)}`);
  if (h.arrival?.from !== undefined && !h.srs) out.push(`            sender    ${h.arrival.from || "<>"}`);
  if (h.srs) out.push(`            SRS       ${h.srs.from} -> ${h.srs.to}${h.srs.logged ? " (postsrsd)" : ""}`);
  if (h.scan) {
    const lane = h.laneFilter ? `spam lane (${h.laneFilter.header} -> ${h.laneFilter.nexthop})` : "clean lane";
    const symbols = h.scan.symbols.length ? `; ${h.scan.symbols.slice(0, 4).join(" ")}` : "";
    out.push(`  ${clock(h.scan.at)}  scanned   rspamd: ${h.scan.action}, score ${h.scan.score} (reject at ${h.scan.required})${symbols}; ${lane}`);
  } else if (h.laneFilter) out.push(`  ${clock(h.laneFilter.at)}  lane      spam lane (${h.laneFilter.header} -> ${h.laneFilter.nexthop})`);
  return out;
}

function formatPath(p: Path, n: number, clock: (ms: number) => string, day: (ms: number) => string): string[] {
  const out: string[] = [];
  const who = p.origTo ? `${p.origTo} -> ${p.to}` : p.to || "(recipient not logged)";
  const o = p.outcome;
  const status = o.status.toUpperCase();
  out.push(`  [${n}] ${who}: ${status} ${clock(o.at)}, ${o.detail}${o.reply && o.status !== "delivered" ? `: ${o.reply}` : ""}`);
  p.hops.forEach((h, i) => {
    if (i > 0) {
      const sig = h.signatures.map((s) => `DKIM-signed d=${s.domain} s=${s.selector}`).join(", ");
      out.push(`      ${h.arrival ? clock(h.arrival.at) : "        "}  ${pad(h.host)} received ${arrivalText(h).slice(h.host.length + 1)}${sig ? `; ${sig}` : ""}`);
    } else if (h.signatures.length) {
      out.push(`      ${clock(h.signatures[0]!.at)}  ${pad(h.host)} ${h.signatures.map((s) => `DKIM-signed d=${s.domain} s=${s.selector}`).join(", ")}`);
    }
    for (const note of h.signerNotes) out.push(`                ${pad(h.host)} OpenDKIM: ${note}`);
    for (const a of h.attempts) out.push(...attemptLines(h, a, clock, day));
  });
  if (p.destination) {
    const d = p.destination;
    out.push(`      destination saw (${d.verifier}): spf=${d.spf} dkim=${d.dkim.join(", ") || "none"} dmarc=${d.dmarc} arc=${d.arc}`);
  }
  return out;
}

function pad(host: string): string {
  return host.padEnd(6);
}

function attemptLines(h: Hop, a: Attempt, clock: (ms: number) => string, day: (ms: number) => string): string[] {
  const out: string[] = [];
  for (const s of a.skipped) out.push(`      ${clock(a.at)}  ${pad(h.host)} passed over: ${s}`);
  const where = a.peer ? `${a.peer.name}[${a.peer.ip}]` : a.relay;
  const bits = [a.dsn, a.delay !== undefined ? `${a.delay} s` : undefined, a.tls ? `TLS ${a.tls}` : a.peer ? "no TLS" : undefined].filter(Boolean).join(", ");
  const verb = a.status === "sent" ? (h.role === "destination" ? "stored" : `sent to ${where}`) : `${a.status}${a.peer ? ` at ${where}` : ""}`;
  out.push(`      ${clock(a.at)}  ${pad(h.host)} ${verb} (${bits}): ${a.reply}`);
  if (a.nextTryAfter) out.push(`                ${pad(h.host)} next try not before ${day(a.nextTryAfter)} (Postfix backoff)`);
  return out;
}
