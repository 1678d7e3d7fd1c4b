// Strict Pulumi mocks for the facteur program: for the tests (test/pulumi-*.test.ts) and for
// anyone who wants the resource graph without a cloud. A resource type or an invoke not listed
// here is an error, so a new provider call cannot slip into the program unnoticed.
//
// - strictMocks(): the mocks and what they recorded; test/support/engineHarness.ts uses them to
//   run the real entry (src/pulumi/index.ts) as the engine starts it.
// - runProgram(): deploys a spec in this process (the churn tests run it many times).
import { createHash, createPublicKey, generateKeyPairSync } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Spec } from "../spec/schema.ts";
import { deployStack, type DeployedStack } from "./program.ts";
import type { ExistingRecord } from "./zoneConflicts.ts";
import type { HetznerSshKey } from "./sshKeys.ts";

export interface RecordedResource {
  type: string;
  name: string;
  /** As the engine would receive them: secret values stay wrapped (see isSecretValue). */
  inputs: Record<string, unknown>;
  id: string;
  state: Record<string, unknown>;
  /** A component resource (no provider behind it). */
  component: boolean;
  /** Resource options as the program passed them (seen through a stack transformation). */
  options: pulumi.CustomResourceOptions;
  /** Name of the parent resource; undefined for children of the root stack. */
  parent?: string;
  /** Type of the parent resource, when there is one. */
  parentType?: string;
}

/** What the mocked clouds already hold before the program runs. */
export interface MockWorld {
  /** Zones the cloudflare getZone mock knows: name -> id. */
  cloudflareZones?: Record<string, string>;
  /** Records already in Cloudflare zones, by zone id. */
  zoneRecords?: Record<string, ExistingRecord[]>;
  /** SSH keys already in the Hetzner project. */
  hetznerSshKeys?: HetznerSshKey[];
}

const sha = (s: string) => createHash("sha256").update(s).digest();
/** A numeric id per resource name, stable across runs (Hetzner ids are numbers). */
export const mockId = (name: string) => String((sha(name).readUInt32BE(0) % 90_000_000) + 10_000_000);
/** Documentation-range addresses per primary IP name, stable across runs. */
export function mockIpv4(name: string): string {
  const b = sha(name);
  return `203.0.${b[0]! % 256}.${(b[1]! % 253) + 1}`;
}
export function mockIpv6Network(name: string): string {
  return `2001:db8:${sha(name).readUInt16BE(0).toString(16)}::/64`;
}

// Real keys (DKIM TXT content and TLSA digests must come from real keys), made once per key name
// and algorithm, and kept on disk for the next process: an RSA key takes 0.1 to 0.3 s of CPU to
// make, and every run of the program (each engine start of the tests, each test process) asked
// for the same few again. Mock keys only: nothing here is anyone's secret.
const keyCache = new Map<string, MockKey>();
interface MockKey {
  privateKeyPem: string;
  publicKeyPem: string;
}
const keyId = (name: string, ec: boolean) => createHash("sha256").update(`${ec ? "ecdsa-p256" : "rsa-2048"}\0${name}`).digest("hex").slice(0, 32);

/** Where the mock key of that name and algorithm is kept between processes; undefined when not kept. */
export function mockKeyFile(name: string, algorithm: unknown): string | undefined {
  const dir = mockKeyDir();
  return dir && join(dir, `${keyId(name, algorithm === "ECDSA")}.json`);
}

function mockKey(name: string, algorithm: unknown): MockKey {
  const ec = algorithm === "ECDSA";
  const id = keyId(name, ec);
  let k = keyCache.get(id);
  if (!k) {
    const file = mockKeyFile(name, algorithm);
    k = file ? readMockKey(file, ec) : undefined;
    if (!k) {
      k = makeMockKey(ec);
      if (file) saveMockKey(file, k);
    }
    keyCache.set(id, k);
  }
  return k;
}

/** As the tls provider makes them: RSA keys in PKCS#1, ECDSA keys in SEC1 ("EC PRIVATE KEY"). */
function makeMockKey(ec: boolean): MockKey {
  const pair = ec ? generateKeyPairSync("ec", { namedCurve: "P-256" }) : generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKeyPem: pair.privateKey.export({ type: ec ? "sec1" : "pkcs1", format: "pem" }) as string,
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }) as string,
  };
}

/**
 * This user's key directory under the system's temporary directory, or undefined (no cache)
 * when it cannot be made, or is not a directory of this user's alone (a link, another user's).
 */
