/**
 * Host-key checking for `DOCKER_HOST=ssh://…` against OpenSSH known_hosts files (format of sshd(8),
 * "SSH_KNOWN_HOSTS FILE FORMAT"): plain host patterns (with `*`, `?` and `!` negation), hashed entries
 * (`|1|salt|hmac-sha1`), the `[host]:port` form for a port other than 22 and the `@revoked` marker.
 * `@cert-authority` lines are ignored (kiln does not check host certificates). Pure: text in, verdict out.
 */
import { createHmac } from 'node:crypto';

export interface KnownHostKey {
  /** The key type as written in the file: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ... */
  type: string;
  /** The key blob (base64-decoded). */
  blob: Buffer;
  revoked: boolean;
}

/** The name a host is looked up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatch(entry: string, name: string): boolean {
  const [empty, magic, salt, hash, ...extra] = entry.split('|');
  if (empty !== '' || magic !== '1' || salt === undefined || hash === undefined || extra.length > 0) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** True when the comma-separated pattern list of one line matches `name` (a negated match wins). */
function hostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatch(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (globToRegExp(pattern).test(name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** Every key a known_hosts text lists for `host` on `port`. */
export function knownKeysFor(text: string, host: string, port: number): KnownHostKey[] {
  const name = knownHostsName(host, port);
  const keys: KnownHostKey[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@') === true) {
      // @cert-authority (and unknown markers) are skipped; @revoked lists a key never to accept.
      revoked = fields[0] === '@revoked';
      if (!revoked) continue;
      fields = fields.slice(1);
    }
    const [hosts, type, key] = fields;
    if (hosts === undefined || type === undefined || key === undefined || !hostsFieldMatches(hosts, name)) continue;
    keys.push({ type, blob: Buffer.from(key, 'base64'), revoked });
  }
  return keys;
}

/** The key type inside an SSH public key blob (its first string field). */
export function blobKeyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

export type HostKeyVerdict = 'known' | 'unknown' | 'changed' | 'revoked';

/**
 * The verdict for the key a server presented: `known` when an entry of its type holds the same blob,
 * `revoked` when a @revoked line lists it, `changed` when entries exist for the host but none matches,
 * `unknown` when the files list nothing for the host.
 */
export function verifyHostKey(keys: KnownHostKey[], presented: Buffer): HostKeyVerdict {
  if (keys.some((k) => k.revoked && k.blob.equals(presented))) return 'revoked';
  const valid = keys.filter((k) => !k.revoked);
  if (valid.some((k) => k.blob.equals(presented))) return 'known';
  return valid.length > 0 ? 'changed' : 'unknown';
}

/**
 * The host-key algorithms to offer so the server presents a key type the files know (as ssh(1) orders
 * them); undefined (ssh2's defaults) when nothing is known for the host.
 */
export function hostKeyAlgorithms(keys: KnownHostKey[]): string[] | undefined {
  const algos: string[] = [];
  for (const k of keys) {
    if (k.revoked) continue;
    const names = k.type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [k.type];
    for (const n of names) if (!algos.includes(n)) algos.push(n);
  }
  return algos.length > 0 ? algos : undefined;
}
