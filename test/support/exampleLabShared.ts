// Imported first by test/support/lab-example-suite.ts: the files it imports next share one stack.
import { shareExampleLab } from "./exampleLab.ts";

shareExampleLab();
