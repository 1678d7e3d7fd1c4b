// One ComponentResource per relay and per smarthost, in the awsx style: the planning is done
// (stackPlan.ts: a HostPlan per host), the component only turns it into resources, named by
// stable plan ids and parented to the host:
//
//   ip:<host>:ipv4, ip:<host>:ipv6   primary IPs: assets that outlive servers (retainOnDelete,
//                                    Hetzner delete protection, never auto-deleted)
//   server:<host>                    Debian on those IPs; SSH keys and user data count at
//                                    creation only (ignoreChanges), so neither rebuilds it
//   ptr:<host>:<family>              rDNS, hanging on the primary IPs
//   apply:<host>                     the bundle, pushed over SSH (deliver())
//
// Stacks deployed before hosts were components have these resources at the root of the stack:
// the `aliases` below give the engine their old URNs, so it moves them under the host instead
// of replacing them (test/pulumi-program.test.ts proves it against the old URNs).
import * as pulumi from "@pulumi/pulumi";
import * as hcloud from "@pulumi/hcloud";
import * as command from "@pulumi/command";
import type { Family } from "../plan/addresses.ts";
import { applyCommand, applyScript, bundleHash, cloudInit, type ApplyOptions } from "./apply.ts";
import { fillPlaceholders, serverIpv6, type PlaceholderValues, type Refs } from "./records.ts";
import type { HostPlan } from "./stackPlan.ts";

export const IMAGE = "debian-12";
const FAMILIES: Family[] = ["ipv4", "ipv6"];

/**
 * How the apply command reaches a fresh server: Hetzner's API answers before the server has
 * booted, so SSH refuses connections for a while. The provider retries dials with a growing
 * pause (up to 5 s): 60 dials give a new server about 5 minutes; each dial may wait 30 s.
 */
export const SSH_DIAL = { dialErrorLimit: 60, perDialTimeout: 30 } as const;

export interface HostArgs {
  plan: HostPlan;
  sshKeyIds: pulumi.Input<string>[];
  firewallId: pulumi.Input<number>;
  labels: Record<string, string>;
}

export interface DeliverArgs {
  /** Every placeholder value of the stack; the bundle takes the ones it names. */
  values: { addresses: Record<string, pulumi.Output<string>>; dkim: Record<string, pulumi.Output<string>> };
  secret: (name: string) => pulumi.Output<string>;
  dkimPrivateKeys: Record<string, pulumi.Output<string>>;
  sshPrivateKey: pulumi.Output<string>;
  options: ApplyOptions;
  dependsOn: pulumi.Resource[];
}

/** The placeholder values `refs` names, as one Output. */
export function valuesFor(refs: Refs, values: DeliverArgs["values"]): pulumi.Output<PlaceholderValues> {
  return pulumi
    .all([
      pulumi.all(Object.fromEntries(refs.addresses.map((r) => [`${r.host}.${r.family}`, values.addresses[`${r.host}.${r.family}`]!]))),
      pulumi.all(Object.fromEntries(refs.dkim.map((k) => [k, values.dkim[k]!]))),
    ])
    .apply(([addresses, dkim]) => ({ addresses, dkim }));
}

export abstract class HostComponent extends pulumi.ComponentResource {
  readonly name: string;
  readonly ips: Record<Family, hcloud.PrimaryIp>;
  readonly server: hcloud.Server;
  readonly rdns: hcloud.Rdns[];
  /** The addresses the host answers on (IPv6: ::1 of its /64, as Debian's image configures it). */
  readonly addresses: Record<Family, pulumi.Output<string>>;
  apply?: command.remote.Command;
  /** The apply script with secrets filled in: a Pulumi secret. */
  script?: pulumi.Output<string>;
  /** Bundle fingerprint without secrets (shown in the apply command). */
  bundleHash?: pulumi.Output<string>;
  private readonly plan: HostPlan;

