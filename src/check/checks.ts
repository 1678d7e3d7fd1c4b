// What is live against what the plan says: every published record, reverse DNS both ways, how
// each host introduces itself over SMTP, and every sending address on the DNS blocklists.
// One result per check; the states are Nagios's, so a monitoring system can run this as is.
import { createPublicKey } from "node:crypto";
import { isIP } from "node:net";
import type { Plan, PlannedHost } from "../plan/plan.ts";
import type { DnsRecord } from "../plan/dns.ts";
import { canonicalIp, ptrName, reversedLabels } from "../plan/addresses.ts";
import { hasPlaceholder, isDkimPlaceholder, isPlaceholder } from "../plan/placeholders.ts";
import { countSpfLookups } from "../spec/spf.ts";
import { DEADLINE, LookupFailure, type Lookups } from "./lookups.ts";
import { chainOfTrust } from "./dnssec.ts";
import { shownText, type SmtpProber } from "./smtp.ts";
import { checkMtaSts, checkStsRecord, type HttpsFetcher } from "./mtaSts.ts";

export type State = "OK" | "WARNING" | "CRITICAL" | "UNKNOWN";

export interface CheckResult {
  /** Stable id: the plan record id, or ptr:/fcrdns:/smtp:/dnsbl: ids. */
  id: string;
  state: State;
  /** What was checked, in words. */
  what: string;
  expected?: string;
  found?: string;
  /** Why it is not OK, or a detail worth reading. */
  note?: string;
}

export interface CheckOptions {
  lookups: Lookups;
  /** DNSBL zones to query (the spec's policy.dnsbl plus --dnsbl). */
  dnsbls: string[];
  /** Leave out to skip the SMTP checks. */
  smtp?: { probe: SmtpProber; port: number };
  /** Epoch ms by which every check must have finished (lookups are expected to honour it: withDeadline). */
  deadlineAt?: number;
  /** Fetches MTA-STS policies over HTTPS (src/check/mtaSts.ts); leave out to skip those checks. */
  https?: HttpsFetcher;
}

const lc = (s: string) => s.toLowerCase().replace(/\.$/, "");

async function ask(lookups: Lookups, name: string, type: Parameters<Lookups["resolve"]>[1]): Promise<string[] | LookupFailure> {
  try {
    return await lookups.resolve(name, type);
  } catch (e) {
    if (e instanceof LookupFailure) return e;
    throw e;
  }
}

const unknown = (id: string, what: string, f: LookupFailure): CheckResult => ({
  id,
  state: "UNKNOWN",
  what,
  note: f.code === DEADLINE ? `not answered before the check's deadline (--timeout): ${f.query}` : `lookup failed: ${f.message}`,
});
const shown = (values: string[]) => (values.length ? values.join(", ") : "nothing");

// ---------------------------------------------------------------- SPF

export function spfTerms(record: string): string[] {
  return record.trim().split(/\s+/).slice(1);
}

function normalizeSpf(record: string): string {
  const terms = spfTerms(record)
    .map((t) => t.toLowerCase().replace(/^\+/, ""))
    // ip6:2001:DB8:0::1 and ip6:2001:db8::1 are the same mechanism.
    .map((t) => t.replace(/^([?~-]?ip[46]:)([^/]+)(\/\d+)?$/, (_, m: string, a: string, len = "") => `${m}${canonicalIp(a)}${len}`));
  const all = terms.filter((t) => /^[?~-]?all$/.test(t));
  return [...terms.filter((t) => !/^[?~-]?all$/.test(t)).sort(), ...all].join(" ");
}

export interface SpfCount {
  /** DNS-querying terms met before evaluation ended (at most limit + 1: a receiver stops there). */
  lookups: number;
  voidLookups: number;
  /** More than `limit` lookups: a receiver stops with permerror at the 11th. */
  exceeded: boolean;
  problems: string[];
  /** Targets whose record could not be fetched (timeout, SERVFAIL): the count is unknown past them. */
  unresolved: string[];
}

/** TXT answers of include/redirect targets, fetched once per run however often they are included. */
export type SpfCache = Map<string, Promise<string[] | LookupFailure>>;

export const SPF_LOOKUP_LIMIT = 10;
export const SPF_VOID_LIMIT = 2;

