/**
 * Layer SBOM files come back with the layer metadata on a rebuild (issue 15 point 7; buildpack.md
 * "Layer Types" table and "Launch Layers": the lifecycle MUST restore `<layers>/<layer>.sbom.<ext>`):
 * from the previous image for a launch layer, from the cache for a cached one; not for a build=true,
 * cache=false layer (nothing of it is restored) and never the buildpack-level launch.sbom.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import type { KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const bases = useBusyboxImages(engine);
const fixtures = join(import.meta.dirname, '../fixtures/rebuild');
const builderTag = `kiln-test/sbom-rebuild-builder:${testName('b')}`;
const appTag = `kiln-test/sbom-rebuild-app:${testName('a')}`;
const cacheVolume = testName('sbom-cache');
const ID = 'kiln-test/sbom-layers';
let n = 0;

async function build(gen: string, over: { clearCache?: boolean } = {}): Promise<string[]> {
  const events: KilnEvent[] = [];
  await buildApp(
    { engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => `sb${Date.now().toString(36)}${n++}` } },
    { image: appTag, builder: builderTag, path: join(fixtures, 'apps/app'), env: { GEN: gen }, volumes: [], labels: testLabels(), cacheVolume, ...over },
  );
  return events.flatMap((e) => (e.type === 'module-line' && e.module === ID ? [e.line] : []));
}

const sbom = (gen: string, layer: string): string => `{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"gen":"${gen}","layer":"${layer}"}`;

beforeAll(async () => {
  const order = `[[order]]\n[[order.group]]\nid = "${ID}"\nversion = "1.0.0"\n`;
  await makeTestBuilder(engine, { buildpacks: [join(fixtures, 'buildpacks/sbom-layers')], extensions: [], orderToml: order, runImage: bases().run, tag: builderTag, labels: {} });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true }).catch(() => undefined);
  await engine.removeImage(builderTag, { force: true }).catch(() => undefined);
  await engine.removeVolume(cacheVolume).catch(() => undefined);
  await cleanupByLabel(engine);
});

describe('layer SBOMs on rebuild', () => {
  it('restores each layer SBOM with its metadata (image for launch layers, cache for cached ones)', async () => {
    const cold = await build('1', { clearCache: true });
    expect(cold).toEqual(['absent launch-only', 'absent cache-only', 'absent both', 'absent build-launch', 'absent launch-level']);
    const warm = await build('2');
    expect(warm).toEqual([
      `restored launch-only: ${sbom('1', 'launch-only')}`,
      `restored cache-only: ${sbom('1', 'cache-only')}`,
      `restored both: ${sbom('1', 'both')}`,
      'absent build-launch',
      'absent launch-level',
    ]);
  });

  it('without the cache, a launch layer SBOM still comes from the previous image (a cached layer gets neither)', async () => {
    await build('3');
    const lines = await build('4', { clearCache: true });
    expect(lines).toEqual([`restored launch-only: ${sbom('3', 'launch-only')}`, 'absent cache-only', 'absent both', 'absent build-launch', 'absent launch-level']);
  });
});
