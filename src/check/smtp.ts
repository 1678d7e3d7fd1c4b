// Talks just enough SMTP to see how a host introduces itself: read the 220 banner, send EHLO,
// read the reply, QUIT. No mail is sent.
import { connect } from "node:net";

/** How much of a peer's talk we hold: a reply line (RFC 5321 allows 512 octets), lines per reply, bytes per probe. */
export const SMTP_LIMITS = { lineBytes: 2048, replyLines: 100, totalBytes: 64 * 1024, shownChars: 200 };

export interface SmtpProbe {
  /** The greeting, all lines joined with "\n" (without codes). */
  banner?: string;
  /** First word of the banner: the name the host announces. */
  bannerName?: string;
  /** First word of the EHLO reply: the name the host gives in its EHLO answer. */
  ehloName?: string;
  error?: string;
  /** No answer in time: the path may be filtered (many networks block port 25), so nothing can be concluded. */
  timedOut?: boolean;
}

export type SmtpProber = (address: string, port: number, timeoutMs?: number) => Promise<SmtpProbe>;

/** Remote text as we show it: printable, one line, cut short. */
export function shownText(s: string, max = SMTP_LIMITS.shownChars): string {
  const flat = s.replace(/[^\x20-\x7e]/g, "?");
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

/** Reads complete SMTP replies (last line "NNN " ) from a socket, holding at most SMTP_LIMITS of a peer's talk. */
function replyReader(socket: import("node:net").Socket) {
  let buffer = "";
  let total = 0;
  let failed = false;
  const waiting: ((r: { code: number; lines: string[] } | Error) => void)[] = [];
  const ready: ({ code: number; lines: string[] } | Error)[] = [];
  const deliver = (r: { code: number; lines: string[] } | Error) => {
    const w = waiting.shift();
    if (w) w(r);
    else ready.push(r);
  };
  let lines: string[] = [];
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    buffer = "";
    lines = [];
    deliver(new Error(why));
    socket.destroy();
  };
  socket.on("data", (chunk: Buffer) => {
    if (failed) return;
    total += chunk.length;
    if (total > SMTP_LIMITS.totalBytes) return fail(`the peer sent more than ${SMTP_LIMITS.totalBytes} bytes without finishing its replies`);
    buffer += chunk.toString("latin1");
    if (buffer.indexOf("\n") < 0 && buffer.length > SMTP_LIMITS.lineBytes) return fail(`a reply line longer than ${SMTP_LIMITS.lineBytes} bytes`);
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
      if (line.length > SMTP_LIMITS.lineBytes) return fail(`a reply line longer than ${SMTP_LIMITS.lineBytes} bytes`);
      const m = /^(\d{3})([ -])(.*)$/.exec(line);
      if (!m) {
        deliver(new Error(`not an SMTP reply: ${shownText(line, 80)}`));
        continue;
      }
      lines.push(m[3]!);
      if (lines.length > SMTP_LIMITS.replyLines) return fail(`a reply of more than ${SMTP_LIMITS.replyLines} lines`);
      if (m[2] === " ") {
        deliver({ code: Number(m[1]), lines });
        lines = [];
      }
    }
  });
  socket.on("error", (e) => (failed ? undefined : deliver(e)));
  socket.on("close", () => (failed ? undefined : deliver(new Error("connection closed"))));
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
    const timer = setTimeout(() => {
      result.timedOut = true;
      done(`no answer within ${timeoutMs / 1000}s`);
    }, timeoutMs);
    const next = replyReader(socket);
    (async () => {
      const greeting = await next();
      result.banner = shownText(greeting.lines.join(" / "));
      result.bannerName = shownText(greeting.lines[0]?.split(/\s+/)[0] ?? "", 255);
      if (greeting.code !== 220) return done(`greeting ${greeting.code}: ${shownText(greeting.lines[0] ?? "")}`);
      socket.write(`EHLO ${options.ehloAs ?? "facteur-check.invalid"}\r\n`);
      const ehlo = await next();
      if (ehlo.code !== 250) return done(`EHLO answered ${ehlo.code}: ${shownText(ehlo.lines[0] ?? "")}`);
      result.ehloName = shownText(ehlo.lines[0]?.split(/\s+/)[0] ?? "", 255);
      socket.write("QUIT\r\n");
      await next().catch(() => undefined);
      done();
    })().catch((e: Error) => done((e as NodeJS.ErrnoException).code ?? e.message));
  });
}
