// Many CLI invocations in one process: each argv list on stdin (JSON) goes through main() as
// bin.ts runs it, its stdout and stderr captured, and the results come back as JSON on stdout.
// For tests of many bad flags, which would otherwise start a process (and tsx) for each: the
// exit code, the messages and the absence of a stack trace are main()'s, as in bin.ts.
import { main } from "../../src/cli/main.ts";

const input = await new Promise<string>((resolve) => {
  let text = "";
  process.stdin.setEncoding("utf8").on("data", (c) => (text += c)).on("end", () => resolve(text));
});
const results: { code: number; out: string; err: string }[] = [];
const [write1, write2] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
for (const argv of JSON.parse(input) as string[][]) {
  const r = { code: 0, out: "", err: "" };
  process.stdout.write = ((chunk: string | Uint8Array) => ((r.out += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((r.err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    r.code = await main(argv);
  } catch (e) {
    // What bin.ts prints for an error main() did not expect.
    r.err += `facteur: internal error: ${(e as Error).stack ?? String(e)}\n`;
    r.code = 70;
  } finally {
    process.stdout.write = write1;
    process.stderr.write = write2;
  }
  results.push(r);
}
process.stdout.write(JSON.stringify(results));
