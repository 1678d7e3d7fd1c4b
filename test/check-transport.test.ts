// `facteur check` on the transport-security records (issue 14), against fake lookups and a fake
// HTTPS fetcher: a correct deployment is all OK, and each kind of drift is flagged and explained.
// The real HTTPS path is exercised against the lab (test/lab-transport.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runChecks, type CheckResult } from "../src/check/checks.ts";
import { tableLookups } from "../src/check/lookups.ts";
import { httpsFetcher, type HttpsAnswer, type HttpsFetcher } from "../src/check/mtaSts.ts";
import { liveRecordsOf, lookupTable, loopbackAddresses, dkimKeysFor } from "./support/check/fixtures.ts";
import { parseSpec } from "../src/spec/load.ts";
import { buildModel } from "../src/model/model.ts";
import { buildPlan } from "../src/plan/plan.ts";

const SPEC = fileURLToPath(new URL("./scenarios/transport-security/stack.yaml", import.meta.url));
const model = buildModel(parseSpec(readFileSync(SPEC, "utf8"), SPEC));
const plan = buildPlan(model, { addresses: loopbackAddresses(["mx1", "out1"]), dkimKeys: dkimKeysFor(model) });
const policy = plan.mtaSts![0]!;
const DAY = 86_400_000;

function served(over: Partial<HttpsAnswer> = {}): HttpsAnswer {
  return { status: 200, contentType: "text/plain; charset=utf-8", body: policy.text, validTo: Date.now() + 60 * DAY, ...over };
}

async function check(mutate: (t: Record<string, string[] | string>) => void = () => {}, answer: HttpsAnswer | Error = served()) {
  const table: Record<string, string[] | string> = lookupTable(liveRecordsOf(plan, model));
  table["A mta-sts.entreprise.tld"] = ["192.0.2.80"];
  mutate(table);
  const asked: Parameters<HttpsFetcher>[0][] = [];
  const https: HttpsFetcher = async (t) => {
    asked.push(t);
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const results = await runChecks(plan, { lookups: tableLookups(table), dnsbls: [], https });
  return { results, asked };
}
const byId = (rs: CheckResult[], id: string) => {
  const r = rs.find((x) => x.id === id);
  assert.ok(r, `no result ${id}`);
  return r;
};

test("a correct deployment: MTA-STS record, policy, certificate, MX names, TLS-RPT and ARC key are all OK", async () => {
  const { results, asked } = await check();
  assert.deepEqual(results.filter((r) => r.state !== "OK").map((r) => `${r.state} ${r.id} ${r.note}`), []);
  for (const id of ["mta-sts:entreprise.tld", "mta-sts-policy:entreprise.tld", "mta-sts-cert:entreprise.tld", "mta-sts-mx:entreprise.tld", "tlsrpt:entreprise.tld", "arc:relais.tld:arc2026a"]) byId(results, id);
  assert.equal(byId(results, "arc:relais.tld:arc2026a").what, "ARC key arc2026a._domainkey.relais.tld");
  // Fetched as a sender does: from the name's address, with the name for SNI and verification.
  assert.deepEqual(asked.map(({ timeoutMs: _, ...t }) => t), [{ address: "192.0.2.80", servername: "mta-sts.entreprise.tld", path: "/.well-known/mta-sts.txt" }]);
  assert.equal(results.filter((r) => r.id.includes("monmagasin") && r.id.startsWith("mta-sts")).length, 0, "no policy planned, none checked");
});

const drifts: [string, (t: Record<string, string[] | string>) => void, HttpsAnswer | Error, string, RegExp][] = [
  ["a stale id in the TXT record", (t) => (t["TXT _mta-sts.entreprise.tld"] = ["v=STSv1; id=0000"]), served(), "mta-sts:entreprise.tld", /the id is not the planned policy's/],
  ["two STSv1 records", (t) => (t["TXT _mta-sts.entreprise.tld"] = [`v=STSv1; id=${policy.id}`, "v=STSv1; id=x"]), served(), "mta-sts:entreprise.tld", /several v=STSv1 records/],
  ["no STSv1 record", (t) => (t["TXT _mta-sts.entreprise.tld"] = []), served(), "mta-sts:entreprise.tld", /no v=STSv1 record/],
  ["a policy in another mode", () => {}, served({ body: policy.text.replace("enforce", "testing") }), "mta-sts-policy:entreprise.tld", /mode testing, planned enforce/],
  ["a policy missing an MX", () => {}, served({ body: policy.text.replace("mx: mx1.relais.tld\r\n", "") }), "mta-sts-policy:entreprise.tld", /mx none, planned mx1\.relais\.tld/],
  ["a policy served as HTML", () => {}, served({ contentType: "text/html" }), "mta-sts-policy:entreprise.tld", /content-type text\/html, not text\/plain/],
  ["a redirect instead of the policy", () => {}, served({ status: 301, body: "" }), "mta-sts-policy:entreprise.tld", /HTTP 301, not 200/],
  ["an untrusted certificate", () => {}, served({ certProblem: "SELF_SIGNED_CERT_IN_CHAIN" }), "mta-sts-cert:entreprise.tld", /senders refuse the policy: SELF_SIGNED_CERT_IN_CHAIN/],
  ["no policy host", (t) => delete t["A mta-sts.entreprise.tld"], served(), "mta-sts-policy:entreprise.tld", /mta-sts\.entreprise\.tld has no A or AAAA record/],
  ["no HTTPS answer", () => {}, new Error("connect ECONNREFUSED"), "mta-sts-policy:entreprise.tld", /no HTTPS answer from 192\.0\.2\.80: connect ECONNREFUSED/],
  ["an MX the policy does not list", (t) => (t["MX entreprise.tld"] = ["10 mx1.relais.tld", "20 mx9.ailleurs.tld"]), served(), "mta-sts-mx:entreprise.tld", /not in the policy: mx9\.ailleurs\.tld/],
  ["another TLS-RPT address", (t) => (t["TXT _smtp._tls.entreprise.tld"] = ["v=TLSRPTv1; rua=mailto:x@y.tld"]), served(), "tlsrpt:entreprise.tld", /^$/],
];
for (const [name, mutate, answer, id, note] of drifts)
  test(`CRITICAL: ${name}`, async () => {
    const r = byId((await check(mutate, answer)).results, id);
    assert.equal(r.state, "CRITICAL", JSON.stringify(r));
    assert.match(r.note ?? "", note);
  });

test("a certificate close to expiry is a WARNING (renewal is failing), an expired one CRITICAL", async () => {
  assert.equal(byId((await check(() => {}, served({ validTo: Date.now() + 5 * DAY }))).results, "mta-sts-cert:entreprise.tld").state, "WARNING");
  assert.equal(byId((await check(() => {}, served({ validTo: Date.now() - DAY }))).results, "mta-sts-cert:entreprise.tld").state, "CRITICAL");
});

test("the real fetcher refuses nothing itself but reports an untrusted certificate (here: no server at all)", async () => {
  await assert.rejects(httpsFetcher()({ address: "127.0.0.1", servername: "mta-sts.invalid", path: "/", timeoutMs: 2000 }), /ECONNREFUSED|timeout|no answer/);
});
