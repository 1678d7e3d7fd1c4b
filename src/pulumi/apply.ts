// How a rendered bundle reaches a host: pure functions, no Pulumi import, so they are tested
// on their own (the script even runs for real under bash in test/pulumi-apply.test.ts).
//
// - cloudInit(): first boot only. Names the host after its PTR/HELO name and installs the
//   packages. It carries no bundle and no secret on purpose: user data is kept by Hetzner and
//   served to any local process by the metadata service for the life of the server, and the
//   server ignores later changes to it (ignoreChanges) anyway. The bundle arrives through the
//   apply script below, on creation as on every later change: one code path.
// - applyScript(): installs missing packages, writes the bundle to a staging directory
//   (postmaps tables there), backs up what it replaces, swaps the files in, runs the checks
//   (`postfix check`, `opendkim -n`) and only then reloads. From the swap until the reload has
//   succeeded, ANY failure (a check, a command, a reload) puts the previous files back (and
//   reloads them if a reload had started), so a host is never left on a half-applied or
//   rejected configuration. Then it probes outbound port 25 and fails loudly when the
//   provider blocks it.
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { fillSecrets, type HostBundle } from "../render/bundle.ts";
import { logUserSetup } from "../trace/logUser.ts";
import { COOL_SH, gateCommand, gateFunctions } from "../gate/postfix.ts";
import { daemonFacts } from "../render/daemons/index.ts";
import { heldKeyId, isTlsKey } from "../plan/dns.ts";
import { quotaStorePasswordProblem } from "../render/daemons/postgresql.ts";

/** First-boot user data: host name = PTR name = HELO name, packages (the bundle's), nothing else. */
export function cloudInit(host: Pick<HostBundle, "host" | "fqdn" | "role" | "packages">): string {
  return [
    "#cloud-config",
    `# facteur ${host.role} ${host.fqdn}: packages only; the configuration arrives over SSH (facteur apply).`,
    `hostname: ${host.host}`,
    `fqdn: ${host.fqdn}`,
    "prefer_fqdn_over_hostname: true",
    "manage_etc_hosts: true",
    "package_update: true",
    "package_upgrade: true",
    "apt:",
    "  debconf_selections:",
    "    postfix: |",
    // Postfix stays unconfigured (and stopped) until the bundle has been checked.
    "      postfix postfix/main_mailer_type select No configuration",
    `packages: [${host.packages.join(", ")}]`,
    "",
  ].join("\n");
}

/** Paths of the DKIM key files this host holds -> their PEM (private, secret). */
export type DkimPrivateKeys = Record<string, string>;

/** What the apply step does besides installing the bundle; all public, all part of the bundle hash. */
export interface ApplyOptions {
  /** Debian packages the host needs: installed when missing, on every apply. */
  packages: string[];
  /** root's authorized_keys (facteur:sshKeys); absent: left as it is. */
  authorizedKeys?: string;
  /** Hosts whose port 25 must answer once the configuration is live; empty: no probe. */
  smtpProbeHosts: string[];
  /** Public keys of the read-only log user (facteur:logReaders, for `facteur trace`); empty: no such user. */
  logReaders?: Record<string, string>;
}

/**
 * Fingerprint of what a host is given, without any secret value: the rendered files (secrets
 * still as ${secret:NAME} references), the DKIM keys by public half, the SASL logins, and the
 * apply options. It is shown in `pulumi preview` (in the apply command line), so a reviewer
 * sees which hosts change.
 */
export function bundleHash(bundle: HostBundle, dkimPublicKeys: Record<string, string>, options?: ApplyOptions): string {
  const h = createHash("sha256");
  h.update(
    JSON.stringify({
      files: bundle.files.map((f) => [f.path, f.mode, f.postmap ?? false, f.content]),
      dkim: bundle.dkimKeys.map((k) => [k.path, dkimPublicKeys[heldKeyId(k)] ?? null]),
      sasl: bundle.saslUsers.map((u) => [u.login, u.passwordSecret]),
      ...(options ? { options } : {}),
    }),
  );
  return h.digest("hex");
}

