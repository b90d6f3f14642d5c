/**
 * The orchestration of one build (issue 16 points 1 and 7a), on the shared recording fake engine
 * (test/helpers/fake-engine.ts) with recording phase steps, composed as buildApp composes them
 * (withBuildSession + runPhases): the order of the phases, what runs alongside what, that phases after
 * analyze get the prepared context, and that a failure leaves no volume or container and releases the
 * cache lock.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPhases } from '../../../src/app/build-phases.js';
import type { PhasesInput } from '../../../src/app/build-request.js';
import { withBuildSession, type BuildSession } from '../../../src/app/build-session.js';
import type { Built, CacheState, PhaseSteps, Resolved } from '../../../src/app/build-steps.js';
import type { ExtensionsResult } from '../../../src/app/build-extensions.js';
import type { ImageFetcher } from '../../../src/app/image-fetcher.js';
import { lockCacheVolume } from '../../../src/app/build-lock.js';
import { SESSION_LABEL } from '../../../src/app/session-owner.js';
import type { ExportResult } from '../../../src/lifecycle/export/types.js';
import type { PhaseContext } from '../../../src/lifecycle/phase-context.js';
import type { BuilderInfo } from '../../../src/lifecycle/read-builder.js';
import type { KilnEvent } from '../../../src/ports.js';
import { FakeEngine, fakeImage } from '../../helpers/fake-engine.js';

const BUILDER = fakeImage('sha256:builder');
const RUN = fakeImage('sha256:run');
const CACHE = 'test-cache-volume';

let dir = '';
let app = '';
let lockDir = '';
const saved = process.env.KILN_TMPDIR;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-build-phases-'));
  app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'index.txt'), 'hello\n');
  // The cache lock lives in this test's own directory (build-lock.ts defaultLockDir).
  process.env.KILN_TMPDIR = join(dir, 'tmp');
  lockDir = join(dir, 'tmp', `kiln-locks-${process.getuid?.() ?? 'user'}`);
});
afterAll(async () => {
  if (saved === undefined) delete process.env.KILN_TMPDIR;
  else process.env.KILN_TMPDIR = saved;
  await rm(dir, { recursive: true, force: true });
});

const builder = { image: 'builder', info: BUILDER, user: { uid: 1000, gid: 1001 }, env: [], order: { order: [], orderExtensions: [] }, runImages: [{ image: 'run', mirrors: [] }], buildpacks: new Map(), extensions: new Map(), buildConfigEnv: [] } as unknown as BuilderInfo;

function inputOf(session: BuildSession): PhasesInput {
  return {
    req: { image: 'app:latest', builder: 'builder', path: app, env: {}, volumes: [], cacheVolume: CACHE },
    builder,
    project: undefined,
    volumes: session.volumes,
    platformEnv: { GREETING: 'hi' },
    runImage: { ref: 'run', info: RUN, vars: { os: 'linux', arch: 'amd64' }, target: { os: 'linux', arch: 'amd64', variant: '', distros: [] } },
    keepImage: (id) => session.keepImage(id),
    fetcher: {} as ImageFetcher,
  };
}

/**
 * Phase steps that note their start and end in the engine's call log, yielding once in between (so what
 * runs alongside shows up between them); `fail` makes that step throw after it started.
 */
function recordingSteps(engine: FakeEngine, seen: Map<string, PhaseContext>, fail?: keyof PhaseSteps): PhaseSteps {
  const step = async <T>(name: keyof PhaseSteps, ctx: PhaseContext, value: () => T | Promise<T>): Promise<T> => {
    seen.set(name, ctx);
    engine.note(`${name} start`);
    await Promise.resolve();
    if (fail === name) {
      engine.note(`${name} failed`);
      throw new Error(`${name} failed`);
    }
    const out = await value();
    engine.note(`${name} end`);
    return out;
  };
  const resolved: Resolved = { ok: true, group: [{ id: 'acme/a', version: '1', api: '0.10' }], groupExtensions: [], plan: { entries: [] }, trace: [] };
  const ext: ExtensionsResult = { buildImage: BUILDER, runImage: { info: RUN, reference: RUN.id, image: 'run', mirrors: [] }, targetVars: { os: 'linux', arch: 'amd64' }, plan: { entries: [] }, warnings: [], dockerBuilds: 0 };
  return {
    analyze: (ctx) =>
      step('analyze', ctx, async (): Promise<CacheState> => {
        // Like openCache on a first build: the cache volume is new (and not a session resource).
        await ctx.engine.createVolume(CACHE, {});
        return { volume: CACHE, previous: undefined, meta: { diffIds: {} } as CacheState['meta'], created: true };
      }),
    detect: (ctx) => step('detect', ctx, () => resolved),
    restore: (ctx) =>
      step('restore', ctx, () => {
        ctx.reporter.emit({ type: 'info', message: 'restored acme/a' });
      }),
    extensions: (ctx) => step('extensions', ctx, () => ext),
    build: (ctx) => step('build', ctx, (): Built => ({ result: { buildpacks: [], processes: [{ type: 'web' }], labels: [], slices: [], warnings: [] } as unknown as Built['result'] })),
    export: (ctx, input) =>
      step('export', ctx, async (): Promise<ExportResult> => {
        // An intermediate image of the session, and the app image, which the session keeps.
        await ctx.engine.buildImage({ context: Buffer.alloc(0), dockerfile: 'intermediate', buildArgs: {}, labels: ctx.labels });
        const { imageId } = await ctx.engine.buildImage({ context: Buffer.alloc(0), dockerfile: 'app', buildArgs: {}, labels: ctx.labels });
        input.keepImage(imageId);
        return { imageId } as ExportResult;
      }),
  };
}

