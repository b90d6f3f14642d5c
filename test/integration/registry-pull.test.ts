/**
 * Pulling what a command needs (issue 17) against real registries on 127.0.0.1: Debian's
 * docker-registry without auth and with htpasswd basic auth, both started by scripts/registries.sh
 * (ports KILN_REGISTRY_PLAIN_PORT / KILN_REGISTRY_AUTH_PORT, default 5171 / 5172; stopped afterwards
 * only when this file started them). Builders, run images and a buildpack package are pushed, removed
 * from the daemon, then pulled back by kiln under each pull policy, through run-image mirrors, for an
 * extension's run-image switch, and with credentials from `auths` and from a credential helper.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuilder } from '../../src/app/create-builder.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { makeTar } from '../../src/image/tar-files.js';
import type { RegistryAuth } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runKiln, type CliRun } from '../helpers/cli.js';
import { AUTH_REGISTRY, PLAIN_REGISTRY, startRegistries, stopRegistries } from '../helpers/registries.js';
import { cleanupByLabel, runId, testLabels } from '../helpers/test-labels.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const fixtures = join(root, 'test/fixtures/build');
const bases = useBusyboxImages(engine, { name: 'pull' });
const PLAIN = PLAIN_REGISTRY;
const AUTH = AUTH_REGISTRY;
const ref = (registry: string, what: string): string => `${registry}/kiln-test/pull-${what}:${runId}`;

const buildRef = ref(PLAIN, 'build');
const runRef = ref(PLAIN, 'run');
const bpRef = ref(PLAIN, 'bp');
const builderRef = ref(PLAIN, 'builder');
const authBuilderRef = ref(AUTH, 'builder');
const movingRun = ref(PLAIN, 'run-moving');
const nowhereRun = ref(PLAIN, 'run-nowhere');
const mirrorRun = ref(PLAIN, 'run-mirror');
const switchedRun = ref(PLAIN, 'run-switched');
const mirrorBuilder = `kiln-test/pull-mirror-builder:${runId}`;
const switchBuilder = `kiln-test/pull-switch-builder:${runId}`;
const app = (what: string): string => `kiln-test/pull-app-${what}:${runId}`;

let tmp = '';
/** Pids of the registries this file started (scripts/registries.sh stop stops only these). */
let startedPids: string[] = [];
let user = '';
let password = '';
/** Tags and ids to remove afterwards (app images and kiln-created builders carry no test label). */
const tags = new Set<string>();

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  return runKiln(args, { NO_COLOR: '1', KILN_LABELS: `io.kiln.test=${runId}`, DOCKER_CONFIG: join(tmp, 'docker-empty'), XDG_CONFIG_HOME: join(tmp, 'xdg'), ...extraEnv });
}

/** The images of `--json` pull-start events, in order. */
function pullsOf(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; image?: string })
    .filter((e) => e.type === 'pull-start')
    .map((e) => e.image ?? '');
}

/** Makes sure the daemon does not have these tags (the registry still does). */
async function forget(...refs: string[]): Promise<void> {
  for (const r of refs) await engine.removeImage(r);
  for (const r of refs) expect(await engine.inspectImage(r)).toBeUndefined();
}

async function push(local: string, target: string, auth?: RegistryAuth): Promise<void> {
  await engine.tagImage(local, target);
  await engine.pushImage?.(target, auth !== undefined ? { auth } : {});
  await engine.removeImage(target);
}

/** An image FROM the run base with a marker file, tagged `tag`. */
async function markedRun(tag: string, marker: string): Promise<string> {
  const context = await makeTar([
    { path: 'Dockerfile', content: `FROM ${bases().run}\nCOPY marker /etc/kiln-marker\n` },
    { path: 'marker', content: `${marker}\n` },
  ]);
  const { imageId } = await engine.buildImage({ context, dockerfile: 'Dockerfile', buildArgs: {}, tag, labels: testLabels() });
  tags.add(tag);
  return imageId;
}

