// facteur lab: serves each domain's rendered MTA-STS Worker module (src/render/mtaSts.ts) over
// HTTPS, calling its fetch() as Cloudflare's runtime does: the lab proves the very module the
// Pulumi program uploads. Plain JavaScript: node runs it without a loader, in the lab namespace.
// usage: node mta-sts-server.mjs PORT CERT KEY MAP.json   (MAP: host name -> module file)
import { createServer } from "node:https";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [port, cert, key, mapFile] = process.argv.slice(2);
const workers = new Map();
for (const [host, file] of Object.entries(JSON.parse(readFileSync(mapFile, "utf8")))) workers.set(host, (await import(pathToFileURL(file).href)).default);

const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, async (req, res) => {
  const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const worker = workers.get(host);
  try {
    if (!worker) {
      res.writeHead(421, { "content-type": "text/plain" });
      res.end(`no policy is served for ${host}\n`);
      return;
    }
    const response = await worker.fetch(new Request(`https://${host}${req.url}`, { method: req.method }));
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
    console.log(`${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} https://${host}${req.url} ${response.status}`);
  } catch (e) {
    res.writeHead(500);
    res.end();
    console.log(`${new Date().toISOString()} ${req.method} https://${host}${req.url} failed: ${e}`);
  }
});
server.listen(Number(port), "::", () => console.log(`serving ${[...workers.keys()].join(", ")} on port ${port}`));
