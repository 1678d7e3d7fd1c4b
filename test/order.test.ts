// The text order every sort in facteur uses (src/order.ts): code points, not the locale.
import { test } from "node:test";
import assert from "node:assert/strict";
import { byText, compareText } from "../src/order.ts";

test("compareText: negative before, zero when equal, positive after", () => {
  assert.equal(compareText("mx1", "mx2"), -1);
  assert.equal(compareText("mx2", "mx1"), 1);
  assert.equal(compareText("out1", "out1"), 0);
});

test("compareText is code-point order: capitals and digits before small letters, whatever the locale", () => {
  const names = ["zeta", "Zeta", "éclair", "eclair", "10", "9"];
  assert.deepEqual([...names].sort(compareText), ["10", "9", "Zeta", "eclair", "zeta", "éclair"]);
  assert.deepEqual([...names].sort(compareText), [...names].sort(), "the same order as a plain sort() of strings");
});

test("byText sorts items by their key and keeps equal keys' relative order", () => {
  const hosts = [{ name: "out2", n: 1 }, { name: "mx1", n: 2 }, { name: "out2", n: 3 }];
  assert.deepEqual(hosts.sort(byText((h) => h.name)).map((h) => h.n), [2, 1, 3]);
});
