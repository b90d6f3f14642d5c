/**
 * `kiln buildpack package --config package.toml` (issue 18 point 3, distribution.md, "Buildpackage") and
 * docker:// module uris under --pull-policy (issue 17): a composite buildpack packaged with its
 * dependencies given by directory, by .tgz archive and by docker:// image from the test registry on
 * 127.0.0.1 (test/helpers/registries.ts) carries one layer per buildpack, all listed in
 * io.buildpacks.buildpack.layers; a builder.toml naming only that package builds an app with its
 * buildpacks; --format file gives a .cnb that works as a uri; package.toml errors name the user's file
 * and entry, never kiln's temp dirs; builder.toml's docker:// uris are pulled once under if-not-present
 * and refused under never.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln, type CliRun } from '../helpers/cli.js';
import { PLAIN_REGISTRY, startRegistries, stopRegistries } from '../helpers/registries.js';
import { cleanupByLabel, runId } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/build');
const bases = useBusyboxImages(engine, { name: 'pkgcfg' });
const local = (what: string): string => `kiln-test/pkgcfg-${what}:${runId}`;
const regRef = `${PLAIN_REGISTRY}/kiln-test/pkgcfg-reg:${runId}`;
const metaPkg = local('meta');
const tags = new Set<string>([regRef, metaPkg]);

let tmp = '';
let startedPids: string[] = [];

function cli(args: string[]): Promise<CliRun> {
  return runKiln(args, { NO_COLOR: '1', KILN_LABELS: `io.kiln.test=${runId}`, DOCKER_CONFIG: join(tmp, 'docker-empty'), XDG_CONFIG_HOME: join(tmp, 'xdg') });
}

const pullLines = (err: string): string[] => err.match(/^Pulling .*$/gm) ?? [];

async function forget(ref: string): Promise<void> {
  await engine.removeImage(ref, { force: true });
  expect(await engine.inspectImage(ref)).toBeUndefined();
}

async function writeModule(dir: string, toml: string, bin: Record<string, string> = {}): Promise<void> {
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'buildpack.toml'), toml);
  for (const [name, script] of Object.entries(bin)) {
    await writeFile(join(dir, 'bin', name), script);
    await chmod(join(dir, 'bin', name), 0o755);
  }
}

const builderToml = (uris: string[], group: string): string =>
  [...uris.map((u) => `[[buildpacks]]\nuri = "${u}"\n`), `[[order]]\n[[order.group]]\nid = "${group}"\n`, `[build]\nimage = "${bases().build}"\n`, `[[run.images]]\nimage = "${bases().run}"\n`].join('\n');

const META_TOML = [
  'api = "0.10"\n[buildpack]\nid = "kiln-test/pc-meta"\nversion = "0.1.0"\nname = "Meta"\n',
  '[[order]]',
  '[[order.group]]\nid = "kiln-test/first"\nversion = "1.0.0"',
  '[[order.group]]\nid = "kiln-test/second"\nversion = "2.0.0"',
  '[[order.group]]\nid = "kiln-test/pc-reg"\nversion = "1.0.0"\n',
].join('\n');

const packageToml = (deps: string[]): string => ['[buildpack]\nuri = "meta"\n', ...deps.map((d) => `[[dependencies]]\nuri = "${d}"\n`)].join('\n');
const ALL_DEPS = [join(fixtures, 'buildpacks/second'), 'first.tgz', `docker://${regRef}`];

beforeAll(async () => {
  startedPids = (await startRegistries()).pids;
  tmp = await mkdtemp(join(tmpdir(), 'kiln-pkgcfg-test-'));
  await chmod(tmp, 0o755);
  await mkdir(join(tmp, 'docker-empty'));
  await writeFile(join(tmp, 'docker-empty/config.json'), '{}');
  // A buildpack that lives only in the registry: it writes a launch layer with a marker file.
  const reg = join(tmp, 'reg');
  await writeModule(reg, 'api = "0.10"\n[buildpack]\nid = "kiln-test/pc-reg"\nversion = "1.0.0"\n', {
    detect: '#!/bin/sh\nexit 0\n',
    build: '#!/bin/sh\nset -eu\nmkdir -p "$CNB_LAYERS_DIR/mark"\necho from-registry > "$CNB_LAYERS_DIR/mark/marker"\nprintf "[types]\\nlaunch = true\\n" > "$CNB_LAYERS_DIR/mark.toml"\n',
  });
  const regLocal = local('reg-local');
  tags.add(regLocal);
  const packaged = await cli(['buildpack', 'package', regLocal, '--path', reg]);
  expect(packaged.code).toBe(0);
  await engine.tagImage(regLocal, regRef);
  await engine.pushImage?.(regRef, {});
  await forget(regRef);
  // The composite and its archive dependency, next to package.toml (relative uris).
  await writeModule(join(tmp, 'meta'), META_TOML);
  await run('tar', ['-czf', join(tmp, 'first.tgz'), '-C', join(fixtures, 'buildpacks'), 'first']);
  await writeFile(join(tmp, 'package.toml'), packageToml(ALL_DEPS));
}, 600_000);

afterAll(async () => {
  for (const t of tags) await engine.removeImage(t, { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  await stopRegistries(startedPids);
}, 300_000);

describe('kiln buildpack package --config package.toml (issue 18)', () => {
  it('packages a composite with dependencies by directory, archive and docker:// (pulled once); a builder naming only the package builds with its buildpacks', async () => {
    await forget(regRef);
    const p = await cli(['buildpack', 'package', metaPkg, '--config', join(tmp, 'package.toml')]);
    expect(p.err).not.toMatch(/^warning/m);
    expect(p.code).toBe(0);
    expect(pullLines(p.err)).toEqual([`Pulling ${regRef} from ${PLAIN_REGISTRY} (pull policy if-not-present)`]);
    expect(p.out).toContain('packaged kiln-test/pc-meta@0.1.0 with kiln-test/first@1.0.0, kiln-test/pc-reg@1.0.0, kiln-test/second@2.0.0');

    const info = await engine.inspectImage(metaPkg);
    const layers = JSON.parse(info?.config.labels['io.buildpacks.buildpack.layers'] ?? '{}') as Record<string, Record<string, { layerDiffID: string; order?: unknown }>>;
    expect(Object.keys(layers).sort()).toEqual(['kiln-test/first', 'kiln-test/pc-meta', 'kiln-test/pc-reg', 'kiln-test/second']);
    const diffIds = Object.values(layers).flatMap((v) => Object.values(v).map((l) => l.layerDiffID));
    expect([...diffIds].sort()).toEqual([...(info?.layers ?? [])].sort());
    expect(layers['kiln-test/pc-meta']?.['0.1.0']?.order).toEqual([{ group: [{ id: 'kiln-test/first', version: '1.0.0' }, { id: 'kiln-test/second', version: '2.0.0' }, { id: 'kiln-test/pc-reg', version: '1.0.0' }] }]);
    expect(JSON.parse(info?.config.labels['io.buildpacks.buildpackage.metadata'] ?? '{}')).toEqual({ id: 'kiln-test/pc-meta', version: '0.1.0', name: 'Meta' });

    const toml = join(tmp, 'builder-meta.toml');
    await writeFile(toml, builderToml([`docker://${metaPkg}`], 'kiln-test/pc-meta'));
    const builder = local('builder');
    const app = local('app');
    tags.add(builder).add(app);
    const c = await cli(['builder', 'create', builder, '--config', toml]);
    expect(c.code).toBe(0);
    expect(pullLines(c.err)).toEqual([]);
    const b = await cli(['build', app, '-B', builder, '--path', join(fixtures, 'apps/simple')]);
    expect(b.code).toBe(0);
    expect((await run('docker', ['run', '--rm', '--network', 'none', app])).stdout.trim()).toBe('greet: from web');
    expect((await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', app, '/layers/kiln-test_pc-reg/mark/marker'])).stdout.trim()).toBe('from-registry');
  }, 600_000);

  it('--format file writes a .cnb that works alone as a builder.toml uri', async () => {
    const cnb = join(tmp, 'meta.cnb');
    const p = await cli(['buildpack', 'package', cnb, '--config', join(tmp, 'package.toml'), '--format', 'file', '--target', 'linux/amd64']);
    expect(p.code).toBe(0);
    const toml = join(tmp, 'builder-cnb.toml');
    await writeFile(toml, builderToml(['meta.cnb'], 'kiln-test/pc-meta'));
    const builder = local('builder-cnb');
    tags.add(builder);
    const c = await cli(['builder', 'create', builder, '--config', toml]);
    expect(c.code).toBe(0);
    const layers = JSON.parse((await engine.inspectImage(builder))?.config.labels['io.buildpacks.buildpack.layers'] ?? '{}') as object;
    expect(Object.keys(layers).sort()).toEqual(['kiln-test/first', 'kiln-test/pc-meta', 'kiln-test/pc-reg', 'kiln-test/second']);
    // A name without an extension gets .cnb, as pack does.
    const bare = await cli(['buildpack', 'package', join(tmp, 'meta-bare'), '--config', join(tmp, 'package.toml'), '--format', 'file']);
    expect(bare.code).toBe(0);
    expect(bare.out).toContain(`as ${join(tmp, 'meta-bare.cnb')} `);
    expect((await stat(join(tmp, 'meta-bare.cnb'))).isFile()).toBe(true);
  }, 300_000);

  it('package.toml errors name the file and the entry, never a kiln temp dir', async () => {
    const bad = join(tmp, 'bad');
    await mkdir(bad, { recursive: true });
    await writeModule(join(bad, 'meta'), META_TOML);
    // A dependency archive whose buildpack.toml is broken: named as <archive>!/buildpack.toml.
    await writeModule(join(bad, 'src', 'broken'), 'api = "0.10"\n[buildpack]\nversion = "1"\n', { detect: '#!/bin/sh\n', build: '#!/bin/sh\n' });
    await run('tar', ['-czf', join(bad, 'broken.tgz'), '-C', join(bad, 'src'), 'broken']);
    const cases: Array<{ deps: string[]; code: number; says: string[] }> = [
      { deps: [join(fixtures, 'buildpacks/second'), 'missing.tgz'], code: 2, says: ['dependencies[1]', 'missing.tgz does not exist'] },
      { deps: ['broken.tgz'], code: 2, says: ['broken.tgz!/broken/buildpack.toml', 'buildpack.id'] },
      { deps: [join(fixtures, 'buildpacks/second'), join(fixtures, 'buildpacks/first')], code: 2, says: ['kiln-test/pc-reg@1.0.0 (in composite kiln-test/pc-meta@0.1.0) is not provided by', join(bad, 'package.toml')] },
    ];
    for (const c of cases) {
      await writeFile(join(bad, 'package.toml'), packageToml(c.deps));
      const r = await cli(['buildpack', 'package', local('bad'), '--config', join(bad, 'package.toml')]);
      expect(r.code).toBe(c.code);
      expect(r.err).toContain(join(bad, 'package.toml'));
      for (const s of c.says) expect(r.err).toContain(s);
      expect(r.err).not.toMatch(/kiln-package-\d+\./);
      expect(await engine.inspectImage(local('bad'))).toBeUndefined();
    }
  }, 120_000);
});

describe('docker:// module uris under --pull-policy (issue 17)', () => {
  it('builder.toml docker:// is pulled exactly once under if-not-present (named twice), not again when present', async () => {
    await forget(regRef);
    const toml = join(tmp, 'builder-reg.toml');
    await writeFile(toml, builderToml([`docker://${regRef}`, `docker://${regRef}`], 'kiln-test/pc-reg'));
    const builder = local('builder-reg');
    tags.add(builder);
    const first = await cli(['builder', 'create', builder, '--config', toml, '--pull-policy', 'if-not-present']);
    expect(first.code).toBe(0);
    expect(pullLines(first.err)).toEqual([`Pulling ${regRef} from ${PLAIN_REGISTRY} (pull policy if-not-present)`]);
    const again = await cli(['builder', 'create', builder, '--config', toml]);
    expect(again.code).toBe(0);
    expect(pullLines(again.err)).toEqual([]);
  }, 300_000);

  it('never refuses a docker:// uri the daemon lacks with exit 5 and a hint, in builder.toml and package.toml', async () => {
    await forget(regRef);
    const toml = join(tmp, 'builder-never.toml');
    await writeFile(toml, builderToml([`docker://${regRef}`], 'kiln-test/pc-reg'));
    const b = await cli(['builder', 'create', local('builder-never'), '--config', toml, '--pull-policy', 'never']);
    expect(b.code).toBe(5);
    expect(b.err).toContain(`image ${regRef} does not exist in the Docker daemon, and the pull policy is never`);
    expect(b.err).toMatch(/hint: .*--pull-policy if-not-present/);
    expect(b.err).not.toContain('Pulling');
    const p = await cli(['buildpack', 'package', local('never'), '--config', join(tmp, 'package.toml'), '--pull-policy', 'never']);
    expect(p.code).toBe(5);
    expect(p.err).toContain('pull policy is never');
    expect(await engine.inspectImage(regRef)).toBeUndefined();
    expect(await engine.inspectImage(local('builder-never'))).toBeUndefined();
  }, 120_000);
});