function builderToml(o: { build: string; run: string; mirrors?: string[]; bp: string; ext?: string }): string {
  return [
    `[[buildpacks]]\nuri = "${o.bp}"\n`,
    ...(o.ext !== undefined ? [`[[extensions]]\nuri = "${o.ext}"\n`, '[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/pull-switch"\n'] : []),
    '[[order]]\n[[order.group]]\nid = "kiln-test/first"\n',
    `[build]\nimage = "${o.build}"\n`,
    `[[run.images]]\nimage = "${o.run}"\nmirrors = [${(o.mirrors ?? []).map((m) => `"${m}"`).join(', ')}]\n`,
  ].join('\n');
}

async function localBuilder(tag: string, toml: string): Promise<void> {
  const file = join(tmp, `${tag.replace(/[/:]/g, '_')}.toml`);
  await writeFile(file, toml);
  await createBuilder(engine, { imageName: tag, configPath: file, labels: testLabels(), kilnVersion: 'test' });
  tags.add(tag);
}

async function dockerConfig(name: string, config: unknown): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

beforeAll(async () => {
  const { pids, vars } = await startRegistries();
  startedPids = pids;
  user = vars.KILN_REGISTRY_AUTH_USER ?? '';
  password = (await readFile(vars.KILN_REGISTRY_AUTH_PASSWORD_FILE ?? '', 'utf8')).trim();
  tmp = await mkdtemp(join(tmpdir(), 'kiln-pull-test-'));
  await dockerConfig('docker-empty', {});
  const auth: RegistryAuth = { serverAddress: AUTH, username: user, password };

  // Build and run images, a buildpack package and a builder made of them, all pushed to the plain registry.
  await push(bases().build, buildRef);
  await push(bases().run, runRef);
  await push(bases().run, mirrorRun);
  await push(bases().run, movingRun);
  const pkgTag = `kiln-test/pull-bp-local:${runId}`;
  tags.add(pkgTag);
  const pkg = await cli(['buildpack', 'package', pkgTag, '--path', join(fixtures, 'buildpacks/first')]);
  expect(pkg.code).toBe(0);
  await push(pkgTag, bpRef);
  const builderLocal = `kiln-test/pull-builder-local:${runId}`;
  await localBuilder(builderLocal, builderToml({ build: bases().build, run: runRef, bp: join(fixtures, 'buildpacks/first') }));
  await push(builderLocal, builderRef);
  await push(builderLocal, authBuilderRef, auth);
  // A builder whose run image exists only as a mirror; one whose extension switches to a registry-only run image.
  await localBuilder(mirrorBuilder, builderToml({ build: bases().build, run: nowhereRun, mirrors: [mirrorRun], bp: join(fixtures, 'buildpacks/first') }));
  await markedRun(`kiln-test/pull-switched-local:${runId}`, 'switched');
  await push(`kiln-test/pull-switched-local:${runId}`, switchedRun);
  const ext = join(tmp, 'switch-ext');
  await mkdir(join(ext, 'generate'), { recursive: true });
  await writeFile(join(ext, 'extension.toml'), 'api = "0.10"\n[extension]\nid = "kiln-test/pull-switch"\nversion = "1.0.0"\n');
  await writeFile(join(ext, 'generate/run.Dockerfile'), `FROM ${switchedRun}\n`);
  await localBuilder(switchBuilder, builderToml({ build: bases().build, run: runRef, bp: join(fixtures, 'buildpacks/first'), ext }));
}, 600_000);

afterAll(async () => {
  const all = [...tags, buildRef, runRef, bpRef, builderRef, authBuilderRef, movingRun, nowhereRun, mirrorRun, switchedRun];
  for (const t of all) await engine.removeImage(t, { force: true });
  for (const what of ['once', 'always', 'never', 'mirror', 'rebase', 'switch', 'auths', 'helper', 'badcreds']) await engine.removeImage(app(what), { force: true });
  await cleanupByLabel(engine);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  await stopRegistries(startedPids);
}, 300_000);

