// Delivery health, pure: from each host's queue (postqueue -j) and recent log lines, the
// Nagios-shaped results of `facteur check --delivery`: per host the queue size and the age of its
// oldest message, deferred recipients by destination and reason, and, per smarthost and
// destination, the queued recipients whose last answer was a provider's push-back (pushback.ts),
// each named with the action to take. The queue is the state (a destination that accepts again
// empties it, and the check is OK again); the log adds how many push-backs were seen lately.
import type { Model } from "../../model/model.ts";
import type { CheckResult, State } from "../checks.ts";
import { parseDelivery, parsePostfixLine } from "../../trace/postfix.ts";
import { SyslogTimes } from "../../trace/clock.ts";
import type { Clock } from "../../trace/types.ts";
import { classifyPushback, type Pushback } from "./pushback.ts";
import { byText, compareText } from "../../order.ts";

/** One entry of `postqueue -j` (Postfix 3.1+: one JSON object per line). */
export interface QueuedMessage {
  queue_name: string;
  queue_id: string;
  arrival_time: number;
  message_size?: number;
  sender: string;
  recipients: { address: string; delay_reason?: string }[];
}

export function parseQueueJson(text: string): QueuedMessage[] {
  return text
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as QueuedMessage);
}

export interface HostDelivery {
  host: string;
  role: "relay" | "smarthost";
  queue: QueuedMessage[];
  /** Postfix log text of the window (may be empty when only the queue was read). */
  log?: string;
  clock?: Clock;
}

export interface DeferredGroup {
  host: string;
  destination: string;
  reason: string;
  recipients: number;
  pushback?: { id: string; provider: string; kind: string; action: string };
}

export interface DeliveryReport {
  results: CheckResult[];
  deferred: DeferredGroup[];
  queues: { host: string; size: number; deferred: number; oldestSeconds: number | null }[];
}

const domainOf = (a: string) => a.slice(a.lastIndexOf("@") + 1).toLowerCase();

/** The part of a delay reason that says what happened, without the queue's own prefix noise. */
function reasonText(reason: string): string {
  return reason.replace(/\s+/g, " ").trim().slice(0, 300);
}

function level(n: number, l: { warning: number; critical: number }): State {
  return n >= l.critical ? "CRITICAL" : n >= l.warning ? "WARNING" : "OK";
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Push-back replies in a host's log since the window's start, by destination domain. */
function pushbacksInLog(h: HostDelivery): Map<string, number> {
  const out = new Map<string, number>();
  if (!h.log || !h.clock) return out;
  const times = new SyslogTimes(h.clock);
  let pos = 0;
  for (const text of h.log.split("\n")) {
    const line = parsePostfixLine(text, pos, times);
    pos += text.length + 1;
    if (!line || line.daemon !== "smtp") continue; // paced transports log as postfix/pace-.../smtp
    const d = parseDelivery(line.msg);
    if (!d || d.status !== "deferred") continue;
    const domain = domainOf(d.to);
    if (classifyPushback(d.reply, h.host, domain)) out.set(domain, (out.get(domain) ?? 0) + 1);
  }
  return out;
}

export function deliveryHealth(model: Model, hosts: HostDelivery[], nowMs = Date.now()): DeliveryReport {
  const t = model.policy.deliveryHealth;
  const results: CheckResult[] = [];
  const deferred: DeferredGroup[] = [];
  const queues: DeliveryReport["queues"] = [];
  for (const h of hosts) {
    const size = h.queue.length;
    const oldest = size ? Math.max(0, Math.round(nowMs / 1000 - Math.min(...h.queue.map((m) => m.arrival_time)))) : null;
    const groups = new Map<string, DeferredGroup>();
    for (const m of h.queue)
      for (const r of m.recipients) {
        if (!r.delay_reason) continue;
        const destination = domainOf(r.address);
        const reason = reasonText(r.delay_reason);
        const key = `${destination}\n${reason}`;
        const g = groups.get(key) ?? { host: h.host, destination, reason, recipients: 0 };
        g.recipients++;
        if (!g.pushback && h.role === "smarthost") {
          const p: Pushback | undefined = classifyPushback(reason, h.host, destination);
          if (p) g.pushback = { id: p.rule.id, provider: p.rule.provider, kind: p.rule.kind, action: p.action };
        }
        groups.set(key, g);
      }
    const hostDeferred = [...groups.values()].sort((a, b) => b.recipients - a.recipients || compareText(a.destination, b.destination));
    deferred.push(...hostDeferred);
    const deferredCount = h.queue.filter((m) => m.queue_name === "deferred").length;
    queues.push({ host: h.host, size, deferred: deferredCount, oldestSeconds: oldest });
    const byDest = hostDeferred.map((g) => `${g.destination} ${g.recipients}`).join(", ");
    results.push({
      id: `queue:${h.host}`,
      state: level(size, t.queued),
      what: `${h.host}'s queue`,
      found: `${size} message${size === 1 ? "" : "s"} (${deferredCount} deferred)${byDest ? `; deferred recipients by destination: ${byDest}` : ""}`,
      ...(size >= t.queued.warning ? { expected: `fewer than ${t.queued.warning}` } : {}),
    });
    results.push({
      id: `queue-age:${h.host}`,
      state: oldest === null ? "OK" : level(oldest, t.oldestSeconds),
      what: `oldest message in ${h.host}'s queue`,
      found: oldest === null ? "none queued" : age(oldest),
      ...(oldest !== null && oldest >= t.oldestSeconds.warning ? { expected: `younger than ${age(t.oldestSeconds.warning)}`, note: hostDeferred[0] ? `most deferred: ${hostDeferred[0].destination}: ${hostDeferred[0].reason}` : "" } : {}),
    });
    if (h.role !== "smarthost") continue;
    const seen = pushbacksInLog(h);
    const pushed = new Map<string, DeferredGroup[]>();
    for (const g of hostDeferred.filter((g) => g.pushback)) pushed.set(g.destination, [...(pushed.get(g.destination) ?? []), g]);
    for (const [destination, gs] of [...pushed].sort(byText(([destination]) => destination))) {
      const n = gs.reduce((s, g) => s + g.recipients, 0);
      const p = gs[0]!.pushback!;
      results.push({
        id: `pushback:${h.host}:${destination}`,
        state: level(n, t.pushback),
        what: `${p.provider} push-back to smarthost ${h.host} for ${destination} (${p.id}, ${p.kind})`,
        found: `${n} recipient${n === 1 ? "" : "s"} deferred: ${gs[0]!.reason}`,
        note: `action: ${p.action}${seen.get(destination) ? `; ${seen.get(destination)} push-back replies in the log window` : ""}`,
      });
    }
  }
  return { results, deferred, queues };
}
