import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDaemonTarget } from '../../../src/docker/connection.js';
import { resolveContext } from '../../../src/docker/context-store.js';
import { ExitCode, KilnError } from '../../../src/errors.js';

const config = mkdtempSync(join(tmpdir(), 'kiln-ctx-'));
afterAll(() => rmSync(config, { recursive: true, force: true }));

/** Writes a context the way `docker context create` stores it. */
function addContext(name: string, host: string, tls?: { skip?: boolean; files?: boolean }): void {
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(config, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(join(config, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: tls?.skip === true } } }));
  if (tls?.files === true) {
    const dir = join(config, 'contexts', 'tls', id, 'docker');
    mkdirSync(dir, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), `${f} of ${name}`);
  }
}

addContext('remote-tcp', 'tcp://10.9.8.7:2375');
addContext('remote-tls', 'tcp://10.9.8.7', { files: true });
addContext('remote-sock', 'unix:///run/other.sock');
writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: {}, currentContext: 'remote-sock' }));

describe('Docker contexts', () => {
  it('DOCKER_CONTEXT, else the config\'s currentContext, selects the endpoint', () => {
    expect(resolveContext({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'remote-tcp' })?.host).toBe('tcp://10.9.8.7:2375');
    expect(resolveContext({ DOCKER_CONFIG: config })?.host).toBe('unix:///run/other.sock');
    expect(resolveContext({ DOCKER_CONFIG: config, DOCKER_CONTEXT: 'default' })).toBeUndefined();
    const t = resolveDaemonTarget(undefined, { DOCKER_CONFIG: config });
    expect(t.options.socketPath).toBe('/run/other.sock');
    expect(t.description).toContain('"remote-sock"');
  });

  it('DOCKER_HOST wins over any context', () => {
    expect(resolveDaemonTarget(undefined, { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'remote-tcp', DOCKER_HOST: 'unix:///x.sock' }).options.socketPath).toBe('/x.sock');
  });

  it('a context\'s TLS material makes the endpoint https on 2376 by default', () => {
    const o = resolveDaemonTarget(undefined, { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'remote-tls' }).options;
    expect(o).toMatchObject({ host: '10.9.8.7', port: 2376, protocol: 'https' });
    expect(String(o.ca)).toBe('ca.pem of remote-tls');
    expect(String(o.key)).toBe('key.pem of remote-tls');
  });

  it('an unknown context is a config error naming it and where it came from', () => {
    let err: unknown;
    try {
      resolveDaemonTarget(undefined, { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'nope' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.config);
    expect((err as KilnError).message).toContain('"nope" (from DOCKER_CONTEXT)');
    expect((err as KilnError).hint).toContain('docker context ls');
  });
});
