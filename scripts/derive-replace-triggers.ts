// Derives, from the providers' own sources, which input properties force a resource to be
// replaced, for every resource type the facteur program declares; the churn tests read the
// result (test/fixtures/provider-replace-triggers.json) instead of a hand-written list.
//
// Usage (each source is a git directory and a ref, e.g. the mirrors the search tools fetch):
//   tsx scripts/derive-replace-triggers.ts \
//     --hcloud-tf   DIR@v1.66.1    (hetznercloud/terraform-provider-hcloud, as pulumi-hcloud bridges it)
//     --hcloud      DIR@REF        (pulumi/pulumi-hcloud: schema.json, to map and cross-check names)
//     --cloudflare-tf DIR@REF      (cloudflare/terraform-provider-cloudflare, the commit pulumi-cloudflare pins)
//     --tls-tf      DIR@REF        (hashicorp/terraform-provider-tls)
//     --tls         DIR@REF        (pulumi/pulumi-tls: schema.json)
//     --command     DIR@v1.2.1     (pulumi/pulumi-command: schema.json, replaceOnChanges)
//     > test/fixtures/provider-replace-triggers.json
//
// Terraform resources say it in their schema: ForceNew: true (SDKv2) or a RequiresReplace plan
// modifier (plugin framework); Pulumi-native providers say replaceOnChanges in schema.json.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

interface Source {
  dir: string;
  ref: string;
  repo: string;
  commit: string;
}

function git(src: { dir: string }, args: string[]): string {
  const r = spawnSync("git", ["-C", src.dir, ...args], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} in ${src.dir}: ${r.stderr.trim()}`);
  return r.stdout;
}

function source(arg: string | undefined, repo: string): Source {
  if (!arg) throw new Error(`missing source for ${repo}`);
  const at = arg.lastIndexOf("@");
  const [dir, ref] = at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, "HEAD"];
  return { dir, ref, repo, commit: git({ dir }, ["rev-parse", `${ref}^{commit}`]).trim() };
}

const show = (s: Source, path: string) => git(s, ["show", `${s.commit}:${path}`]);

/** Skips a Go string or raw string starting at i; returns the index after it. */
function skipString(text: string, i: number): number {
  const q = text[i]!;
  for (let j = i + 1; j < text.length; j++) {
    if (q !== "`" && text[j] === "\\") j++;
    else if (text[j] === q) return j + 1;
  }
  return text.length;
}

/** Index of the brace closing the one at `open`. */
function matching(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' || c === "`") {
      i = skipString(text, i) - 1;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      i = text.indexOf("\n", i);
      continue;
    }
    if (c === "{") depth++;
    if (c === "}" && --depth === 0) return i;
  }
  throw new Error("unbalanced braces");
}

/** Top-level entries ("name": value) of the Go map literal whose brace is at `open`. */
function mapEntries(text: string, open: number): { key: string; body: string }[] {
  const close = matching(text, open);
  const out: { key: string; body: string }[] = [];
  let i = open + 1;
  while (i < close) {
    const m = /^\s*"([a-z0-9_]+)"\s*:\s*/.exec(text.slice(i, close));
    if (!m) {
      i++;
      continue;
    }
    const start = i + m[0].length;
    const brace = text.indexOf("{", start);
    const end = matching(text, brace);
    out.push({ key: m[1]!, body: text.slice(start, end + 1) });
    i = end + 1;
  }
  return out;
}

