/**
 * kiln on podman (issue 19 point 3; README "podman"): Debian's podman 4.3 as `podman system service`
 * on a private socket with its own storage and no network (scripts/podman-service.sh). The busybox
 * builder is created (an archive with only the new layers, completed by the adapter), an app is built
 * with an extension that changes both the build and the run image, detect runs several modules on
 * shared volumes at once (creates are serialised on podman), and the app image runs; the app is then
 * rebased onto a new run image, and a buildpack package image feeds a builder.
 *
 * The service: KILN_PODMAN_HOST when set (CI started it), else this file starts one with the script
 * and stops it afterwards by pid. Without podman (the script prints no KILN_PODMAN_HOST) the tests are
 * skipped, with the script's reason in the skip note.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app/build-app.js';
import { createBuilder } from '../../src/app/create-builder.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import type { ContainerEngine, KilnEvent } from '../../src/ports.js';
import { getBusyboxImages, removeBusyboxImages, type BusyboxBases } from '../helpers/busybox-images.js';
import { makeTar } from '../../src/image/tar-files.js';
import { runKiln } from '../helpers/cli.js';
import { cleanupByLabel, leftovers, runId, TEST_LABEL, testLabels, testName } from '../helpers/test-labels.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const script = join(root, 'scripts/podman-service.sh');
const fixtures = join(root, 'test/fixtures/build');
const busyboxBuilder = join(root, 'builders/busybox');

let host = process.env.KILN_PODMAN_HOST ?? '';
let why = '';
let startedPid = '';
let state = '';
let engine: ContainerEngine | undefined;
let bases: BusyboxBases | undefined;
let tmp = '';
const tags = {
  busybox: `kiln-test/podman-busybox-builder:${testName('b')}`,
  tool: `kiln-test/podman-tool-builder:${testName('t')}`,
  app: `kiln-test/podman-app:${testName('a')}`,
  run2: `kiln-test/podman-run2:${testName('r')}`,
  pkg: `kiln-test/podman-package:${testName('p')}`,
  fromPkg: `kiln-test/podman-pkg-builder:${testName('f')}`,
};

/** Runs the script's start; KILN_PODMAN_* lines become variables, anything else is the reason for a skip. */
async function startService(): Promise<void> {
  state = await mkdtemp(join(tmpdir(), 'kiln-podman-'));
  try {
    const { stdout } = await run('bash', [script, 'start'], { env: { ...process.env, KILN_PODMAN_STATE: state }, timeout: 120_000 });
    const vars = Object.fromEntries(stdout.split('\n').filter((l) => l.startsWith('KILN_PODMAN_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    host = vars.KILN_PODMAN_HOST ?? '';
    startedPid = vars.KILN_PODMAN_STARTED_PIDS ?? '';
    if (host === '') why = `scripts/podman-service.sh printed no KILN_PODMAN_HOST: ${stdout.trim()}`;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    why = (err.stderr ?? err.message).trim().replace(/\s*\n\s*/g, ' ');
  }
}

function need(skip: (note?: string) => never): ContainerEngine {
  if (engine === undefined) skip(why || 'no podman service');
  return engine;
}

beforeAll(async () => {
  if (host === '') await startService();
  if (host === '') {
    console.warn(`podman tests skipped: ${why}`);
    return;
  }
  engine = createDockerEngine({ host });
  bases = await getBusyboxImages(engine, { name: 'podman' });
  tmp = await mkdtemp(join(tmpdir(), 'kiln-podman-test-'));
});

afterAll(async () => {
  if (engine !== undefined) {
    await engine.removeImage(tags.app, { force: true });
    for (const t of [tags.busybox, tags.tool, tags.fromPkg, tags.pkg, tags.run2]) await engine.removeImage(t, { force: true });
    await cleanupByLabel(engine);
    if (bases !== undefined) await removeBusyboxImages(engine, bases);
  }
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  if (startedPid !== '') await run('bash', [script, 'stop', startedPid], { env: { ...process.env, KILN_PODMAN_STATE: state } });
  if (state !== '') await rm(state, { recursive: true, force: true });
});

describe('kiln on podman', () => {
  it('the daemon is podman, told apart by GET /version', async ({ skip }) => {
    const e = need(skip);
    // Every image id and name comes back in Docker's form.
    const info = await e.inspectImage(bases?.run ?? '');
    expect(info?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info?.repoTags).toContain(bases?.run);
  });

  it('creates the busybox builder (an archive of only the new layers, completed for podman)', async ({ skip }) => {
    const e = need(skip);
    const b = bases as BusyboxBases;
    const text = (await readFile(join(busyboxBuilder, 'builder.toml'), 'utf8'))
      .replaceAll('uri = "', `uri = "${busyboxBuilder}/`)
      .replace('kiln/busybox-build:latest', b.build)
      .replace('kiln/busybox-run:latest', b.run);
    const config = join(tmp, 'busybox-builder.toml');
    await writeFile(config, text);
    const made = await createBuilder(e, { imageName: tags.busybox, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' });
    const info = await e.inspectImage(tags.busybox);
    expect(info?.id).toBe(made.imageId);
    expect(info?.repoTags).toContain(tags.busybox);
    // The builder sits on the build base: its layers come first, then the modules'.
    const base = await e.inspectImage(b.build);
    expect(info?.layers.slice(0, base?.layers.length)).toEqual(base?.layers);
    expect(JSON.parse(info?.config.labels['io.buildpacks.builder.metadata'] ?? '{}').buildpacks.map((m: { id: string }) => m.id).sort()).toEqual([
      'kiln-examples/shell-app',
      'kiln-examples/static-site',
    ]);
  });

  it('builds with an extension changing the build and the run image, and the app image runs', async ({ skip }) => {
    const e = need(skip);
    const b = bases as BusyboxBases;
    const config = join(tmp, 'tool-builder.toml');
    await writeFile(
      config,
      [
        `[[buildpacks]]\nuri = "${fixtures}/buildpacks/uses-tool"\n`,
        `[[buildpacks]]\nuri = "${fixtures}/buildpacks/first"\n`,
        `[[buildpacks]]\nuri = "${fixtures}/buildpacks/second"\n`,
        `[[extensions]]\nuri = "${fixtures}/extensions/tool"\n`,
        // Detect runs every module the order reaches at once (4 containers on the same volumes).
        `[[order]]\n[[order.group]]\nid = "kiln-test/uses-tool"\n\n[[order]]\n[[order.group]]\nid = "kiln-test/first"\n[[order.group]]\nid = "kiln-test/second"\n`,
        `[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/tool-ext"\n`,
        `[build]\nimage = "${b.build}"\n\n[[run.images]]\nimage = "${b.run}"\n`,
      ].join('\n'),
    );
    await createBuilder(e, { imageName: tags.tool, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' });
    const events: KilnEvent[] = [];
    let n = 0;
    const session = `p${Date.now().toString(36)}`;
    const out = await buildApp(
      { engine: e, reporter: { emit: (ev) => events.push(ev) }, ids: { newId: () => `${session}${n++}` } },
      { image: tags.app, builder: tags.tool, path: join(fixtures, 'apps/simple'), env: {}, volumes: [], labels: testLabels() },
    );
    const lines = events.flatMap((ev) => (ev.type === 'module-line' ? [`[${ev.module}] ${ev.line}`] : []));
    // The build.Dockerfile's tool is on the buildpack's PATH; podman's attach noise is not module output.
    expect(lines).toContain('[kiln-test/uses-tool] exttool ran: from uses-tool');
    expect(lines.filter((l) => /unixpacket|connection reset/.test(l))).toEqual([]);
    const info = await e.inspectImage(tags.app);
    expect(info?.id).toBe(out.imageId);
    expect(info?.repoTags).toContain(tags.app);

    // The default process: the layer's file, the run.Dockerfile's file and the run image's user.
    const printed: string[] = [];
    const cmd = [...(info?.config.entrypoint ?? []), ...(info?.config.cmd ?? [])];
    const ran = await e.runContainer({ image: tags.app, cmd, user: info?.config.user ?? '', labels: testLabels(), onLine: (_s, l) => printed.push(l) });
    expect(ran.exitCode).toBe(0);
    expect(printed).toEqual(['exttool ran: baked', 'added by the run extension', String(b.runUid)]);

    // The app's files were uploaded with the CNB user as owner, and keep it in the image.
    const listed: string[] = [];
    await e.runContainer({ image: tags.app, cmd: ['sh', '-c', 'stat -c "%u:%g %n" /workspace/app.txt'], user: '0:0', labels: testLabels(), onLine: (_s, l) => listed.push(l) });
    expect(listed).toEqual([`${b.uid}:${b.gid} /workspace/app.txt`]);
    // Nothing of the session is left behind.
    expect(await leftovers(e, { 'io.kiln.session': `${session}0` })).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('rebases the app onto a new run image, re-applying the run.Dockerfile (the archive is completed from both images)', async ({ skip }) => {
    const e = need(skip);
    const b = bases as BusyboxBases;
    const dockerfile = `FROM ${b.run}\nUSER root\nRUN echo v2 > /etc/run-v2\nUSER ${b.runUid}:${b.runGid}\n`;
    await e.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: dockerfile }]), dockerfile: 'Dockerfile', buildArgs: {}, tag: tags.run2, labels: testLabels() });
    const r = await runKiln(['rebase', tags.app, '--run-image', tags.run2, '--force', '--reextend'], { DOCKER_HOST: host, KILN_LABELS: `${TEST_LABEL}=${runId}` });
    expect(r.code, r.err).toBe(0);
    const info = await e.inspectImage(tags.app);
    const cmd = [...(info?.config.entrypoint ?? []), ...(info?.config.cmd ?? [])];
    const printed: string[] = [];
    await e.runContainer({ image: tags.app, cmd, user: info?.config.user ?? '', labels: testLabels(), onLine: (_s, l) => printed.push(l) });
    expect(printed).toEqual(['exttool ran: baked', 'added by the run extension', String(b.runUid)]);
    const v2: string[] = [];
    await e.runContainer({ image: tags.app, cmd: ['cat', '/etc/run-v2'], user: '0:0', labels: testLabels(), onLine: (_s, l) => v2.push(l) });
    expect(v2).toEqual(['v2']);
  });

  it('packages a buildpack as an image, which a builder then takes it from (a save read in docker save layout)', async ({ skip }) => {
    const e = need(skip);
    const b = bases as BusyboxBases;
    const r = await runKiln(['buildpack', 'package', tags.pkg, '-p', join(busyboxBuilder, 'buildpacks/shell-app'), '--pull-policy', 'never'], { DOCKER_HOST: host });
    expect(r.code, r.err).toBe(0);
    const config = join(tmp, 'package-builder.toml');
    await writeFile(config, `[[buildpacks]]\nuri = "docker://${tags.pkg}"\n\n[[order]]\n[[order.group]]\nid = "kiln-examples/shell-app"\n\n[build]\nimage = "${b.build}"\n\n[[run.images]]\nimage = "${b.run}"\n`);
    await createBuilder(e, { imageName: tags.fromPkg, configPath: config, labels: testLabels(), kilnVersion: '0.1.0' });
    const info = await e.inspectImage(tags.fromPkg);
    expect(JSON.parse(info?.config.labels['io.buildpacks.builder.metadata'] ?? '{}').buildpacks.map((m: { id: string }) => m.id)).toEqual(['kiln-examples/shell-app']);
  });
});
