// A node:test reporter for mutation testing: the process exits at the first failing test. A
// mutant is killed by one failure, so running the rest of the suite after it only costs time
// (most mutants are killed, most of them early). Stryker's command runner reads the exit code.
export default async function* bailReporter(source) {
  for await (const event of source) {
    if (event.type === "test:fail" && !event.data.todo && !event.data.skip) {
      process.stderr.write(`bail: ${event.data.name} failed\n`);
      process.exit(1);
    }
    if (event.type === "test:diagnostic" && /^(pass|fail) \d+/.test(event.data.message)) {
      yield `${event.data.message}\n`;
    }
  }
}
