// SSH keys, pure: facteur:sshKeys parsed and fingerprinted as Hetzner does it, matched against
// the keys the Hetzner project already holds, and the public half of facteur:sshPrivateKey.
//
// Hetzner injects SSH keys into a server only when it is created, and `ssh_keys` forces a
// replacement (terraform-provider-hcloud internal/server/resource.go, ForceNew), so the program
// passes them at creation and ignores later changes; the apply step keeps root's
// authorized_keys equal to facteur:sshKeys instead. Hetzner also refuses a second key with
// the same fingerprint or the same name in a project: a key that is already there is reused.
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";

/** As hcloud.getSshKeys returns them. */
export interface HetznerSshKey {
  id: number;
  name: string;
  fingerprint: string;
  publicKey: string;
  labels?: Record<string, string>;
}

export interface ParsedPublicKey {
  type: string;
  blob: Buffer;
  /** "type base64", without the comment: what two keys are compared by. */
  canonical: string;
}

const KEY_TYPES = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)$/;

/** An authorized_keys line ("type base64 [comment]"); the error names where it came from. */
export function parsePublicKey(line: string, where: string): ParsedPublicKey {
  const [type, b64] = line.trim().split(/\s+/);
  if (!type || !b64 || !KEY_TYPES.test(type)) throw new Error(`${where}: expected an OpenSSH public key such as "ssh-ed25519 AAAA... comment", got "${line.slice(0, 40)}..."`);
  const blob = Buffer.from(b64, "base64");
  // The blob starts with the key type itself, as an SSH string.
  if (blob.length < 4 + type.length || blob.readUInt32BE(0) !== type.length || blob.subarray(4, 4 + type.length).toString() !== type)
    throw new Error(`${where}: the key data does not match its type ${type} (a truncated or mangled key?)`);
  return { type, blob, canonical: `${type} ${blob.toString("base64")}` };
}

/** Hetzner's fingerprint: MD5 of the key blob, colon-separated hex. */
export function md5Fingerprint(blob: Buffer): string {
  return createHash("md5").update(blob).digest("hex").match(/../g)!.join(":");
}

const sshString = (b: Buffer) => Buffer.concat([u32(b.length), b]);
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}
function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString(v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/**
 * The public key ("type base64") of a private key in OpenSSH format (ssh-keygen's default,
 * whose header carries the public key unencrypted) or PEM (PKCS#1, PKCS#8, SEC1). undefined
 * when the format is not one of these or the PEM is passphrase-protected.
 */
export function publicKeyOfPrivate(text: string): string | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (m) {
    const raw = Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
    const magic = "openssh-key-v1\0";
    if (raw.subarray(0, magic.length).toString("latin1") !== magic) return undefined;
    let off = magic.length;
    const str = () => {
      if (off + 4 > raw.length) throw new Error("truncated");
      const n = raw.readUInt32BE(off);
      const s = raw.subarray(off + 4, off + 4 + n);
      off += 4 + n;
      return s;
    };
    try {
      str(); // cipher
      str(); // kdf
      str(); // kdf options
      const count = raw.readUInt32BE(off);
      off += 4;
      if (count < 1) return undefined;
      const blob = str();
      const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
      return `${type} ${blob.toString("base64")}`;
    } catch {
      return undefined;
    }
  }
  let jwk: Record<string, string>;
  try {
    jwk = createPublicKey(createPrivateKey(text)).export({ format: "jwk" }) as Record<string, string>;
  } catch {
    return undefined;
  }
  const b = (s: string) => Buffer.from(s, "base64url");
  let blob: Buffer;
  if (jwk.kty === "RSA") blob = Buffer.concat([sshString(Buffer.from("ssh-rsa")), mpint(b(jwk.e!)), mpint(b(jwk.n!))]);
  else if (jwk.kty === "OKP" && jwk.crv === "Ed25519") blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(b(jwk.x!))]);
  else if (jwk.kty === "EC" && ["P-256", "P-384", "P-521"].includes(jwk.crv!)) {
    const curve = `nistp${jwk.crv!.slice(2)}`;
    blob = Buffer.concat([sshString(Buffer.from(`ecdsa-sha2-${curve}`)), sshString(Buffer.from(curve)), sshString(Buffer.concat([Buffer.from([4]), b(jwk.x!), b(jwk.y!)]))]);
  } else return undefined;
  const type = blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();
  return `${type} ${blob.toString("base64")}`;
}

export interface PlannedSshKey {
  /** The facteur:sshKeys entry. */
  name: string;
  publicKey: string;
  canonical: string;
  fingerprint: string;
  /** Name of the key at Hetzner: stack, entry and fingerprint, so a new key never clashes with the one it replaces. */
  hetznerName: string;
  /** A key with this fingerprint that Hetzner already holds and facteur did not create: used as it is. */
  reuse?: HetznerSshKey;
}

/**
 * What to do with each configured key. Keys facteur created carry its labels (managed-by,
 * facteur-stack) and stay managed; a key someone else uploaded with the same fingerprint is
 * reused by its id (Hetzner would refuse a duplicate). A foreign key with our Hetzner name and
 * another fingerprint cannot be reused and is an error naming both.
 */
export function planSshKeys(configured: Record<string, string>, existing: HetznerSshKey[], stack: string): PlannedSshKey[] {
  return Object.keys(configured)
    .sort()
    .map((name) => {
      const where = `facteur:sshKeys.${name}`;
      const parsed = parsePublicKey(configured[name]!, where);
      const fingerprint = md5Fingerprint(parsed.blob);
      const hetznerName = `facteur-${stack}-${name}-${fingerprint.replace(/:/g, "").slice(0, 8)}`;
      const ours = (k: HetznerSshKey) => k.labels?.["managed-by"] === "facteur" && k.labels?.["facteur-stack"] === stack;
      const same = existing.find((k) => k.fingerprint === fingerprint);
      if (same && !ours(same)) return { name, publicKey: configured[name]!.trim(), canonical: parsed.canonical, fingerprint, hetznerName, reuse: same };
      const clash = existing.find((k) => k.name === hetznerName && k.fingerprint !== fingerprint);
      if (clash)
        throw new Error(
          `${where}: the Hetzner project already has an SSH key named ${hetznerName} (id ${clash.id}) with another fingerprint (${clash.fingerprint}); delete or rename that key`,
        );
      return { name, publicKey: configured[name]!.trim(), canonical: parsed.canonical, fingerprint, hetznerName };
    });
}

/** root's authorized_keys on every host: exactly facteur:sshKeys, each line named after its entry. */
export function authorizedKeys(keys: PlannedSshKey[]): string {
  return keys.map((k) => `${k.canonical} facteur:sshKeys.${k.name}\n`).join("");
}
