// A minimal Knot DNS for tests: serves given records as authoritative zones on 127.0.0.1 at a
// free high port. Written for the check tests; to merge with the lab's src/lab/dns.ts later.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, chmodSync, chownSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zoneFiles as labZoneFiles, knotConfig, soaQuery, isAuthoritativeAnswer } from "../../../src/lab/dns.ts";
import type { LiveRecord } from "./fixtures.ts";

export interface Knot {
  port: number;
  /** "127.0.0.1:PORT", as --resolver takes it. */
  server: string;
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
export function zoneFiles(records: LiveRecord[], zones: string[]): Map<string, string> {
  return labZoneFiles(records, zones, { nsAddress: "127.0.0.1" });
}

function knotUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = spawnSync("id", ["-u", "knot"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "knot"], { encoding: "utf8" });
  return id.status === 0 ? { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
}

/** Serves `zones` (name -> zone file text) and waits until every zone answers over TCP. */
export async function startKnot(zones: Map<string, string>, options: { timeoutMs?: number } = {}): Promise<Knot> {
  const dir = mkdtempSync(join(tmpdir(), "facteur-knot-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  for (const sub of ["zones", "db", "run"]) mkdirSync(join(dir, sub));
  for (const [z, text] of zones) writeFileSync(join(dir, "zones", `${z}.zone`), text);
  const user = knotUser();
  if (user) for (const sub of ["zones", "db", "run"]) chownSync(join(dir, sub), user.uid, user.gid);
  const conf = join(dir, "knot.conf");
  writeFileSync(conf, knotConfig({ listen: [`127.0.0.1@${port}`], dir, zones: [...zones.keys()], user: !!user }));
  const check = spawnSync("knotc", ["-c", conf, "conf-check"], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`knotc conf-check failed: ${check.stderr || check.stdout}`);

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
  return { port, server: `127.0.0.1:${port}`, stop };
}
