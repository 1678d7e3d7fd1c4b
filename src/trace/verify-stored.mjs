// Run inside a lab destination's namespace (its resolv.conf points at the lab DNS): what that
// destination would conclude about stored messages, by an independent verifier (mailauth, not
// facteur's code). Input on stdin: [{file, ip, helo, sender, mta}]; output: JSON, one per input.
// Plain JavaScript, run by node as it is from the sources as from dist/: one process per
// destination of every trace, where starting it through tsx cost twice the CPU (issue 11).
import { readFileSync } from "node:fs";
import { authenticate } from "mailauth";

/** @type {{ file: string, ip: string, helo: string, sender: string, mta: string }[]} */
const jobs = JSON.parse(readFileSync(0, "utf8"));
const out = [];
for (const j of jobs) {
  try {
    const r = await authenticate(readFileSync(j.file), { ip: j.ip, helo: j.helo, sender: j.sender, mta: j.mta, disableBimi: true });
    out.push({
      file: j.file,
      spf: r.spf ? `${r.spf.status.result} (${r.spf.domain})` : "none",
      dkim: r.dkim.results.map((d) => `${d.status.result} (d=${d.signingDomain} s=${d.selector}${d.status.aligned ? `, aligned with ${d.status.aligned}` : ""})`),
      dmarc: r.dmarc ? `${r.dmarc.status.result}${r.dmarc.domain ? ` (${r.dmarc.domain}, p=${r.dmarc.policy ?? r.dmarc.p ?? "none"})` : ""}` : "none",
      arc: r.arc ? String(r.arc.status.result) : "none",
      authResults: r.headers.trim(),
    });
  } catch (e) {
    out.push({ file: j.file, error: String(e?.message ?? e) });
  }
}
process.stdout.write(JSON.stringify(out));
