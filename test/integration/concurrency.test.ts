/**
 * Concurrency (issue 8, docs/reliability.md "Concurrency"): two builds of different apps at once both
 * succeed; two builds of the same image (same cache volume) at once: the second fails at once with a
 * clear message and creates nothing, the first succeeds, and a later build reuses the intact cache.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type BuildRequest } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';
import { sessionLeftovers } from '../fixtures/bad-input/run-cli.js';

const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/bad-input');
const bases = useBusyboxImages(engine, { name: 'concurrency' });
const builderTag = `kiln-test/concurrency-builder:${testName('b')}`;
const labels = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('concurrency') };
const tags = ['a', 'b', 'same'].map((w) => `kiln-test/concurrency-${w}:${testName('t')}`);

function build(image: string, events: KilnEvent[] = [], over: Partial<BuildRequest> = {}): Promise<{ imageId: string }> {
  const req: BuildRequest = { image, builder: builderTag, path: join(fixtures, 'app'), env: {}, volumes: [], labels, ...over };
  return buildApp({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => randomBytes(6).toString('hex') } }, req);
}

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'matrix-bp')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/matrix"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
  });
});

afterAll(async () => {
  for (const t of tags) await engine.removeImage(t, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, labels);
});

describe('concurrent builds', () => {
  it('two builds of different apps at once both succeed', async () => {
    const [a, b] = await Promise.all([build(tags[0] as string), build(tags[1] as string)]);
    expect((await engine.inspectImage(tags[0] as string))?.id).toBe(a.imageId);
    expect((await engine.inspectImage(tags[1] as string))?.id).toBe(b.imageId);
    expect(await sessionLeftovers(engine, labels)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('two builds of the same image at once: one builds, the other fails clearly and creates nothing', async () => {
    const same = tags[2] as string;
    const results = await Promise.allSettled([build(same), build(same)]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok.length).toBe(1);
    expect(failed.length).toBe(1);
    expect(String((failed[0]?.reason as Error).message)).toMatch(/another kiln build \(pid \d+\) is using cache volume kiln-cache-/);
    expect(await sessionLeftovers(engine, labels)).toEqual({ containers: [], images: [], volumes: [] });
    // The cache is intact: the next build of the same image succeeds and reuses its layer.
    const events: KilnEvent[] = [];
    // --no-reuse: the lifecycle must run to show the cache's layer is reused (unchanged inputs would reuse the image).
    await build(same, events, { noReuse: true });
    expect(events.some((e) => e.type === 'layer' && e.decision === 'reused')).toBe(true);
  });
});
