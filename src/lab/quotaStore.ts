// The shared quota store in the lab: PostgreSQL 15 in its host's namespace, from the rendered
// conf.d drop-in and pg_hba.conf (src/render/daemons/quotaStore.ts), on a data directory and
// socket directory of the lab's own. What is lab-only stays here: the cluster itself (initdb,
// cached once for every lab stack), the socket directory and the TLS pair (the host's lab cert).
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { HostBundle } from "../render/bundle.ts";
import { must, run, spawnDetached, waitFor } from "./proc.ts";
import { runProbes, type LabProbe } from "./probes.ts";
import { LAB_BASE } from "./topology.ts";

export const PG_BIN = "/usr/lib/postgresql/15/bin";
const INITDB_CACHE = `${LAB_BASE}/.cache/postgres-15-initdb`;

/** Where the lab keeps a store host's cluster (under the host's root). */
export function labPostgresPaths(hostRoot: string) {
  return { data: `${hostRoot}/var/lib/postgresql/15/main`, sockets: `${hostRoot}/run/postgresql`, log: `${hostRoot}/var/log/postgresql.log` };
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"));
  if (!line) throw new Error("the lab's quota store needs the postgres user: run scripts/setup-system.sh (postgresql)");
  const f = line.split(":");
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function chownTree(path: string, uid: number, gid: number): Promise<unknown> {
  return must(`chown ${path}`, ["chown", "-R", `${uid}:${gid}`, path]);
}

/** An empty cluster, made once per machine (initdb takes seconds) and copied for each store. */
async function freshCluster(data: string): Promise<void> {
  const pg = postgresIds();
  if (!existsSync(`${INITDB_CACHE}/PG_VERSION`)) {
    const tmp = `${INITDB_CACHE}.${process.pid}.${Date.now()}`;
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    chownSync(tmp, pg.uid, pg.gid);
    await must("initdb for the lab's quota store", ["runuser", "-u", "postgres", "--", `${PG_BIN}/initdb`, "-D", tmp, "-U", "postgres", "-E", "UTF8", "--locale=C", "--auth-local=peer", "--auth-host=scram-sha-256"]);
    try {
      renameSync(tmp, INITDB_CACHE);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another stack made it meanwhile
    }
  }
  rmSync(data, { recursive: true, force: true });
  mkdirSync(dirname(data), { recursive: true });
  await must(`copy the lab cluster to ${data}`, ["cp", "-a", INITDB_CACHE, data]);
}

/** Starts the store's postmaster (detached, in the host's namespace). */
export function spawnPostgres(ns: string, hostRoot: string): void {
  const p = labPostgresPaths(hostRoot);
  spawnDetached(["runuser", "-u", "postgres", "--", `${PG_BIN}/postgres`, "-D", p.data], p.log, { ns });
}

/**
 * Brings the store up on a host whose bundle serves it: cluster, lab settings after the rendered
 * drop-in, postmaster, then the rendered setup SQL once it answers. Returns its probe.
 */
export async function startLabQuotaStore(bundle: HostBundle, h: { name: string; ns: string; root: string }): Promise<LabProbe> {
  const store = bundle.quotaStore?.serves;
  if (!store) throw new Error(`${bundle.host}: the bundle does not serve the quota store`);
  const pg = postgresIds();
  const p = labPostgresPaths(h.root);
  await freshCluster(p.data);
  mkdirSync(p.sockets, { recursive: true });
  chownSync(p.sockets, pg.uid, pg.gid);
  // The host's lab certificate, readable by postgres only (production uses Debian's snakeoil pair).
  copyFileSync(bundle.tls.cert, `${p.data}/lab-cert.pem`);
  copyFileSync(bundle.tls.key, `${p.data}/lab-key.pem`);
  chmodSync(`${p.data}/lab-key.pem`, 0o600);
  const conf = readFileSync(`${p.data}/postgresql.conf`, "utf8");
  writeFileSync(
    `${p.data}/postgresql.conf`,
    conf +
      [
        "",
        "# facteur lab: the rendered drop-in, then what is the lab's own.",
        `include '${store.conf}'`,
        `unix_socket_directories = '${p.sockets}'`,
        `ssl_cert_file = '${p.data}/lab-cert.pem'`,
        `ssl_key_file = '${p.data}/lab-key.pem'`,
        "",
      ].join("\n"),
  );
  await chownTree(p.data, pg.uid, pg.gid);
  mkdirSync(dirname(p.log), { recursive: true });
  spawnPostgres(h.ns, h.root);
  const probe: LabProbe = {
    host: h.name,
    ns: h.ns,
    daemon: "PostgreSQL (quota store)",
    what: `SSLRequest on 127.0.0.1:${bundle.quotaStore!.port}`,
    check: { kind: "postgres", address: "127.0.0.1", port: bundle.quotaStore!.port },
    logs: [p.log],
  };
  await quotaStoreReady(probe);
  await applyQuotaStoreSql(bundle, h.ns, h.root);
  return probe;
}

async function quotaStoreReady(probe: LabProbe): Promise<void> {
  const [r] = await runProbes([probe], { waitMs: 120_000 });
  if (!r!.ok) throw new Error(`${probe.host}: the quota store does not answer (${r!.detail}); read ${probe.logs.join(", ")}`);
}

/** The rendered setup SQL, through psql as postgres over the lab's socket (idempotent). */
export async function applyQuotaStoreSql(bundle: HostBundle, ns: string, hostRoot: string): Promise<void> {
  const store = bundle.quotaStore!;
  const sql = readFileSync(store.serves!.setupSql, "utf8");
  await must(`${bundle.host}: quota store setup (${store.serves!.setupSql})`, ["runuser", "-u", "postgres", "--", `${PG_BIN}/psql`, "-X", "-q", "-h", labPostgresPaths(hostRoot).sockets, "-p", String(store.port), "-v", "ON_ERROR_STOP=1", "-f", "-"], { ns, input: sql });
}

/** Stops the store (fast shutdown: clients disconnected, data kept); resolves once it is gone. */
export async function stopLabQuotaStore(ns: string, hostRoot: string): Promise<void> {
  const p = labPostgresPaths(hostRoot);
  await must("pg_ctl stop", ["runuser", "-u", "postgres", "--", `${PG_BIN}/pg_ctl`, "-D", p.data, "-m", "fast", "-w", "stop"], { ns });
}

/** Starts it again on the same data; resolves once it answers. */
export async function restartLabQuotaStore(ns: string, hostRoot: string, port: number): Promise<void> {
  spawnPostgres(ns, hostRoot);
  const ok = await waitFor(async () => (await run(["runuser", "-u", "postgres", "--", `${PG_BIN}/pg_isready`, "-q", "-h", labPostgresPaths(hostRoot).sockets, "-p", String(port)], { ns })).code === 0, 60_000, 200);
  if (!ok) throw new Error(`the quota store did not come back (read ${labPostgresPaths(hostRoot).log})`);
}