const appPath = join(fixtures, 'apps/simple');

describe('pulling through the daemon (issue 17)', () => {
  it('if-not-present pulls the build image, a docker:// package, the builder and the run image exactly once each, and builds', async () => {
    await forget(buildRef, bpRef, builderRef, runRef);
    const toml = join(tmp, 'from-registry.toml');
    await writeFile(toml, builderToml({ build: buildRef, run: runRef, bp: `docker://${bpRef}` }));
    const created = `kiln-test/pull-created:${runId}`;
    tags.add(created);
    const c = await cli(['builder', 'create', created, '--config', toml]);
    expect(c.err).not.toMatch(/^warning/m);
    expect(c.code).toBe(0);
    expect(c.err.match(/^Pulling .*$/gm)).toEqual([`Pulling ${buildRef} from ${PLAIN} (pull policy if-not-present)`, `Pulling ${bpRef} from ${PLAIN} (pull policy if-not-present)`]);

    const first = await cli(['build', app('once'), '-B', builderRef, '--path', appPath, '--json']);
    expect(first.code).toBe(0);
    expect(pullsOf(first.err)).toEqual([builderRef, runRef]);
    expect(first.err).toMatch(/"type":"pull-progress"/);
    expect(first.err).toMatch(/"type":"pull-end","image":"127[^"]*pull-run:[^"]*","ok":true/);
    const again = await cli(['build', app('once'), '-B', builderRef, '--path', appPath, '--json']);
    expect(again.code).toBe(0);
    expect(pullsOf(again.err)).toEqual([]);
  }, 400_000);

  it('always pulls again and picks up a moved tag', async () => {
    await forget(movingRun);
    // The daemon still has the old image under the tag; the registry's tag has moved to v2.
    const v2 = await markedRun(`kiln-test/pull-moving-v2:${runId}`, 'v2');
    await push(`kiln-test/pull-moving-v2:${runId}`, movingRun);
    const v1 = (await engine.inspectImage(bases().run))?.id ?? '';
    await engine.tagImage(v1, movingRun);
    expect((await engine.inspectImage(movingRun))?.id).toBe(v1);
    const r = await cli(['build', app('always'), '-B', builderRef, '--run-image', movingRun, '--path', appPath, '--pull-policy', 'always', '--json']);
    expect(r.code).toBe(0);
    expect(pullsOf(r.err)).toEqual([builderRef, movingRun]);
    expect((await engine.inspectImage(movingRun))?.id).toBe(v2);
    const built = await engine.inspectImage(app('always'));
    const top = (await engine.inspectImage(v2))?.layers.at(-1);
    expect(top).toBeDefined();
    expect(built?.layers).toContain(top);
  }, 400_000);

  it('never fails with exit 5 and a hint when the builder is only in the registry', async () => {
    await forget(builderRef);
    const r = await cli(['build', app('never'), '-B', builderRef, '--path', appPath, '--pull-policy', 'never']);
    expect(r.code).toBe(5);
    expect(r.err).toContain(`image ${builderRef} does not exist in the Docker daemon, and the pull policy is never`);
    expect(r.err).toMatch(/hint: .*--pull-policy if-not-present/);
    expect(r.err).not.toContain('Pulling');
    expect(await engine.inspectImage(builderRef)).toBeUndefined();
  }, 120_000);

  it('the pull policy can come from kiln config', async () => {
    await forget(builderRef);
    const set = await cli(['config', 'pull-policy', 'never']);
    expect(set.code).toBe(0);
    const r = await cli(['build', app('never'), '-B', builderRef, '--path', appPath]);
    await cli(['config', 'pull-policy', '--unset']);
    expect(r.code).toBe(5);
    expect(r.err).toContain('pull policy is never');
  }, 120_000);

  it('a run image reachable only through a mirror is used', async () => {
    await forget(mirrorRun, nowhereRun);
    const r = await cli(['build', app('mirror'), '-B', mirrorBuilder, '--path', appPath, '--json']);
    expect(r.code).toBe(0);
    expect(pullsOf(r.err)).toEqual([nowhereRun, mirrorRun]);
    expect(r.err).toContain(`could not pull run image ${nowhereRun}, trying the next mirror`);
    const result = JSON.parse(r.out) as { runImage: string };
    expect(result.runImage).toBe(nowhereRun);
    const mirror = await engine.inspectImage(mirrorRun);
    expect((await engine.inspectImage(app('mirror')))?.layers.slice(0, mirror?.layers.length)).toEqual(mirror?.layers);
  }, 400_000);

  it('mirrors from kiln config run-image-mirrors are tried before the run image and run.toml mirrors', async () => {
    await forget(runRef, mirrorRun, nowhereRun);
    const set = await cli(['config', 'run-image-mirrors', nowhereRun, '-m', runRef]);
    expect(set.code).toBe(0);
    const r = await cli(['build', app('mirror'), '-B', mirrorBuilder, '--path', appPath, '--json']);
    await cli(['config', 'run-image-mirrors', nowhereRun, '--remove']);
    expect(r.code).toBe(0);
    expect(pullsOf(r.err)).toEqual([runRef]);
  }, 400_000);

  it('rebase pulls the recorded run image the daemon lacks; never refuses with exit 5', async () => {
    const built = await cli(['build', app('rebase'), '-B', builderRef, '--path', appPath, '-q']);
    expect(built.code).toBe(0);
    await forget(runRef);
    const never = await cli(['rebase', app('rebase'), '--pull-policy', 'never']);
    expect(never.code).toBe(5);
    expect(never.err).toContain('pull policy is never');
    const r = await cli(['rebase', app('rebase')]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`Pulling ${runRef} from ${PLAIN} (pull policy if-not-present)`);
    expect(await engine.inspectImage(runRef)).toBeDefined();
  }, 400_000);

  it('a run image an extension switches to is pulled', async () => {
    await forget(switchedRun);
    const r = await cli(['build', app('switch'), '-B', switchBuilder, '--path', appPath, '--json']);
    expect(r.code).toBe(0);
    expect(pullsOf(r.err)).toContain(switchedRun);
    expect((JSON.parse(r.out) as { runImage: string }).runImage).toBe(switchedRun);
    const { stdout } = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'cat', app('switch'), '/etc/kiln-marker']);
    expect(stdout.trim()).toBe('switched');
  }, 400_000);
});

