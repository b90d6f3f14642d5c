import { describe, expect, it } from 'vitest';
import { DEFAULT_SOCKET, resolveDaemonTarget } from '../../../src/docker/connection.js';
import { daemonMessage, isConnectionError, isNotFound, toDaemonError } from '../../../src/docker/errors.js';
import { containerCreateOptions } from '../../../src/docker/run-container.js';
import { ExitCode, KilnError } from '../../../src/errors.js';

describe('resolveDaemonTarget', () => {
  it('defaults to the standard socket', () => {
    expect(resolveDaemonTarget(undefined, {})).toEqual({ options: { socketPath: DEFAULT_SOCKET }, description: `the socket ${DEFAULT_SOCKET}` });
  });

  it('honours DOCKER_HOST unix:// and tcp:// like the docker CLI', () => {
    expect(resolveDaemonTarget(undefined, { DOCKER_HOST: 'unix:///run/x.sock' })).toEqual({ options: { socketPath: '/run/x.sock' }, description: 'DOCKER_HOST=unix:///run/x.sock' });
    expect(resolveDaemonTarget(undefined, { DOCKER_HOST: 'tcp://10.0.0.1:2375' }).options).toEqual({ host: '10.0.0.1', port: 2375, protocol: 'http' });
    expect(resolveDaemonTarget(undefined, { DOCKER_HOST: 'tcp://dockerhost' }).options).toEqual({ host: 'dockerhost', port: 2375, protocol: 'http' });
  });

  it('an explicit host wins over DOCKER_HOST', () => {
    expect(resolveDaemonTarget('unix:///a.sock', { DOCKER_HOST: 'tcp://b:1' })).toEqual({ options: { socketPath: '/a.sock' }, description: 'unix:///a.sock' });
  });

  it('TLS without readable certificates and unknown schemes are daemon errors', () => {
    expect(() => resolveDaemonTarget(undefined, { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' })).toThrow(KilnError);
    // ssh:// is a daemon address since issue 19 (ssh-transport.ts); an unknown scheme still is not.
    expect(() => resolveDaemonTarget(undefined, { DOCKER_HOST: 'npipe:////./pipe/docker_engine' })).toThrow(/not a unix:\/\/, tcp:\/\/ or ssh:\/\/ address/);
  });
});

describe('daemon error mapping', () => {
  it('connection failures become one daemon error naming the target', () => {
    const e = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(isConnectionError(e)).toBe(true);
    const k = toDaemonError(e, 'inspect image x', 'DOCKER_HOST=tcp://127.0.0.1:1');
    expect(k.exitCode).toBe(ExitCode.daemon);
    expect(k.message).toBe('failed to connect to the Docker daemon: no daemon answers at DOCKER_HOST=tcp://127.0.0.1:1 (ECONNREFUSED)');
  });

  it('HTTP errors keep the daemon\'s message', () => {
    const e = Object.assign(new Error('(HTTP code 409) conflict'), { statusCode: 409, json: { message: 'volume is in use' } });
    expect(isConnectionError(e)).toBe(false);
    expect(isNotFound(e)).toBe(false);
    expect(daemonMessage(e)).toBe('volume is in use');
    expect(toDaemonError(e, 'remove volume v', 'x').message).toBe('failed to remove volume v: volume is in use');
    expect(daemonMessage({ statusCode: 404, json: Buffer.from('{"message":"No such container: abc"}') })).toBe('No such container: abc');
  });
});

describe('containerCreateOptions', () => {
  it('clears the entrypoint, defaults the network to none and maps env, mounts and labels', () => {
    const o = containerCreateOptions({
      image: 'img',
      cmd: ['/cnb/buildpacks/a/1/bin/detect', '/platform', '/tmp/plan.toml'],
      user: '1000:1000',
      env: { A: '1', B: 'x=y' },
      workingDir: '/workspace',
      mounts: [{ type: 'volume', source: 'v', target: '/workspace', readOnly: true }],
      labels: { 'io.kiln.session': 's' },
    });
    expect(o).toMatchObject({
      Image: 'img',
      Entrypoint: [],
      Cmd: ['/cnb/buildpacks/a/1/bin/detect', '/platform', '/tmp/plan.toml'],
      User: '1000:1000',
      Env: ['A=1', 'B=x=y'],
      WorkingDir: '/workspace',
      Labels: { 'io.kiln.session': 's' },
      Tty: false,
      HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: 'v', Target: '/workspace', ReadOnly: true }] },
    });
  });
});
