// DNS answers the check needs, behind one small interface so the comparison logic can be
// tested with a table of fake answers and run for real against any resolver.
import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";
import { queryWire } from "./dnsWire.ts";

export type QueryType = "A" | "AAAA" | "MX" | "TXT" | "PTR" | "TLSA" | "DS" | "DNSKEY";

/** A lookup that could not be answered (timeout, SERVFAIL, REFUSED): not the same as "no such record". */
export class LookupFailure extends Error {
  override name = "LookupFailure";
  constructor(
    readonly query: string,
    readonly code: string,
  ) {
    super(`${query}: ${code}`);
  }
}

export interface Lookups {
  /**
   * Values of one RRset, as text: A/AAAA addresses, "PRIORITY EXCHANGE" for MX, each TXT record's
   * strings joined, PTR names without the trailing dot, TLSA, DS and DNSKEY in presentation form
   * (dnsWire.ts). NXDOMAIN and NODATA are [].
   * Throws LookupFailure when the question got no usable answer.
   */
  resolve(name: string, type: QueryType): Promise<string[]>;
}

const EMPTY = new Set(["ENOTFOUND", "ENODATA"]);

/** Parses --resolver: IPv4, IPv4:PORT, IPv6, [IPv6]:PORT. Returns the form Resolver.setServers takes. */
export function parseResolver(value: string): string {
  const v6port = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  const v4port = /^([\d.]+)(?::(\d+))?$/.exec(value);
  const [host, port] = v6port ? [v6port[1]!, v6port[2]] : v4port ? [v4port[1]!, v4port[2]] : [value, undefined];
  if (!isIP(host)) throw new Error(`--resolver: expected IP, IP:PORT or [IPv6]:PORT, got "${value}"`);
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) throw new Error(`--resolver: bad port in "${value}"`);
  if (port === undefined) return host;
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The code of a lookup that was not answered before the check's overall deadline (--timeout). */
export const DEADLINE = "DEADLINE";

/**
 * Lookups that give up at `deadlineAt` (epoch ms): a resolver that swallows queries costs the
 * run at most its deadline, and every question left is a LookupFailure (UNKNOWN), never OK.
 */
export function withDeadline(lookups: Lookups, deadlineAt: number): Lookups {
  return {
    resolve(name, type) {
      const left = deadlineAt - Date.now();
      const query = `${name} ${type}`;
      if (left <= 0) return Promise.reject(new LookupFailure(query, DEADLINE));
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LookupFailure(query, DEADLINE)), left);
      });
      return Promise.race([lookups.resolve(name, type), expired]).finally(() => clearTimeout(timer));
    },
  };
}

/** Real lookups through node's resolver (c-ares); `server` as parseResolver returns it, or the system's. */
export function dnsLookups(server?: string, options: { timeoutMs?: number; tries?: number } = {}): Lookups & { close(): void } {
  const r = new Resolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (server) r.setServers([server]);
  const strip = (n: string) => n.replace(/\.$/, "").toLowerCase();
  return {
    /** Cancels the queries still in flight (after the deadline), so nothing keeps the process waiting. */
    close: () => r.cancel(),
    async resolve(name, type) {
      try {
        switch (type) {
          case "A":
            return await r.resolve4(name);
          case "AAAA":
            return await r.resolve6(name);
          case "MX":
            return (await r.resolveMx(name)).map((m) => `${m.priority} ${strip(m.exchange)}`);
          case "TXT":
            return (await r.resolveTxt(name)).map((chunks) => chunks.join(""));
          case "PTR":
            return (await r.resolvePtr(name)).map(strip);
          case "TLSA":
          case "DS":
          case "DNSKEY": {
            // NOERROR and NXDOMAIN (3) are answers; SERVFAIL (2, also what a validating resolver says to a bogus signature) is not.
            const a = await queryWire(name, type, server, options.timeoutMs ?? 2000);
            if (a.rcode === 0 || a.rcode === 3) return a.records;
            throw Object.assign(new Error("rcode"), { code: a.rcode === 2 ? "ESERVFAIL" : `RCODE${a.rcode}` });
          }
        }
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? String(e);
        if (EMPTY.has(code)) return [];
        throw new LookupFailure(`${name} ${type}`, code);
      }
    },
  };
}

/**
 * Lookups from a table, for tests: keys "TYPE name" (e.g. "TXT _dmarc.entreprise.tld"),
 * values the answers; a missing key is NXDOMAIN; a value "!CODE" fails with that code.
 */
export function tableLookups(table: Record<string, string[] | string>): Lookups & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async resolve(name, type) {
      const key = `${type} ${name.toLowerCase().replace(/\.$/, "")}`;
      asked.push(key);
      const v = table[key];
      if (typeof v === "string") throw new LookupFailure(key, v.replace(/^!/, ""));
      return v ? [...v] : [];
    },
  };
}

