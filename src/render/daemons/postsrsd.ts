// postsrsd (relays): rewrites the envelope sender of forwarded mail into the SRS domain so SPF
// passes at the destination, and turns bounces to SRS addresses back. Two Postfix tcp_table
// servers on loopback; configured by Debian's /etc/default/postsrsd.
import type { DaemonPart, HostInput, PostsrsdFacts } from "./types.ts";

export function postsrsd({ root, host, model, plan }: HostInput): DaemonPart<PostsrsdFacts> {
  const config = `${root}/etc/default/postsrsd`;
  const listen = "127.0.0.1";
  const ports = { forward: 10001, reverse: 10002 };
  const secretFile = `${root}/etc/postsrsd.secret`;
  const chroot = `${root}/var/lib/postsrsd`;
  const user = "postsrsd";
  const separator = "=";
  // Our own domains are not rewritten: their SPF already covers the pool.
  const mxFor = new Set(host.mxFor);
  const exclude = model.domains.filter((d) => mxFor.has(d.name) || d.operator).map((d) => d.name);
  const srsDomain = plan.routing.srsDomain;
  return {
    facts: {
      name: "postsrsd",
      label: "postsrsd",
      service: "postsrsd",
      packages: ["postsrsd"],
      config,
      user,
      group: user,
      logs: [],
      syslog: true,
      dirs: [{ path: chroot, owner: "root", group: "root", mode: "0755" }],
      // The same settings as the rendered defaults file, as postsrsd's own options.
      foreground: [
        "postsrsd", `-s${secretFile}`, `-d${srsDomain}`, `-a${separator}`, `-l${listen}`, `-f${ports.forward}`, `-r${ports.reverse}`,
        `-u${user}`, `-c${chroot}`, ...exclude.map((x) => `-X${x}`),
      ],
      readiness: (["forward", "reverse"] as const).map((dir) => ({
        what: `${dir} SRS lookup on ${listen}:${ports[dir]}`,
        check: { kind: "table" as const, address: listen, port: ports[dir] },
      })),
      secretFile,
      forward: `${listen}:${ports.forward}`,
      reverse: `${listen}:${ports.reverse}`,
    },
    files: [{ template: "postsrsd/postsrsd", path: config }],
    context: { srsDomain, exclude, separator, secretFile, ports, listen, user, chroot },
  };
}
