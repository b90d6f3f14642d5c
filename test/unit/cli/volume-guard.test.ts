/**
 * Issue 14 point 2: the --volume guard compares real paths, so a symlink to /run or to the socket (or a
 * directory holding it) cannot hand modules the daemon's API; a remote DOCKER_HOST is told apart.
 */
import { link, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exposesDockerSocket, parseVolume, remoteVolumeWarning } from '../../../src/cli/commands/build.js';
import { isLocalDaemon } from '../../../src/docker/connection.js';
import { ExitCode } from '../../../src/errors.js';

let d = '';
let host = '';

beforeAll(async () => {
  d = await mkdtemp(join(tmpdir(), 'kiln-volguard-'));
  await mkdir(join(d, 'daemon', 'run'), { recursive: true });
  await writeFile(join(d, 'daemon', 'run', 'docker.sock'), '');
  host = `unix://${join(d, 'daemon', 'run', 'docker.sock')}`;
  await symlink(join(d, 'daemon', 'run'), join(d, 'link-to-run-dir'));
  await symlink(join(d, 'daemon'), join(d, 'link-to-parent'));
  await symlink(join(d, 'daemon', 'run', 'docker.sock'), join(d, 'link-to-sock'));
  await symlink('/run', join(d, 'link-to-slash-run'));
  await symlink('/', join(d, 'link-to-root'));
  await mkdir(join(d, 'plain'));
});

afterAll(async () => {
  await rm(d, { recursive: true, force: true });
});

describe('--volume and the docker socket', () => {
  it.each(['link-to-run-dir', 'link-to-parent', 'link-to-sock', 'link-to-root', 'link-to-run-dir/'])('refuses a symlink (%s) that leads to the socket or a directory holding it', (name) => {
    expect(exposesDockerSocket(join(d, name), host)).toBe(true);
  });

  it('refuses a link to /run (where /var/run/docker.sock really lives)', () => {
    expect(exposesDockerSocket(join(d, 'link-to-slash-run'), undefined)).toBe(true);
  });

  it('resolves a source that does not exist yet through its parent', () => {
    expect(exposesDockerSocket(join(d, 'link-to-run-dir', 'docker.sock'), host)).toBe(true);
    expect(exposesDockerSocket(join(d, 'plain', 'not-yet'), host)).toBe(false);
  });

  it('finds the socket under another name: a hard link to it anywhere below the source', async () => {
    const sockDir = join(d, 'real-daemon');
    await mkdir(sockDir);
    const sock = join(sockDir, 'd.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      await mkdir(join(d, 'innocent', 'deep', 'er'), { recursive: true });
      await link(sock, join(d, 'innocent', 'deep', 'er', 'not-a-socket-honest'));
      expect(exposesDockerSocket(join(d, 'innocent'), `unix://${sock}`)).toBe(true);
      expect(exposesDockerSocket(join(d, 'plain'), `unix://${sock}`)).toBe(false);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('accepts an ordinary directory', () => {
    expect(exposesDockerSocket(join(d, 'plain'), host)).toBe(false);
  });

  it('parseVolume exits 3 naming the flag', () => {
    expect(() => parseVolume(`${join(d, 'link-to-slash-run')}:/host-run`)).toThrow(expect.objectContaining({ exitCode: ExitCode.usage, message: expect.stringContaining('docker socket') }));
  });

  it('tells a remote daemon (bind sources are its host paths) from a local one', () => {
    expect(isLocalDaemon(undefined)).toBe(true);
    expect(isLocalDaemon('unix:///run/docker.sock')).toBe(true);
    expect(isLocalDaemon('/run/docker.sock')).toBe(true);
    expect(isLocalDaemon('tcp://127.0.0.1:2375')).toBe(true);
    expect(isLocalDaemon('tcp://localhost:2375')).toBe(true);
    expect(isLocalDaemon('tcp://10.0.0.5:2376')).toBe(false);
    expect(isLocalDaemon('tcp://docker.example.com:2376')).toBe(false);
  });

  it('warns that a bind source is a path on a remote daemon\'s host; nothing for local daemons or named volumes', () => {
    const bind = parseVolume('/srv/data:/data');
    expect(remoteVolumeWarning([bind], 'tcp://10.0.0.5:2376')).toMatch(/\/srv\/data.*path on the daemon's host \(DOCKER_HOST=tcp:\/\/10\.0\.0\.5:2376\)/);
    expect(remoteVolumeWarning([bind], 'unix:///run/docker.sock')).toBeUndefined();
    expect(remoteVolumeWarning([parseVolume('cache:/cache')], 'tcp://10.0.0.5:2376')).toBeUndefined();
  });
});