/** Every secret name a host needs: references in its files and its SASL users' passwords. */
export function secretsNeeded(bundle: HostBundle): string[] {
  return [...new Set([...bundle.files.flatMap((f) => f.secretRefs ?? []), ...bundle.saslUsers.map((u) => u.passwordSecret)])].sort();
}

/** The command Pulumi runs over SSH; the script (secret) arrives on stdin, lands in a 0600 file, runs, is removed. */
export function applyCommand(hash: string): string {
  return `: facteur-bundle ${hash}; umask 077; f=$(mktemp /root/.facteur-apply.XXXXXX) && cat >"$f" && bash "$f"; rc=$?; rm -f "$f"; exit $rc`;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/**
 * A file's content as one bash word, $'...' (ANSI-C quoting): every byte stands for itself but the
 * backslash and the quote, escaped. `put` writes it with the printf builtin, where a heredoc
 * needed a base64 process per file (some sixty per bundle); a SASL password goes the same way. Bash strings end at a NUL byte: a
 * content holding one is refused (no rendered file, key or secret has a reason to).
 */
const word = (s: string, what: string) => {
  if (s.includes("\0")) throw new Error(`${what}: a NUL byte cannot be written through the apply script`);
  return `$'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
};

export const AUTHORIZED_KEYS = "/root/.ssh/authorized_keys";

/** Exit code of an apply whose configuration is live but whose port 25 is blocked. */
export const EXIT_SMTP_BLOCKED = 3;

/**
 * The script that installs a bundle on its host (bash, run as root). `secrets` holds every
 * name of secretsNeeded(bundle); `dkimKeys` the PEM of every bundle.dkimKeys path. The result
 * holds secrets: callers keep it a Pulumi secret. Everything it prints goes to stdout (kept
 * out of logs by the apply command's logging setting) except its own `say` lines on stderr,
 * which never carry a secret.
 *
 * FACTEUR_ROOT (empty on hosts) prefixes every path; FACTEUR_NO_CHOWN skips ownership changes.
 * Both exist only so that the test can run the real script in a temporary directory.
 */
export function applyScript(bundle: HostBundle, secrets: Record<string, string>, dkimKeys: DkimPrivateKeys, options: ApplyOptions = { packages: [], smtpProbeHosts: [] }): string {
  const where = `facteur apply ${bundle.host}`;
  const postfix = daemonFacts(bundle.daemons, "postfix");
  if (!postfix) throw new Error(`${where}: the bundle runs no Postfix`);
  const opendkim = daemonFacts(bundle.daemons, "opendkim");
  // The shared quota store's password, on the smarthosts that count there and the host that runs it.
  const storeSecret = daemonFacts(bundle.daemons, "policyd-rate-limit")?.store?.passwordSecret ?? daemonFacts(bundle.daemons, "postgresql")?.passwordSecret;
  if (storeSecret !== undefined) {
    const pw = secrets[storeSecret];
    const problem = pw === undefined ? undefined : quotaStorePasswordProblem(pw);
    if (problem) throw new Error(`${where}: secret ${storeSecret}: ${problem}`);
  }
  const L: string[] = [];
  const targets: string[] = [];
  L.push(
    "#!/bin/bash",
    `# facteur: apply the rendered bundle of ${bundle.fqdn} (${bundle.role}). Generated; holds secrets.`,
    "set -Eeuo pipefail",
    "umask 077",
    'R="${FACTEUR_ROOT:-}"',
    // fd 3: the caller's stderr, for our own progress lines; tool output goes to stdout.
    "exec 3>&2 2>&1",
    `say() { echo "facteur ${bundle.host}: $*" >&3; }`,
    'own() { if [ -z "${FACTEUR_NO_CHOWN:-}" ]; then chown "$@"; fi; }',
    "",
    "# 0. First boot: wait for cloud-init; then the packages this role needs, installed when missing",
    "#    (a template that needs a new package brings it to existing hosts too).",
    'if [ -z "$R" ] && command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi',
    `PACKAGES=(${options.packages.map(q).join(" ")})`,
    "missing=()",
    // One dpkg-query for all (it names each package it knows; an unknown one only makes it exit 1).
    'installed=""; [ ${#PACKAGES[@]} -eq 0 ] || installed=$(dpkg-query -W -f=\'${Status} ${Package}\\n\' "${PACKAGES[@]}" 2>/dev/null || true)',
    'for p in "${PACKAGES[@]}"; do [[ $\'\\n\'"$installed"$\'\\n\' == *$\'\\ninstall ok installed \'"$p"$\'\\n\'* ]] || missing+=("$p"); done',
    'if [ ${#missing[@]} -gt 0 ]; then',
    '  say "installing ${missing[*]}"',
    // Postfix stays unconfigured until the bundle has been checked.
    '  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections',
    "  DEBIAN_FRONTEND=noninteractive apt-get update -qq",
    '  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"',
    "fi",
    "",
    'mkdir -p "$R/var/lib/facteur"',
    'STAGE=$(mktemp -d "$R/var/lib/facteur/stage.XXXXXX")',
    'BACKUP=$(mktemp -d "$R/var/lib/facteur/backup.XXXXXX")',
    // From the swap until the commit, any exit other than a clean one restores the previous files.
    "SWAPPED=",
    "RELOADING=",
    "FAILED_AT=",
    `trap 'FAILED_AT="line $LINENO: $BASH_COMMAND"' ERR`,
    "finish() {",
    "  local rc=$?",
    "  trap - EXIT ERR",
    '  if [ "$rc" -ne 0 ] && [ -n "$SWAPPED" ]; then',
    "    rollback",
    '    if [ -n "$RELOADING" ]; then reload_services || say "reloading the previous configuration failed too: look at the host"; fi',
    '    say "FAILED after the swap (${FAILED_AT:-exit $rc}): previous configuration restored"',
    "  fi",
    '  rm -rf "$STAGE" "$BACKUP"',
    '  exit "$rc"',
    "}",
    "trap finish EXIT",
    // put PATH MODE OWNER CONTENT: CONTENT -> $STAGE/PATH, made with MODE under the umask that
    // gives it (0666 & ~umask), chmod-ed only for execute, setuid, setgid or sticky bits.
    // (${p%/*}: the parent directory without forking dirname; mkdir only for a directory not
    // made yet; printf -v and $(( )) are builtins: a bundle is some sixty files in a dozen
    // directories, and each process counts.)
    'put() { [ -d "$STAGE${1%/*}" ] || mkdir -p "$STAGE${1%/*}"; printf -v u %03o $(( 0777 & ~8#$2 )); umask "$u"; printf %s "$4" >"$STAGE$1"; umask 077; [ $(( 8#$2 & 07111 )) -eq 0 ] || chmod "$2" "$STAGE$1"; own "$3" "$STAGE$1"; }',
    "",
    "# 1. Stage every file (nothing live is touched yet).",
  );
  for (const f of bundle.files) {
    const content = fillSecrets(f.content, secrets, `${where}: ${f.path}`, f.secretRefs ?? []);
    // Rendered files are root's: the daemons read them before dropping privileges, or as root.
    L.push(`put ${q(f.path)} ${f.mode} root:root ${word(content, `${where}: ${f.path}`)}`);
    targets.push(f.path);
  }
  // The staged main.cf is whole: dated back, Postfix reads it at once in postmap, the checks and
  // the reload, instead of waiting up to 2 s each time for it to "cool down" (src/gate/postfix.ts).
  const mainCf = `${postfix.configDir}/main.cf`;
  if (bundle.files.some((f) => f.path === mainCf)) L.push(`${COOL_SH} "$STAGE"${q(mainCf)}`);
  // Tables are indexed once every file is staged, with the staged main.cf: a fresh host
  // (Debian's "No configuration" install) has no /etc/postfix/main.cf for postmap to read.
  for (const f of bundle.files.filter((f) => f.postmap)) {
    L.push(`postmap -c "$STAGE"${q(postfix.configDir)} hash:"$STAGE"${q(f.path)}`, `chmod ${f.mode} "$STAGE"${q(f.path + ".db")}`);
    targets.push(`${f.path}.db`);
  }
  const keyOwner = opendkim ? `${opendkim.keyOwner.owner}:${opendkim.keyOwner.group}` : "root:root";
  // A key names its owner when it is not OpenDKIM's (rspamd's ARC key on relays).
  const ownerOf = (k: HostBundle["dkimKeys"][number]) => (k.owner ? `${k.owner.owner}:${k.owner.group}` : keyOwner);
  for (const k of bundle.dkimKeys) {
    const pem = dkimKeys[k.path];
    if (pem === undefined) throw new Error(`${where}: no ${isTlsKey(k) ? "TLS" : "DKIM"} private key for ${k.domain}/${k.selector} (${k.path})`);
    L.push(`put ${q(k.path)} 0600 ${ownerOf(k)} ${word(pem, `${where}: ${k.path}`)}`);
    targets.push(k.path);
  }
  if (options.authorizedKeys !== undefined) {
    if (!options.authorizedKeys.trim()) throw new Error(`${where}: no SSH key for root's authorized_keys: the host would lock everyone out`);
    L.push(`put ${q(AUTHORIZED_KEYS)} 0600 root:root ${word(options.authorizedKeys, `${where}: ${AUTHORIZED_KEYS}`)}`);
    targets.push(AUTHORIZED_KEYS);
  }
  if (bundle.saslDb) {
    // A fresh sasldb with exactly the spec's users: removed logins stop working.
    const db = bundle.saslDb;
    targets.push(db);
    if (bundle.saslUsers.length > 0) {
      L.push(`mkdir -p "$(dirname "$STAGE${db}")"`);
      for (const u of bundle.saslUsers) {
        const at = u.login.lastIndexOf("@");
        const [user, realm] = at > 0 ? [u.login.slice(0, at), u.login.slice(at + 1)] : [u.login, ""];
        const pw = secrets[u.passwordSecret];
        if (pw === undefined) throw new Error(`${where}: secret ${u.passwordSecret} is not set (pulumi config set --secret ${u.passwordSecret} ...)`);
        // The password on saslpasswd2's standard input, by the printf builtin: never in an argv.
        L.push(`printf %s ${word(pw, `${where}: secret ${u.passwordSecret}`)} | saslpasswd2 -p -c -f "$STAGE${db}"${realm ? ` -u ${q(realm)}` : ""} ${q(user)}`);
      }
      L.push(`chmod 0640 "$STAGE${db}"`, `own root:postfix "$STAGE${db}"`);
    }
  }
  // A managed TLS key (tlsKey, purpose tls): when the live certificate is for another key (a key
  // switch, or none yet), a certificate for the staged key is staged with it, so both go live, or
  // back, together. At a switch it is the one the ACME client pre-issued while the key was next
  // (acme facts preIssued), when it is for that key and valid for a day more: served at once, and
  // renewed in place. Otherwise a bootstrap self-signed one: DANE (3 1 1) verifies the key at
  // once, and ACME issues for it within a minute (the timer restarts with the apply, its script
  // seeing a self-signed certificate).
  const managed = bundle.dkimKeys.find((k) => k.purpose === "tls");
  const acme = daemonFacts(bundle.daemons, "acme");
  const pre = acme?.preIssued;
  if (managed) {
    if (managed.path !== bundle.tls.key) throw new Error(`${where}: the managed TLS key ${managed.path} is not the key main.cf names (${bundle.tls.key})`);
    const cert = bundle.tls.cert;
    const pubOf = (c: string) => `"$(openssl x509 -in "$R"${q(c)} -noout -pubkey 2>/dev/null)"`;
    const bootstrap = `openssl req -x509 -new -key "$STAGE"${q(managed.path)} -days 3650 -subj ${q(`/CN=${bundle.fqdn}`)} -addext ${q(`subjectAltName=DNS:${bundle.fqdn}`)} -out "$STAGE"${q(cert)} >/dev/null`;
    const choose =
      acme && pre
        ? [
            `  if [ -s "$R"${q(pre.cert)} ] && [ -s "$R"${q(pre.meta)} ] && [ ${pubOf(pre.cert)} = "$stagedpub" ] && openssl x509 -in "$R"${q(pre.cert)} -noout -checkend 86400 >/dev/null; then`,
            `    say "installing the certificate pre-issued for key ${managed.selector}"`,
            `    cp "$R"${q(pre.cert)} "$STAGE"${q(cert)}`,
            `    cp "$R"${q(pre.meta)} "$STAGE"${q(acme.meta)}`,
            `    CERT_TARGETS+=(${q(acme.meta)})`,
            "  else",
            `    ${bootstrap}`,
            "  fi",
          ]
        : [`  ${bootstrap}`];
    L.push(
      "CERT_TARGETS=()",
      `stagedpub="$(openssl pkey -in "$STAGE"${q(managed.path)} -pubout)"`,
      `if [ ! -s "$R"${q(cert)} ] || [ ${pubOf(cert)} != "$stagedpub" ]; then`,
      `  mkdir -p "$STAGE"${q(dirname(cert))}`,
      `  CERT_TARGETS=(${q(cert)})`,
      ...choose,
      `  chmod 0644 "$STAGE"${q(cert)}`,
      "fi",
    );
    // A next key no longer announced (the switch is done, or it was withdrawn) leaves the host.
    if (pre && !bundle.dkimKeys.some((k) => k.purpose === "tls-next")) targets.push(pre.key);
  }
  // Every path below comes from render (never from the spec): safe inside double quotes after "$R".
  const rooted = (argv: string[]) => argv.map((a) => (a.startsWith("/") ? `"$R${a}"` : a)).join(" ");
  const others = bundle.daemons.filter((d) => d.name !== "postfix");
  L.push(
    "",
    "# 2. Back up what is live, swap the staged files in (absent from the stage = removed).",
    `TARGETS=(${targets.map(q).join(" ")}${managed ? ' "${CERT_TARGETS[@]}"' : ""})`,
    // One cp for every live target (--parents: $BACKUP$p), not one per file.
    "LIVE=()",
    'for p in "${TARGETS[@]}"; do if [ -e "$R$p" ]; then LIVE+=("${p#/}"); fi; done',
    'if [ ${#LIVE[@]} -gt 0 ]; then (cd "$R/" && cp -a --parents -t "$BACKUP" -- "${LIVE[@]}"); fi',
    "rollback() {",
    '  for p in "${TARGETS[@]}"; do',
    '    if [ -e "$BACKUP$p" ]; then cp -a "$BACKUP$p" "$R$p.facteur-old" && mv -f "$R$p.facteur-old" "$R$p"; else rm -f "$R$p"; fi',
    "  done",
    "}",
    "SWAPPED=1",
    'for p in "${TARGETS[@]}"; do',
    '  if [ -e "$STAGE$p" ]; then',
    '    [ -d "$R${p%/*}" ] || mkdir -p "$R${p%/*}"',
    '    cp -a "$STAGE$p" "$R$p.facteur-new" && mv -f "$R$p.facteur-new" "$R$p"',
    '  else rm -f "$R$p"; fi',
    "done",
    ...(options.authorizedKeys !== undefined ? ['chmod 0700 "$R/root/.ssh"'] : []),
    ...[...new Map(bundle.dkimKeys.map((k) => [k.path.slice(0, k.path.lastIndexOf("/")), ownerOf(k)]))].map(
      ([d, owner]) => `chmod 0700 "$R"${q(d)}; own ${owner} "$R"${q(d)}`,
    ),
    ...(managed
      ? []
      : [
          "# The TLS key pair main.cf names, made once on the host, never in state.",
          `if [ ! -s "$R"${q(bundle.tls.key)} ]; then`,
          `  mkdir -p "$R"${q(dirname(bundle.tls.key))} "$R"${q(dirname(bundle.tls.cert))}`,
          `  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj ${q(`/CN=${bundle.fqdn}`)} -addext ${q(`subjectAltName=DNS:${bundle.fqdn}`)} \\`,
          `    -keyout "$R"${q(bundle.tls.key)} -out "$R"${q(bundle.tls.cert)} >/dev/null`,
          `  chmod 0600 "$R"${q(bundle.tls.key)}; chmod 0644 "$R"${q(bundle.tls.cert)}`,
          "fi",
        ]),
    // maillog_file: created here for postfix, never by a root-run command, or postsuper (which
    // writes it directly while postlogd is down) cannot open it at the next start.
    ...postfix.logs.flatMap((l) => [
      `mkdir -p "$R${dirname(l.path)}"; [ -e "$R${l.path}" ] || : >"$R${l.path}"`,
      `chmod ${l.mode} "$R${l.path}"; own ${l.owner}:${l.group} "$R${l.path}"`,
    ]),
    "",
    "# 3. Checks: everything the swapped-in configuration must pass before anything reloads. On a",
    "#    failure the previous files go back and the running daemons keep their configuration.",
    "#    One place: a new check is one more `check` line in checks().",
    "failed=",
    'check() { local what="$1" out; shift; if ! out=$("$@" 2>&1); then failed="$what: $out"; return 1; fi; }',
    // The deploy gate (src/gate): what postfix check misses, the daemons' own validation.
    gateFunctions(),
    "checks() {",
    `  check "postfix check" ${rooted(postfix.configCheck!)} || return 1`,
    `  check "deploy gate" ${gateCommand(bundle)} || return 1`,
    ...others.filter((d) => d.configCheck).map((d) => `  check "${d.configCheck!.slice(0, 2).join(" ")}" ${rooted(d.configCheck!)} || return 1`),
    "}",
    "if ! checks; then",
    "  rollback",
    "  SWAPPED=",
    '  say "REJECTED, previous configuration kept: $failed"',
    "  exit 1",
    "fi",
    "",
    "# 4. Every check passed: reload. A failing reload restores the previous files and reloads them.",
    "reload_services() {",
    '  if command -v hostnamectl >/dev/null 2>&1; then hostnamectl set-hostname "$(cat "$R/etc/hostname")" || true; fi',
  );
  // Rendered systemd units (the ACME timer's) are read once systemd reloads its configuration.
  if (others.some((d) => d.name === "acme")) L.push("  systemctl daemon-reload");
  for (const d of others) {
    // A change to a file the daemon only reads at start (its facts' restartOnChange) restarts it.
    const changed = (d.restartOnChange ?? []).map((f) => `! cmp -s "$BACKUP"${q(f)} "$R"${q(f)}`);
    const otherwise = d.noReload ? "start" : "reload-or-restart";
    L.push(
      changed.length
        ? `  systemctl enable --quiet ${d.service} && if ${changed.join(" || ")}; then systemctl restart ${d.service}; else systemctl ${otherwise} ${d.service}; fi`
        : `  systemctl enable --quiet ${d.service} && systemctl reload-or-restart ${d.service}`,
    );
    // Then its set-up (idempotent), a rendered file on its standard input (it may hold a secret: never in argv).
    if (d.setup) L.push(`  ${rooted(d.setup.argv)} <"$R"${q(d.setup.stdin)} >/dev/null`);
  }
  L.push(
    `  systemctl enable --quiet ${postfix.service}`,
    `  if postfix -c "$R${postfix.configDir}" status >/dev/null 2>&1; then postfix -c "$R${postfix.configDir}" reload; else systemctl restart ${postfix.service}; fi`,
    "}",
    "RELOADING=1",
    "reload_services",
    "SWAPPED=",
    "RELOADING=",
    `say "applied ${bundle.files.length} files, ${bundle.dkimKeys.length} DKIM keys, ${bundle.saslUsers.length} SASL users${options.authorizedKeys !== undefined ? ", root's authorized_keys" : ""}"`,
    "",
    ...logUserSetup(bundle.daemons, options.logReaders ?? {}),
    "",
    "# 5. Outbound SMTP. New Hetzner projects cannot connect to port 25 (or 465) anywhere until",
    "#    Hetzner lifts the limit on request; mail would only pile up in the queue. Say so, loudly.",
    `PROBE=(${options.smtpProbeHosts.map(q).join(" ")})`,
    "smtp_out() {",
    '  local h; for h in "${PROBE[@]}"; do',
    `    if timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/25"' _ "$h" 2>/dev/null; then return 0; fi`,
    "  done; return 1",
    "}",
    'if [ ${#PROBE[@]} -gt 0 ] && ! smtp_out; then',
    '  say "OUTBOUND SMTP BLOCKED: none of ${PROBE[*]} accepted a connection on port 25 within 10 s. New Hetzner projects cannot connect to ports 25 and 465 until Hetzner lifts the limit (Cloud Console, Limits: request it). The configuration is applied; mail waits in the queue until the port opens."',
    `  exit ${EXIT_SMTP_BLOCKED}`,
    "fi",
    "",
  );
  return L.join("\n");
}
