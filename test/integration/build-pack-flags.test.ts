/**
 * `kiln build` flags pack has, and project.toml groups by uri and inline (issue 18 points 1, 2, 4): each
 * through the CLI against a busybox builder whose order is kiln-test/first only, asserting the group,
 * processes, labels, files and tags of the result. Modules added by flags or project.toml go into an
 * ephemeral builder that an unchanged second build finds again.
 */
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { EPHEMERAL_BUILDER_LABEL } from '../../src/app/ephemeral-builder.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln } from '../helpers/cli.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testLabels, testName } from '../helpers/test-labels.js';
import { packageModule } from '../../src/app/package-module.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/pack-flags');
const buildFixtures = join(root, 'test/fixtures/build');
const bases = useBusyboxImages(engine);
const builderTag = `kiln-test/pack-flags-builder:${testName('b')}`;
const app = (what: string): string => `kiln-test/pack-flags-${what}:${testName('a')}`;
const KILN_LABELS = `io.kiln.test=${runId}`;
const made: string[] = [];
let scratch = '';

interface Result {
  imageId: string;
  buildpacks: string[];
  extensions: { id: string }[];
  processes: string[];
  defaultProcess?: string;
}

/** `kiln build <image> --json ...` against the test builder; the result document and stderr. */
async function build(image: string, args: string[], path = join(buildFixtures, 'apps/simple')): Promise<{ code: number; result?: Result; err: string }> {
  made.push(image);
  const r = await runKiln(['build', image, '--builder', builderTag, '--path', path, '--json', ...args], { KILN_LABELS });
  return { code: r.code, err: r.err, ...(r.code === 0 ? { result: JSON.parse(r.out) as Result } : {}) };
}

function lines(err: string): string {
  // --json events: module lines carry their text in "line".
  return err
    .split('\n')
    .map((l) => {
      try {
        const e = JSON.parse(l) as { line?: string; message?: string };
        return e.line ?? e.message ?? '';
      } catch {
        return l;
      }
    })
    .join('\n');
}

async function ephemeralImages(): Promise<string[]> {
  return (await engine.listImages({ labels: [EPHEMERAL_BUILDER_LABEL, `io.kiln.test=${runId}`] })).sort();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kiln-pack-flags-'));
  await makeTestBuilder(engine, {
    buildpacks: ['first', 'second'].map((b) => join(buildFixtures, 'buildpacks', b)),
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
  });
});

afterAll(async () => {
  for (const image of made) await engine.removeImage(image, { force: true }).catch(() => undefined);
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine);
  await rm(scratch, { recursive: true, force: true });
});