  protected constructor(type: string, args: HostArgs, opts: pulumi.ComponentResourceOptions = {}) {
    const h = args.plan.host;
    super(type, h.name, {}, opts);
    this.name = h.name;
    this.plan = args.plan;
    const child = { parent: this, aliases: [{ parent: pulumi.rootStackResource }] };
    const labels = (extra: Record<string, string>) => ({ ...args.labels, host: h.name, ...extra });

    // autoDelete false: a deleted server leaves them. deleteProtection: Hetzner refuses to
    // delete them. retainOnDelete: removing the host from the spec drops them from the state
    // but keeps them at Hetzner, unassigned, to be imported again.
    const ip = (family: Family) =>
      new hcloud.PrimaryIp(
        `ip:${h.name}:${family}`,
        { name: `${h.fqdn}-${family}`, type: family, location: h.location, assigneeType: "server", autoDelete: false, deleteProtection: true, labels: labels({ family }) },
        { ...child, retainOnDelete: true },
      );
    this.ips = { ipv4: ip("ipv4"), ipv6: ip("ipv6") };
    this.addresses = {
      ipv4: this.ips.ipv4.ipAddress,
      ipv6: pulumi.all([this.ips.ipv6.ipAddress, this.ips.ipv6.ipNetwork]).apply(([a, n]) => serverIpv6(a, n)),
    };

    this.server = new hcloud.Server(
      `server:${h.name}`,
      {
        name: h.fqdn,
        image: IMAGE,
        serverType: h.serverType,
        location: h.location,
        publicNets: [{ ipv4Enabled: true, ipv4: this.ips.ipv4.id.apply(Number), ipv6Enabled: true, ipv6: this.ips.ipv6.id.apply(Number) }],
        sshKeys: args.sshKeyIds,
        firewallIds: [pulumi.output(args.firewallId)],
        userData: cloudInit(args.plan.bundle),
        labels: labels({ role: h.role }),
      },
      // Both force a replacement at Hetzner and both only matter on first boot: user data runs
      // once (later bundles go through apply:<host>), SSH keys are injected once (later keys go
      // into authorized_keys through apply:<host>). deleteBeforeReplace: the primary IPs can
      // belong to one server at a time.
      { ...child, ignoreChanges: ["userData", "sshKeys"], deleteBeforeReplace: true },
    );

    this.rdns = args.plan.ptrs.map(
      (p) => new hcloud.Rdns(p.id, { primaryIpId: this.ips[p.family].id.apply(Number), ipAddress: this.addresses[p.family], dnsPtr: p.name }, child),
    );
  }

  /**
   * Pushes the bundle over SSH once every address and key it names exists (the other hosts'
   * components must have been created). A changed bundle is an update (the script runs
   * again); a new server (rebuilt) gets it again through `triggers`.
   */
  deliver(args: DeliverArgs): command.remote.Command {
    const p = this.plan;
    const where = `apply:${this.name}`;
    const filled = valuesFor(p.refs, args.values).apply((v) => ({
      ...p.bundle,
      files: p.bundle.files.map((f) => ({ ...f, content: fillPlaceholders(f.content, v, `${where}: ${f.path}`) })),
    }));
    const secrets = pulumi.all(Object.fromEntries(p.secrets.map((n) => [n, args.secret(n)])));
    const privateKeys = pulumi.all(Object.fromEntries(p.dkimKeys.map((k) => [k.path, args.dkimPrivateKeys[k.id]!])));
    const publicKeys = pulumi.all(Object.fromEntries(p.dkimKeys.map((k) => [k.id, args.values.dkim[k.id]!])));
    this.bundleHash = pulumi.all([filled, publicKeys]).apply(([b, pub]) => bundleHash(b, pub, args.options));
    this.script = pulumi.secret(pulumi.all([filled, secrets, privateKeys]).apply(([b, s, k]) => applyScript(b, s, k, args.options)));
    this.apply = new command.remote.Command(
      `apply:${this.name}`,
      {
        connection: { host: this.addresses.ipv4, user: "root", privateKey: args.sshPrivateKey, ...SSH_DIAL },
        create: this.bundleHash.apply(applyCommand),
        stdin: this.script,
        // The script's stdout is tool output (it may echo configuration); its stderr is its
        // own progress lines, written to carry no secret: only those reach the logs.
        logging: command.types.enums.remote.Logging.Stderr,
        // The provider would set PULUMI_COMMAND_STDOUT/STDERR, which sshd refuses by default.
        addPreviousOutputInEnv: false,
        triggers: [this.server.id],
      },
      // stdout/stderr are kept in the state: encrypted there, like everything the host runs.
      { parent: this, aliases: [{ parent: pulumi.rootStackResource }], dependsOn: [this.server, ...this.rdns, ...args.dependsOn], additionalSecretOutputs: ["stdout", "stderr"] },
    );
    this.registerOutputs({ addresses: this.addresses, server: this.server.id, bundleHash: this.bundleHash });
    return this.apply;
  }

  /** Every resource the component created (for tests and the stack's resource list). */
  children(): pulumi.Resource[] {
    return [this.ips.ipv4, this.ips.ipv6, this.server, ...this.rdns, ...(this.apply ? [this.apply] : [])];
  }
}

/** An MX host: accepts mail for the operator's domains, forwards it through the smarthost pool. */
export class Relay extends HostComponent {
  constructor(args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("facteur:host:Relay", args, opts);
  }
}

/** An outbound host of the pool: DKIM-signs and delivers; takes submission from users. */
export class Smarthost extends HostComponent {
  constructor(args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("facteur:host:Smarthost", args, opts);
  }
}

export { FAMILIES };
