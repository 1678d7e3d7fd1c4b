// What `npm test` runs in one process with one example stack (test/support/exampleLab.ts): the
// lab files that tell their stories against the example as it is. lab-e2e comes last: its
// last test kills a daemon. Each file still runs alone too (`npm test -- test/lab-check.test.ts`).
import "./exampleLabShared.ts";
import "../lab-check.test.ts";
import "../lab-firewall.test.ts";
import "../lab-trace.test.ts";
import "../lab-e2e.test.ts";