describe('kiln build: modules added to the builder', () => {
  it('-b DIR replaces the order; an unchanged second build makes no new ephemeral builder', async () => {
    const image = app('b-dir');
    const first = await build(image, ['-b', join(fixtures, 'bp-adhoc')]);
    expect(first.code, first.err).toBe(0);
    expect(first.result?.buildpacks).toEqual(['kiln-test/adhoc@1.0.0']);
    expect(first.result?.processes).toEqual(['adhoc']);
    const ephemeral = await ephemeralImages();
    expect(ephemeral).toHaveLength(1);
    const second = await build(image, ['-b', join(fixtures, 'bp-adhoc'), '--no-reuse']);
    expect(second.code, second.err).toBe(0);
    expect(await ephemeralImages()).toEqual(ephemeral);
    expect(second.result?.imageId).toBe(first.result?.imageId);
  });

  it('-b id@version uses a buildpack the builder has; an unknown one is named in the error', async () => {
    const ok = await build(app('b-id'), ['-b', 'kiln-test/first@1.0.0']);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.result?.buildpacks).toEqual(['kiln-test/first@1.0.0']);
    const missing = await build(app('b-missing'), ['-b', './no-such-dir']);
    expect(missing.code).toBe(2);
    expect(lines(missing.err)).toContain('failed to read --buildpack ./no-such-dir');
    expect(lines(missing.err)).toContain('does not exist');
    const bad = await build(app('b-unknown'), ['-b', 'kiln-test/nope@1.0.0']);
    expect(bad.code).toBe(2);
    expect(lines(bad.err)).toContain('--buildpack kiln-test/nope@1.0.0');
    expect(lines(bad.err)).toContain('it has: kiln-test/first@1.0.0');
  });

  it('-b takes a package image (docker://), a .cnb file and a .tgz archive', async () => {
    const pkg = `kiln-test/pack-flags-pkg:${testName('p')}`;
    made.push(pkg);
    await packageModule(engine, { kind: 'buildpack', dir: join(fixtures, 'bp-pre'), target: pkg, labels: testLabels() });
    await packageModule(engine, { kind: 'buildpack', dir: join(fixtures, 'bp-post'), target: join(scratch, 'post.cnb'), file: true });
    await run('tar', ['-czf', join(scratch, 'adhoc.tgz'), '-C', join(fixtures, 'bp-adhoc'), '.']);
    const r = await build(app('b-pkg'), ['-b', `docker://${pkg}`, '-b', join(scratch, 'post.cnb'), '-b', join(scratch, 'adhoc.tgz')]);
    expect(r.code, r.err).toBe(0);
    expect(r.result?.buildpacks).toEqual(['kiln-test/pre@1.0.0', 'kiln-test/post@1.0.0', 'kiln-test/adhoc@1.0.0']);
    expect(lines(r.err)).toContain('pre build ran');
  });

  it('--extension DIR is prepended as the order-extensions group', async () => {
    const r = await build(app('ext'), ['--extension', join(fixtures, 'ext-adhoc')]);
    expect(r.code, r.err).toBe(0);
    expect(r.result?.extensions.map((e) => e.id)).toEqual(['kiln-test/ext-adhoc@1.0.0']);
    expect(r.result?.buildpacks).toEqual(['kiln-test/first@1.0.0']);
  });

  it('--pre-buildpack and --post-buildpack go around every group of the order', async () => {
    const r = await build(app('prepost'), ['--pre-buildpack', join(fixtures, 'bp-pre'), '--post-buildpack', join(fixtures, 'bp-post')]);
    expect(r.code, r.err).toBe(0);
    expect(r.result?.buildpacks).toEqual(['kiln-test/pre@1.0.0', 'kiln-test/first@1.0.0', 'kiln-test/post@1.0.0']);
    const out = lines(r.err);
    expect(out.indexOf('pre build ran')).toBeLessThan(out.indexOf('first build:'));
    expect(out.indexOf('first build:')).toBeLessThan(out.indexOf('post build ran'));
  });

  it('--uid/--gid run the buildpacks as that user', async () => {
    const r = await build(app('uid'), ['-b', join(fixtures, 'bp-adhoc'), '--uid', '1234', '--gid', '1235']);
    expect(r.code, r.err).toBe(0);
    expect(lines(r.err)).toContain('adhoc build: uid=1234 gid=1235');
    const root0 = await build(app('uid0'), ['--uid', '0']);
    expect(root0.code).toBe(3);
    expect(root0.err).toContain('--uid');
  });
});

describe('kiln build: project.toml groups', () => {
  it('a group entry by relative directory uri; source-url goes into io.buildpacks.project.metadata', async () => {
    const image = app('uri');
    const r = await build(image, [], join(fixtures, 'app-uri'));
    expect(r.code, r.err).toBe(0);
    expect(r.result?.buildpacks).toEqual(['kiln-test/adhoc@1.0.0']);
    const labels = (await engine.inspectImage(image))?.config.labels ?? {};
    expect(JSON.parse(labels['io.buildpacks.project.metadata'] ?? '{}')).toEqual({
      source: { type: 'project', version: { declared: '3.1.4' }, metadata: { url: 'https://example.com/app-uri.git' } },
    });
  });

  it('an inline buildpack writes a launch process', async () => {
    const image = app('inline');
    const r = await build(image, [], join(fixtures, 'app-inline'));
    expect(r.code, r.err).toBe(0);
    expect(r.result?.buildpacks).toEqual(['kiln-test/inline@0.0.0']);
    expect(r.result?.defaultProcess).toBe('inline-web');
    expect(lines(r.err)).toContain('inline build ran in /workspace');
  });

  it('an entry with an unknown id is named by its key path', async () => {
    const r = await build(app('unknown'), [], join(fixtures, 'app-unknown'));
    expect(r.code).toBe(2);
    expect(lines(r.err)).toContain('project.toml io.buildpacks.group[1] (id "kiln-test/no-such" version "9.9.9")');
  });
});

