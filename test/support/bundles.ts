// What a host bundle tells its applier besides file contents, as reviewable JSON: each file's
// mode, postmap flag and secret names, the DKIM keys and where they go, the SASL logins, the
// TLS key pair and the sasldb. Golden tests keep it beside the rendered files.
import type { HostBundle } from "../../src/render/bundle.ts";

export function bundleManifest(b: HostBundle): string {
  const { files, ...rest } = b;
  return `${JSON.stringify({ ...rest, files: files.map(({ content: _content, ...f }) => f) }, null, 2)}\n`;
}
