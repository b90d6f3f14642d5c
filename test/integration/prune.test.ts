/**
 * What a dead kiln leaves behind (issue 14 point 10): a build killed with SIGKILL leaves its session's
 * containers and volumes (and its lock); the next build says so and names `kiln prune`, and takes the
 * dead build's lock over; `kiln prune` removes the dead session but never a live concurrent one, and with
 * --caches / --extended the cache volumes of images that no longer exist and kept extended images.
 * SIGHUP (terminal closed) ends a build like Ctrl-C: exit 130, nothing left. A failed Dockerfile build
 * leaves none of its step images behind (they carry no label, so no sweep would find them).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_LABEL } from '../../src/app/build-app.js';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { defaultCacheVolume } from '../../src/lifecycle/cache/cache-volume.js';
import { EXTEND_CACHE_LABEL } from '../../src/lifecycle/extend/cache.js';
import { makeTar } from '../../src/image/tar-files.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { makeTestBuilder } from '../helpers/test-builder.js';
import { cleanupByLabel, leftovers, runId, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const root = join(import.meta.dirname, '../..');
const bases = useBusyboxImages(engine, { name: 'prune' });
const builderTag = `kiln-test/prune-builder:${testName('b')}`;
const appTag = `kiln-test/prune-app:${testName('a')}`;
const app = join(root, 'test/fixtures/bad-input/app');
const fileLabel = { 'io.kiln.test': runId, 'io.kiln.test.file': testName('prune') };
/** kiln's temp root (locks, temp dirs) for this file's runs. */
const tmp = mkdtempSync(join(tmpdir(), 'kiln-prune-test-'));
const env = { ...process.env, KILN_LABELS: Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`).join(','), NO_COLOR: '1', KILN_TMPDIR: tmp };
/** A temp dir as a kiln killed mid-export leaves it: named after a process that is gone. */
const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
const deadTemp = join(tmp, `kiln-export-${deadPid}.12345-AbC123`);

interface Running {
  done: Promise<{ code: number | null; out: string }>;
  kill: (signal: NodeJS.Signals) => void;
  /** Resolves once the output contains the text. */
  seen: (text: string) => Promise<void>;
}

function kiln(args: string[]): Running {
  const child = spawn('node', ['bin/kiln.js', ...args], { cwd: root, env });
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const w of waiters.filter((x) => out.includes(x.text))) w.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return {
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, out }))),
    kill: (signal) => child.kill(signal),
    seen: (text) => new Promise<void>((resolve) => (out.includes(text) ? resolve() : waiters.push({ text, resolve }))),
  };
}

const build = (image: string, kilnCase = 'none'): Running => kiln(['build', image, '--builder', builderTag, '--path', app, '--env', `KILN_CASE=${kilnCase}`]);

/** Sessions (by id) that still have resources carrying this file's label. */
async function sessions(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const kind of ['container', 'volume', 'image'] as const) {
    for (const r of (await engine.listLabelled?.(kind, { labels: [SESSION_LABEL, ...Object.entries(fileLabel).map(([k, v]) => `${k}=${v}`)] })) ?? []) {
      const id = r.labels[SESSION_LABEL] ?? '';
      out.set(id, (out.get(id) ?? 0) + 1);
    }
  }
  return out;
}

beforeAll(async () => {
  await makeTestBuilder(engine, {
    buildpacks: [join(root, 'test/fixtures/limits/bp')],
    extensions: [],
    orderToml: '[[order]]\n[[order.group]]\nid = "kiln-test/limits"\nversion = "1.0.0"\n',
    runImage: bases().run,
    tag: builderTag,
    labels: {},
    baseImage: bases().build,
  });
});

afterAll(async () => {
  for (const tag of [appTag, `${appTag}-next`]) await engine.removeImage(tag, { force: true });
  await engine.removeImage(builderTag, { force: true });
  await cleanupByLabel(engine, fileLabel);
  rmSync(tmp, { recursive: true, force: true });
});

describe('after a kiln killed with SIGKILL', () => {
  let deadSession = '';

  it('its session is left behind; the next build points at kiln prune and takes the dead lock over', async () => {
    const killed = build(appTag, 'slow');
    await killed.seen('limits build: marker');
    const before = await sessions();
    killed.kill('SIGKILL');
    await killed.done;
    expect(before.size).toBe(1);
    deadSession = [...before.keys()][0] ?? '';
    // The bin/build container is gone with nobody to wait for it; the volumes stay.
    expect((await sessions()).get(deadSession)).toBeGreaterThan(0);
    mkdirSync(deadTemp);
    const next = await build(appTag).done;
    expect(next.code, next.out).toBe(0);
    expect(next.out).toContain('ended without cleaning up');
    expect(next.out).toContain('kiln prune');
    expect(next.out).toContain(`${SESSION_LABEL}=${deadSession}`);
    expect(next.out).toContain(`1 temp dir(s) (${deadTemp})`);
  });

  it('kiln prune removes the dead session and keeps a live concurrent one; SIGHUP then ends that build like Ctrl-C', async () => {
    const live = build(`${appTag}-next`, 'slow');
    await live.seen('limits build: marker');
    const liveSessions = [...(await sessions()).keys()].filter((s) => s !== deadSession);
    expect(liveSessions).toHaveLength(1);
    const dry = await kiln(['prune', '--dry-run']).done;
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).toContain(`would remove session ${deadSession}`);
    expect((await sessions()).has(deadSession)).toBe(true);
    const pruned = await kiln(['prune']).done;
    expect(pruned.code, pruned.out).toBe(0);
    expect(pruned.out).toContain(`removed session ${deadSession}`);
    expect(pruned.out).toContain(`removed temp dir ${deadTemp}`);
    expect(existsSync(deadTemp)).toBe(false);
    expect(pruned.out).toContain(`kept session ${liveSessions[0] ?? ''}: its kiln`);
    const after = await sessions();
    expect(after.has(deadSession)).toBe(false);
    expect(after.get(liveSessions[0] ?? '')).toBeGreaterThan(0);
    live.kill('SIGHUP');
    const ended = await live.done;
    expect(ended.code, ended.out).toBe(130);
    expect((await sessions()).size).toBe(0);
  });

  it('prune --caches removes cache volumes of images that no longer exist, keeps those of existing ones', async () => {
    // appTag exists (built above); `${appTag}-next` never did (its build was interrupted).
    const gone = defaultCacheVolume(`${appTag}-next`);
    await engine.createVolume(gone, { ...fileLabel, 'io.kiln.cache': `${appTag}-next` });
    const kept = defaultCacheVolume(appTag);
    expect(await engine.volumeExists(kept)).toBe(true);
    const r = await kiln(['prune', '--caches']).done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`removed cache volume ${gone}`);
    expect(await engine.volumeExists(gone)).toBe(false);
    expect(await engine.volumeExists(kept)).toBe(true);
  });

  it('prune --extended removes kept extended images', async () => {
    const { imageId } = await engine.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: `FROM ${bases().run}\nLABEL kept=1\n` }]), dockerfile: 'Dockerfile', buildArgs: {}, labels: { ...fileLabel, [EXTEND_CACHE_LABEL]: 'k1' } });
    const r = await kiln(['prune', '--extended']).done;
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('removed 1 kept extended image(s)');
    expect(await engine.inspectImage(imageId)).toBeUndefined();
    expect((await leftovers(engine, fileLabel)).images).toEqual([]);
  });
});

describe('a failed Dockerfile build', () => {
  it('leaves no unlabelled intermediate image', async () => {
    const all = async (): Promise<string[]> => (await promisify(execFile)('docker', ['images', '-a', '-q', '--no-trunc'])).stdout.split('\n').filter((l) => l !== '');
    const before = new Set(await all());
    // Unique steps, so none comes from the daemon's cache; two succeed (two step images), the third fails.
    const token = randomBytes(6).toString('hex');
    const dockerfile = `FROM ${bases().run}\nUSER root\nRUN echo ${token} > /one\nRUN echo ${token} > /two\nRUN false\n`;
    const err = await engine.buildImage({ context: await makeTar([{ path: 'Dockerfile', content: dockerfile }]), dockerfile: 'Dockerfile', buildArgs: {}, labels: fileLabel }).catch((e: unknown) => e);
    expect(String(err)).toContain('non-zero code');
    // Images made since, that descend from this file's own run base (other files' builds do not).
    const base = (await engine.inspectImage(bases().run))?.id;
    const parent = async (id: string): Promise<string> => (await promisify(execFile)('docker', ['image', 'inspect', '--format', '{{.Parent}}', id])).stdout.trim();
    const descendsFromBase = async (id: string): Promise<boolean> => {
      for (let p = await parent(id), i = 0; p !== '' && i < 20; p = await parent(p), i++) if (p === base) return true;
      return false;
    };
    const made: string[] = [];
    for (const id of (await all()).filter((i) => !before.has(i))) if (await descendsFromBase(id).catch(() => false)) made.push(id);
    expect(made).toEqual([]);
  });
});
