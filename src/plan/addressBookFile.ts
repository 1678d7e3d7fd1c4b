// Loads an address book file ({host: {ipv4, ipv6}}, e.g. exported from `pulumi stack output`)
// with the same file:line:col errors as a spec.
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { parseYamlWith, readInput } from "../spec/load.ts";
import { hostLabel } from "../spec/schema.ts";
import type { Model } from "../model/model.ts";
import type { AddressBook } from "./addresses.ts";

const addressBookSchema = z.record(
  hostLabel,
  z
    .object({
      ipv4: z.string().refine((s) => isIPv4(s), "expected an IPv4 address such as 198.51.100.10").optional(),
      ipv6: z.string().refine((s) => isIPv6(s), "expected an IPv6 address such as 2001:db8::10").optional(),
    })
    .strict(),
);

export function loadAddressBook(file: string, model: Model): AddressBook {
  const known = new Set([...model.relays, ...model.smarthosts].map((h) => h.name));
  return parseYamlWith(addressBookSchema, readInput(file, "address book"), file, (book) =>
    Object.keys(book)
      .filter((h) => !known.has(h))
      .map((h) => ({ path: [h], message: `unknown host ${h}; the stack's hosts are ${[...known].sort().join(", ")}` })),
  );
}
