import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { credentialsFor, dockerConfigPath, normaliseRegistryKey } from '../../../src/registry/docker-credentials.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-creds-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const SECRET = 's3cr3t-Passw0rd';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function withConfig(config: unknown, runHelper?: (exe: string, server: string) => Promise<{ code: number; stdout: string }>) {
  await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { env: { DOCKER_CONFIG: dir }, ...(runHelper !== undefined ? { runHelper } : {}) };
}

describe('Docker config credentials (issue 17)', () => {
  it('finds the config through DOCKER_CONFIG, else ~/.docker', () => {
    expect(dockerConfigPath({ env: { DOCKER_CONFIG: '/x' } })).toBe('/x/config.json');
    expect(dockerConfigPath({ env: {}, home: '/home/u' })).toBe('/home/u/.docker/config.json');
  });

  it('reads an auths entry (base64 user:password, or username/password), keyed with or without scheme', async () => {
    const src = await withConfig({ auths: { 'http://127.0.0.1:5172/v2/': { auth: b64(`kiln:${SECRET}`) }, 'reg.example.com': { username: 'u', password: 'p' } } });
    expect(await credentialsFor('127.0.0.1:5172', src)).toEqual({ serverAddress: '127.0.0.1:5172', username: 'kiln', password: SECRET });
    expect(await credentialsFor('reg.example.com', src)).toEqual({ serverAddress: 'reg.example.com', username: 'u', password: 'p' });
    expect(await credentialsFor('other.example.com', src)).toBeUndefined();
  });

  it("keeps Docker Hub's credentials under https://index.docker.io/v1/", async () => {
    expect(normaliseRegistryKey('https://index.docker.io/v1/')).toBe('docker.io');
    const src = await withConfig({ auths: { 'https://index.docker.io/v1/': { identitytoken: 'tok' } } });
    expect(await credentialsFor('docker.io', src)).toEqual({ serverAddress: 'https://index.docker.io/v1/', identityToken: 'tok' });
  });

  it('asks the credHelpers helper for its registry with argv and the server on stdin; a <token> user is an identity token', async () => {
    const calls: [string, string][] = [];
    const src = await withConfig({ credHelpers: { '127.0.0.1:5172': 'kilntest' }, auths: { '127.0.0.1:5172': { auth: b64('ignored:x') } } }, (exe, server) => {
      calls.push([exe, server]);
      return Promise.resolve({ code: 0, stdout: JSON.stringify({ ServerURL: server, Username: 'kiln', Secret: SECRET }) });
    });
    expect(await credentialsFor('127.0.0.1:5172', src)).toEqual({ serverAddress: '127.0.0.1:5172', username: 'kiln', password: SECRET });
    expect(calls).toEqual([['docker-credential-kilntest', '127.0.0.1:5172']]);
    const tok = await withConfig({ credsStore: 'kilntest' }, () => Promise.resolve({ code: 0, stdout: JSON.stringify({ Username: '<token>', Secret: 'idt' }) }));
    expect(await credentialsFor('ghcr.io', tok)).toEqual({ serverAddress: 'ghcr.io', identityToken: 'idt' });
  });

  it('falls back from a credsStore without the registry to auths', async () => {
    const src = await withConfig({ credsStore: 'kilntest', auths: { 'reg.example.com': { auth: b64('u:p') } } }, () => Promise.resolve({ code: 1, stdout: 'credentials not found in native keychain\n' }));
    expect(await credentialsFor('reg.example.com', src)).toEqual({ serverAddress: 'reg.example.com', username: 'u', password: 'p' });
  });

  it('a missing config is no credentials; a helper that cannot run or fails is a clear error without secrets', async () => {
    expect(await credentialsFor('x.io', { env: { DOCKER_CONFIG: join(dir, 'none') } })).toBeUndefined();
    const missing = await withConfig({ credHelpers: { 'x.io': 'nosuch' } }, () => Promise.reject(Object.assign(new Error('spawn ENOENT'), { code: 'ENOENT' })));
    const e1 = (await credentialsFor('x.io', missing).catch((e: unknown) => e)) as KilnError;
    expect(e1).toBeInstanceOf(KilnError);
    expect(e1.message).toContain('docker-credential-nosuch');
    expect(e1.hint).toContain('PATH');
    const failing = await withConfig({ credHelpers: { 'x.io': 'bad' } }, () => Promise.resolve({ code: 3, stdout: `oops ${SECRET}` }));
    const e2 = (await credentialsFor('x.io', failing).catch((e: unknown) => e)) as KilnError;
    expect(e2.message).toContain('docker-credential-bad get exited with 3');
    expect(`${e2.message} ${e2.hint ?? ''}`).not.toContain(SECRET);
  });

  it('refuses a helper name with a path and never quotes a broken file (it may hold secrets)', async () => {
    const evil = await withConfig({ credHelpers: { 'x.io': '../../bin/sh' } }, () => Promise.reject(new Error('must not run')));
    await expect(credentialsFor('x.io', evil)).rejects.toThrow(/not a plain name/);
    const broken = await withConfig(`{"auths": {"x.io": {"auth": "${b64(`u:${SECRET}`)}"}`);
    const e = (await credentialsFor('x.io', broken).catch((err: unknown) => err)) as KilnError;
    expect(e.message).toContain('not valid JSON');
    expect(e.message).toContain(join(dir, 'config.json'));
    expect(e.message).not.toContain(b64(`u:${SECRET}`));
  });
});
