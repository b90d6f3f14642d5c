/**
 * Hostile buildpacks and extensions (issue 8, docs/reliability.md "Hostile modules") on the real daemon:
 * detect, generate and build never run as root, and never see the docker socket; a buildpack writing
 * outside /layers and /workspace changes nothing in the image; symlinks pointing out of a layer, out of
 * the generated output or out of the app dir stay links (no host or builder file is copied through
 * them) and app links climbing out of the app dir are refused; a generated build.Dockerfile that is a symlink is refused (exit 92); a builder whose CNB user is root is
 * refused; --volume cannot hand the docker socket to modules; secrets given with --env do not show in
 * --verbose or --json output.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { makeTar } from '../../src/image/tar-files.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, runId, testLabels, testName } from '../helpers/test-labels.js';
import { runCli, sessionLeftovers } from '../fixtures/bad-input/run-cli.js';

const run = promisify(execFile);
const engine = createDockerEngine();
const fixtures = join(import.meta.dirname, '../fixtures/hostile');
const bases = useBusyboxImages(engine, { name: 'hostile' });
const builderTag = `kiln-test/hostile-builder:${testName('b')}`;
const rootBuilderTag = `kiln-test/hostile-root-builder:${testName('r')}`;
const appTag = `kiln-test/hostile-app:${testName('a')}`;
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('hostile') };
const KILN_LABELS = Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(',');
const SECRET = 's3cr3t-hostile-value-9f8e';
/** A password inside a URL, in a variable whose name does not look secret (issue 14 point 5). */
const URL_SECRET = 'pr0xy-pw-7c6d';
const PROXY = `http://proxyuser:${URL_SECRET}@proxy.invalid:3128`;
let tmp = '';
let app = '';
let built: { code: number; out: string } = { code: -1, out: '' };

async function inImage(image: string, script: string): Promise<string> {
  const { stdout } = await run('docker', ['run', '--rm', '--pull', 'never', '--network', 'none', '--label', `io.kiln.test=${runId}`, '--user', '0:0', '--entrypoint', '', image, 'sh', '-c', script]);
  return stdout;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kiln-hostile-'));
  app = join(tmp, 'app');
  await mkdir(app);
  await writeFile(join(app, 'index.txt'), 'app file\n');
  // Absolute links (to a host file that exists on every Linux host, and to a file beside the app dir)
  // and a relative link inside the app.
  await symlink('/etc/hostname', join(app, 'host-link'));
  await symlink('index.txt', join(app, 'inside-link'));
  await writeFile(join(tmp, 'outside.txt'), 'host file outside the app dir\n');
  await symlink(join(tmp, 'outside.txt'), join(app, 'outside-link'));
  await makeTestBuilder(engine, {
    buildpacks: [join(fixtures, 'bp')],
    extensions: [join(fixtures, 'ext')],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/hostile"\nversion = "1.0.0"\n\n[[order-extensions]]\n[[order-extensions.group]]\nid = "kiln-test/hostile-ext"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
    uid: bases().uid,
    gid: bases().gid,
  });
  built = await runCli(['build', appTag, '--builder', builderTag, '--path', app, '--env', `API_TOKEN=${SECRET}`, '--env', `HTTP_PROXY=${PROXY}`, '--verbose'], { KILN_LABELS });
});