/**
 * DNS lookups an SPF evaluation of `record` costs, as a receiver counts them (RFC 7208 4.6.4):
 * include, a, mx, ptr, exists and redirect cost one each, and an include or redirect also costs
 * what its target costs. Like a receiver, the walk stops once the limit is passed, so a tree
 * of doubled includes costs at most 11 fetches, never time exponential in its depth; each
 * target's record is fetched once per run (the cache is shared by every record checked).
 */
export async function countSpf(
  record: string,
  lookups: Lookups,
  seen = new Set<string>(),
  cache: SpfCache = new Map(),
  limit = SPF_LOOKUP_LIMIT,
): Promise<SpfCount> {
  const out: SpfCount = { lookups: 0, voidLookups: 0, exceeded: false, problems: [], unresolved: [] };
  const fetch = (target: string) => {
    let p = cache.get(target);
    if (!p) cache.set(target, (p = ask(lookups, target, "TXT")));
    return p;
  };
  const walk = async (rec: string, path: Set<string>): Promise<void> => {
    for (const t of spfTerms(rec)) {
      if (out.exceeded) return;
      if (countSpfLookups([t]) === 0) continue;
      out.lookups++;
      if (out.lookups > limit) {
        out.exceeded = true;
        return;
      }
      const m = /^[+?~-]?include:(.+)$/i.exec(t) ?? /^redirect=(.+)$/i.exec(t);
      if (!m) continue;
      const target = lc(m[1]!);
      if (target.includes("%")) {
        out.unresolved.push(`${target} (a macro, expanded per message)`);
        continue;
      }
      if (path.has(target)) {
        out.problems.push(`${target} includes itself (loop)`);
        continue;
      }
      const answer = await fetch(target);
      if (answer instanceof LookupFailure) {
        out.unresolved.push(`${target} (${answer.code})`);
        continue;
      }
      const spf = answer.filter((v) => /^v=spf1(\s|$)/i.test(v));
      if (spf.length === 0) {
        out.voidLookups++;
        out.problems.push(`${target} has no SPF record (permerror)`);
        continue;
      }
      if (spf.length > 1) out.problems.push(`${target} has ${spf.length} SPF records (permerror)`);
      await walk(spf[0]!, new Set([...path, target]));
    }
  };
  await walk(record, seen);
  return out;
}

async function checkSpf(r: DnsRecord, live: string[], lookups: Lookups, cache: SpfCache): Promise<CheckResult[]> {
  const what = `SPF of ${r.name}`;
  const spf = live.filter((v) => /^v=spf1(\s|$)/i.test(v));
  if (spf.length === 0) return [{ id: r.id, state: "CRITICAL", what, expected: r.content, found: "no SPF record" }];
  if (spf.length > 1) return [{ id: r.id, state: "CRITICAL", what, expected: r.content, found: spf.join(" | "), note: "several SPF records: receivers return permerror" }];
  const found = spf[0]!;
  const out: CheckResult[] = [
    normalizeSpf(found) === normalizeSpf(r.content)
      ? { id: r.id, state: "OK", what, found }
      : { id: r.id, state: "CRITICAL", what, expected: r.content, found },
  ];
  if (r.kind === "spf-pool" || r.kind === "spf") {
    const count = await countSpf(found, lookups, new Set([lc(r.name)]), cache);
    const summary = count.exceeded
      ? `more than ${SPF_LOOKUP_LIMIT} lookups (a receiver stops at the ${SPF_LOOKUP_LIMIT + 1}th: permerror), ${count.voidLookups} void`
      : `${count.lookups} lookups, ${count.voidLookups} void`;
    const notes = [...count.problems, ...(count.unresolved.length ? [`could not resolve ${count.unresolved.join(", ")}: the count past them is unknown`] : [])];
    const critical = count.exceeded || count.problems.length > 0 || count.voidLookups > SPF_VOID_LIMIT;
    const state: State = critical ? "CRITICAL" : count.unresolved.length ? "UNKNOWN" : count.lookups > 8 ? "WARNING" : "OK";
    out.push({
      id: `${r.id}:lookups`,
      state,
      what: `SPF lookup count of ${r.name} (RFC 7208 4.6.4, includes flattened)`,
      expected: `at most ${SPF_LOOKUP_LIMIT} lookups, at most ${SPF_VOID_LIMIT} void`,
      found: summary,
      ...(notes.length ? { note: notes.join("; ") } : count.lookups > 8 ? { note: "close to the limit of 10" } : {}),
    });
  }
  return out;
}

// ---------------------------------------------------------------- DKIM, DMARC

function tags(record: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of record.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    m.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ""));
  }
  return m;
}

