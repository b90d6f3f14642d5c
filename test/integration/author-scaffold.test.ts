/**
 * The authors' loop from a scaffold (issue 20 point 1): `kiln buildpack new` and `kiln extension new`
 * make modules that pass `kiln ... lint` and, as generated, build the shipped busybox example app
 * (examples/hello-shell) in a builder next to the shipped shell-app buildpack: the buildpack's tool is
 * on PATH in the app image, and the extension changed both the build and the run image.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln, type CliRun } from '../helpers/cli.js';
import { cleanupByLabel, runId } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const bases = useBusyboxImages(engine, { name: 'author' });
const builder = `kiln-test/author-builder:${runId}`;
const appImage = `kiln-test/author-app:${runId}`;
let tmp = '';

function cli(args: string[]): Promise<CliRun> {
  return runKiln(args, { NO_COLOR: '1', KILN_LABELS: `io.kiln.test=${runId}` });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-author-'));
});

afterAll(async () => {
  for (const t of [appImage, builder]) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
}, 120_000);

describe('kiln buildpack new / extension new, then a build (issue 20)', () => {
  it('scaffolds modules that lint clean and build the busybox example as generated', async () => {
    const bp = join(tmp, 'greeter');
    const ext = join(tmp, 'marker');
    expect((await cli(['buildpack', 'new', 'acme/greeter', '--path', bp])).code).toBe(0);
    expect((await cli(['extension', 'new', 'acme/marker', '--path', ext, '--kind', 'both'])).code).toBe(0);
    for (const [kind, dir] of [['buildpack', bp], ['extension', ext]] as const) {
      const lint = await cli([kind, 'lint', dir]);
      expect(lint.code, lint.out + lint.err).toBe(0);
      expect(lint.out).toContain('0 error(s), 0 warning(s)');
    }

    const shipped = join(root, 'builders/busybox');
    const config = join(tmp, 'builder.toml');
    await writeFile(
      config,
      [
        `[[buildpacks]]\nuri = "${shipped}/buildpacks/shell-app"\n`,
        `[[buildpacks]]\nuri = "${bp}"\n`,
        `[[extensions]]\nuri = "${ext}"\n`,
        '[[order]]\n[[order.group]]\nid = "kiln-examples/shell-app"\n[[order.group]]\nid = "acme/greeter"\n',
        '[[order-extensions]]\n[[order-extensions.group]]\nid = "acme/marker"\n',
        `[build]\nimage = "${bases().build}"\n`,
        `[[run.images]]\nimage = "${bases().run}"\n`,
      ].join('\n'),
    );
    const created = await cli(['builder', 'create', builder, '--config', config, '--pull-policy', 'never']);
    expect(created.code, created.err).toBe(0);
    const built = await cli(['build', appImage, '--builder', builder, '--path', join(root, 'examples/hello-shell'), '--pull-policy', 'never']);
    expect(built.code, built.err).toBe(0);
    expect(built.err).toContain('added the greeter-hello tool');
    expect(built.err).toContain('Applying build.Dockerfile of acme/marker');
    expect(built.err).toContain('Applying run.Dockerfile of acme/marker');

    // The buildpack's process type (its tool from the launch layer) starts by name; the default process stays shell-app's.
    const tool = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'greeter-hello', appImage]);
    expect(tool.stdout).toContain('hello from acme/greeter');
    const web = await run('docker', ['run', '--rm', '--network', 'none', appImage]);
    expect(web.stdout).toContain('hello from the kiln busybox example');
    // The run.Dockerfile's file and label, and the image's user is not root.
    const file = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', appImage, '/opt/marker/run.txt']);
    expect(file.stdout).toContain('run image extended by acme/marker');
    const info = await engine.inspectImage(appImage);
    expect(info?.config.labels['io.buildpacks.rebasable']).toBe('true');
    expect(info?.config.user).not.toMatch(/^(root|0)(:|$)/);
  });
});
