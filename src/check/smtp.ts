// Talks just enough SMTP to see how a host introduces itself: read the 220 banner, send EHLO,
// read the reply, QUIT. No mail is sent.
import { connect } from "node:net";

export interface SmtpProbe {
  /** The greeting, all lines joined with "\n" (without codes). */
  banner?: string;
  /** First word of the banner: the name the host announces. */
  bannerName?: string;
  /** First word of the EHLO reply: the name the host gives in its EHLO answer. */
  ehloName?: string;
  error?: string;
}

export type SmtpProber = (address: string, port: number) => Promise<SmtpProbe>;

/** Reads complete SMTP replies (last line "NNN " ) from a socket. */
function replyReader(socket: import("node:net").Socket) {
  let buffer = "";
  const waiting: ((r: { code: number; lines: string[] } | Error) => void)[] = [];
  const ready: ({ code: number; lines: string[] } | Error)[] = [];
  const deliver = (r: { code: number; lines: string[] } | Error) => {
    const w = waiting.shift();
    if (w) w(r);
    else ready.push(r);
  };
  let lines: string[] = [];
  socket.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("latin1");
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) {
        deliver(new Error(`not an SMTP reply: ${JSON.stringify(line.slice(0, 80))}`));
        continue;
      }
      lines.push(m[3]!);
      if (m[2] === " ") {
        deliver({ code: Number(m[1]), lines });
        lines = [];
      }
    }
  });
  socket.on("error", (e) => deliver(e));
  socket.on("close", () => deliver(new Error("connection closed")));
  return () =>
    new Promise<{ code: number; lines: string[] }>((resolve, reject) => {
      const r = ready.shift();
      const settle = (x: { code: number; lines: string[] } | Error) => (x instanceof Error ? reject(x) : resolve(x));
      if (r) settle(r);
      else waiting.push(settle);
    });
}

export function probeSmtp(address: string, port = 25, options: { timeoutMs?: number; ehloAs?: string } = {}): Promise<SmtpProbe> {
  const timeoutMs = options.timeoutMs ?? 8000;
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const result: SmtpProbe = {};
    const done = (error?: string) => {
      clearTimeout(timer);
      if (error && !result.error) result.error = error;
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(`no answer within ${timeoutMs / 1000}s`), timeoutMs);
    const next = replyReader(socket);
    (async () => {
      const greeting = await next();
      result.banner = greeting.lines.join("\n");
      result.bannerName = greeting.lines[0]?.split(/\s+/)[0];
      if (greeting.code !== 220) return done(`greeting ${greeting.code}: ${greeting.lines[0] ?? ""}`);
      socket.write(`EHLO ${options.ehloAs ?? "facteur-check.invalid"}\r\n`);
      const ehlo = await next();
      if (ehlo.code !== 250) return done(`EHLO answered ${ehlo.code}: ${ehlo.lines[0] ?? ""}`);
      result.ehloName = ehlo.lines[0]?.split(/\s+/)[0];
      socket.write("QUIT\r\n");
      await next().catch(() => undefined);
      done();
    })().catch((e: Error) => done((e as NodeJS.ErrnoException).code ?? e.message));
  });
}
