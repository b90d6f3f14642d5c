/**
 * `kiln build -t A -t B --publish` pushes the image under its name and every further tag (pack's
 * `--tag`: "Additional tags to push the output image to"), to the plain test registry
 * (test/helpers/registries.ts).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln } from '../helpers/cli.js';
import { PLAIN_REGISTRY, startRegistries, stopRegistries } from '../helpers/registries.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/tags-publish-builder:${testName('b')}`;
const repo = `${PLAIN_REGISTRY}/kiln-test/tags-publish-${runId}`;
const names = [`${repo}:main`, `${repo}:extra-a`, `${repo}:extra-b`];
let startedPids: string[] = [];

beforeAll(async () => {
  startedPids = (await startRegistries()).pids;
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'buildpacks/first')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
});

afterAll(async () => {
  for (const n of names) await engine.removeImage(n, { force: true }).catch(() => undefined);
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  await stopRegistries(startedPids);
});

describe('kiln build --tag with --publish', () => {
  it('pushes the image under every tag', async () => {
    const [main, a, b] = names as [string, string, string];
    const r = await runKiln(['build', main, '--builder', builderTag, '--path', join(fixtures, 'apps/simple'), '-t', a, '--tag', b, '--publish'], { KILN_LABELS: `io.kiln.test=${runId}` });
    expect(r.code, r.err).toBe(0);
    const res = await fetch(`http://${PLAIN_REGISTRY}/v2/kiln-test/tags-publish-${runId}/tags/list`);
    const listed = (await res.json()) as { tags: string[] };
    expect(listed.tags.sort()).toEqual(['extra-a', 'extra-b', 'main']);
    const id = (await engine.inspectImage(main))?.id;
    for (const t of [a, b]) expect((await engine.inspectImage(t))?.id).toBe(id);
  });
});
