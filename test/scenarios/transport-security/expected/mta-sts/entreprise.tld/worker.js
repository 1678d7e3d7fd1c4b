// MTA-STS policy of entreprise.tld (RFC 8461), served at https://mta-sts.entreprise.tld/.well-known/mta-sts.txt.
// Rendered by facteur from the stack spec; edit the spec, not this file. Policy id 64e764e82a499ce27a08.
const POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mx1.relais.tld\r\nmax_age: 86400\r\n";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== "/.well-known/mta-sts.txt") return new Response("not found\n", { status: 404, headers: { "content-type": "text/plain" } });
    if (request.method !== "GET" && request.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    // Senders cache by max_age and re-fetch when the TXT id changes: a short HTTP cache is enough.
    return new Response(request.method === "HEAD" ? null : POLICY, {
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=300" },
    });
  },
};
