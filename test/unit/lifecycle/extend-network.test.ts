/**
 * Issue 14 point 1: Dockerfile builds get no network unless asked, the network is part of the reuse key,
 * and remote sources are refused (exit 92) before the daemon builds anything, also for Dockerfiles that
 * did not come through generate (rebase --reextend).
 */
import { describe, expect, it } from 'vitest';
import { KilnError } from '../../../src/errors.js';
import { makeTar } from '../../../src/image/tar-files.js';
import { extendCacheKey } from '../../../src/lifecycle/extend/cache.js';
import { extendImage, type ExtendInput } from '../../../src/lifecycle/extend/extend.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { BuildSpec, ImageInfo } from '../../../src/ports.js';
import { FakeEngine, notUsed } from '../../helpers/fake-engine.js';

const IMAGE: ImageInfo = {
  id: `sha256:${'a'.repeat(64)}`,
  repoTags: [],
  repoDigests: [],
  os: 'linux',
  architecture: 'amd64',
  layers: [`sha256:${'1'.repeat(64)}`],
  config: { env: [], user: '1000:1000', workingDir: '', entrypoint: null, cmd: null, labels: {} },
  size: 0,
  created: '',
};

function ctxWith(builds: BuildSpec[]): PhaseContext {
  const unused = Object.fromEntries((['ping', 'runContainer', 'createContainer', 'removeContainer', 'putArchive', 'getArchive', 'loadImage', 'importImage', 'saveImage', 'tagImage', 'removeImage', 'createVolume', 'removeVolume', 'volumeExists', 'listContainers', 'listVolumes'] as const).map((m) => [m, notUsed(m)]));
  const engine = new FakeEngine({
    ...unused,
    inspectImage: async () => IMAGE,
    listImages: async () => [],
    buildImage: async (spec: BuildSpec) => (builds.push(spec), { imageId: IMAGE.id }),
  });
  return { engine, reporter: { emit: () => undefined }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'id' } };
}

// A run-kind application that builds also rewrites the result (extend/persist.ts: save, filter, load), which
// this fake engine does not do; the network and remote-source rules are the same for both kinds, so the
// cases that get as far as a build use the build kind (extension-isolation.test.ts covers run on a daemon).
async function input(dockerfile: string, extra: Partial<ExtendInput> = {}): Promise<ExtendInput> {
  return { kind: 'run', baseImage: IMAGE.id, steps: [{ extensionId: 'acme/ext', dockerfile, args: [], context: await makeTar([]) }], ...extra };
}

describe('extendImage: network and remote sources', () => {
  it('RUN steps get network none unless the caller asks for host', async () => {
    const plain: BuildSpec[] = [];
    const host: BuildSpec[] = [];
    await extendImage(ctxWith(plain), await input('FROM ${base_image}\nRUN true\n', { kind: 'build' }));
    await extendImage(ctxWith(host), await input('FROM ${base_image}\nRUN true\n', { kind: 'build', network: 'host' }));
    // The first build is the Dockerfile's (later ones are kiln's own label steps, never with a network).
    expect([plain[0]?.network, host[0]?.network]).toEqual(['none', 'host']);
    expect(plain.every((b) => b.network === 'none')).toBe(true);
  });

  it('ADD <url> in a recorded run.Dockerfile exits 92 naming the extension and line, before any build', async () => {
    const builds: BuildSpec[] = [];
    const e = await extendImage(ctxWith(builds), await input('FROM ${base_image}\nADD https://example.com/x /x\n')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).exitCode).toBe(92);
    expect((e as KilnError).message).toContain("acme/ext's run.Dockerfile:2: ADD https://example.com/x");
    expect(builds).toEqual([]);
    await extendImage(ctxWith(builds), await input('FROM ${base_image}\nADD https://example.com/x /x\n', { kind: 'build', allowRemote: true }));
    expect(builds[0]?.context).toBeDefined();
  });

  it('an image built with the host network is not reused for a build without one', () => {
    const base = { kind: 'run', baseImageId: IMAGE.id, dockerfile: 'FROM x\n', context: Buffer.from(''), args: [] };
    expect(extendCacheKey({ ...base, network: 'none' })).toBe(extendCacheKey(base));
    expect(extendCacheKey({ ...base, network: 'host' })).not.toBe(extendCacheKey(base));
  });
});
