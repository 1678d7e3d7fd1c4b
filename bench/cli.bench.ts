// Benchmark: the compiled CLI (dist/, as `npx facteur` runs it) against references measured
// side by side in the same run, on the same files:
//   1. `facteur render` of generated stacks, end to end (node start, reading, validation,
//      model, plan, render, writing), against `postmap hash:` of the virtual map that render
//      wrote: the work Postfix does with the biggest file facteur hands it. Two sizes, 10x
//      apart, show how both grow;
//   2. `facteur validate`, `plan` and `render` of the example against a bare `node -e 0`;
//   3. the peak memory (max RSS) of the largest render.
// Wall times are medians of interleaved runs; CPU times (user + system, from the kernel's
// account of each finished child) are printed beside them, since the machine may be shared.
// Usage: npm run bench (builds dist/ first)   or, after npm run build: tsx bench/cli.bench.ts
//   FACTEUR_BENCH_RUNS=N  interleaved runs per measure (default 3 for the big renders, 5x that for the example)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { generatedSpecText } from "./generated-spec.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "dist", "cli", "bin.js");
const RSS_AT_EXIT = pathToFileURL(fileURLToPath(new URL("./rss-at-exit.mjs", import.meta.url))).href;
const RUNS = Number(process.env.FACTEUR_BENCH_RUNS ?? 3);

const GOALS = { renderVsPostmap: 1.0, startVsNode: 2.5, peakMiB: 250 };

if (!existsSync(BIN)) {
  console.error(`${BIN} is missing: run npm run build first (npm run bench does)`);
  process.exit(1);
}