describe('the previous app image (issue 17)', () => {
  it('build --publish pulls the previous app image the daemon lacks; a first publish has none to pull', async () => {
    const image = ref(PLAIN, 'app-publish');
    tags.add(image);
    const first = await cli(['build', image, '-B', builderRef, '--path', appPath, '--publish', '--json']);
    expect(first.code).toBe(0);
    expect(pullsOf(first.err)).toContain(image);
    expect(first.err).toMatch(/"type":"info","message":"no previous image 127[^"]*app-publish[^"]* to reuse layers from/);
    const built = (await engine.inspectImage(image))?.id ?? '';
    await engine.removeImage(image, { force: true });
    await engine.removeImage(built, { force: true });
    const second = await cli(['build', image, '-B', builderRef, '--path', appPath, '--publish', '--json']);
    expect(second.code).toBe(0);
    expect(pullsOf(second.err)).toContain(image);
    expect(second.err).toMatch(/"type":"pull-end","image":"127[^"]*app-publish[^"]*","ok":true/);
  }, 400_000);
});

describe('registry credentials from the Docker config (issue 17)', () => {
  const secretsIn = (text: string): boolean => text.includes(password) || text.includes(Buffer.from(`${user}:${password}`).toString('base64')) || text.includes('WrongPass-42');

  it('wrong credentials fail clearly (exit 5, registry and reason named) with nothing secret printed', async () => {
    const cfg = await dockerConfig('docker-wrong', { auths: { [AUTH]: { auth: Buffer.from(`${user}:WrongPass-42`).toString('base64') } } });
    for (const extra of [[], ['--verbose'], ['--json']]) {
      await forget(authBuilderRef);
      const r = await cli(['build', app('badcreds'), '-B', authBuilderRef, '--path', appPath, ...extra], { DOCKER_CONFIG: cfg });
      expect(r.code).toBe(5);
      expect(r.err).toContain(`pull builder ${authBuilderRef}`);
      expect(r.err).toContain(`registry ${AUTH} answered`);
      expect(r.err).toMatch(/unauthorized|authentication required/i);
      expect(r.err).toMatch(/were refused: log in again \(docker login 127/);
      expect(secretsIn(r.err + r.out)).toBe(false);
    }
    await forget(authBuilderRef);
    const anonymous = await cli(['build', app('badcreds'), '-B', authBuilderRef, '--path', appPath]);
    expect(anonymous.code).toBe(5);
    expect(anonymous.err).toMatch(/hint: log in to 127\.0\.0\.1:\d+ \(docker login/);
  }, 300_000);

  it('the authenticated registry works through auths', async () => {
    await forget(authBuilderRef);
    const cfg = await dockerConfig('docker-auths', { auths: { [`http://${AUTH}`]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
    const r = await cli(['build', app('auths'), '-B', authBuilderRef, '--path', appPath, '--verbose'], { DOCKER_CONFIG: cfg });
    expect(r.code).toBe(0);
    expect(r.err).toContain(`Pulling ${authBuilderRef} from ${AUTH}`);
    expect(secretsIn(r.err + r.out)).toBe(false);
    const labels = JSON.stringify((await engine.inspectImage(app('auths')))?.config.labels);
    expect(secretsIn(labels)).toBe(false);
  }, 400_000);

  it('--publish pushes to the authenticated registry with the same credentials', async () => {
    const image = ref(AUTH, 'app-pubauth');
    tags.add(image);
    const cfg = await dockerConfig('docker-publish', { auths: { [AUTH]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
    const denied = await cli(['build', image, '-B', builderRef, '--path', appPath, '--publish']);
    expect(denied.code).not.toBe(0);
    expect(denied.err).toContain(`push image ${image}`);
    const r = await cli(['build', image, '-B', builderRef, '--path', appPath, '--publish', '--json'], { DOCKER_CONFIG: cfg });
    expect(r.code).toBe(0);
    expect(r.err).toContain(`"Published ${image}"`);
    expect(secretsIn(r.err + r.out)).toBe(false);
  }, 400_000);

  it('the authenticated registry works through a credential helper', async () => {
    await forget(authBuilderRef);
    const bin = join(tmp, 'bin');
    await mkdir(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-kilntest');
    // A tiny helper: `get` reads the server address on stdin and prints the credentials as JSON.
    await writeFile(helper, '#!/bin/sh\n[ "$1" = get ] || exit 1\nread -r server\nprintf \'{"ServerURL":"%s","Username":"%s","Secret":"%s"}\\n\' "$server" "$KILN_TEST_USER" "$(cat "$KILN_TEST_PASSWORD_FILE")"\n');
    await chmod(helper, 0o755);
    const pwFile = join(tmp, 'pw');
    await writeFile(pwFile, password, { mode: 0o600 });
    const cfg = await dockerConfig('docker-helper', { credHelpers: { [AUTH]: 'kilntest' } });
    const r = await cli(['build', app('helper'), '-B', authBuilderRef, '--path', appPath, '--json'], { DOCKER_CONFIG: cfg, PATH: `${bin}:${process.env.PATH ?? ''}`, KILN_TEST_USER: user, KILN_TEST_PASSWORD_FILE: pwFile });
    expect(r.code).toBe(0);
    expect(pullsOf(r.err)).toContain(authBuilderRef);
    expect(secretsIn(r.err + r.out)).toBe(false);
  }, 400_000);
});
