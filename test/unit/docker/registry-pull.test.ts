import { describe, expect, it } from 'vitest';
import { pullFailed, registryAuthHeader } from '../../../src/docker/registry-pull.js';
import { registryHostOf } from '../../../src/image/registry-host.js';
import { formatPullLines, PullDisplay } from '../../../src/ui/pull-lines.js';
import { makeStyle } from '../../../src/ui/style.js';

describe('registry pulls (issue 17)', () => {
  it('builds the X-Registry-Auth header Docker expects (URL-safe padded base64 JSON; {} without credentials)', () => {
    const decode = (h: string): unknown => JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    expect(decode(registryAuthHeader(undefined))).toEqual({});
    expect(decode(registryAuthHeader({ serverAddress: 'h:1', username: 'u', password: 'p' }))).toEqual({ serveraddress: 'h:1', username: 'u', password: 'p' });
    expect(decode(registryAuthHeader({ serverAddress: 'h:1', identityToken: 't' }))).toEqual({ serveraddress: 'h:1', identitytoken: 't' });
    // Padded: Go's base64.URLEncoding (the daemon) rejects input without the trailing '='.
    const h = registryAuthHeader({ serverAddress: 'h:12', username: 'u', password: '?>?' });
    expect(h.length % 4).toBe(0);
    expect(h).not.toMatch(/[+/]/);
  });

  it('a failed pull names the image, the registry and the reason, with a hint, exit 5', () => {
    const e = pullFailed('127.0.0.1:5172/x/b:1', 'unauthorized: authentication required', false);
    expect(e.exitCode).toBe(5);
    expect(e.message).toContain('pull image 127.0.0.1:5172/x/b:1: registry 127.0.0.1:5172 answered: unauthorized');
    expect(e.hint).toContain('docker login 127.0.0.1:5172');
    expect(pullFailed('a.io/x', 'unauthorized', true).hint).toContain('were refused');
    expect(pullFailed('a.io/x', 'manifest unknown', false).hint).toContain('check the image name');
    expect(pullFailed('a.io/x', '(HTTP code 404) no such image - manifest for a.io/x not found: manifest unknown ', false).causeText).toBe('registry a.io answered: manifest for a.io/x not found: manifest unknown');
    expect(pullFailed('a.io/x', 'dial tcp: connection refused', false).hint).toContain('--pull-policy never');
  });

  it('knows the registry host of a reference', () => {
    expect(registryHostOf('127.0.0.1:5171/a/b:1')).toBe('127.0.0.1:5171');
    expect(registryHostOf('localhost/a')).toBe('localhost');
    expect(registryHostOf('team/app')).toBe('docker.io');
    expect(registryHostOf('index.docker.io/library/busybox')).toBe('docker.io');
  });

  it('prints one line per pull start and end, and per-layer progress on a terminal', () => {
    const s = makeStyle(false);
    expect(formatPullLines({ type: 'pull-start', image: 'h:1/b', registry: 'h:1', policy: 'always' }, s)).toEqual(['Pulling h:1/b from h:1 (pull policy always)']);
    expect(formatPullLines({ type: 'pull-progress', image: 'h:1/b', layer: '0123456789ab', status: 'Downloading' }, s)).toEqual([]);
    expect(formatPullLines({ type: 'pull-end', image: 'h:1/b', ok: true, elapsedMs: 1500, imageId: 'sha256:abcdef0123456789' }, s)).toEqual(['Pulled h:1/b (abcdef012345) in 1.5s']);
    const d = new PullDisplay();
    d.start('h:1/b');
    d.progress({ type: 'pull-progress', image: 'h:1/b', layer: '0123456789ab', status: 'Downloading', current: 1024, total: 2048 });
    d.progress({ type: 'pull-progress', image: 'h:1/b', layer: '', status: 'Pulling from b' });
    expect(d.text()).toMatch(/^Pulling h:1\/b\n {2}0123456789ab: Downloading 1\.0 KB \/ 2\.0 KB$/);
    d.end('h:1/b');
    expect(d.active).toBe(false);
  });
});
