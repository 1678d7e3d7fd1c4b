// What `npm test` runs in one process (test/support/run.ts): the files that deploy the program
// under the strict mocks (src/pulumi/mocks.ts). Pulumi's runtime is one per process, so their runs
// take turns (runProgram queues them); loading Pulumi and the providers costs about 3 s of CPU per
// process, paid here once instead of four times (36 s of CPU apart, 22 s together; issue 11).
// The rules of test/support/in-process-suite.ts hold here too, except that these load Pulumi:
// every deploy goes through runProgram, none sets mocks or config itself. Each file still runs
// alone too (`npm test -- test/pulumi-program.test.ts`).
import "../pulumi-program.test.ts";
import "../pulumi-churn-outbound.test.ts";
import "../pulumi-churn-transport.test.ts";
import "../pulumi-preflight.test.ts";
import "../pulumi-mock-keys.test.ts";
