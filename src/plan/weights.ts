// The weighted pool (smarthosts.<n>.weight, smarthosts.<n>.warmup): MX preferences can only share
// equally or strictly order, so the relays pick each message's smarthost themselves, at random
// in proportion to the weights (Postfix randmap: as sender_dependent_relayhost_maps, every member
// listed as often as its weight). The pool MX stays the fallback (smtp_fallback_relay): a member
// that does not answer costs one refused connection, never a message. A warm-up schedule's step
// is picked at the plan's date, which the applier gives (today, or `--at`): never read here.
import type { Model, OwnSmarthost } from "../model/model.ts";
import { byText } from "../order.ts";

/** Entries of the rendered table at most: weights are scaled down past it (each member keeps one). */
export const MAX_POOL_ENTRIES = 100;
export const SMTP_PORT = 25;

export interface PoolShare {
  host: string;
  /** How the relays name it: [fqdn]:25, an address lookup, never an MX lookup. */
  nexthop: string;
  /** The weight the spec gives it at the plan's date (the warm-up step's, or weight, or 1). */
  weight: number;
  /** How many times it is listed in the table (the weight, reduced by the gcd, bounded). */
  entries: number;
  /** Its share of the relays' clean outbound mail, in percent (one decimal). */
  percent: number;
  reason: string;
}

export interface WeightedPool {
  /** The day the warm-up steps were read at (YYYY-MM-DD), when a member has a schedule. */
  at?: string;
  members: PoolShare[];
  /** The randmap entries, each member's nexthop `entries` times. */
  table: string[];
  /** Drained members and members before their first warm-up step: no share, in the pool MX only as far as it lists them. */
  excluded: { host: string; reason: string }[];
  reason: string;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** A member's weight at `at`, with why. */
function weightAt(s: OwnSmarthost, at: string | undefined): { weight: number; why: string } {
  if (!s.warmup) return s.weight !== undefined ? { weight: s.weight, why: `weight ${s.weight}` } : { weight: 1, why: "no weight given: 1" };
  if (!at) throw new Error(`plan: smarthost ${s.name} has a warm-up schedule; the plan needs the day to read it at (PlanInputs.at, YYYY-MM-DD)`);
  const step = [...s.warmup].reverse().find((w) => w.from <= at);
  if (!step) return { weight: 0, why: `warm-up starts on ${s.warmup[0]!.from}` };
  const i = s.warmup.indexOf(step);
  const next = s.warmup[i + 1];
  return { weight: step.weight, why: `warm-up step ${i + 1} of ${s.warmup.length} (from ${step.from}${next ? `, until ${next.from}` : ", the last"}): weight ${step.weight}` };
}

/** The relays' weighted choice among the clean pool, or undefined when no member has a weight or schedule. */
export function planWeightedPool(model: Model, at: string | undefined): WeightedPool | undefined {
  const clean = model.smarthosts.filter((s) => s.lane === "clean");
  if (!clean.some((s) => s.weight !== undefined || s.warmup)) return undefined;
  const active = clean.filter((s) => !s.drain);
  const best = Math.min(...active.map((s) => s.preference));
  const excluded: WeightedPool["excluded"] = clean.filter((s) => s.drain).map((s) => ({ host: s.name, reason: "drained: no new mail" }));
  const weighed: { s: OwnSmarthost; weight: number; why: string }[] = [];
  for (const s of active) {
    if (s.preference !== best) {
      excluded.push({ host: s.name, reason: `preference ${s.preference}: a fallback behind the members of preference ${best} (pool MX)` });
      continue;
    }
    const w = weightAt(s, at);
    if (w.weight === 0) excluded.push({ host: s.name, reason: `${w.why}: no share yet` });
    else weighed.push({ s, ...w });
  }
  if (weighed.length === 0) return undefined;
  const g = weighed.reduce((a, w) => gcd(a, w.weight), 0);
  const reduced = weighed.map((w) => w.weight / g);
  const sum = reduced.reduce((a, b) => a + b, 0);
  const entries = sum <= MAX_POOL_ENTRIES ? reduced : reduced.map((r) => Math.max(1, Math.round((r * MAX_POOL_ENTRIES) / sum)));
  const total = entries.reduce((a, b) => a + b, 0);
  const members = weighed.map((w, i) => {
    const percent = Math.round((entries[i]! * 1000) / total) / 10;
    return {
      host: w.s.name,
      nexthop: `[${w.s.fqdn}]:${SMTP_PORT}`,
      weight: w.weight,
      entries: entries[i]!,
      percent,
      reason: `${w.why}: ${entries[i]} of ${total} table entries, ${percent}% of the relays' clean outbound mail`,
    };
  });
  return {
    ...(clean.some((s) => s.warmup) ? { at: at! } : {}),
    members,
    table: members.flatMap((m) => Array<string>(m.entries).fill(m.nexthop)),
    excluded: excluded.sort(byText((e) => e.host)),
    reason: `smarthost weights: the relays pick each message's smarthost at random in proportion (${members.map((m) => `${m.host} ${m.percent}%`).join(", ")}); the pool MX is the fallback when the one picked does not answer`,
  };
}
