// Lab throughput: messages per second, in one run, for
//   1. outside sender -> outside sink, directly (smtp-source straight to the sink's port 25);
//   2. one stock Postfix hop (smtp-source -> the outside sender's Postfix -> sink, by MX);
//   3. the stack's path: relay (postscreen, rspamd, alias + SRS) -> smarthost pool (OpenDKIM) -> sink;
// every message counted at the sink (one file per message). Prints the ratios.
// The example's 1 s default pacing would measure the pacing, so the bench stack is the example
// spec with `policy.pacing.default.rateDelay: 0s` (written under the lab root); nothing else changes.
// Usage (root): npm run bench:lab   [BENCH_MESSAGES=500] [BENCH_SESSIONS=8] [BENCH_KEEP=1]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { labUp, labDown, type LabState } from "../src/lab/index.ts";
import { labSkipReason, swaks, hostOf, inHost, storedCount } from "../test/support/lab.ts";
import { sleep } from "../src/lab/proc.ts";
import { labStack } from "../test/support/labStacks.ts";
import { LAB_ROOT } from "../src/paths.ts";

const STACK = labStack("bench");
const N = Number(process.env.BENCH_MESSAGES ?? 500);
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 8);

function benchSpec(): string {
  const example = readFileSync(fileURLToPath(new URL("../stacks/example.facteur.yaml", import.meta.url)), "utf8");
  const re = /(default:\s*\{\s*rateDelay:\s*)[0-9]+[a-z]*/;
  if (!re.test(example)) throw new Error("stacks/example.facteur.yaml: policy.pacing.default.rateDelay not found");
  return `# Written by bench/lab-throughput.ts: the example with no default pacing.\n${example.replace(re, "$10s")}`;
}


async function phase(state: LabState, name: string, target: string, rcpt: string, counted: string): Promise<{ name: string; seconds: number; rate: number }> {
  const base = storedCount(state, counted);
  const t0 = process.hrtime.bigint();
  const src = await inHost(
    state,
    "sender",
    ["/usr/sbin/smtp-source", "-d", "-s", String(SESSIONS), "-m", String(N), "-l", "1024", "-M", "mail.expediteur.tld", "-f", "alice@expediteur.tld", "-t", rcpt, "-S", `bench ${name}`, target],
    undefined,
    600_000,
  );
  if (src.code !== 0) throw new Error(`${name}: smtp-source failed: ${src.stderr}${src.stdout}`);
  // Fail fast when nothing arrives for 30 s (deferred mail would otherwise stall the bench for minutes).
  let last = -1;
  let lastChange = Date.now();
  for (let n = storedCount(state, counted); n < base + N; n = storedCount(state, counted)) {
    if (n !== last) [last, lastChange] = [n, Date.now()];
    if (Date.now() - lastChange > 30_000) throw new Error(`${name}: only ${n - base} of ${N} messages arrived, none for 30 s (see the hosts' postfix.log under ${state.root})`);
    await sleep(50);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { name, seconds, rate: N / seconds };
}

async function main(): Promise<void> {
  const skip = labSkipReason();
  if (skip) {
    console.log(`lab bench skipped: ${skip}`);
    return;
  }
  const root = `${LAB_ROOT}/${STACK}`;
  mkdirSync(root, { recursive: true });
  const specFile = `${root}/${STACK}.facteur.yaml`;
  writeFileSync(specFile, benchSpec());
  console.log(`bringing up the bench stack (${specFile}) ...`);
  try {
    const state = await labUp(STACK, { specFile });
    console.log(`up in ${state.upSeconds.toFixed(1)} s, every daemon answering`);
    if (state.warnings.length) console.log(`notes:\n${state.warnings.join("\n")}`);
    const sink = hostOf(state, "mx-doe").ipv4[0]!;
    const mx1 = hostOf(state, "mx1").ipv4[0]!;
    // postscreen's one-time pregreet wait for a new client, outside the measurement.
    await swaks(state, ["--server", mx1, "--helo", "mail.expediteur.tld", "--quit-after", "EHLO"]);
    console.log(`${N} messages of 1 KiB, ${SESSIONS} parallel sessions (several messages per connection), counted at the sink\n`);
    const results = [
      await phase(state, "direct: sender -> sink", `${sink}:25`, "bench-direct@doe.tld", "bench-direct@doe.tld"),
      await phase(state, "one stock Postfix hop", "127.0.0.1:25", "bench-hop@doe.tld", "bench-hop@doe.tld"),
      await phase(state, "relay (alias+SRS, rspamd) -> smarthost (DKIM) -> sink", `${mx1}:25`, "john-doe@entreprise.tld", "john@doe.tld"),
    ];
    const w = Math.max(...results.map((r) => r.name.length));
    for (const r of results) console.log(`${r.name.padEnd(w)}  ${r.seconds.toFixed(2).padStart(7)} s  ${r.rate.toFixed(1).padStart(8)} msg/s`);
    const [direct, hop, stack] = results as [typeof results[0], typeof results[0], typeof results[0]];
    console.log(`\nratios: one hop / direct = ${(hop.rate / direct.rate).toFixed(2)}; stack / direct = ${(stack.rate / direct.rate).toFixed(2)}; stack / one hop = ${(stack.rate / hop.rate).toFixed(2)}`);
  } finally {
    if (!process.env.BENCH_KEEP) await labDown(STACK);
  }
}

await main();
