// Hetzner server types that can no longer be ordered. A spec naming one still describes a host
// that may exist (it keeps running), but a new server of that type fails to create, so every
// applier warns. Sources, for whoever updates this table:
// - CX Gen 2 and CPX Gen 1: hetznercloud/terraform-provider-hcloud commit c9cdbb9c (2025-10-28,
//   "docs: Update deprecated Server Types and OS images": "The CX Gen 2 and CPX Gen 1 types are
//   deprecated and will be removed from the API at the end of the year"); its
//   internal/servertype/data_source_test.go recorded cpx11 as deprecation_announced
//   2025-10-16, unavailable_after 2025-12-31. The provider's docs moved to cx23 and cpx22.
// - CX Gen 1 (cx11 ... cx51): removed from the API in 2024 (superseded by CX Gen 2).
import type { PlannedHost } from "./plan.ts";

export interface DeprecatedFamily {
  family: string;
  /** Deprecated type -> its current counterpart (same size class). */
  replacements: Record<string, string>;
  announced: string;
  unavailableAfter: string;
}

export const DEPRECATED_SERVER_TYPES: DeprecatedFamily[] = [
  {
    family: "CX Gen 2",
    replacements: { cx22: "cx23", cx32: "cx33", cx42: "cx43", cx52: "cx53" },
    announced: "2025-10-16",
    unavailableAfter: "2025-12-31",
  },
  {
    family: "CPX Gen 1",
    replacements: { cpx11: "cpx12", cpx21: "cpx22", cpx31: "cpx32", cpx41: "cpx42", cpx51: "cpx52" },
    announced: "2025-10-16",
    unavailableAfter: "2025-12-31",
  },
  {
    family: "CX Gen 1",
    replacements: { cx11: "cx23", cx21: "cx23", cx31: "cx33", cx41: "cx43", cx51: "cx53" },
    announced: "2024-06-06",
    unavailableAfter: "2024-09-06",
  },
];

export interface ServerTypeWarning {
  host: string;
  serverType: string;
  replacement: string;
  message: string;
}

/** One warning per host whose server type Hetzner no longer sells. */
export function serverTypeWarnings(hosts: Pick<PlannedHost, "name" | "serverType">[]): ServerTypeWarning[] {
  return hosts.flatMap((h) => {
    const t = h.serverType.toLowerCase();
    const fam = DEPRECATED_SERVER_TYPES.find((f) => t in f.replacements);
    if (!fam) return [];
    const replacement = fam.replacements[t]!;
    return [
      {
        host: h.name,
        serverType: h.serverType,
        replacement,
        message:
          `${h.name}: server type ${h.serverType} (Hetzner ${fam.family}) is deprecated since ${fam.announced} and cannot be ordered after ${fam.unavailableAfter}: ` +
          `creating this server will fail. Use ${replacement} instead (an existing server keeps running; changing serverType resizes it in place, with a short stop).`,
      },
    ];
  });
}
