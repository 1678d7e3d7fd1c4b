// The lab network: a bridge in its own namespace, one namespace per host joined to it by a
// veth pair (eth0 inside). Nothing is created in the root namespace and no namespace has a
// default route: the lab's traffic stays between the namespaces it created.
import { must, run } from "./proc.ts";

export interface NetHost {
  /** Namespace name. */
  ns: string;
  ipv4: string[];
  ipv6: string[];
}

/** Our own hosts live in 198.51.100.0/24, outside ones in 203.0.113.0/24; both are on-link on the one bridge. */
export const LAB_V4_NETS = ["198.51.100.0/24", "203.0.113.0/24"];
export const LAB_V6_NETS = ["2001:db8:5100::/64", "2001:db8:113::/64"];

export async function listNamespaces(): Promise<string[]> {
  const r = await run(["ip", "netns", "list"]);
  return r.stdout
    .split("\n")
    .map((l) => l.split(/\s+/)[0]!)
    .filter(Boolean);
}

async function ipBatch(ns: string | undefined, lines: string[], what: string): Promise<void> {
  if (!lines.length) return;
  const argv = ns ? ["ip", "-n", ns, "-batch", "-"] : ["ip", "-batch", "-"];
  await must(what, argv, { input: lines.join("\n") + "\n" });
}

/**
 * Creates the switch namespace and bridge, then every host namespace with its addresses. A
 * handful of `ip -batch` processes, not a few per host: on a loaded machine each process start
 * waits for a CPU, and this used to take half a minute there.
 */
export async function createNetwork(switchNs: string, hosts: NetHost[]): Promise<void> {
  await ipBatch(undefined, [`netns add ${switchNs}`, ...hosts.map((h) => `netns add ${h.ns}`)], "create namespaces");
  await must("switch sysctl", ["ip", "netns", "exec", switchNs, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
  // Each veth is created inside the switch namespace; its host end moves to the host's namespace as eth0.
  await ipBatch(
    switchNs,
    [
      "link add br0 type bridge",
      "link set br0 up",
      "link set lo up",
      ...hosts.flatMap((h, i) => [`link add v${i} type veth peer name eth0 netns ${h.ns}`, `link set v${i} master br0`, `link set v${i} up`]),
    ],
    `bridge and veths in ${switchNs}`,
  );
  await Promise.all(
    hosts.map((h) => {
      const lines = ["link set lo up", "link set eth0 up"];
      for (const a of h.ipv4) lines.push(`addr add ${a}/24 dev eth0`);
      for (const a of h.ipv6) lines.push(`addr add ${a}/64 dev eth0 nodad`);
      // Both lab subnets are on the same bridge: reach the other one on-link, and nothing else.
      const own4 = new Set(h.ipv4.map((a) => a.split(".").slice(0, 3).join(".")));
      for (const net of LAB_V4_NETS) if (!own4.has(net.split(".").slice(0, 3).join("."))) lines.push(`route add ${net} dev eth0`);
      const own6 = new Set(h.ipv6.map((a) => a.split(":").slice(0, 3).join(":")));
      for (const net of LAB_V6_NETS) if (!own6.has(net.split(":").slice(0, 3).join(":"))) lines.push(`route add ${net} dev eth0`);
      return ipBatch(h.ns, lines, `addresses of ${h.ns}`);
    }),
  );
}

/** Deletes namespaces (their processes must be gone first). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  if (!names.length) return;
  // One process; -force goes on past a namespace that is already gone.
  await run(["ip", "-force", "-batch", "-"], { input: names.map((n) => `netns delete ${n}`).join("\n") + "\n" });
}