/** The body without nested attribute blocks: their modifiers belong to the nested attributes. */
function ownPart(body: string): string {
  let out = body;
  for (;;) {
    const m = /\b(Attributes|NestedObject|Elem|Blocks)\s*:[^{]*\{/.exec(out);
    if (!m) return out;
    const open = m.index + m[0].length - 1;
    out = out.slice(0, m.index) + out.slice(matching(out, open) + 1);
  }
}

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

interface Trigger {
  property: string;
  /** How the source says it. */
  how: "ForceNew" | "RequiresReplace" | "RequiresReplaceIf" | "replaceOnChanges";
  source: string;
}

/** Replacing top-level attributes of a Terraform resource schema (SDKv2 or plugin framework). */
function terraformTriggers(src: Source, path: string, pulumiProps: string[] | undefined): Trigger[] {
  const text = show(src, path);
  const m = /(Schema:\s*map\[string\]\*schema\.Schema\s*\{|Attributes\s*(:|=)\s*map\[string\]schema\.Attribute\s*\{)/.exec(text);
  if (!m) throw new Error(`${path}: no schema map found`);
  const out: Trigger[] = [];
  for (const { key, body } of mapEntries(text, m.index + m[0].length - 1)) {
    const own = ownPart(body);
    const how = /ForceNew:\s*true/.test(own) ? "ForceNew" : /RequiresReplace\(\)/.test(own) ? "RequiresReplace" : /RequiresReplaceIf\w*\(/.test(own) ? "RequiresReplaceIf" : undefined;
    if (!how || key === "id") continue;
    const property = camel(key);
    if (pulumiProps && !pulumiProps.includes(property)) throw new Error(`${path}: ${key} maps to ${property}, which the Pulumi schema does not have (${pulumiProps.join(", ")})`);
    out.push({ property, how, source: `${src.repo}@${src.ref} ${path}` });
  }
  return out;
}

function pulumiSchema(src: Source, path: string): Record<string, { inputProperties?: Record<string, Record<string, unknown>> }> {
  return (JSON.parse(show(src, path)) as { resources: Record<string, { inputProperties?: Record<string, Record<string, unknown>> }> }).resources;
}

const { values } = parseArgs({
  options: Object.fromEntries(["hcloud-tf", "hcloud", "cloudflare-tf", "tls-tf", "tls", "command"].map((k) => [k, { type: "string" as const }])),
});
const hcloudTf = source(values["hcloud-tf"], "hetznercloud/terraform-provider-hcloud");
const hcloud = source(values.hcloud, "pulumi/pulumi-hcloud");
const cloudflareTf = source(values["cloudflare-tf"], "cloudflare/terraform-provider-cloudflare");
const tlsTf = source(values["tls-tf"], "hashicorp/terraform-provider-tls");
const tls = source(values.tls, "pulumi/pulumi-tls");
const command = source(values.command, "pulumi/pulumi-command");

const hcloudSchema = pulumiSchema(hcloud, "provider/cmd/pulumi-resource-hcloud/schema.json");
const tlsSchema = pulumiSchema(tls, "provider/cmd/pulumi-resource-tls/schema.json");
const commandSchema = pulumiSchema(command, "provider/cmd/pulumi-resource-command/schema.json");
const props = (schema: typeof hcloudSchema, type: string) => Object.keys(schema[type]?.inputProperties ?? {});

const types: Record<string, Trigger[]> = {};
const hcloudTypes: [string, string][] = [
  ["hcloud:index/server:Server", "internal/server/resource.go"],
  ["hcloud:index/primaryIp:PrimaryIp", "internal/primaryip/resource.go"],
  ["hcloud:index/rdns:Rdns", "internal/rdns/resource.go"],
  ["hcloud:index/firewall:Firewall", "internal/firewall/resource.go"],
  ["hcloud:index/sshKey:SshKey", "internal/sshkey/resource.go"],
];
for (const [type, path] of hcloudTypes) {
  types[type] = terraformTriggers(hcloudTf, path, props(hcloudSchema, type));
  // Cross-check: what the bridged schema marks must be in the derived set.
  for (const [p, v] of Object.entries(hcloudSchema[type]?.inputProperties ?? {}))
    if (v.willReplaceOnChanges && !types[type]!.some((t) => t.property === p)) throw new Error(`${type}.${p}: pulumi-hcloud marks it willReplaceOnChanges, the Terraform source does not`);
}
types["cloudflare:index/dnsRecord:DnsRecord"] = terraformTriggers(cloudflareTf, "internal/services/dns_record/schema.go", undefined);
types["cloudflare:index/workersScript:WorkersScript"] = terraformTriggers(cloudflareTf, "internal/services/workers_script/schema.go", undefined);
types["cloudflare:index/workersCustomDomain:WorkersCustomDomain"] = terraformTriggers(cloudflareTf, "internal/services/workers_custom_domain/schema.go", undefined);
types["cloudflare:index/zoneDnssec:ZoneDnssec"] = terraformTriggers(cloudflareTf, "internal/services/zone_dnssec/schema.go", undefined);
types["tls:index/privateKey:PrivateKey"] = terraformTriggers(tlsTf, "internal/provider/resource_private_key.go", props(tlsSchema, "tls:index/privateKey:PrivateKey"));
types["command:remote:Command"] = Object.entries(commandSchema["command:remote:Command"]?.inputProperties ?? {})
  .filter(([, v]) => v.replaceOnChanges)
  .map(([property]) => ({ property, how: "replaceOnChanges" as const, source: `${command.repo}@${command.ref} provider/cmd/pulumi-resource-command/schema.json` }));

process.stdout.write(
  `${JSON.stringify(
    {
      note: "Input properties whose change makes the provider replace the resource, per Pulumi type. Generated by scripts/derive-replace-triggers.ts from the sources below; do not edit by hand.",
      sources: [hcloudTf, hcloud, cloudflareTf, tlsTf, tls, command].map((s) => ({ repo: s.repo, ref: s.ref, commit: s.commit })),
      types,
    },
    null,
    2,
  )}\n`,
);
