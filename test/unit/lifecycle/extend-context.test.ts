/**
 * A Dockerfile that cannot read its build context is built with an empty one (image/dockerfile-context.ts):
 * the app is not read, and an app change does not change what is built or its cache key.
 */
import { describe, expect, it } from 'vitest';
import { dockerfileReadsContext } from '../../../src/image/dockerfile-context.js';
import { makeTar, readTar } from '../../../src/image/tar-files.js';
import { extendImage } from '../../../src/lifecycle/extend/extend.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { BuildSpec, ImageInfo } from '../../../src/ports.js';
import { FakeEngine, fakeImage, notUsed } from '../../helpers/fake-engine.js';

const B = 'FROM ${base_image}\n';

describe('dockerfileReadsContext', () => {
  it('RUN, ENV, USER, LABEL, ARG and the file\'s own ONBUILD lines read nothing', () => {
    expect(dockerfileReadsContext(`ARG base_image\n${B}USER root\nRUN apt-get install -y curl\nENV A=1\nLABEL a=b\nARG user_id\nONBUILD COPY . /x\nUSER 1000\n`, [])).toBe(false);
  });

  it('COPY, ADD (any form), RUN --mount, another base, base ONBUILD triggers and unparsable files count as reading', () => {
    expect(dockerfileReadsContext(`${B}COPY app.txt /x\n`, [])).toBe(true);
    expect(dockerfileReadsContext(`${B}copy --chown=1:1 a /b\n`, [])).toBe(true);
    expect(dockerfileReadsContext(`${B}ADD a.tar /x\n`, [])).toBe(true);
    expect(dockerfileReadsContext(`${B}RUN --mount=type=bind,target=/src cat /src/a\n`, [])).toBe(true);
    expect(dockerfileReadsContext('FROM busybox\nRUN true\n', [])).toBe(true);
    expect(dockerfileReadsContext(`${B}RUN true\n`, ['COPY . /app'])).toBe(true);
    expect(dockerfileReadsContext('RUN true\n', [])).toBe(true);
  });
});

const IMAGE: ImageInfo = fakeImage(`sha256:${'a'.repeat(64)}`, { layers: [`sha256:${'1'.repeat(64)}`] });
IMAGE.config.user = '1000:1000';

function ctxWith(builds: BuildSpec[], keys: string[]): PhaseContext {
  const unused = Object.fromEntries((['ping', 'runContainer', 'createContainer', 'removeContainer', 'putArchive', 'getArchive', 'loadImage', 'importImage', 'saveImage', 'removeImage', 'createVolume', 'removeVolume', 'volumeExists', 'listContainers', 'listVolumes'] as const).map((m) => [m, notUsed(m)]));
  const engine = new FakeEngine({
    ...unused,
    inspectImage: async (ref: string) => (ref.startsWith('kiln.local/extend-cache:') ? (keys.push(ref), undefined) : IMAGE),
    listImages: async () => [],
    tagImage: async () => undefined,
    buildImage: async (spec: BuildSpec) => (builds.push(spec), { imageId: IMAGE.id }),
  });
  return { engine, reporter: { emit: () => undefined }, labels: { 'io.kiln.session': 's' }, ids: { newId: () => 'id' } };
}

async function build(dockerfile: string, appFile: string): Promise<{ names: string[]; key: string }> {
  const builds: BuildSpec[] = [];
  const keys: string[] = [];
  const context = await makeTar([{ path: 'app.txt', content: Buffer.from(appFile), mode: 0o644 }]);
  await extendImage(ctxWith(builds, keys), { kind: 'build', baseImage: IMAGE.id, steps: [{ extensionId: 'acme/ext', dockerfile, args: [], context }], cache: { sessionLabel: 'io.kiln.session' } });
  const first = builds[0];
  if (first === undefined) throw new Error('no build');
  return { names: (await readTar(first.context)).map((e) => e.path), key: keys[0] ?? '' };
}

describe('extendImage: the context of a Dockerfile that reads none', () => {
  it('is empty, and an app change keeps the cache key', async () => {
    const a = await build(`${B}RUN true\n`, 'one');
    const b = await build(`${B}RUN true\n`, 'two');
    expect(a.names).not.toContain('app.txt');
    expect(a.key).not.toBe('');
    expect(b.key).toBe(a.key);
  });

  it('a Dockerfile with COPY gets the app, and an app change changes the key', async () => {
    const a = await build(`${B}COPY app.txt /x\n`, 'one');
    const b = await build(`${B}COPY app.txt /x\n`, 'two');
    expect(a.names).toContain('app.txt');
    expect(b.key).not.toBe(a.key);
  });
});