/** Why a DKIM key record is unusable, or undefined when it is a v=DKIM1 record with a parseable public key. */
export function dkimRecordProblem(record: string): string | undefined {
  const t = tags(record);
  const firstTag = record.trim().split("=")[0]?.trim().toLowerCase();
  if (t.has("v") && (firstTag !== "v" || t.get("v") !== "DKIM1")) return "v= must be the first tag and be DKIM1";
  if (!t.has("p")) return "no p= tag";
  const p = t.get("p")!;
  if (p === "") return "p= is empty: the key is revoked";
  if (t.has("k") && t.get("k") !== "rsa" && t.get("k") !== "ed25519") return `unknown key type k=${t.get("k")}`;
  if (!/^[A-Za-z0-9+/]+=*$/.test(p)) return "p= is not base64";
  if ((t.get("k") ?? "rsa") === "rsa") {
    try {
      const key = createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" });
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits && bits < 1024) return `RSA key of ${bits} bits: receivers ignore keys under 1024`;
    } catch {
      return "p= does not parse as an RSA public key";
    }
  }
  return undefined;
}

function checkDkim(r: DnsRecord, live: string[]): CheckResult {
  const what = `${r.id.startsWith("arc:") ? "ARC" : "DKIM"} key ${r.name}`;
  const keys = live.filter((v) => /(^|;)\s*p=/.test(v) || /^v=DKIM1/i.test(v.trim()));
  if (keys.length === 0) return { id: r.id, state: "CRITICAL", what, expected: "v=DKIM1 record with p=", found: shown(live) };
  if (keys.length > 1) return { id: r.id, state: "CRITICAL", what, found: keys.join(" | "), note: "several key records: verification is unpredictable" };
  const found = keys[0]!;
  const problem = dkimRecordProblem(found);
  if (problem) return { id: r.id, state: "CRITICAL", what, found: abbreviate(found), note: problem };
  const wantP = tags(r.content).get("p") ?? "";
  // A placeholder means the plan does not know the key (only its private half is authoritative): shape only.
  if (isDkimPlaceholder(wantP)) return { id: r.id, state: "OK", what, found: abbreviate(found), note: "present and well-formed (key material not compared)" };
  if (tags(found).get("p") !== wantP) return { id: r.id, state: "CRITICAL", what, expected: abbreviate(r.content), found: abbreviate(found), note: "published key is not the planned key" };
  return { id: r.id, state: "OK", what, found: abbreviate(found) };
}

function abbreviate(s: string): string {
  return s.replace(/(p=[A-Za-z0-9+/]{12})[A-Za-z0-9+/]{12,}([A-Za-z0-9+/]{8}=*)/, "$1...$2");
}

function checkDmarc(r: DnsRecord, live: string[]): CheckResult {
  const what = `DMARC of ${r.name.replace(/^_dmarc\./, "")}`;
  const recs = live.filter((v) => /^v=DMARC1/i.test(v.trim()));
  if (recs.length === 0) return { id: r.id, state: "CRITICAL", what, expected: r.content, found: shown(live) };
  if (recs.length > 1) return { id: r.id, state: "CRITICAL", what, expected: r.content, found: recs.join(" | "), note: "several DMARC records: receivers ignore them all" };
  const want = tags(r.content);
  const got = tags(recs[0]!);
  const differ = [...new Set([...want.keys(), ...got.keys()])].filter((k) => (want.get(k) ?? "") !== (got.get(k) ?? ""));
  if (differ.length === 0) return { id: r.id, state: "OK", what, found: recs[0]! };
  return {
    id: r.id,
    state: differ.includes("p") ? "CRITICAL" : "WARNING",
    what,
    expected: r.content,
    found: recs[0]!,
    note: `differs in ${differ.join(", ")}`,
  };
}

// ---------------------------------------------------------------- records

/**
 * TLSA of one host port: each planned key's digest must be published (a DANE sender defers mail
 * when none matches the key served; the next key's must be out before the switch); a published
 * digest of no planned key is a leftover. A plan made without the keys (placeholders) can only
 * check the shape: one well-formed DANE-EE SPKI SHA-256 record per planned key.
 */
