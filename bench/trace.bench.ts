// Benchmark: `facteur trace` over one day of logs of a fleet (two relays, two smarthosts) at
// 100,000 messages per host, beside plain tools over the same files in the same run: one
// `grep -F` pass for what was asked (the floor: reading the bytes once), and the grep/awk
// pipeline an operator would type to follow a message by queue id and "queued as".
// Usage: npm run bench:trace   (FACTEUR_BENCH_TRACE_MESSAGES=N for another size)
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { trace } from "../src/trace/join.ts";
import { fileBytes, type FileBytes } from "../src/trace/files.ts";
import type { HostLog, Query } from "../src/trace/types.ts";
import { DAY_START, fleetHosts, writeFleetDay, type Fleet } from "./maillog-day.ts";

const perHost = Number(process.env.FACTEUR_BENCH_TRACE_MESSAGES ?? 100_000);
const dir = join(tmpdir(), `facteur-bench-trace-v1-${perHost}`);
const manifest = join(dir, "fleet.json");

let fleet: Fleet;
if (existsSync(manifest) && !process.env.FACTEUR_BENCH_REGEN) fleet = JSON.parse(readFileSync(manifest, "utf8")) as Fleet;
else {
  const t0 = Date.now();
  fleet = writeFleetDay(dir, perHost);
  writeFileSync(manifest, JSON.stringify(fleet));
  console.log(`generated ${(fleet.bytes / 1e6).toFixed(0)} MB, ${fleet.lines.toLocaleString("en")} lines in ${((Date.now() - t0) / 1000).toFixed(1)} s (${dir})`);
}

/** The whole trace as the CLI runs it: read every host's files, then join. */
function traceOnce(query: Query): { seconds: number; messages: number; paths: number } {
  const start = process.hrtime.bigint();
  const opened: FileBytes[] = [];
  const open = (f: string) => {
    const b = fileBytes(f);
    opened.push(b);
    return b;
  };
  const logs: HostLog[] = fleetHosts().map((h) => {
    const f = (kind: string) => join(dir, `${h.host}.${kind}.log`);
    return {
      ...h,
      postfix: open(f("postfix")),
      ...(existsSync(f("rspamd")) ? { rspamd: open(f("rspamd")) } : {}),
      ...(existsSync(f("journal")) ? { syslog: open(f("journal")) } : {}),
    };
  });
  const t = trace(logs, query, { sinceMs: DAY_START - 60_000, limit: 20 });
  for (const b of opened) b.close();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, messages: t.messages.length + t.more, paths: t.messages.reduce((n, m) => n + m.paths.length, 0) };
}

function timed(argv: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: "C" } });
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(" ")}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const files = fleet.files.map((f) => join(dir, basename(f)));
const needleOf = (q: Query) => (q.kind === "message-id" ? `message-id=<${q.value}>` : q.kind === "to" ? `to=<${q.value}>` : `from=<${q.value}>`);
// The by-hand way: find the lines, their queue ids, the next hops' ids from "queued as", all their lines.
const PIPELINE = `
set -e
ids=$(grep -hF -- "$1" "\${@:2}" | awk 'match($0, /\\]: [0-9A-F]+: /) { print substr($0, RSTART+3, RLENGTH-5) }' | sort -u)
[ -n "$ids" ] || exit 0
next=$(printf '%s\\n' $ids | sed 's/^/]: /; s/$/: /' | grep -hF -f - "\${@:2}" | awk 'match($0, /queued as [0-9A-F]+/) { print substr($0, RSTART+10, RLENGTH-10) }' | sort -u)
printf '%s\\n' $ids $next | sed 's/$/: /' | grep -hF -f - "\${@:2}" | wc -l >/dev/null
`;

const best = (n: number, f: () => number) => Math.min(...Array.from({ length: n }, f));
const queries: [string, Query][] = [
  ["one message (--message-id)", { kind: "message-id", value: fleet.sample.messageId }],
  [`a busy alias (--to, ${fleet.sample.busyRecipientCount} msgs)`, { kind: "to", value: fleet.sample.alias }],
  [`a sender behind SRS (--from, ${fleet.sample.senderCount} msgs)`, { kind: "from", value: fleet.sample.sender }],
];
const totalBytes = files.reduce((n, f) => n + statSync(f).size, 0);
console.log(`facteur trace over one day, ${perHost.toLocaleString("en")} messages per host, 4 hosts: ${(totalBytes / 1e6).toFixed(0)} MB of logs (best of 3 each)`);
console.log(`${"query".padEnd(40)} ${"trace".padStart(8)} ${"grep -F".padStart(8)} ${"grep/awk".padStart(9)}  trace/grep  trace/pipeline  found`);
let worstOne = 0;
for (const [label, q] of queries) {
  traceOnce(q); // warm the page cache and the JIT once
  let found = { messages: 0, paths: 0 };
  const tr = best(3, () => {
    const r = traceOnce(q);
    found = r;
    return r.seconds;
  });
  const gr = best(3, () => timed(["grep", "-hF", "--", needleOf(q), ...files]));
  const pl = best(3, () => timed(["bash", "-c", PIPELINE, "pipeline", needleOf(q), ...files]));
  if (q.kind === "message-id") worstOne = tr;
  console.log(
    `${label.padEnd(40)} ${tr.toFixed(2).padStart(6)} s ${gr.toFixed(2).padStart(6)} s ${pl.toFixed(2).padStart(7)} s  ${(tr / gr).toFixed(1).padStart(9)}x  ${(tr / pl).toFixed(2).padStart(13)}x  ${found.messages} msgs, ${found.paths} paths shown`,
  );
}
console.log(`target: one message traced within 2 s: ${worstOne < 2 ? "met" : "NOT met"} (${worstOne.toFixed(2)} s; the machine's load: ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")})`);

