/**
 * `kiln stack create busybox` on the real daemon (issue 3, item 4): build and run images made offline
 * with the CNB user, env and io.buildpacks.base.* labels a stack needs (platform.md, "Build Image"); the shipped
 * builders/busybox/builder.toml then makes a builder on them.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuilder } from '../../src/app/create-builder.js';
import { createStack } from '../../src/app/create-stack.js';
import { inspectBuilder } from '../../src/app/inspect-builder.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode, KilnError } from '../../src/errors.js';
import { testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const tags: string[] = [];
let work = '';

afterAll(async () => {
  // Builder first: it sits on the build image.
  for (const t of [...tags].reverse()) await engine.removeImage(t, { force: true });
  if (work !== '') await rm(work, { recursive: true, force: true });
});

function newTag(what: string): string {
  const t = `kiln-test/${what}:${testName('s')}`;
  tags.push(t);
  return t;
}

describe('kiln stack create busybox', () => {
  it('makes build and run images with the CNB user, env and base labels', async () => {
    const buildImage = newTag('stack-build');
    const runImage = newTag('stack-run');
    const r = await createStack(engine, { stack: 'busybox', buildImage, runImage, labels });
    expect(r).toMatchObject({ stack: 'busybox', buildImage, runImage });
    const build = await engine.inspectImage(buildImage);
    const run = await engine.inspectImage(runImage);
    expect(build?.config.user).toBe('1000:1000');
    expect(build?.config.env).toEqual(expect.arrayContaining(['CNB_USER_ID=1000', 'CNB_GROUP_ID=1000', expect.stringMatching(/^PATH=/)]));
    expect(run?.config.user).toBe('1001:1000');
    expect(run?.config.env).toEqual(expect.arrayContaining([expect.stringMatching(/^PATH=/)]));
    for (const img of [build, run]) {
      expect(img?.config.labels).toMatchObject({
        'io.buildpacks.base.id': 'io.kiln.stacks.busybox',
        'io.buildpacks.base.distro.name': 'busybox',
        'io.buildpacks.base.maintainer': 'kiln',
        'io.kiln.test': labels['io.kiln.test'],
      });
    }
    expect(run?.config.labels['io.buildpacks.rebasable']).toBe('true');
    // The CNB user has a writable home in the build image.
    const ok = await engine.runContainer({ image: buildImage, cmd: ['sh', '-c', 'test -w "$(awk -F: \'$3==1000{print $6}\' /etc/passwd)"'], user: '1000:1000', labels });
    expect(ok.exitCode).toBe(0);

    // The shipped busybox builder definition works on these bases.
    work = await mkdtemp(join(tmpdir(), 'kiln-stack-it-'));
    const dir = resolve('builders/busybox');
    const text = (await readFile(join(dir, 'builder.toml'), 'utf8'))
      .replace(/uri = "([^"]+)"/g, (_m, p: string) => `uri = "${join(dir, p)}"`)
      .replace('kiln/busybox-build:latest', buildImage)
      .replace('kiln/busybox-run:latest', runImage);
    const cfg = join(work, 'builder.toml');
    await writeFile(cfg, text);
    const builder = newTag('stack-builder');
    await createBuilder(engine, { imageName: builder, configPath: cfg, labels, kilnVersion: '0.1.0' });
    const s = await inspectBuilder(engine, builder);
    expect(s.buildpacks.map((b) => b.id)).toEqual(['kiln-examples/shell-app', 'kiln-examples/static-site']);
    expect(s.extensions.map((b) => b.id)).toEqual(['kiln-examples/run-label']);
    expect(s.runImages).toEqual([{ image: runImage, mirrors: [] }]);
  });

  it('refuses an unknown stack', async () => {
    const e: unknown = await createStack(engine, { stack: 'alpine' }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(KilnError);
    expect((e as KilnError).exitCode).toBe(ExitCode.usage);
    expect((e as KilnError).hint).toContain('busybox, debian');
  });
});