afterAll(async () => {
  await engine.removeImage(appTag, { force: true });
  await engine.removeImage(rootBuilderTag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
  if (tmp !== '') await rm(tmp, { recursive: true, force: true });
});

describe('hostile modules', () => {
  it('the build succeeds and leaves nothing of the session', async () => {
    expect(built.code, built.out).toBe(0);
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('detect, generate and build never run as root', () => {
    for (const phase of ['hostile detect', 'hostile-ext detect', 'hostile-ext generate', 'hostile build']) {
      const line = built.out.split('\n').find((l) => l.includes(`${phase}: uid=`));
      expect(line, `${phase} output`).toBeDefined();
      expect(line).not.toMatch(/uid=0\b/);
      expect(line).toContain(`uid=${bases().uid}`);
    }
  });

  it('module containers never see the docker socket', () => {
    const lines = built.out.split('\n').filter((l) => l.includes('socket='));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toContain('socket=no');
  });

  it('writes outside /layers and /workspace fail or vanish: the image has none of them', async () => {
    expect(built.out).toContain('could not write /etc/hostile-etc');
    expect(built.out).toContain('could not write /cnb/hostile-cnb');
    const found = await inImage(appTag, 'for p in /tmp/hostile-tmp /home/hostile-home /etc/hostile-etc /cnb/hostile-cnb /hostile-root /home/*/hostile-home-dir /root/hostile-home-dir; do [ -e "$p" ] && echo "FOUND $p"; done; true');
    expect(found).toBe('');
  });

  it('links out of a layer stay links inside the image (no file copied through them)', async () => {
    const out = await inImage(appTag, 'cd /layers/kiln-test_hostile/web && readlink passwd-link && readlink dotdot-link && cat inside.txt && [ ! -d /layers/kiln-test_hostile/web/passwd-link ] && echo ok');
    expect(out).toBe('/etc/passwd\n../../../../etc/shadow\ninside the layer\nok\n');
  });

  it('app dir symlinks are kept as links: no host file reaches the image', async () => {
    const out = await inImage(appTag, 'cd /workspace && for f in host-link inside-link outside-link; do [ -L "$f" ] && echo "$f -> $(readlink "$f")"; done; cat index.txt; grep -r "host file outside" /workspace /layers 2>/dev/null; true');
    expect(out).toBe(`host-link -> /etc/hostname\ninside-link -> index.txt\noutside-link -> ${join(tmp, 'outside.txt')}\napp file\n`);
  });

  it('an app dir symlink climbing out of the app dir is refused (exit 2, names the link), nothing left', async () => {
    const bad = join(tmp, 'bad-app');
    await mkdir(join(bad, 'sub'), { recursive: true });
    await symlink('../../../../../etc/passwd', join(bad, 'sub', 'dotdot-link'));
    const image = `${appTag}-dotdot`;
    const r = await runCli(['build', image, '--builder', builderTag, '--path', bad], { KILN_LABELS });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain(`${join(bad, 'sub', 'dotdot-link')} -> ../../../../../etc/passwd points outside the app directory`);
    expect(await engine.inspectImage(image)).toBeUndefined();
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('a generated build.Dockerfile that is a symlink is refused (exit 92, names the extension and the file), never read', async () => {
    const linkApp = join(tmp, 'symlink-dockerfile-app');
    await mkdir(linkApp);
    await writeFile(join(linkApp, 'hostile-symlink-dockerfile'), '');
    const image = `${appTag}-symlink-dockerfile`;
    const r = await runCli(['build', image, '--builder', builderTag, '--path', linkApp], { KILN_LABELS });
    expect(r.code, r.out).toBe(92);
    expect(r.out).toContain('kiln-test/hostile-ext');
    expect(r.out).toContain('/layers/generated/kiln-test_hostile-ext/build.Dockerfile is a symlink (to /etc/passwd), not a regular file');
    expect(r.out).not.toContain('Applying build.Dockerfile');
    expect(r.out).not.toMatch(/root:x:0:0/);
    expect(await engine.inspectImage(image)).toBeUndefined();
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('the --env secret does not show in --verbose output', () => {
    expect(built.out).toContain('API_TOKEN');
    expect(built.out).not.toContain(SECRET);
  });

  it('a password in a URL (any variable name) does not show, even when a module prints it', () => {
    expect(built.out).toContain('hostile build: proxy=http://<redacted>@proxy.invalid:3128');
    expect(built.out).not.toContain(URL_SECRET);
  });

  it('a password in a URL does not show in --json output nor in an error', async () => {
    const image = `${appTag}-urljson`;
    try {
      const r = await runCli(['build', image, '--builder', builderTag, '--path', app, '--env', `HTTP_PROXY=${PROXY}`, '--json', '--verbose'], { KILN_LABELS });
      expect(r.code, r.out).toBe(0);
      expect(r.out).toContain('proxy.invalid');
      expect(r.out).not.toContain(URL_SECRET);
      const bad = await runCli(['build', image, '--builder', builderTag, '--path', app, '--env', `=${PROXY}`], { KILN_LABELS });
      expect(bad.code, bad.out).toBe(3);
      expect(bad.out).not.toContain(URL_SECRET);
    } finally {
      await engine.removeImage(image, { force: true });
    }
  });

  it('the --env secret does not show in --json output (events and result)', async () => {
    const image = `${appTag}-json`;
    try {
      const r = await runCli(['build', image, '--builder', builderTag, '--path', app, '--env', `API_TOKEN=${SECRET}`, '--json', '--verbose'], { KILN_LABELS });
      expect(r.code, r.out).toBe(0);
      expect(r.stdout.trim()).not.toBe('');
      expect(r.out).not.toContain(SECRET);
    } finally {
      await engine.removeImage(image, { force: true });
    }
  });

  it('a builder whose CNB user is root is refused before any module runs', async () => {
    const dockerfile = `FROM ${builderTag}\nUSER 0:0\nENV CNB_USER_ID=0 CNB_GROUP_ID=0\n`;
    await engine.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: dockerfile }]), dockerfile: 'Dockerfile', buildArgs: {}, tag: rootBuilderTag, labels: testLabels() });
    const image = `${appTag}-root`;
    const r = await runCli(['build', image, '--builder', rootBuilderTag, '--path', app], { KILN_LABELS });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('root');
    expect(r.out).not.toContain('hostile detect');
    expect(await engine.inspectImage(image)).toBeUndefined();
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });

  it('--volume refuses the docker socket', async () => {
    for (const sock of ['/var/run/docker.sock', '/run/docker.sock']) {
      const r = await runCli(['build', `${appTag}-sock`, '--builder', builderTag, '--path', app, '--volume', `${sock}:/var/run/docker.sock`], { KILN_LABELS });
      expect(r.code, r.out).toBe(3);
      expect(r.out).toContain('docker socket');
    }
    expect(await sessionLeftovers(engine, fileLabel)).toEqual({ containers: [], images: [], volumes: [] });
  });
});