async function build(engine: FakeEngine, steps: PhaseSteps, events: KilnEvent[] = []) {
  return withBuildSession({ engine, reporter: { emit: (e) => events.push(e) }, ids: { newId: () => 'sess1' } }, { lock: { cacheVolume: CACHE, image: 'app:latest' } }, (session) => runPhases(session, inputOf(session), steps));
}

const notes = (engine: FakeEngine): string[] => engine.calls.filter((c) => c.method === 'note').map((c) => c.what);
const at = (engine: FakeEngine, method: string, what: string): number => engine.calls.findIndex((c) => (c.method === 'note' ? c.what === what : c.method === method && (what === '' || c.what === what)));

describe('the phases of a build on a recording engine', () => {
  it('runs analyze alongside the session volumes, restore alongside the extensions, then build and export', async () => {
    const engine = new FakeEngine();
    const seen = new Map<string, PhaseContext>();
    const events: KilnEvent[] = [];
    const result = await build(engine, recordingSteps(engine, seen), events);
    expect(notes(engine)).toEqual(['analyze start', 'analyze end', 'detect start', 'detect end', 'restore start', 'extensions start', 'restore end', 'extensions end', 'build start', 'build end', 'export start', 'export end']);
    // The session's volumes are created while analyze runs.
    expect(at(engine, 'createVolume', 'kiln-sess1-app')).toBeGreaterThan(at(engine, 'note', 'analyze start'));
    expect(at(engine, 'createVolume', 'kiln-sess1-app')).toBeLessThan(at(engine, 'note', 'analyze end'));
    // The extensions start before restore ends (they run alongside).
    expect(at(engine, 'note', 'extensions start')).toBeLessThan(at(engine, 'note', 'restore end'));
    // Detect waits for the prepared session: the app and /platform/env were sent before.
    expect(at(engine, 'putArchive', '')).toBeLessThan(at(engine, 'note', 'detect start'));
    // Analyze runs before the volume host exists; every later phase copies through it.
    expect(seen.get('analyze')?.volumeHost).toBeUndefined();
    for (const p of ['detect', 'restore', 'extensions', 'build', 'export']) expect(seen.get(p)?.volumeHost?.mounts.get('kiln-sess1-app')).toBe('/workspace');
    // Restore's events are shown in its own phase, after detect's.
    const shown = events.filter((e) => e.type === 'phase-start' || (e.type === 'info' && e.message === 'restored acme/a')).map((e) => (e.type === 'phase-start' ? e.phase : 'restored'));
    expect(shown).toEqual(['analyzing', 'detecting', 'restoring', 'restored', 'building', 'exporting']);
    expect(result).toMatchObject({ group: [{ id: 'acme/a', version: '1' }], processes: ['web'], runImage: 'run', cacheVolume: CACHE });
    // Cleanup: the session's containers and volumes are gone; the app image and the cache volume stay.
    expect([...engine.containers.keys()]).toEqual([]);
    expect([...engine.volumes.keys()]).toEqual([CACHE]);
    expect([...engine.images.keys()]).toEqual([result.imageId]);
    expect(engine.images.get(result.imageId)?.config.labels[SESSION_LABEL]).toBe('sess1');
    expect(existsSync(lockDir) ? readdirSync(lockDir) : []).toEqual([]);
  });

  for (const failing of ['detect', 'extensions', 'restore', 'build', 'export'] as const) {
    it(`a failing ${failing} leaves no volume, container or image of the session and releases the lock`, async () => {
      const engine = new FakeEngine();
      const err = await build(engine, recordingSteps(engine, new Map(), failing)).catch((e: unknown) => e);
      expect((err as Error).message).toBe(`${failing} failed`);
      expect(notes(engine)).not.toContain('export end');
      // The cache volume this failed build created is removed too (it holds nothing worth keeping).
      expect([...engine.volumes.keys()]).toEqual([]);
      expect([...engine.containers.keys()]).toEqual([]);
      expect([...engine.images.keys()]).toEqual([]);
      expect(readdirSync(lockDir)).toEqual([]);
      lockCacheVolume(CACHE, 'app:latest').release();
    });
  }

  it('a failing analyze stops the build after the volumes settled, and cleanup removes them', async () => {
    const engine = new FakeEngine();
    const err = await build(engine, recordingSteps(engine, new Map(), 'analyze')).catch((e: unknown) => e);
    expect((err as Error).message).toBe('analyze failed');
    expect(notes(engine)).toEqual(['analyze start', 'analyze failed']);
    // Everything prepare started had finished (the app was sent) before cleanup ran.
    expect(at(engine, 'putArchive', '')).toBeLessThan(at(engine, 'listContainers', ''));
    expect([...engine.volumes.keys()]).toEqual([]);
    expect([...engine.containers.keys()]).toEqual([]);
    expect(readdirSync(lockDir)).toEqual([]);
  });

  it('a second build of the same cache volume fails before anything is created', async () => {
    const engine = new FakeEngine();
    const held = lockCacheVolume(CACHE, 'app:latest');
    try {
      const err = await build(engine, recordingSteps(engine, new Map())).catch((e: unknown) => e);
      expect((err as Error).message).toContain(`another kiln build (pid ${process.pid}) is using cache volume ${CACHE}`);
      expect(engine.calls).toEqual([]);
    } finally {
      held.release();
    }
  });
});
