import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blobKeyType, hostKeyAlgorithms, knownHostsName, knownKeysFor, verifyHostKey } from '../../../src/docker/ssh-known-hosts.js';

/** An ssh-ed25519 public key blob (RFC 8709 format: string type, string key). */
function ed25519Blob(): Buffer {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdef0123');
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();
  const b64 = key.toString('base64');

  it('names a host [host]:port unless the port is 22', () => {
    expect(knownHostsName('h.example', 22)).toBe('h.example');
    expect(knownHostsName('127.0.0.1', 5352)).toBe('[127.0.0.1]:5352');
  });

  it('finds plain, pattern and hashed entries, and the [host]:port form only for that port', () => {
    const text = [
      '# comment',
      `h.example,10.0.0.1 ssh-ed25519 ${b64}`,
      `*.corp.example,!bad.corp.example ssh-ed25519 ${b64}`,
      `${hashed('[127.0.0.1]:5352')} ssh-ed25519 ${b64}`,
      `@cert-authority *.example ssh-ed25519 ${other.toString('base64')}`,
    ].join('\n');
    expect(knownKeysFor(text, 'h.example', 22)).toHaveLength(1);
    expect(knownKeysFor(text, '10.0.0.1', 22)).toHaveLength(1);
    expect(knownKeysFor(text, 'h.example', 2222)).toHaveLength(0);
    expect(knownKeysFor(text, 'a.corp.example', 22)).toHaveLength(1);
    expect(knownKeysFor(text, 'bad.corp.example', 22)).toHaveLength(0);
    expect(knownKeysFor(text, '127.0.0.1', 5352)).toHaveLength(1);
    expect(knownKeysFor(text, '127.0.0.1', 22)).toHaveLength(0);
  });

  it('verdicts: known, changed, unknown, revoked', () => {
    const keys = knownKeysFor(`h ssh-ed25519 ${b64}`, 'h', 22);
    expect(verifyHostKey(keys, key)).toBe('known');
    expect(verifyHostKey(keys, other)).toBe('changed');
    expect(verifyHostKey([], key)).toBe('unknown');
    const revoked = knownKeysFor(`h ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${other.toString('base64')}`, 'h', 22);
    expect(verifyHostKey(revoked, other)).toBe('revoked');
    expect(verifyHostKey(revoked, key)).toBe('known');
  });

  it('offers the host-key algorithms of the known keys (rsa with its sha2 variants)', () => {
    const text = `h ssh-rsa AAAA\nh ssh-ed25519 ${b64}`;
    expect(hostKeyAlgorithms(knownKeysFor(text, 'h', 22))).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa', 'ssh-ed25519']);
    expect(hostKeyAlgorithms([])).toBeUndefined();
    expect(blobKeyType(key)).toBe('ssh-ed25519');
  });
});
