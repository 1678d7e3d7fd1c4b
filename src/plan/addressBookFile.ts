// Loads an address book file ({host: {ipv4, ipv6}}, or the whole `pulumi stack output --json`,
// which holds it under "addresses") with the same file:line:col errors as a spec.
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { parseYamlWith, peekYaml, readInput } from "../spec/load.ts";
import { hostLabel } from "../spec/schema.ts";
import type { Model } from "../model/model.ts";
import type { AddressBook } from "./addresses.ts";

const addressBookSchema = z.record(
  hostLabel,
  z
    .object({
      ipv4: z.string().refine((s) => isIPv4(s), "not an IPv4 address (expected one such as 198.51.100.10)").optional(),
      ipv6: z
        .string()
        .superRefine((s, ctx) => {
          // node's isIPv6 accepts fe80::1%eth0: a zone names an interface of one machine, not a public address.
          if (s.includes("%")) ctx.addIssue({ code: "custom", message: `${s} carries an interface zone (%...): an address book holds the hosts' public addresses` });
          else if (!isIPv6(s)) ctx.addIssue({ code: "custom", message: "not an IPv6 address (expected one such as 2001:db8::10)" });
        })
        .optional(),
    })
    .strict(),
);
const stackOutputSchema = z.object({ addresses: addressBookSchema }).passthrough();

/** A stack output holds the book under "addresses" beside other outputs; a book's entries hold ipv4/ipv6. */
function isStackOutput(text: string): boolean {
  // Not YAML: parseYamlWith reports the syntax error with its position.
  const data = peekYaml(text);
  const inner = (data as { addresses?: unknown } | null)?.addresses;
  return typeof inner === "object" && inner !== null && !("ipv4" in inner) && !("ipv6" in inner);
}

export function parseAddressBook(text: string, file: string, model: Model): AddressBook {
  const known = new Set([...model.relays, ...model.smarthosts].map((h) => h.name));
  const unknownHosts = (book: AddressBook, at: string[]) =>
    Object.keys(book)
      .filter((h) => !known.has(h))
      .map((h) => ({ path: [...at, h], message: `unknown host ${h}; the stack's hosts are ${[...known].sort().join(", ")}` }));
  if (isStackOutput(text)) return parseYamlWith(stackOutputSchema, text, file, (o) => unknownHosts(o.addresses, ["addresses"])).addresses;
  return parseYamlWith(addressBookSchema, text, file, (book) => unknownHosts(book, []));
}

export function loadAddressBook(file: string, model: Model): AddressBook {
  return parseAddressBook(readInput(file, "address book"), file, model);
}
