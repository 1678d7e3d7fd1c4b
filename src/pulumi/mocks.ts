// Runs the program under Pulumi mocks and records every resource with its inputs: for the
// tests (test/pulumi-*.test.ts) and for anyone who wants the resource graph without a cloud.
// The mocks are strict: a resource type or an invoke not listed here is an error, so a new
// provider call cannot slip into the program unnoticed.
import { createHash, generateKeyPairSync } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { Spec } from "../spec/schema.ts";
import { defineStack, type DefinedStack } from "./program.ts";

export interface RecordedResource {
  type: string;
  name: string;
  /** As the engine would receive them: secret values stay wrapped (see isSecretValue). */
  inputs: Record<string, unknown>;
  id: string;
  state: Record<string, unknown>;
  /** Resource options as the program passed them (seen through a stack transformation). */
  options: pulumi.CustomResourceOptions;
}

export interface ProgramRun {
  stack: DefinedStack;
  /** By resource name (provider resources excluded). */
  resources: Map<string, RecordedResource>;
  invokes: { token: string; inputs: unknown }[];
  outputs: { hosts: unknown; addresses: Record<string, { ipv4: string; ipv6: string }>; dns: { id: string; type: string; content: string; name: string }[] };
}

export interface RunOptions {
  stack?: string;
  /** Plain config, keys without namespace (facteur:...); objects are JSON-encoded. */
  config?: Record<string, unknown>;
  /** Secret config, keys without namespace. */
  secrets?: Record<string, string>;
  /** Zones the cloudflare getZone mock knows: name -> id. */
  cloudflareZones?: Record<string, string>;
}

const sha = (s: string) => createHash("sha256").update(s).digest();
/** A numeric id per resource name, stable across runs (Hetzner ids are numbers). */
export const mockId = (name: string) => String(sha(name).readUInt32BE(0) % 90_000_000 + 10_000_000);
/** Documentation-range addresses per primary IP name, stable across runs. */
export function mockIpv4(name: string): string {
  const b = sha(name);
  return `203.0.${b[0]! % 256}.${(b[1]! % 253) + 1}`;
}
export function mockIpv6Network(name: string): string {
  return `2001:db8:${sha(name).readUInt16BE(0).toString(16)}::/64`;
}

// Real RSA keys (DKIM TXT content must look real), made once per key name per process.
const keyCache = new Map<string, { privateKeyPem: string; publicKeyPem: string }>();
function mockKey(name: string) {
  let k = keyCache.get(name);
  if (!k) {
    const pair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    k = {
      privateKeyPem: pair.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
      publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }) as string,
    };
    keyCache.set(name, k);
  }
  return k;
}

export function isSecretValue(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig;
}

/** Strips secret wrappers: the plain value of an input. */
export function plain(v: unknown): unknown {
  if (isSecretValue(v)) return plain((v as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => (resolve(v), v)));

const PROVIDERS = ["hcloud", "cloudflare", "tls", "command"];

export async function runProgram(spec: Spec, opts: RunOptions = {}): Promise<ProgramRun> {
  const resources = new Map<string, RecordedResource>();
  const options = new Map<string, pulumi.CustomResourceOptions>();
  const invokes: ProgramRun["invokes"] = [];
  const zones = opts.cloudflareZones ?? {};
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const { type, name, inputs } = args;
      const id = mockId(name);
      let state: Record<string, unknown>;
      if (PROVIDERS.some((p) => type === `pulumi:providers:${p}`) || type === "pulumi:pulumi:Stack") return { id, state: inputs };
      const p = plain(inputs) as Record<string, unknown>;
      switch (type) {
        case "hcloud:index/primaryIp:PrimaryIp":
          state = p.type === "ipv4" ? { ...inputs, ipAddress: mockIpv4(name) } : { ...inputs, ipAddress: mockIpv6Network(name).replace("/64", ""), ipNetwork: mockIpv6Network(name) };
          break;
        case "hcloud:index/server:Server":
        case "hcloud:index/rdns:Rdns":
        case "hcloud:index/firewall:Firewall":
        case "hcloud:index/sshKey:SshKey":
        case "cloudflare:index/dnsRecord:DnsRecord":
          state = { ...inputs };
          break;
        case "tls:index/privateKey:PrivateKey":
          state = { ...inputs, ...mockKey(name) };
          break;
        case "command:remote:Command":
          state = { ...inputs, stdout: "", stderr: "" };
          break;
        default:
          throw new Error(`unmocked resource type ${type} (${name})`);
      }
      if (resources.has(name)) throw new Error(`duplicate resource name ${name}`);
      resources.set(name, { type, name, inputs, id, state, options: options.get(name) ?? {} });
      return { id, state };
    },
    call(args) {
      invokes.push({ token: args.token, inputs: args.inputs });
      if (args.token === "cloudflare:index/getZone:getZone") {
        const zname = (args.inputs as { filter?: { name?: string } }).filter?.name ?? "";
        const zid = zones[zname];
        if (!zid) throw new Error(`getZone mock: unknown zone ${zname}`);
        return { id: zid, zoneId: zid, name: zname };
      }
      throw new Error(`unmocked invoke ${args.token}`);
    },
  };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.config ?? {})) config[`facteur:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) config[`facteur:${k}`] = v;
  pulumi.runtime.setAllConfig(config, Object.keys(opts.secrets ?? {}).map((k) => `facteur:${k}`));
  await pulumi.runtime.setMocks(mocks, "facteur", opts.stack ?? "example", false);

  let stack: DefinedStack | undefined;
  let failure: unknown;
  // As `pulumi up` runs index.ts: inside the root stack resource, whose outputs are the exports.
  // A program error is carried out of the stack's init and rethrown once the stack has settled,
  // so that no work of this run is left over when the next run installs its own mocks.
  const outputs = (await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      options.set(a.name, a.opts);
      return undefined;
    });
    try {
      stack = defineStack(spec);
      const all: pulumi.Resource[] = [
        ...stack.sshKeys,
        ...Object.values(stack.dkimKeys),
        ...Object.values(stack.firewalls),
        ...Object.values(stack.records),
        ...Object.values(stack.hosts).flatMap((h) => [h.ips.ipv4, h.ips.ipv6, h.server, ...h.rdns, h.apply]),
      ];
      await Promise.all(all.map((r) => valueOf(r.urn)));
      if (resources.size !== all.length) throw new Error(`registered ${resources.size} resources, the program returned ${all.length}`);
      return { ...stack.outputs };
    } catch (e) {
      failure = e;
      return {};
    }
  })) as ProgramRun["outputs"];
  // Internal (untyped) but exported: waits for outstanding engine calls such as the stack's outputs.
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (failure !== undefined) throw failure;
  return { stack: stack!, resources, invokes, outputs };
}
