// TLSA lookups (RFC 6698): node 20's resolver has no resolveTlsa, so the check asks the same
// server itself, one question over UDP (again over TCP when the answer is truncated) with a DNS
// message built and read here (RFC 1035 4.1).
// Answers are "USAGE SELECTOR MATCHING HEXDATA" (lower case), the form plans and zone files use.
import { createSocket } from "node:dgram";
import { getServers } from "node:dns";
import { connect, isIP } from "node:net";
import { randomInt } from "node:crypto";

const TLSA = 52;

/** The wire-format question for `name` TLSA IN, recursion desired, with id `id`. */
export function tlsaQuestion(name: string, id: number): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  const parts: Buffer[] = [Buffer.from([id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) {
    const b = Buffer.from(l, "ascii");
    if (b.length > 63) throw new Error(`${name}: label longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0, 0, TLSA, 0, 1]));
  return Buffer.concat(parts);
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

export type TlsaAnswer = { rcode: number; truncated: boolean; records: string[] };

/** The TLSA records of a response to question `id`; rcode as the server set it. */
export function parseTlsaResponse(msg: Buffer, id: number): TlsaAnswer {
  if (msg.length < 12 || msg.readUInt16BE(0) !== id) throw new Error("not the answer to this question");
  const flags = msg.readUInt16BE(2);
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let at = 12;
  for (let i = 0; i < qd; i++) at = skipName(msg, at) + 4;
  const records: string[] = [];
  for (let i = 0; i < an; i++) {
    at = skipName(msg, at);
    const type = msg.readUInt16BE(at);
    const rdlen = msg.readUInt16BE(at + 8);
    const rdata = msg.subarray(at + 10, at + 10 + rdlen);
    if (type === TLSA && rdata.length >= 3) records.push(`${rdata[0]} ${rdata[1]} ${rdata[2]} ${rdata.subarray(3).toString("hex")}`);
    at += 10 + rdlen;
  }
  return { rcode: flags & 0x0f, truncated: (flags & 0x0200) !== 0, records };
}

/** One question over UDP: the first datagram that answers it (others are ignored). */
async function overUdp(question: Buffer, id: number, host: string, port: number, timeoutMs: number): Promise<TlsaAnswer> {
  const sock = createSocket(isIP(host) === 6 ? "udp6" : "udp4");
  try {
    return await new Promise<TlsaAnswer>((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(new Error("timeout"), { code: "ETIMEOUT" })), timeoutMs);
      sock.on("error", (e) => (clearTimeout(timer), reject(e)));
      sock.on("message", (msg) => {
        try {
          const r = parseTlsaResponse(msg, id);
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
async function overTcp(question: Buffer, id: number, host: string, port: number, timeoutMs: number): Promise<TlsaAnswer> {
  const sock = connect({ host, port });
  try {
    return await new Promise<TlsaAnswer>((resolve, reject) => {
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
          resolve(parseTlsaResponse(got.subarray(2, 2 + got.readUInt16BE(0)), id));
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
 * Asks `server` (as parseResolver gives it, or the system's first resolver) for the TLSA records
 * of `name`: over UDP, then over TCP when the answer came truncated (TC: more than 512 bytes,
 * e.g. a host with several keys on several ports), as every resolver does.
 */
export async function queryTlsa(name: string, server: string | undefined, timeoutMs: number): Promise<TlsaAnswer> {
  const target = server ?? getServers()[0];
  if (!target) throw new Error("no resolver");
  const m = /^\[(.+)\]:(\d+)$/.exec(target) ?? /^([^:]+):(\d+)$/.exec(target);
  const host = m ? m[1]! : target;
  const port = m ? Number(m[2]) : 53;
  const id = randomInt(0, 0x10000);
  const question = tlsaQuestion(name, id);
  const udp = await overUdp(question, id, host, port, timeoutMs);
  return udp.truncated ? overTcp(question, id, host, port, timeoutMs) : udp;
}
