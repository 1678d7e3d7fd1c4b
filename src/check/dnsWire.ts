// DNS questions node's resolver cannot ask (node 20 has no resolveTlsa, nor DS or DNSKEY): the
// check sends them to the same server itself, over UDP, and again over TCP when the answer is
// truncated (RFC 7766), with messages built and read here (RFC 1035 4.1). Answers come back in
// presentation form, as zone files and plans write them:
//   TLSA   "USAGE SELECTOR MATCHING hex"      (3 1 1 ab...)
//   DS     "KEYTAG ALGORITHM DIGESTTYPE hex"  (2371 13 2 ab...)
//   DNSKEY "FLAGS PROTOCOL ALGORITHM base64"  (257 3 13 mdsswUyr...)
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";

export const WIRE_TYPES = { TLSA: 52, DS: 43, DNSKEY: 48 } as const;
export type WireType = keyof typeof WIRE_TYPES;

/** A name in wire format (RFC 1035 3.1): length-prefixed labels, then the root's empty label. */
export function nameWire(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const l of name.replace(/\.$/, "").split(".").filter(Boolean)) {
    const b = Buffer.from(l, "ascii");
    if (b.length > 63) throw new Error(`${name}: label longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/** The wire-format question for `name` `type` IN, recursion desired, with id `id`. */
export function dnsQuestion(name: string, type: WireType, id: number): Buffer {
  const code = WIRE_TYPES[type];
  return Buffer.concat([Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), nameWire(name), Buffer.from([0, code, 0, 1])]);
}

/** Skips a (possibly compressed) name at `at`; returns the offset after it. */
function skipName(msg: Buffer, at: number): number {
  for (;;) {
    const len = msg[at];
    if (len === undefined) throw new Error("truncated name");
    if ((len & 0xc0) === 0xc0) return at + 2;
    if (len === 0) return at + 1;
    at += len + 1;
  }
}

/** The rdata of `type` a record set carries, in presentation form (see the top of this file). */
export function presentation(type: WireType, rdata: Buffer): string | undefined {
  if (type === "TLSA" && rdata.length >= 3) return `${rdata[0]} ${rdata[1]} ${rdata[2]} ${rdata.subarray(3).toString("hex")}`;
  if (type === "DS" && rdata.length >= 4) return `${rdata.readUInt16BE(0)} ${rdata[2]} ${rdata[3]} ${rdata.subarray(4).toString("hex")}`;
  if (type === "DNSKEY" && rdata.length >= 4) return `${rdata.readUInt16BE(0)} ${rdata[2]} ${rdata[3]} ${rdata.subarray(4).toString("base64")}`;
  return undefined;
}

export type DnsAnswer = { rcode: number; truncated: boolean; records: string[] };

/** The records of `type` in a response to question `id`; rcode as the server set it. */
export function parseDnsResponse(msg: Buffer, id: number, type: WireType): DnsAnswer {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id) throw new Error("not the answer to this question");
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let at = 12;
  for (let i = 0; i < qd; i++) at = skipName(msg, at) + 4;
  const records: string[] = [];
  for (let i = 0; i < an; i++) {
    at = skipName(msg, at);
    const rrType = msg.readUInt16BE(at);
    const rdlen = msg.readUInt16BE(at + 8);
    const text = rrType === WIRE_TYPES[type] ? presentation(type, msg.subarray(at + 10, at + 10 + rdlen)) : undefined;
    if (text !== undefined) records.push(text);
    at += 10 + rdlen;
  }
  return { rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, records };
}

/** One question over UDP: the first datagram that answers it (others are ignored). */
async function overUdp(question: Buffer, id: number, type: WireType, host: string, port: number, timeoutMs: number): Promise<DnsAnswer> {
  const sock = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
  try {
    return await new Promise<DnsAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs);
      sock.on("error", (e) => (clearTimeout(timer), reject(e)));
      sock.on("message", (msg) => {
        try {
          const r = parseDnsResponse(msg, id, type);
          clearTimeout(timer);
          resolve(r);
        } catch {
          /* not ours: keep waiting */
        }
      });
      sock.send(question, port, host);
    });
  } finally {
    sock.close();
  }
}

/** The same question over TCP (RFC 1035 4.2.2, RFC 7766): each message behind its two-byte length. */
async function overTcp(question: Buffer, id: number, type: WireType, host: string, port: number, timeoutMs: number): Promise<DnsAnswer> {
  const sock = connect({ host, port });
  try {
    return await new Promise<DnsAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs);
      const fail = (e: Error) => (clearTimeout(timer), reject(e));
      let got = Buffer.alloc(0);
      sock.on("error", fail);
      sock.on("close", () => fail(Object.assign(new Error("connection closed before a whole answer"), { code: "ECONNRESET" })));
      sock.on("data", (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
        clearTimeout(timer);
        try {
          resolve(parseDnsResponse(got.subarray(2, 2 + got.readUInt16BE(0)), id, type));
        } catch (e) {
          reject(e as Error);
        }
      });
      const length = Buffer.alloc(2);
      length.writeUInt16BE(question.length);
      sock.write(Buffer.concat([length, question]));
    });
  } finally {
    sock.destroy();
  }
}

/**
 * Asks `server` (as parseResolver gives it, or the system's first resolver) for the `type`
 * records of `name`: over UDP, then over TCP when the answer came truncated (TC: more than 512
 * bytes, e.g. a host with several keys on several ports, or a zone's DNSKEY set), as every
 * resolver does.
 */
export async function queryWire(name: string, type: WireType, server: string | undefined, timeoutMs: number): Promise<DnsAnswer> {
  const target = server ?? getServers()[0];
  if (!target) throw new Error("no resolver");
  const m = /^\[(.+)\]:(\d+)$/.exec(target) ?? /^([^:]+):(\d+)$/.exec(target);
  const host = m ? m[1]! : target;
  const port = m ? Number(m[2]) : 53;
  const id = randomInt(0, 0x10000);
  const question = dnsQuestion(name, type, id);
  const udp = await overUdp(question, id, type, host, port, timeoutMs);
  return udp.truncated ? overTcp(question, id, type, host, port, timeoutMs) : udp;
}