function mockKeyDir(): string | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  const dir = join(tmpdir(), `facteur-mock-keys-${uid}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") return undefined;
  }
  const st = lstatSync(dir, { throwIfNoEntry: false });
  return st?.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? dir : undefined;
}

/** A key saved by an earlier process; undefined when absent or not a pair this code wrote. */
function readMockKey(file: string, ec: boolean): MockKey | undefined {
  try {
    const k = JSON.parse(readFileSync(file, "utf8")) as Partial<MockKey>;
    const ok = typeof k.privateKeyPem === "string" && typeof k.publicKeyPem === "string" && k.privateKeyPem.startsWith(`-----BEGIN ${ec ? "EC" : "RSA"} PRIVATE KEY-----`);
    return ok && createPublicKey(k.privateKeyPem!).export({ type: "spki", format: "pem" }) === k.publicKeyPem ? (k as MockKey) : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a temporary file renamed): processes side by side read a complete one. */
function saveMockKey(file: string, k: MockKey): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(k), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    rmSync(tmp, { force: true });
  }
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

const PROVIDERS = ["hcloud", "cloudflare", "tls", "command"];
/** Our own component types (src/pulumi/hosts.ts). */
const COMPONENTS = ["facteur:host:Relay", "facteur:host:Smarthost"];

export interface StrictMocks {
  mocks: pulumi.runtime.Mocks;
  /** By resource name (provider resources and the root stack excluded). */
  resources: Map<string, RecordedResource>;
  invokes: { token: string; inputs: unknown }[];
  /** Register in the program's root stack: records each resource's options and parent. */
  recordOptions(): void;
}

export function strictMocks(world: MockWorld = {}): StrictMocks {
  const resources = new Map<string, RecordedResource>();
  const seen = new Map<string, { options: pulumi.CustomResourceOptions; parent?: { name: string; type: string } }>();
  const invokes: StrictMocks["invokes"] = [];
  const zones = world.cloudflareZones ?? {};
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const { type, name, inputs } = args;
      const id = mockId(name);
      if (PROVIDERS.some((p) => type === `pulumi:providers:${p}`) || type === "pulumi:pulumi:Stack") return { id, state: inputs };
      let state: Record<string, unknown>;
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
        case "cloudflare:index/workersScript:WorkersScript":
        case "cloudflare:index/workersCustomDomain:WorkersCustomDomain":
          state = { ...inputs };
          break;
        case "tls:index/privateKey:PrivateKey":
          state = { ...inputs, ...mockKey(name, p.algorithm) };
          break;
        case "cloudflare:index/zoneDnssec:ZoneDnssec":
          // What Cloudflare hands out once signing is on: the DS record for the registrar.
          state = { ...inputs, ds: `${name.replace(/^dnssec:/, "")}. 3600 IN DS 2371 13 2 ${sha(name).toString("hex").toUpperCase()}` };
          break;
        case "command:remote:Command":
          state = { ...inputs, stdout: "", stderr: "" };
          break;
        default:
          if (!COMPONENTS.includes(type)) throw new Error(`unmocked resource type ${type} (${name})`);
          state = {};
      }
      if (resources.has(name)) throw new Error(`duplicate resource name ${name}`);
      const s = seen.get(name);
      resources.set(name, {
        type,
        name,
        inputs,
        id,
        state,
        component: COMPONENTS.includes(type),
        options: s?.options ?? {},
        ...(s?.parent ? { parent: s.parent.name, parentType: s.parent.type } : {}),
      });
      return { id, state };
    },
    call(args) {
      invokes.push({ token: args.token, inputs: args.inputs });
      const inputs = args.inputs as Record<string, any>;
      switch (args.token) {
        case "cloudflare:index/getZone:getZone": {
          const zname = inputs.filter?.name ?? "";
          const zid = zones[zname];
          if (!zid) throw new Error(`getZone mock: unknown zone ${zname}`);
          return { id: zid, zoneId: zid, name: zname };
        }
        case "cloudflare:index/getDnsRecords:getDnsRecords":
          return { zoneId: inputs.zoneId, results: world.zoneRecords?.[inputs.zoneId] ?? [] };
        case "hcloud:index/getSshKeys:getSshKeys":
          return { sshKeys: world.hetznerSshKeys ?? [] };
        default:
          throw new Error(`unmocked invoke ${args.token}`);
      }
    },
  };
  return {
    mocks,
    resources,
    invokes,
    recordOptions() {
      pulumi.runtime.registerStackTransformation((a) => {
        // opts.parent is set only when the program gives one; the root stack is implicit.
        const parentInfo = a.opts.parent ? nameOf(a.opts.parent) : undefined;
        seen.set(a.name, { options: a.opts, ...(parentInfo ? { parent: parentInfo } : {}) });
        return undefined;
      });
    },
  };
}

// A resource knows its own name and type only through internal fields: keep that lookup here.
function nameOf(r: pulumi.Resource): { name: string; type: string } | undefined {
  const x = r as unknown as { __name?: string; __pulumiType?: string };
  return x.__name && x.__pulumiType ? { name: x.__name, type: x.__pulumiType } : undefined;
}

export interface ProgramRun {
  stack: DeployedStack;
  /** By resource name (provider resources excluded). */
  resources: Map<string, RecordedResource>;
  invokes: { token: string; inputs: unknown }[];
  outputs: { hosts: unknown; addresses: Record<string, { ipv4: string; ipv6: string }>; dns: { id: string; type: string; content: string; name: string }[] };
}

export interface RunOptions extends MockWorld {
  stack?: string;
  /** Plain config, keys without namespace (facteur:...); objects are JSON-encoded. */
  config?: Record<string, unknown>;
  /** Secret config, keys without namespace. */
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` (unknown values stay unknown). */
  preview?: boolean;
  /** Mocks to record into (default: new ones): lets a caller see what a failed run declared. */
  mocks?: StrictMocks;
}

const valueOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply((v) => (resolve(v), v)));

// Pulumi captures and formats a stack trace for each promise it makes (runtime/debuggable.js:
// `new Error().stack`, several per resource), read only in its report of leaked promises. With
// source maps on (tsx turns them on) mapping those frames was over a third of a run's CPU, so a
// run formats stacks unmapped; an error's stack read after the run is mapped as before.
// Capturing ten frames for each was then half of what remained (about 230 ms a run of the
// example, 120 ms with one frame), so a run captures one frame: an error the program throws
// still names the line that threw it. Pulumi's own lookup of a resource's source position sets
// its own limit (Resource.callsites). FACTEUR_MOCK_STACKS=full keeps node's settings, for
// chasing an error through its callers. Runs may overlap (a test file starting its runs at
// load): the first to start changes the settings, the last to end restores what it found.
let cheapRuns = 0;
let saved = { maps: false, limit: Error.stackTraceLimit };
function cheapStacks(): () => void {
  if (process.env.FACTEUR_MOCK_STACKS === "full") return () => {};
  if (cheapRuns++ === 0) {
    saved = { maps: process.sourceMapsEnabled, limit: Error.stackTraceLimit };
    if (saved.maps) process.setSourceMapsEnabled(false);
    Error.stackTraceLimit = Math.min(1, saved.limit);
  }
  return () => {
    if (--cheapRuns > 0) return;
    Error.stackTraceLimit = saved.limit;
    if (saved.maps) process.setSourceMapsEnabled(true);
  };
}

/**
 * The last run asked for; the next one starts once it has settled. Pulumi's runtime (mocks,
 * config, the root stack) is one per process.
 */
let turn: Promise<unknown> = Promise.resolve();

/**
 * Deploys `spec` under strict mocks in this process, as `pulumi up` would run src/pulumi/index.ts.
 * Runs asked for at once take turns: two at a time would register into the same mocks and the
 * same root stack ("duplicate resource name").
 */
export function runProgram(spec: Spec, opts: RunOptions = {}): Promise<ProgramRun> {
  const run = turn.then(async () => {
    const restoreStacks = cheapStacks();
    try {
      return await deploy(spec, opts);
    } finally {
      restoreStacks();
    }
  });
  turn = run.catch(() => undefined);
  return run;
}

async function deploy(spec: Spec, opts: RunOptions): Promise<ProgramRun> {
  const m = opts.mocks ?? strictMocks(opts);
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.config ?? {})) config[`facteur:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  for (const [k, v] of Object.entries(opts.secrets ?? {})) config[`facteur:${k}`] = v;
  pulumi.runtime.setAllConfig(config, Object.keys(opts.secrets ?? {}).map((k) => `facteur:${k}`));
  await pulumi.runtime.setMocks(m.mocks, "facteur", opts.stack ?? "example", opts.preview ?? false);

  let stack: DeployedStack | undefined;
  let failure: unknown;
  // As `pulumi up` runs index.ts: inside the root stack resource, whose outputs are the exports.
  // A program error is carried out of the stack's init and rethrown once the stack has settled,
  // so that no work of this run is left over when the next run installs its own mocks.
  const outputs = (await pulumi.runtime.runInPulumiStack(async () => {
    m.recordOptions();
    try {
      stack = await deployStack(spec);
      await Promise.all(stack.all.map((r) => valueOf(r.urn)));
      if (m.resources.size !== stack.all.length) throw new Error(`registered ${m.resources.size} resources, the program returned ${stack.all.length}`);
      return { ...stack.outputs };
    } catch (e) {
      failure = e;
      return {};
    }
  })) as ProgramRun["outputs"];
  // Internal (untyped) but exported: waits for outstanding engine calls such as the stack's outputs.
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (failure !== undefined) throw failure;
  return { stack: stack!, resources: m.resources, invokes: m.invokes, outputs };
}