function checkTlsa(plan: Plan, name: string, records: DnsRecord[], live: string[]): CheckResult[] {
  const norm = (v: string) => v.trim().toLowerCase().replace(/\s+/g, " ");
  const liveSet = live.map(norm);
  const wellFormed = liveSet.filter((v) => /^3 1 1 [0-9a-f]{64}$/.test(v));
  const isCurrent = (r: DnsRecord) => {
    const [, host, , key] = r.id.split(":");
    return plan.hosts.find((h) => h.name === host)?.tlsKey?.current === key;
  };
  const out: CheckResult[] = records.map((r) => {
    const what = `TLSA ${r.name}`;
    if (hasPlaceholder(r.content))
      return wellFormed.length >= records.length
        ? { id: r.id, state: "OK", what, found: shown(live), note: "well-formed 3 1 1 records, one per planned key (key material not compared)" }
        : { id: r.id, state: "CRITICAL", what, expected: `${records.length} record(s) 3 1 1 <SHA-256>`, found: shown(live) };
    if (liveSet.includes(norm(r.content))) return { id: r.id, state: "OK", what, found: r.content };
    return {
      id: r.id,
      state: "CRITICAL",
      what,
      expected: r.content,
      found: shown(live),
      note: isCurrent(r) ? "no TLSA matches the key the host serves: DANE senders defer its mail" : "the next key is not published: switching to it now would make DANE senders defer mail",
    };
  });
  const planned = records.filter((r) => !hasPlaceholder(r.content)).map((r) => norm(r.content));
  const extra = planned.length === records.length ? live.filter((v) => !planned.includes(norm(v))) : [];
  if (extra.length) out.push({ id: `extra:tlsa:${name}`, state: "WARNING", what: `TLSA ${name}`, expected: shown(records.map((r) => r.content)), found: shown(live), note: `not in the plan: ${extra.join(", ")}` });
  return out;
}

