/**
 * Issue 14 point 1: host networking is refused when it would reach the Docker API: DOCKER_HOST is TCP,
 * or something answering like Docker (an Api-Version header) listens on a probed loopback port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answersLikeDocker, daemonApiExposure } from '../../../src/docker/api-exposure.js';

const servers: Server[] = [];
async function serve(headers: Record<string, string>): Promise<number> {
  const s = createServer((_req, res) => {
    res.writeHead(200, headers);
    res.end('OK');
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('daemonApiExposure', () => {
  it('refuses any TCP DOCKER_HOST, loopback or not, naming it', async () => {
    expect(await daemonApiExposure('tcp://127.0.0.1:2375', [])).toMatch(/over TCP \(DOCKER_HOST=tcp:\/\/127\.0\.0\.1:2375\)/);
    expect(await daemonApiExposure('tcp://10.1.2.3:2376', [])).toContain('DOCKER_HOST=tcp://10.1.2.3:2376');
    expect(await daemonApiExposure('https://docker.example:2376', [])).toContain('over TCP');
  });

  it('finds a Docker API on a probed loopback port next to a unix socket', async () => {
    const port = await serve({ 'Api-Version': '1.41', Server: 'Docker/20.10' });
    expect(await daemonApiExposure('unix:///tmp/x.sock', [{ host: '127.0.0.1', port, tls: false }])).toBe(`a Docker API answers on 127.0.0.1:${port}, which a host-network container reaches`);
  });

  it('ignores other HTTP servers, closed ports and TLS ports that do not answer', async () => {
    const other = await serve({ Server: 'nginx' });
    expect(await answersLikeDocker({ host: '127.0.0.1', port: other, tls: false })).toBe(false);
    const closed = await serve({});
    await new Promise((r) => servers.pop()?.close(r));
    expect(await daemonApiExposure(undefined, [{ host: '127.0.0.1', port: closed, tls: false }, { host: '127.0.0.1', port: other, tls: true }])).toBeUndefined();
  });
});
