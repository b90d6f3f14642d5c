/**
 * Streamed export on the real daemon (issue 5): a layer dir with awkward entries (long and non-ASCII
 * names, a newline in a name, hard links, symlinks, a fifo, empty files) is listed by listingScript in
 * a busybox container; export streams it into docker load under the predicted size and gets exactly
 * the image id of the temp-file path; a listing that predicts the wrong size makes the daemon's load
 * fail and export falls back (same id, nothing else tagged); an interrupt while streaming fails the
 * load with exit 130 and tags nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { KilnError } from '../../src/errors.js';
import { exportListings, listingScript, parseListings, type ListedEntry } from '../../src/lifecycle/export/dir-listing.js';
import { shArgv } from '../../src/lifecycle/container/sh-script.js';
import { exportImage, type ExportInput } from '../../src/lifecycle/export/export.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import type { ContainerEngine, KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runId, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
const bases = useBusyboxImages(engine, { runUid: 1000, runGid: 1000, name: 'export-stream' });
const layersVolume = testName('stream-layers');
const appVolume = testName('stream-app');
const tags = ['streamed', 'plain', 'fallback', 'interrupted'].map((t) => `kiln-test/export-stream:${runId}-${t}`);

function context(events: KilnEvent[], over: Partial<PhaseContext> = {}): PhaseContext {
  return { engine, reporter: { emit: (e) => events.push(e) }, labels, ids: { newId: () => 'id' }, ...over };
}

const MAKE_LAYER = [
  'set -e',
  'd=/layers/test_big/big',
  'mkdir -p "$d/bin" "$d/$(printf "a%.0s" $(seq 1 90))/$(printf "b%.0s" $(seq 1 90))"',
  'head -c 700001 /dev/urandom > "$d/bin/blob"',
  ': > "$d/empty"',
  'printf "deep" > "$d/$(printf "a%.0s" $(seq 1 90))/$(printf "b%.0s" $(seq 1 90))/$(printf "c%.0s" $(seq 1 60))"',
  'printf "x" > "$d/ünïcödé"',
  'printf "nl" > "$d/new',
  'line"',
  'ln "$d/bin/blob" "$d/hard-link"',
  'ln "$d/bin/blob" "$d/$(printf "h%.0s" $(seq 1 120))"',
  'ln -s ../bin/blob "$d/sym"',
  'ln -s "/$(printf "t%.0s" $(seq 1 150))" "$d/sym-long"',
  'busybox mkfifo "$d/fifo"',
  'chown -R 1000:1000 /layers',
].join('\n');

let listings: Record<string, ListedEntry[]> = {};

beforeAll(async () => {
  await engine.createVolume(layersVolume, labels);
  await engine.createVolume(appVolume, labels);
  const mounts = [{ type: 'volume' as const, source: layersVolume, target: '/layers' }];
  const made = await engine.runContainer({ image: bases().build, cmd: ['sh', '-c', MAKE_LAYER], user: '0:0', mounts, labels, network: 'none' });
  expect(made.exitCode).toBe(0);
  const lines: string[] = [];
  const listed = await engine.runContainer({ image: bases().build, cmd: shArgv(listingScript(['/layers/test_big/big']), 'kiln-list'), user: '0:0', mounts, labels, network: 'none', onLine: (s, l) => s === 'stdout' && lines.push(l) });
  expect(listed.exitCode).toBe(0);
  listings = exportListings(parseListings(lines));
});

afterAll(async () => {
  for (const t of tags) await engine.removeImage(t, { force: true }).catch(() => undefined);
  await engine.removeVolume(layersVolume);
  await engine.removeVolume(appVolume);
});

async function input(tag: string, over: Partial<ExportInput> = {}): Promise<ExportInput> {
  const run = await engine.inspectImage(bases().run);
  if (run === undefined) throw new Error('run image missing');
  return {
    tags: [tag],
    runImage: { info: run, reference: run.id, image: bases().run, mirrors: [] },
    user: { uid: 1000, gid: 1000 },
    volumes: { layers: layersVolume, app: appVolume },
    helperImage: bases().build,
    group: [{ id: 'test/big', version: '0.0.1', api: '0.10' }],
    groupExtensions: [],
    layerMetadata: { 'test/big': { big: { types: { launch: true, build: false, cache: false }, metadata: {} } } },
    storeMetadata: {},
    processes: [{ type: 'web', command: ['ls'], args: [], direct: true, default: true, buildpackId: 'test/big' }],
    defaultProcessType: 'web',
    labels: [],
    slices: [],
    projectMetadata: {},
    ...over,
  };
}

const debug = (events: KilnEvent[]): string[] => events.flatMap((e) => (e.type === 'debug' ? [e.message] : []));

describe('streamed export on the daemon', () => {
  let plainId = '';

  it('lists the dir with every entry', () => {
    const entries = listings['test_big/big'] ?? [];
    expect(entries.map((e) => e.path)).toEqual(expect.arrayContaining(['.', 'bin/blob', 'new\nline', 'ünïcödé', 'fifo', 'sym-long']));
    expect(entries.find((e) => e.path === 'bin/blob')).toMatchObject({ kind: 'file', size: 700001, nlink: 3 });
  });

  it('streams the layer into the load with the predicted size and gets the temp-file path image id', async () => {
    const plainEvents: KilnEvent[] = [];
    plainId = (await exportImage(context(plainEvents), await input(tags[1] as string))).imageId;
    const events: KilnEvent[] = [];
    const streamed = await exportImage(context(events), await input(tags[0] as string, { listings, streamThreshold: 0, commitLayers: false }));
    expect(debug(events).some((m) => /streamed into the load/.test(m))).toBe(true);
    expect(debug(events).some((m) => /instead/.test(m))).toBe(false);
    expect(streamed.imageId).toBe(plainId);
    expect((await engine.inspectImage(tags[0] as string))?.id).toBe(plainId);
  });

  it('falls back to a temp file when the listing is wrong: the streamed load fails on the daemon, the second succeeds', async () => {
    const wrong = { 'test_big/big': [...(listings['test_big/big'] ?? []), { path: 'ghost', kind: 'file' as const, size: 1000, nlink: 1, ino: '0' }] };
    const events: KilnEvent[] = [];
    const loads: string[] = [];
    const recording: ContainerEngine = {
      ...engine,
      loadImage: (a) =>
        engine.loadImage(a).then(
          (r) => (loads.push('loaded'), r),
          (e: unknown) => {
            loads.push('failed');
            throw e;
          },
        ),
    };
    const result = await exportImage(context(events, { engine: recording }), await input(tags[2] as string, { listings: wrong, streamThreshold: 0, commitLayers: false }));
    expect(debug(events).some((m) => /instead of the \d+ declared; writing the streamed layers to temp files instead/.test(m))).toBe(true);
    expect(loads).toEqual(['failed', 'loaded']);
    expect(result.imageId).toBe(plainId);
    expect((await engine.inspectImage(tags[2] as string))?.id).toBe(plainId);
  });

  it('an interrupt while the layer streams fails the load with exit 130 and tags nothing', async () => {
    const ac = new AbortController();
    const aborting: ContainerEngine = {
      ...engine,
      getArchive: async (id, path) => {
        const s = await engine.getArchive(id, path);
        if (path.endsWith('test_big/big')) s.once('data', () => ac.abort());
        return s;
      },
    };
    const err = await exportImage(context([], { engine: aborting, signal: ac.signal }), await input(tags[3] as string, { listings, streamThreshold: 0, commitLayers: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(130);
    expect(await engine.inspectImage(tags[3] as string)).toBeUndefined();
  });
});
