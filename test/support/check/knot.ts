// Knot DNS for the check tests: serves given records as authoritative zones on 127.0.0.1 at a
// free high port. The server's directory, zone files and configuration are the lab's
// (prepareKnot, src/lab/knot.ts); here it runs as a child process of the test, on loopback.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, chmodSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zoneFiles as labZoneFiles, soaQuery, isAuthoritativeAnswer, type ZoneRecord } from "../../../src/lab/zones.ts";
import { prepareKnot } from "../../../src/lab/knot.ts";

export interface Knot {
  port: number;
  /** "127.0.0.1:PORT", as --resolver takes it. */
  server: string;
  /** knotd's configuration (for knotc -c) and its directory (zones/, db/, run/). */
  conf: string;
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Zone file text per zone; every record must fall inside one of `zones` (the lab's zone writer, NS on loopback). */
export function zoneFiles(records: ZoneRecord[], zones: string[]): Map<string, string> {
  return labZoneFiles(records, zones, { nsAddress: "127.0.0.1" });
}

/** Serves `zones` (name -> zone file text), signing those in `signed`, and waits until every zone answers over TCP. */
export async function startKnot(zones: Map<string, string>, options: { timeoutMs?: number; signed?: string[] } = {}): Promise<Knot> {
  const dir = mkdtempSync(join(tmpdir(), "facteur-knot-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = await prepareKnot(dir, [`127.0.0.1@${port}`], zones, undefined, options.signed ?? []);

  const child: ChildProcess = spawn("knotd", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when every zone answers its SOA authoritatively: a zone Knot refused to load answers REFUSED/SERVFAIL.
  const deadline = Date.now() + (options.timeoutMs ?? 10000);
  const pending = new Set(zones.keys());
  while (pending.size) {
    if (exited) {
      await stop();
      throw new Error(`knotd exited: ${stderr.trim()}`);
    }
    for (const z of [...pending]) {
      const [cmd, ...args] = soaQuery("127.0.0.1", port, z);
      const q = spawnSync(cmd!, args, { encoding: "utf8" });
      if (process.env.KNOT_DEBUG) console.error(q.stdout, q.stderr);
      if (isAuthoritativeAnswer(q.stdout)) pending.delete(z);
    }
    if (!pending.size) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`knotd did not serve ${[...pending].join(", ")} within ${options.timeoutMs ?? 10000} ms: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, server: `127.0.0.1:${port}`, conf, dir, stop };
}

/** Replaces a served zone's file and has Knot load it again (knotc zone-reload). */
export function reloadZone(knot: Knot, zone: string, text: string): void {
  writeFileSync(join(knot.dir, "zones", `${zone}.zone`), text);
  const r = spawnSync("knotc", ["-c", knot.conf, "zone-reload", zone], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`knotc zone-reload ${zone}: ${r.stdout}${r.stderr}`);
}
