/**
 * The Docker adapter's image side on the real daemon (issue 2, item 9): Dockerfile builds from a context
 * tar with `ARG base_image`, build failures carry the daemon's own message, save -> load round trips,
 * import/inspect/tag/remove, and the test builder's /cnb layout. Everything labelled; no leftovers.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { makeTar } from '../../src/image/tar-files.js';
import type { OutputStream } from '../../src/ports.js';
import { busyboxRootfsTar } from '../../src/stacks/busybox.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const bases = useBusyboxImages(engine);
const tags: string[] = [];
const tempDirs: string[] = [];

afterAll(async () => {
  for (const t of tags) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  for (const d of tempDirs) await rm(d, { recursive: true, force: true });
});

function newTag(what: string): string {
  const t = `kiln-test/${what}:${testName('t')}`;
  tags.push(t);
  return t;
}

async function output(image: string, script: string, user = '1000:1000'): Promise<{ exitCode: number; lines: Array<[OutputStream, string]> }> {
  const lines: Array<[OutputStream, string]> = [];
  const r = await engine.runContainer({ image, cmd: ['sh', '-c', script], user, labels, onLine: (s, l) => lines.push([s, l]) });
  return { exitCode: r.exitCode, lines };
}

const DOCKERFILE = ['ARG base_image', 'FROM ${base_image}', 'ARG greeting=none', 'USER root', 'RUN mkdir -p /opt && echo "$greeting from RUN" > /opt/hello.txt', 'COPY extra.txt /opt/extra.txt', 'USER 1000:1000', ''].join('\n');

describe('buildImage', () => {
  it('builds from a context tar with base_image and build args; the RUN result is in the image', async () => {
    const tag = newTag('built');
    const context = await makeTar([{ path: 'build.Dockerfile', content: DOCKERFILE }, { path: 'extra.txt', content: 'extra\n' }]);
    const lines: string[] = [];
    const { imageId } = await engine.buildImage({
      context,
      dockerfile: 'build.Dockerfile',
      buildArgs: { base_image: bases().build, greeting: 'hi' },
      tag,
      labels: { ...labels, 'io.kiln.test.kind': 'built' },
      onLine: (l) => lines.push(l),
    });
    expect(imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(lines.some((l) => l.startsWith('Step 1/'))).toBe(true);
    const info = await engine.inspectImage(tag);
    expect(info?.id).toBe(imageId);
    expect(info?.repoTags).toContain(tag);
    expect(info?.config.labels['io.kiln.test.kind']).toBe('built');
    expect(info?.config.user).toBe('1000:1000');
    expect(await output(tag, 'cat /opt/hello.txt /opt/extra.txt')).toEqual({
      exitCode: 0,
      lines: [['stdout', 'hi from RUN'], ['stdout', 'extra']],
    });
  });

  it('a failing RUN is rejected with the daemon\'s own message', async () => {
    const context = await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().build}\nRUN echo boom >&2; exit 3\n` }]);
    const lines: string[] = [];
    const err = await engine
      .buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag: newTag('failing'), labels, onLine: (l) => lines.push(l) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).causeText).toBe("The command '/bin/sh -c echo boom >&2; exit 3' returned a non-zero code: 3");
    expect(lines).toContain('boom');
  });

  it('a Dockerfile error is rejected with the daemon\'s message too', async () => {
    const context = await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().build}\nNOTANINSTRUCTION x\n` }]);
    const err = await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, labels }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).message.toLowerCase()).toContain('unknown instruction: notaninstruction');
  });

  it('aborting a build rejects it as interrupted', async () => {
    const ac = new AbortController();
    const context = await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().build}\nRUN echo started; sleep 20\n` }]);
    const started = Date.now();
    const err = await engine
      .buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, labels, signal: ac.signal, onLine: (l) => (l === 'started' ? ac.abort() : undefined) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(ExitCode.interrupted);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('the image ENTRYPOINT is cleared: cmd runs as given', async () => {
    const tag = newTag('entrypoint');
    const context = await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().build}\nENTRYPOINT ["echo", "from-entrypoint"]\nCMD ["ignored"]\n` }]);
    await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag, labels });
    expect(await output(tag, 'echo only-cmd')).toEqual({ exitCode: 0, lines: [['stdout', 'only-cmd']] });
  });
});

describe('images', () => {
  it('imported busybox bases carry the stack labels, env and users', async () => {
    const build = await engine.inspectImage(bases().build);
    const run = await engine.inspectImage(bases().run);
    expect(build?.config.env).toEqual(expect.arrayContaining(['PATH=/bin:/usr/bin', 'CNB_USER_ID=1000', 'CNB_GROUP_ID=1000']));
    expect(build?.config.user).toBe('1000:1000');
    expect(build?.config.labels['io.buildpacks.base.distro.name']).toBe('busybox');
    expect(build?.config.labels['io.buildpacks.rebasable']).toBeUndefined();
    expect(run?.config.user).toBe('1001:1000');
    expect(run?.config.labels['io.buildpacks.rebasable']).toBe('true');
    expect(run?.layers).toHaveLength(1);
    expect(await output(bases().run, 'whoami; echo $HOME; stat -c "%a %u" /tmp /home/cnbrun; . /etc/os-release; echo $ID', '1001:1000')).toEqual({
      exitCode: 0,
      lines: [['stdout', 'cnbrun'], ['stdout', '/home/cnbrun'], ['stdout', '1777 0'], ['stdout', '755 1001'], ['stdout', 'busybox']],
    });
  });

  it('save -> remove -> load brings the same image back', async () => {
    const tag = newTag('saved');
    await engine.tagImage(bases().run, tag);
    const before = await engine.inspectImage(tag);
    const chunks: Buffer[] = [];
    for await (const c of await engine.saveImage(tag)) chunks.push(c as Buffer);
    await engine.removeImage(tag);
    await engine.removeImage(bases().run);
    expect(await engine.inspectImage(tag)).toBeUndefined();
    const loaded = await engine.loadImage(Buffer.concat(chunks));
    expect(loaded).toContain(tag);
    expect((await engine.inspectImage(tag))?.id).toBe(before?.id);
    await engine.tagImage(tag, bases().run);
  });

  it('missing images: inspect is undefined, remove is fine, tag and save are missing-image errors', async () => {
    expect(await engine.inspectImage('kiln-test/none:none')).toBeUndefined();
    await engine.removeImage('kiln-test/none:none');
    for (const op of [() => engine.tagImage('kiln-test/none:none', 'kiln-test/x:y'), () => engine.saveImage('kiln-test/none:none')]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KilnError);
      expect((err as KilnError).exitCode).toBe(ExitCode.missingImage);
      expect((err as KilnError).message).toContain('kiln-test/none:none');
    }
  });

  it('a busybox that cannot be had is a clear KilnError', async () => {
    const saved = process.env.KILN_BUSYBOX;
    process.env.KILN_BUSYBOX = '/nonexistent/busybox';
    try {
      await expect(busyboxRootfsTar({ uid: 1000, gid: 1000 })).rejects.toThrow('failed to get a static busybox binary: KILN_BUSYBOX=/nonexistent/busybox does not exist');
    } finally {
      if (saved === undefined) delete process.env.KILN_BUSYBOX;
      else process.env.KILN_BUSYBOX = saved;
    }
  });

  it('volumes: create with labels, exists, list by label, remove (twice)', async () => {
    const name = testName('vol');
    await engine.createVolume(name, { ...labels, 'io.kiln.test.vol': name });
    expect(await engine.volumeExists(name)).toBe(true);
    expect(await engine.listVolumes({ labels: [`io.kiln.test.vol=${name}`] })).toEqual([name]);
    await engine.removeVolume(name);
    await engine.removeVolume(name);
    expect(await engine.volumeExists(name)).toBe(false);
  });
});

describe('makeTestBuilder', () => {
  it('lays out /cnb with root-owned modules, order/run toml and CNB-user-owned /layers and /workspace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-ext-'));
    tempDirs.push(dir);
    await mkdir(join(dir, 'bp', 'bin'), { recursive: true });
    await mkdir(join(dir, 'ext', 'bin'), { recursive: true });
    await writeFile(join(dir, 'bp', 'buildpack.toml'), 'api = "0.10"\n[buildpack]\nid = "test/a-bp"\nversion = "1.0.0"\n');
    await writeFile(join(dir, 'bp', 'bin', 'build'), '#!/bin/sh\nexit 0\n', { mode: 0o700 });
    await writeFile(join(dir, 'ext', 'extension.toml'), 'api = "0.10"\n[extension]\nid = "test/an-ext"\nversion = "2.0.0"\n');
    await writeFile(join(dir, 'ext', 'bin', 'generate'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const tag = newTag('builder');
    const id = await makeTestBuilder(engine, {
      buildpacks: [join(dir, 'bp')],
      extensions: [join(dir, 'ext')],
      orderToml: '[[order]]\n[[order.group]]\nid = "test/a-bp"\n',
      runImage: bases().run,
      tag,
      labels: { 'io.kiln.test.kind': 'builder' },
    });
    expect((await engine.inspectImage(tag))?.id).toBe(id);
    const r = await output(
      tag,
      'id -u; stat -c "%U %a %n" /cnb/buildpacks/test_a-bp/1.0.0/bin/build /cnb/buildpacks/test_a-bp/1.0.0/buildpack.toml /cnb/extensions/test_an-ext/2.0.0/bin/generate /layers /workspace; grep ^image /cnb/run.toml',
    );
    expect(r.lines.map(([, l]) => l)).toEqual([
      '1000',
      'root 755 /cnb/buildpacks/test_a-bp/1.0.0/bin/build',
      'root 644 /cnb/buildpacks/test_a-bp/1.0.0/buildpack.toml',
      'root 755 /cnb/extensions/test_an-ext/2.0.0/bin/generate',
      'cnb 755 /layers',
      'cnb 755 /workspace',
      `image = "${bases().run}"`,
    ]);
  });
});

describe('cleanup', () => {
  it('leaves nothing labelled behind once removed', async () => {
    for (const t of tags) await engine.removeImage(t, { force: true });
    await engine.removeImage(bases().build, { force: true });
    await engine.removeImage(bases().run, { force: true });
    await cleanupByLabel(engine);
    expect(await leftovers(engine)).toEqual({ containers: [], images: [], volumes: [] });
  });
});
