import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandSshPath, sshSettingsFor } from '../../../src/docker/ssh-config.js';
import { DEFAULT_REMOTE_SOCKET, parseSshUrl, resolveSshEndpoint } from '../../../src/docker/ssh-endpoint.js';
import { ExitCode, KilnError } from '../../../src/errors.js';

describe('ssh config basics', () => {
  const config = [
    'IdentityFile ~/.ssh/global',
    'Host build',
    '  HostName build.example.com',
    '  User deploy',
    '  Port 2222',
    '  IdentityFile ~/.ssh/build_key',
    'Host *.example.com !skip.example.com',
    '  User other',
    '  Port=2200',
    'Match user x',
    '  User never',
  ].join('\n');

  it('the first value wins; IdentityFile adds up; Match blocks are skipped', () => {
    expect(sshSettingsFor(config, 'build')).toEqual({ hostName: 'build.example.com', user: 'deploy', port: 2222, identityFiles: ['~/.ssh/global', '~/.ssh/build_key'] });
    expect(sshSettingsFor(config, 'a.example.com')).toEqual({ user: 'other', port: 2200, identityFiles: ['~/.ssh/global'] });
    expect(sshSettingsFor(config, 'skip.example.com')).toEqual({ identityFiles: ['~/.ssh/global'] });
  });

  it('expands ~ and %-tokens', () => {
    expect(expandSshPath('~/.ssh/id_%r@%h:%p', { home: '/home/me', localUser: 'me', host: 'h', user: 'u', port: 22 })).toBe('/home/me/.ssh/id_u@h:22');
  });
});

describe('ssh:// addresses', () => {
  const home = mkdtempSync(join(tmpdir(), 'kiln-ssh-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('parses user, host and port; refuses paths and passwords with a daemon error', () => {
    expect(parseSshUrl('ssh://me@h.example:2222')).toEqual({ user: 'me', host: 'h.example', port: 2222 });
    expect(parseSshUrl('ssh://[::1]')).toEqual({ host: '::1' });
    for (const bad of ['ssh://me@h/var/run/docker.sock', 'ssh://me:pw@h', 'ssh://']) {
      const e = (() => {
        try {
          parseSshUrl(bad);
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(KilnError);
      expect((e as KilnError).exitCode).toBe(ExitCode.daemon);
    }
  });

  it('combines the URL, ~/.ssh/config and the defaults; KILN_SSH_DOCKER_SOCKET names the remote socket', () => {
    mkdirSync(join(home, '.ssh'), { recursive: true });
    writeFileSync(join(home, '.ssh', 'config'), 'Host box\n  HostName 10.1.2.3\n  User cfg\n  Port 2022\n  IdentityFile ~/.ssh/box\n');
    const ep = resolveSshEndpoint('ssh://box', { HOME: home, USER: 'me' });
    expect(ep).toMatchObject({ alias: 'box', host: '10.1.2.3', port: 2022, user: 'cfg', identityFiles: [join(home, '.ssh/box')], remoteSocket: DEFAULT_REMOTE_SOCKET, remoteSocketIsDefault: true });
    expect(ep.knownHostsFiles).toEqual([join(home, '.ssh/known_hosts'), join(home, '.ssh/known_hosts2')]);
    const url = resolveSshEndpoint('ssh://u@box:22', { HOME: home, USER: 'me', KILN_SSH_DOCKER_SOCKET: '/run/user/1000/docker.sock', SSH_AUTH_SOCK: '/tmp/agent' });
    expect(url).toMatchObject({ user: 'u', port: 22, remoteSocket: '/run/user/1000/docker.sock', remoteSocketIsDefault: false, agentSocket: '/tmp/agent' });
    const plain = resolveSshEndpoint('ssh://other', { HOME: home, USER: 'me' });
    expect(plain).toMatchObject({ host: 'other', port: 22, user: 'me' });
    expect(plain.identityFiles).toEqual(['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)));
  });
});
