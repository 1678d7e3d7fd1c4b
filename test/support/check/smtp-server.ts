// A tiny SMTP responder for the banner check: greets with a name, answers EHLO, says bye.
// Listens on one loopback address only; never accepts mail.
import { createServer, type Server } from "node:net";

export async function startBannerServer(address: string, port: number, name: string, ehloName = name): Promise<{ stop(): Promise<void> }> {
  if (!address.startsWith("127.")) throw new Error(`banner server: loopback only, not ${address}`);
  const server: Server = createServer((socket) => {
    socket.write(`220 ${name} ESMTP\r\n`);
    let buf = "";
    socket.on("data", (d) => {
      buf += d.toString("latin1");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (/^EHLO /i.test(line)) socket.write(`250-${ehloName}\r\n250-PIPELINING\r\n250 8BITMIME\r\n`);
        else if (/^QUIT/i.test(line)) socket.end("221 2.0.0 Bye\r\n");
        else socket.write("502 5.5.2 not here\r\n");
      }
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  return { stop: () => new Promise<void>((r) => server.close(() => r())) };
}