async function checkRecords(plan: Plan, lookups: Lookups): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const spfCache: SpfCache = new Map();
  const groups = new Map<string, DnsRecord[]>();
  for (const r of plan.dns) {
    const key = `${r.type} ${lc(r.name)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, records] of groups) {
    const [type, name] = key.split(" ") as [DnsRecord["type"], string];
    const live = await ask(lookups, name, type);
    if (live instanceof LookupFailure) {
      out.push(...records.map((r) => unknown(r.id, `${r.type} ${r.name}`, live)));
      continue;
    }
    if (type === "A" || type === "AAAA" || type === "MX") {
      const norm = (v: string) => (type === "MX" ? lc(v) : canonicalIp(v));
      const liveSet = live.map(norm);
      const want = records.map((r) => (type === "MX" ? `${r.priority} ${lc(r.content)}` : r.content));
      for (const [i, r] of records.entries()) {
        const w = want[i]!;
        const what = `${type} ${r.name}`;
        if (isPlaceholder(r.content)) out.push({ id: r.id, state: "CRITICAL", what, expected: r.content, found: shown(live), note: "the host has no known address" });
        else if (liveSet.includes(norm(w))) out.push({ id: r.id, state: "OK", what, found: w });
        else {
          const sameHost = type === "MX" ? live.find((v) => lc(v).split(" ")[1] === lc(r.content)) : undefined;
          out.push({ id: r.id, state: "CRITICAL", what, expected: w, found: shown(live), ...(sameHost ? { note: "listed with another preference" } : {}) });
        }
      }
      const extra = live.filter((v) => !want.map(norm).includes(norm(v)));
      if (extra.length)
        out.push({ id: `extra:${type.toLowerCase()}:${name}`, state: "WARNING", what: `${type} ${name}`, expected: shown(want), found: shown(live), note: `not in the plan: ${extra.join(", ")}` });
      continue;
    }
    if (type === "TLSA") {
      out.push(...checkTlsa(plan, name, records, live));
      continue;
    }
    // TXT: each planned record is a different kind of TXT at its own name.
    for (const r of records) {
      if (r.kind === "spf" || r.kind === "spf-pool" || r.kind === "helo-spf") out.push(...(await checkSpf(r, live, lookups, spfCache)));
      else if (r.kind === "dkim" || r.kind === "arc") out.push(checkDkim(r, live));
      else if (r.kind === "mta-sts") out.push(checkStsRecord(r, live));
      else if (r.kind === "dmarc") out.push(checkDmarc(r, live));
      else out.push(live.includes(r.content) ? { id: r.id, state: "OK", what: `TXT ${r.name}`, found: r.content } : { id: r.id, state: "CRITICAL", what: `TXT ${r.name}`, expected: r.content, found: shown(live) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- PTR and FCrDNS

async function checkPtrs(plan: Plan, lookups: Lookups): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const p of plan.ptrs) {
    const host = plan.hosts.find((h) => h.name === p.host)!;
    const what = `PTR of ${p.host} ${p.family} ${p.address}`;
    if (isPlaceholder(p.address) || !isIP(p.address)) {
      out.push({ id: p.id, state: "CRITICAL", what, note: "the host has no known address" });
      continue;
    }
    const names = await ask(lookups, ptrName(p.address), "PTR");
    if (names instanceof LookupFailure) {
      out.push(unknown(p.id, what, names));
      continue;
    }
    const want = lc(p.name);
    if (names.length === 0) out.push({ id: p.id, state: "CRITICAL", what, expected: want, found: "no PTR" });
    else if (!names.map(lc).includes(want)) out.push({ id: p.id, state: "CRITICAL", what, expected: want, found: shown(names), note: "PTR does not name the host" });
    else if (names.length > 1) out.push({ id: p.id, state: "WARNING", what, expected: want, found: shown(names), note: "several PTR names: receivers may pick any" });
    else out.push({ id: p.id, state: "OK", what, found: names[0]! });

    // Forward-confirmed: every name the PTR gives resolves back to the same address, and is the HELO name.
    const fcId = `fcrdns:${p.host}:${p.family}`;
    const fcWhat = `forward-confirmed reverse DNS of ${p.host} ${p.address}`;
    if (names.length === 0) {
      out.push({ id: fcId, state: "CRITICAL", what: fcWhat, note: "no PTR to confirm" });
      continue;
    }
    const failures: string[] = [];
    let unresolved: LookupFailure | undefined;
    // A hostile reverse zone can answer with thousands of names: confirm a few, never all.
    for (const n of names.slice(0, 10)) {
      const back = await ask(lookups, n, p.family === "ipv4" ? "A" : "AAAA");
      if (back instanceof LookupFailure) unresolved = back;
      else if (!back.map(canonicalIp).includes(canonicalIp(p.address))) failures.push(`${n} -> ${shown(back)}`);
      if (lc(n) !== lc(host.helo)) failures.push(`${n} is not the HELO name ${host.helo}`);
    }
    if (failures.length) out.push({ id: fcId, state: "CRITICAL", what: fcWhat, expected: `${lc(host.helo)} -> ${p.address}`, found: failures.join("; ") });
    else if (unresolved) out.push(unknown(fcId, fcWhat, unresolved));
    else out.push({ id: fcId, state: "OK", what: fcWhat, found: `${p.address} -> ${names.join(", ")} -> ${p.address}` });
  }
  return out;
}

// ---------------------------------------------------------------- SMTP banner and EHLO

async function checkSmtp(plan: Plan, smtp: NonNullable<CheckOptions["smtp"]>, deadlineAt?: number): Promise<CheckResult[]> {
  const jobs = plan.hosts.flatMap((h) =>
    (["ipv4", "ipv6"] as const).map(async (family): Promise<CheckResult> => {
      const address = h[family];
      const id = `smtp:${h.name}:${family}`;
      const what = `SMTP banner and EHLO of ${h.name} at ${address} port ${smtp.port}`;
      if (isPlaceholder(address)) return { id, state: "CRITICAL", what, note: "the host has no known address" };
      const left = deadlineAt === undefined ? 8000 : Math.min(8000, deadlineAt - Date.now());
      if (left <= 0) return { id, state: "UNKNOWN", what, note: "not probed before the check's deadline (--timeout)" };
      const r = await smtp.probe(address, smtp.port, left);
      const found = [r.bannerName && `banner ${r.bannerName}`, r.ehloName && `EHLO ${r.ehloName}`].filter(Boolean).join(", ") || undefined;
      // No answer in time says nothing about the host (port 25 is often filtered on the way): UNKNOWN.
      if (r.timedOut) return { id, state: "UNKNOWN", what, expected: h.helo, ...(found ? { found } : {}), note: `${r.error ?? "no answer"}; port ${smtp.port} may be filtered between here and the host` };
      if (r.error) return { id, state: "CRITICAL", what, expected: h.helo, ...(found ? { found } : {}), note: r.error };
      const wrong = [r.bannerName, r.ehloName].some((n) => lc(n ?? "") !== lc(h.helo));
      return wrong
        ? { id, state: "CRITICAL", what, expected: `banner and EHLO ${h.helo}`, found: found ?? "nothing", note: "the announced name must be the PTR name" }
        : { id, state: "OK", what, found: found! };
    }),
  );
  return Promise.all(jobs);
}

// ---------------------------------------------------------------- DNSBL

/** The hosts whose addresses mail leaves from or is handed on from: smarthosts and relays. */
function sendingAddresses(plan: Plan): { host: PlannedHost; family: "ipv4" | "ipv6"; address: string }[] {
  return plan.hosts.flatMap((host) =>
    (["ipv4", "ipv6"] as const).filter((f) => isIP(host[f]) !== 0).map((family) => ({ host, family, address: host[family] })),
  );
}

async function checkDnsbls(plan: Plan, lookups: Lookups, lists: string[]): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const list of lists) {
    for (const { host, family, address } of sendingAddresses(plan)) {
      const id = `dnsbl:${list}:${host.name}:${family}`;
      const what = `${host.name} ${address} on ${list}`;
      const q = `${reversedLabels(address)}.${list}`;
      const a = await ask(lookups, q, "A");
      if (a instanceof LookupFailure) {
        out.push(unknown(id, what, a));
        continue;
      }
      if (a.length === 0) {
        out.push({ id, state: "OK", what, found: "not listed" });
        continue;
      }
      const codes = a.filter((v) => v.startsWith("127."));
      if (codes.length === 0) {
        out.push({ id, state: "WARNING", what, found: a.join(", "), note: "answer outside 127.0.0.0/8: the list may be dead or wildcarding" });
        continue;
      }
      if (codes.every((c) => c.startsWith("127.255.255."))) {
        out.push({ id, state: "UNKNOWN", what, found: codes.join(", "), note: "the list refused the query (public resolver or over quota)" });
        continue;
      }
      const txt = await ask(lookups, q, "TXT");
      const reason = txt instanceof LookupFailure || txt.length === 0 ? "no TXT reason" : txt.join(" | ");
      out.push({
        id,
        state: host.drain ? "WARNING" : "CRITICAL",
        what,
        expected: "not listed",
        found: `LISTED on ${list} (${codes.join(", ")}): ${reason}`,
        note: host.drain
          ? "drained: takes no new mail; delist, then undrain"
          : host.role === "smarthost"
            ? "drain this smarthost (drain: true) until delisted"
            : "relays hand mail on from this address",
      });
    }
  }
  return out;
}

/** What a result shows of remote text (DNS answers, banners): one printable line, cut short. */
const RESULT_TEXT_MAX = 512;

function tidy(r: CheckResult): CheckResult {
  const t = (s: string | undefined) => (s === undefined ? undefined : shownText(s, RESULT_TEXT_MAX));
  return {
    ...r,
    what: t(r.what)!,
    ...(r.expected !== undefined ? { expected: t(r.expected)! } : {}),
    ...(r.found !== undefined ? { found: t(r.found)! } : {}),
    ...(r.note !== undefined ? { note: t(r.note)! } : {}),
  };
}

// ---------------------------------------------------------------- DNSSEC chain of trust

/** Each signed zone (plan.dnssec): the parent's DS against the zone's key-signing keys (dnssec.ts). */
async function checkDnssec(plan: Plan, lookups: Lookups): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const { zone } of plan.dnssec ?? []) {
    const id = `ds:${zone}`;
    const what = `DS of ${zone} at its parent (DNSSEC chain of trust)`;
    const [keys, dss] = [await ask(lookups, zone, "DNSKEY"), await ask(lookups, zone, "DS")];
    if (keys instanceof LookupFailure) out.push(unknown(id, what, keys));
    else if (dss instanceof LookupFailure) out.push(unknown(id, what, dss));
    else out.push({ id, what, ...chainOfTrust(zone, keys, dss) });
  }
  return out;
}

export async function runChecks(plan: Plan, options: CheckOptions): Promise<CheckResult[]> {
  const [records, ptrs, smtp, dnsbl, sts, dnssec] = await Promise.all([
    checkRecords(plan, options.lookups),
    checkPtrs(plan, options.lookups),
    options.smtp ? checkSmtp(plan, options.smtp, options.deadlineAt) : Promise.resolve([]),
    checkDnsbls(plan, options.lookups, [...new Set(options.dnsbls.map(lc))]),
    options.https ? checkMtaSts(plan, options.lookups, options.https, options.deadlineAt) : Promise.resolve([]),
    checkDnssec(plan, options.lookups),
  ]);
  // Remote text can hold anything: a line break in a TXT record or a banner must not forge a result line.
  return [...records, ...ptrs, ...dnssec, ...smtp, ...dnsbl, ...sts].map(tidy);
}
