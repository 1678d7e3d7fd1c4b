// Entry point of `pulumi up --stack NAME` (Pulumi.yaml main): the stack's spec is
// stacks/<stack>.facteur.yaml, beside its Pulumi config stacks/Pulumi.<stack>.yaml.
import * as pulumi from "@pulumi/pulumi";
import { loadSpecFile, stackSpecPath } from "../spec/load.ts";
import { defineStack } from "./program.ts";

const stack = defineStack(loadSpecFile(stackSpecPath("stacks", pulumi.getStack())));

/** Per host: fqdn, role, ipv4, ipv6. */
export const hosts = stack.outputs.hosts;
/** {host: {ipv4, ipv6}}: `facteur check --addresses` reads this key of `pulumi stack output --json`. */
export const addresses = stack.outputs.addresses;
/** Every published record (no secrets: DKIM public halves only). */
export const dns = stack.outputs.dns;
