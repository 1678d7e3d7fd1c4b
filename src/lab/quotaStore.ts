// The shared quota store in the lab: PostgreSQL 15 in its host's namespace, started from its
// facts (src/render/daemons/postgresql.ts: data and socket directories, foreground command,
// readiness probe, set-up SQL) like any other daemon. What is lab-only stays here: the cluster
// itself (Debian's package makes it on a host; here initdb, cached once for every lab stack),
// the postgresql.conf that includes the rendered drop-in and names the lab's socket directory,
// and the TLS pair (the host's lab certificate).
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { PostgresqlFacts } from "../render/daemons/index.ts";
import { must, run, spawnDetached, waitFor } from "./proc.ts";
import { labCacheDir } from "./cache.ts";

function initdbCache(d: PostgresqlFacts): string {
  // binDir is /usr/lib/postgresql/<version>/bin: one cache per version.
  return `${labCacheDir("postgres")}/${d.binDir.split("/").at(-2)}-initdb`;
}

function postgresIds(d: PostgresqlFacts): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${d.user}:`));
  if (!line) throw new Error(`the lab's quota store needs the ${d.user} user: run scripts/setup-system.sh (postgresql)`);
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/** An empty cluster, made once per machine (initdb takes seconds) and copied for each store. */
async function freshCluster(d: PostgresqlFacts): Promise<void> {
  const pg = postgresIds(d);
  const cache = initdbCache(d);
  if (!existsSync(`${cache}/PG_VERSION`)) {
    const tmp = `${cache}.${process.pid}.${Date.now()}`;
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    chownSync(tmp, pg.uid, pg.gid);
    await must("initdb for the lab's quota store", ["runuser", "-u", d.user, "--", `${d.binDir}/initdb`, "-D", tmp, "-U", d.user, "-E", "UTF8", "--locale=C", "--auth-local=peer", "--auth-host=scram-sha-256"]);
    try {
      renameSync(tmp, cache);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another stack made it meanwhile
    }
  }
  rmSync(d.dataDir, { recursive: true, force: true });
  mkdirSync(dirname(d.dataDir), { recursive: true });
  await must(`copy the lab cluster to ${d.dataDir}`, ["cp", "-a", cache, d.dataDir]);
}

/**
 * The store host's cluster, before its foreground command starts it: a fresh one, whose
 * postgresql.conf includes the rendered drop-in (as Debian's conf.d is) and then the lab's own
 * settings (socket directory, the host's lab certificate; production uses Debian's snakeoil pair).
 */
export async function prepareLabCluster(d: PostgresqlFacts, tls: { cert: string; key: string }): Promise<void> {
  const pg = postgresIds(d);
  await freshCluster(d);
  copyFileSync(tls.cert, `${d.dataDir}/lab-cert.pem`);
  copyFileSync(tls.key, `${d.dataDir}/lab-key.pem`);
  chmodSync(`${d.dataDir}/lab-key.pem`, 0o600);
  const conf = readFileSync(`${d.dataDir}/postgresql.conf`, "utf8");
  writeFileSync(
    `${d.dataDir}/postgresql.conf`,
    conf +
      [
        "",
        "# facteur lab: the rendered drop-in, then what is the lab's own.",
        `include '${d.config}'`,
        `unix_socket_directories = '${d.socketDir}'`,
        `ssl_cert_file = '${d.dataDir}/lab-cert.pem'`,
        `ssl_key_file = '${d.dataDir}/lab-key.pem'`,
        "",
      ].join("\n"),
  );
  await must(`chown ${d.dataDir}`, ["chown", "-R", `${pg.uid}:${pg.gid}`, d.dataDir]);
}

/** The facts' set-up (the rendered SQL through psql, idempotent), inside the host's namespace. */
export async function runSetup(ns: string, d: { label: string; setup?: { argv: string[]; stdin: string } }): Promise<void> {
  if (!d.setup) return;
  await must(`${d.label}: set-up (${d.setup.stdin})`, d.setup.argv, { ns, input: readFileSync(d.setup.stdin, "utf8") });
}

/** Stops the store (fast shutdown: clients disconnected, data kept); resolves once it is gone. */
export async function stopLabQuotaStore(ns: string, d: PostgresqlFacts): Promise<void> {
  await must("pg_ctl stop", ["runuser", "-u", d.user, "--", `${d.binDir}/pg_ctl`, "-D", d.dataDir, "-m", "fast", "-w", "stop"], { ns });
}

/** Starts it again on the same data, as its facts say; resolves once it answers. */
export async function restartLabQuotaStore(ns: string, d: PostgresqlFacts, out: string): Promise<void> {
  if (!d.foreground) throw new Error(`${d.label} has no foreground command`);
  spawnDetached(d.foreground, out, { ns });
  const ok = await waitFor(async () => (await run(["runuser", "-u", d.user, "--", `${d.binDir}/pg_isready`, "-q", "-h", d.socketDir, "-p", String(d.port)], { ns })).code === 0, 60_000, 200);
  if (!ok) throw new Error(`the quota store did not come back (read ${out})`);
}
