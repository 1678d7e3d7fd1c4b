// Entry point of `pulumi up --stack NAME` (package.json main, Pulumi.yaml main): the stack's
// spec is <stackConfigDir>/<stack>.facteur.yaml, beside its Pulumi config Pulumi.<stack>.yaml,
// found from the project root whatever the working directory the engine chose (project.ts).
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseSpec, readInput } from "../spec/load.ts";
import { SpecError } from "../spec/errors.ts";
import { fromRoot, projectRoot, stacksDir } from "./project.ts";
import { deployStack } from "./program.ts";

const root = projectRoot(pulumi.runtime.getRootDirectory());
const specFile = join(stacksDir(root), `${pulumi.getStack()}.facteur.yaml`);
// Errors name the file as the user knows it (stacks/prod.facteur.yaml:3:5), not from src/pulumi.
const shown = fromRoot(root, specFile);
let text: string;
try {
  text = readInput(specFile, "spec");
} catch (e) {
  if (e instanceof SpecError) throw new SpecError(shown, e.problems);
  throw e;
}
const stack = await deployStack(parseSpec(text, shown));

/** Per host: fqdn, role, ipv4, ipv6. */
export const hosts = stack.outputs.hosts;
/** {host: {ipv4, ipv6}}: `facteur check --addresses` reads this key of `pulumi stack output --json`. */
export const addresses = stack.outputs.addresses;
/** Every published record (no secrets: DKIM public halves only). */
export const dns = stack.outputs.dns;
/** Signed zones (operator.dnssec, domains.<d>.dnssec) -> the DS record the registrar must publish. */
export const dnssec = stack.outputs.dnssec;