/** CPU seconds (user + system) of this process's finished children, from /proc (clock ticks). */
function childrenCpu(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 16 and 17 of stat (cutime, cstime), counted from the state field (3rd).
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Run {
  wall: number;
  cpu: number;
}

/** Runs a command to completion; its wall time and the CPU time the kernel charged it. */
function timed(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const cpu0 = childrenCpu();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${r.stderr}`);
  return { wall, cpu: childrenCpu() - cpu0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const med = (runs: Run[]): Run => ({ wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) });
const s = (x: number) => `${x.toFixed(2)} s`;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
const verdict = (met: boolean) => (met ? "met" : "NOT met");

const work = mkdtempSync(join(tmpdir(), "facteur-bench-cli-"));
try {
  console.log(`facteur CLI bench: dist/, node ${process.version}, ${availableParallelism()} cores, load average ${load()} at start\n`);

  // ---------------------------------------------------------------- 1. big renders vs postmap
  const sizes = [
    { domains: 100, label: "100 domains, 10,000 aliases" },
    { domains: 1000, label: "1,000 domains, 100,000 aliases" },
  ];
  const stacks = join(work, "stacks");
  mkdirSync(stacks);
  for (const { domains } of sizes) writeFileSync(join(stacks, `bench${domains}.facteur.yaml`), generatedSpecText(domains, 100));
  // postmap reads main.cf from -c DIR: an empty one (defaults), the same for every run.
  const postfixDir = join(work, "postfix");
  mkdirSync(postfixDir);
  writeFileSync(join(postfixDir, "main.cf"), "");

  const results = sizes.map(() => ({ render: [] as Run[], postmap: [] as Run[], rssMiB: [] as number[], mapLines: 0 }));
  for (let run = 0; run < RUNS; run++) {
    sizes.forEach(({ domains }, i) => {
      const out = join(work, `out-${domains}-${run}`);
      const rssFile = join(work, "rss");
      const render = timed(process.execPath, ["--import", RSS_AT_EXIT, BIN, "render", "--stacks", stacks, "--stack", `bench${domains}`, "--out", out], {
        env: { ...process.env, FACTEUR_BENCH_RSS: rssFile },
      });
      results[i]!.render.push(render);
      results[i]!.rssMiB.push(Number(readFileSync(rssFile, "utf8")) / 1024);
      const virtual = join(out, "hosts", "mx1", "etc", "postfix", "virtual");
      results[i]!.mapLines = readFileSync(virtual, "utf8").split("\n").filter((l) => l && !l.startsWith("#")).length;
      results[i]!.postmap.push(timed("postmap", ["-c", postfixDir, `hash:${virtual}`]));
      rmSync(out, { recursive: true, force: true });
    });
  }
  console.log(`1. render, CLI end to end, against postmap hash: of the virtual map it wrote (median of ${RUNS})`);
  console.log(`   ${"".padEnd(32)} ${"render".padStart(8)} ${"postmap".padStart(8)} ${"ratio".padStart(6)}   cpu: ${"render".padStart(7)} ${"postmap".padStart(8)} ${"ratio".padStart(6)}  peak RSS`);
  const rows = results.map((r) => ({ render: med(r.render), postmap: med(r.postmap), rss: Math.max(...r.rssMiB), lines: r.mapLines }));
  rows.forEach((r, i) =>
    console.log(
      `   ${sizes[i]!.label.padEnd(32)} ${s(r.render.wall).padStart(8)} ${s(r.postmap.wall).padStart(8)} ${(r.render.wall / r.postmap.wall).toFixed(2).padStart(6)}        ${s(r.render.cpu).padStart(7)} ${s(r.postmap.cpu).padStart(8)} ${(r.render.cpu / r.postmap.cpu).toFixed(2).padStart(6)}  ${r.rss.toFixed(0)} MiB   (map: ${r.lines} lines)`,
    ),
  );
  const [small, big] = rows as [(typeof rows)[0], (typeof rows)[0]];
  const growth = big.render.wall / small.render.wall;
  console.log(`   growth for 10x the input: render ${growth.toFixed(1)}x (cpu ${(big.render.cpu / small.render.cpu).toFixed(1)}x), postmap ${(big.postmap.wall / small.postmap.wall).toFixed(1)}x`);

  // ---------------------------------------------------------------- 2. the example vs node -e 0
  // A copy of the example under the bench's own stack name: the user's stacks/ is theirs to
  // edit while the bench runs, and the measure stays the example's.
  const exampleRuns = RUNS * 5;
  writeFileSync(join(stacks, "benchex.facteur.yaml"), readFileSync(join(ROOT, "stacks", "example.facteur.yaml")));
  const ex = ["--stacks", stacks, "--stack", "benchex"];
  const commands: [string, string, string[]][] = [
    ["node -e 0", process.execPath, ["-e", "0"]],
    ["validate (the example)", process.execPath, [BIN, "validate", ...ex]],
    ["plan (the example)", process.execPath, [BIN, "plan", ...ex]],
    ["render (the example)", process.execPath, [BIN, "render", ...ex, "--out", join(work, "out-example")]],
  ];
  const starts = commands.map(() => [] as Run[]);
  for (let run = 0; run < exampleRuns; run++) commands.forEach(([, cmd, args], i) => starts[i]!.push(timed(cmd, args)));
  const node = med(starts[0]!);
  console.log(`\n2. the example, against a bare node start (median of ${exampleRuns} interleaved runs)`);
  const startRatios = commands.map(([label], i) => {
    const m = med(starts[i]!);
    const ratio = m.wall / node.wall;
    console.log(`   ${label.padEnd(26)} ${s(m.wall).padStart(7)} ${i === 0 ? "" : `${ratio.toFixed(1)}x`.padStart(6)}   cpu ${s(m.cpu)}${i === 0 ? "" : ` (${(m.cpu / node.cpu).toFixed(1)}x)`}`);
    return ratio;
  });

  // ---------------------------------------------------------------- 3. memory, and the goals
  console.log(`\n3. peak memory of the 100,000-alias render: ${big.rss.toFixed(0)} MiB (max RSS over ${RUNS} runs)`);

  const renderRatio = big.render.wall / big.postmap.wall;
  const worstStart = Math.max(...startRatios.slice(1));
  console.log(`\ngoals (load average ${load()} at the end; timings on a loaded machine are not the goals' verdict):`);
  console.log(`   render / postmap at 100,000 aliases <= ${GOALS.renderVsPostmap}: ${verdict(renderRatio <= GOALS.renderVsPostmap)} (${renderRatio.toFixed(2)}; cpu ${(big.render.cpu / big.postmap.cpu).toFixed(2)})`);
  console.log(`   linear growth, 10x the input: ${verdict(growth <= 10 * 1.2)} (${growth.toFixed(1)}x)`);
  console.log(`   validate, plan, render of the example <= ${GOALS.startVsNode}x node -e 0: ${verdict(worstStart <= GOALS.startVsNode)} (worst ${worstStart.toFixed(1)}x)`);
  console.log(`   peak memory <= ${GOALS.peakMiB} MiB: ${verdict(big.rss <= GOALS.peakMiB)} (${big.rss.toFixed(0)} MiB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
