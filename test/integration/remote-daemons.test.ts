/**
 * Remote daemons (issue 19, README "Remote daemons"): a second dockerd started by
 * scripts/remote-daemons.sh, reached over tcp://, over ssh:// (one ssh connection, the host key checked
 * against known_hosts) and through a Docker context. On each: `kiln stack create busybox`, `kiln builder
 * create`, a `kiln build` with an extension that extends both the build and the run image, and running
 * the app image. A changed or unknown host key is refused with exit 4 and what to do; a server that
 * refuses socket forwarding is reached through `docker system dial-stdio`.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { ExitCode } from '../../src/errors.js';
import type { ContainerEngine } from '../../src/ports.js';
import { cleanupByLabel, leftovers, runId, testName } from '../helpers/test-labels.js';
import { childEnv, kiln, NO_REMOTE, remoteEnv, root, writeContext } from '../helpers/remote-daemons.js';

const { env: remote, skip } = remoteEnv();
const fixtures = join(root, 'test/fixtures/build');
const labels = `io.kiln.test=${runId}`;

describe.skipIf(remote === undefined)(`kiln on a remote daemon${skip === '' ? '' : ` (${skip})`}`, () => {
  // Collected even when skipped: nothing here may touch the (absent) daemon or the disk.
  const r = remote ?? NO_REMOTE;
  const work = join(tmpdir(), `kiln-remote-it-${testName('w')}`);
  const contextDir = join(work, 'docker-config');
  const sshEnv = { DOCKER_HOST: r.sshHost, HOME: r.sshHome, KILN_SSH_DOCKER_SOCKET: r.dockerSocket };
  // One engine on the second daemon (tcp) for set-up checks and cleanup.
  const direct: ContainerEngine = createDockerEngine({ host: r.tcpHost });
  const tags: string[] = [];

  beforeAll(() => {
    mkdirSync(work, { recursive: true });
    writeContext(contextDir, 'kiln-test-remote', r.tcpHost);
  });

  afterAll(async () => {
    for (const t of [...tags].reverse()) await direct.removeImage(t, { force: true });
    await cleanupByLabel(direct, { 'io.kiln.test': runId });
    rmSync(work, { recursive: true, force: true });
  }, 120_000);

  const targets: [string, Record<string, string>][] = [
    ['tcp://', { DOCKER_HOST: r.tcpHost }],
    ['ssh://', sshEnv],
    ['a Docker context', { DOCKER_CONFIG: contextDir }],
  ];

  it.each(targets)('over %s: stack create, builder create, a build with a build and a run extension, and the app runs', async (_name, target) => {
    const env = childEnv({ ...target, KILN_LABELS: labels });
    const tag = (what: string): string => {
      const t = `kiln-test/remote-${what}:${testName('r')}`;
      tags.push(t);
      return t;
    };
    const [buildImage, runImage, builder, app] = [tag('build'), tag('run'), tag('builder'), tag('app')];
    const stack = await kiln(['stack', 'create', 'busybox', '--build-image', buildImage, '--run-image', runImage], env);
    expect(stack.code, stack.out).toBe(0);

    const toml = join(work, `builder-${tags.length}.toml`);
    writeFileSync(toml, [
      '[[buildpacks]]', `uri = "${join(fixtures, 'buildpacks/uses-tool')}"`,
      '[[extensions]]', `uri = "${join(fixtures, 'extensions/tool')}"`,
      '[[order]]', '[[order.group]]', 'id = "kiln-test/uses-tool"',
      '[[order-extensions]]', '[[order-extensions.group]]', 'id = "kiln-test/tool-ext"',
      '[build]', `image = "${buildImage}"`,
      '[[run.images]]', `image = "${runImage}"`, '',
    ].join('\n'));
    const created = await kiln(['builder', 'create', builder, '--config', toml], env);
    expect(created.code, created.out).toBe(0);

    const built = await kiln(['build', app, '--builder', builder, '--path', join(fixtures, 'apps/simple')], env);
    expect(built.code, built.out).toBe(0);
    expect(built.out).toContain('exttool ran: from uses-tool');
    expect(built.out).toContain('kiln-test/tool-ext@1.0.0: changed the build and run image');

    // The image is on the second daemon, and runs there through the same kind of connection.
    expect(await direct.inspectImage(app)).toBeDefined();
    const engine = createDockerEngine({ env: childEnv(target) });
    const lines: string[] = [];
    const ran = await engine.runContainer({ image: app, cmd: ['/cnb/process/show'], user: '1001:1000', labels: { 'io.kiln.test': runId }, onLine: (_s, l) => lines.push(l) });
    expect(ran.exitCode, lines.join('\n')).toBe(0);
    expect(lines).toEqual(['exttool ran: baked', 'added by the run extension', '1001']);
    // Nothing of the builds' sessions is left (the cache volume is kept by design).
    const left = await leftovers(direct, { 'io.kiln.test': runId });
    expect(left.containers).toEqual([]);
    expect(left.volumes.filter((v) => !v.startsWith('kiln-cache-'))).toEqual([]);
  }, 400_000);

  it('over ssh, a changed host key is refused with exit 4, naming the host and how to fix it', async () => {
    const res = await kiln(['builder', 'inspect', 'kiln-test/none:1'], childEnv({ ...sshEnv, HOME: r.sshWrongHome }));
    expect(res.code, res.out).toBe(ExitCode.daemon);
    const hostPort = r.sshHost.replace(/^ssh:\/\/[^@]*@/, '').replace(/^([^:]+):(\d+)$/, '[$1]:$2');
    expect(res.out).toContain(`the host key of ${hostPort} has CHANGED`);
    expect(res.out).toContain(`ssh-keygen -R '${hostPort}'`);
  });

  it('over ssh, an unknown host key is refused with exit 4 and the ssh-keyscan hint', async () => {
    const home = join(work, 'home-unknown');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    copyFileSync(join(r.sshHome, '.ssh/id_ed25519'), join(home, '.ssh/id_ed25519'));
    const res = await kiln(['builder', 'inspect', 'kiln-test/none:1'], childEnv({ ...sshEnv, HOME: home }));
    expect(res.code, res.out).toBe(ExitCode.daemon);
    expect(res.out).toMatch(/the host key of \[127\.0\.0\.1\]:\d+ is unknown \(it presented ssh-ed25519 SHA256:/);
    expect(res.out).toContain('ssh-keyscan -p');
  });

  it('a server that refuses socket forwarding is reached through `docker system dial-stdio`', async () => {
    const engine = createDockerEngine({ env: childEnv({ DOCKER_HOST: r.sshExecHost, HOME: r.sshHome }) });
    await engine.ping();
    const ran = await engine.runContainer({ image: 'kiln-test/none:1', cmd: ['true'], user: '1000:1000', labels: { 'io.kiln.test': runId } }).catch((e: unknown) => e);
    // The daemon behind the exec channel answered (a missing image is its answer, exit 5).
    expect((ran as { exitCode?: number }).exitCode).toBe(ExitCode.missingImage);
  });
});
