// What `npm test` runs in one process (test/support/run.ts): test files that share nothing but
// the process, run one after another. Each file alone in its own process cost about 1.5 s of CPU
// before its first test (node, tsx, loading the core again), more than most of these files' own
// tests; 33 of them took 62 s of CPU apart and 11 s together (issue 11, CI time).
//
// A file belongs here when it leaves the process as it found it: no Pulumi mocks (global to the
// process), no beforeEach/afterEach at its top level (they would reach every file's tests), no
// environment change it does not undo, no daemon left running. Top-level before/after are fine:
// they run at the start and the end of the process. Every file still runs alone as well
// (`npm test -- test/x.test.ts`); test/in-process-suite.test.ts checks the list against these rules.
// Files that wait for minutes (on lab daemons, on the deploy gate's Postfix instances) run on
// their own instead: here they would wait one after another and hold one of the run's slots.
// Those that wait seconds (a Knot started for check, git for diff, CLI processes) are here: each
// alone cost its process's start again, about 20 s of CPU over the ten of them.
import "./mutation-suite.ts";
import "../cli-server-types.test.ts";
import "../diff-weights.test.ts";
import "../lab-cache.test.ts";
import "../lab-records.test.ts";
import "../pulumi-packages.test.ts";
import "../lab-sink.test.ts";
import "../render-out.test.ts";
import "../snapshots.test.ts";
import "../trace-core.test.ts";
import "../workflows.test.ts";
import "../in-process-suite.test.ts";
import "../trace-cli.test.ts";
import "../lab-spawner.test.ts";
import "../check-dane.test.ts";
import "../check-dnssec.test.ts";
import "../check-hostile.test.ts";
import "../check-live.test.ts";
import "../diff-firewall.test.ts";
import "../diff-hostile.test.ts";
import "../diff-smarthost.test.ts";
import "../cli.test.ts";
import "../trace-log-user.test.ts";
import "../architecture.test.ts";
