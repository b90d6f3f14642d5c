/**
 * Issue 14: a daemon answer with a redirect is never followed (it would leave the unix socket for a TCP
 * host named after a path segment); it is an error naming the redirect. A fake daemon on a unix socket
 * answers every request with a 301 and counts the requests it gets.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../../src/docker/docker-engine.js';
import { KilnError } from '../../../src/errors.js';

let dir = '';
let server: Server;
/** Where the redirect points: a TCP server that must never be asked. */
let target: Server;
const seen: string[] = [];
const followed: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-redirect-'));
  target = createServer((req, res) => {
    followed.push(req.url ?? '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  const port = (target.address() as { port: number }).port;
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(301, { Location: `http://127.0.0.1:${port}/images/x/json` });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(join(dir, 'd.sock'), resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => target.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('daemon redirects', () => {
  it('inspecting an image through a daemon that redirects fails with a KilnError, after one request', async () => {
    const engine = createDockerEngine({ host: `unix://${join(dir, 'd.sock')}` });
    const err = await engine.inspectImage('kiln-test/app:1').then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toContain('redirect (HTTP 301)');
    expect(seen).toEqual(['/images/kiln-test/app:1/json']);
    // The follow-up request (if any) would be made in the background: give it time to show.
    await new Promise((r) => setTimeout(r, 300));
    expect(followed).toEqual([]);
  });

  it('a streamed call (image load) through a redirecting daemon fails too', async () => {
    seen.length = 0;
    const engine = createDockerEngine({ host: `unix://${join(dir, 'd.sock')}` });
    const { Readable } = await import('node:stream');
    const err = await engine.loadImage(Readable.from([Buffer.alloc(1024)])).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message).toContain('redirect');
    expect(seen).toHaveLength(1);
    // The follow-up request (if any) would be made in the background: give it time to show.
    await new Promise((r) => setTimeout(r, 300));
    expect(followed).toEqual([]);
  });

  it('refuses a reference outside the grammar before any request', async () => {
    seen.length = 0;
    const engine = createDockerEngine({ host: `unix://${join(dir, 'd.sock')}` });
    await expect(engine.inspectImage('kiln-test//app')).rejects.toThrow(/'\/\/'/);
    expect(seen).toEqual([]);
  });
});