describe('kiln build: outputs and other flags', () => {
  it('-t twice writes every tag', async () => {
    const [a, b] = [app('tag-a'), app('tag-b')];
    made.push(a, b);
    const r = await build(app('tag'), ['-t', a, '--tag', b]);
    expect(r.code, r.err).toBe(0);
    expect((await engine.inspectImage(a))?.id).toBe(r.result?.imageId);
    expect((await engine.inspectImage(b))?.id).toBe(r.result?.imageId);
  });

  it('--sbom-output-dir gets launch/, build/ and layer SBOMs by buildpack; --report-output-dir gets report.toml', async () => {
    const sbom = join(scratch, 'sbom');
    const report = join(scratch, 'report');
    const image = app('sbom');
    const r = await build(image, ['-b', join(fixtures, 'bp-adhoc'), '--sbom-output-dir', sbom, '--report-output-dir', report]);
    expect(r.code, r.err).toBe(0);
    const list = async (d: string): Promise<string[]> => (await readdir(d, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(d.length + 1)).sort();
    expect(await list(sbom)).toEqual(['build/kiln-test_adhoc/sbom.cdx.json', 'launch/kiln-test_adhoc/sbom.cdx.json', 'launch/kiln-test_adhoc/thing/sbom.cdx.json']);
    expect(await readFile(join(sbom, 'launch/kiln-test_adhoc/thing/sbom.cdx.json'), 'utf8')).toContain('"thing"');
    const text = await readFile(join(report, 'report.toml'), 'utf8');
    expect(text).toContain('[image]');
    expect(text).toContain(`"${image}"`);
    expect(text).toContain(`image-id = "${r.result?.imageId}"`);
  });

  it('--volume is read-only unless :rw', async () => {
    const dir = await mkdtemp(join(scratch, 'vol-'));
    await chmod(dir, 0o777);
    const ro = await build(app('vol-ro'), ['-b', join(fixtures, 'bp-adhoc'), '--volume', `${dir}:/data`]);
    expect(ro.code, ro.err).toBe(0);
    expect(lines(ro.err)).toContain('adhoc volume: read-only');
    const rw = await build(app('vol-rw'), ['-b', join(fixtures, 'bp-adhoc'), '--volume', `${dir}:/data:rw`]);
    expect(rw.code, rw.err).toBe(0);
    expect(lines(rw.err)).toContain('adhoc volume: writable');
  });

  it('--previous-image reads another image as the previous one', async () => {
    const prev = app('prev-a');
    expect((await build(prev, [])).code).toBe(0);
    const r = await build(app('prev-b'), ['--previous-image', prev]);
    expect(r.code, r.err).toBe(0);
    expect(lines(r.err)).toContain(`Previous image ${prev}`);
  });

  it('--creation-time sets the image creation time; the default stays reproducible', async () => {
    const image = app('created');
    expect((await build(image, ['--creation-time', '1641013200'])).code).toBe(0);
    expect((await engine.inspectImage(image))?.created).toMatch(/^2022-01-01T05:00:00/);
    const dflt = app('created-default');
    expect((await build(dflt, [])).code).toBe(0);
    expect((await engine.inspectImage(dflt))?.created).toMatch(/^1980-01-01T00:00:01/);
    const bad = await build(app('created-bad'), ['--creation-time', 'yesterday']);
    expect(bad.code).toBe(3);
    expect(bad.err).toContain('--creation-time');
  });

  it('--workspace puts the app there, in the build and in the image', async () => {
    const image = app('workspace');
    const r = await build(image, ['-b', join(fixtures, 'bp-adhoc'), '--workspace', '/srv/app']);
    expect(r.code, r.err).toBe(0);
    expect(lines(r.err)).toContain('adhoc build: pwd=/srv/app app=app content');
    const info = await engine.inspectImage(image);
    expect(info?.config.workingDir).toBe('/srv/app');
    expect(info?.config.env).toContain('CNB_APP_DIR=/srv/app');
    const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', image, '/srv/app/app.txt']);
    expect(stdout.trim()).toBe('app content');
    const bad = await build(app('workspace-bad'), ['--workspace', '/layers/app']);
    expect(bad.code).toBe(3);
    expect(lines(bad.err)).toContain('--workspace');
  });

  it('-D picks the default process', async () => {
    const image = app('dflt-proc');
    const r = await build(image, ['-D', 'worker']);
    expect(r.code, r.err).toBe(0);
    // The entrypoint is the process's launcher (platform.md, "`exporter`": -process-type).
    expect((await engine.inspectImage(image))?.config.entrypoint).toEqual(['/cnb/process/worker']);
  });
});
