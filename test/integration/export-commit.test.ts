/**
 * Committed export on the real daemon (issue 5): a big launch layer is copied into a container of the
 * run image and committed by the daemon instead of passing through kiln. The image then holds the
 * layer with the layer's owner, mode and fixed mtime, awkward names and all; the same dir gives the
 * same image id again; a new small layer below it goes in first through an intermediate image; a run
 * image without a shell, or with the layer's path in it already, makes export write the layer to a
 * temp file instead (that path's image id); an
 * interrupt while the copy runs ends with exit 130 and tags nothing; and
 * the committed and intermediate images carry the context's labels, so a build's cleanup finds them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine } from '../../src/docker/docker-engine.js';
import { exportImage, type ExportInput } from '../../src/lifecycle/export/export.js';
import type { PhaseContext } from '../../src/lifecycle/phase-context.js';
import { makeTar } from '../../src/image/tar-files.js';
import { KilnError } from '../../src/errors.js';
import type { ContainerEngine, KilnEvent } from '../../src/ports.js';
import { useBusyboxImages } from '../helpers/busybox-images.js';
import { runId, testLabels, testName } from '../helpers/test-labels.js';

const engine = createDockerEngine();
const labels = testLabels();
/** On every container and image the exports here make, so the test can find and remove them. */
const exportLabels = testLabels({ 'io.kiln.test.export-commit': testName('session') });
const bases = useBusyboxImages(engine, { runUid: 1000, runGid: 1000, name: 'export-commit' });
const layersVolume = testName('commit-layers');
const appVolume = testName('commit-app');
const shellless = `kiln-test/export-commit-noshell:${runId}`;
const tags = ['committed', 'again', 'below', 'noshell', 'noshell-plain', 'interrupted', 'occupied', 'occupied-plain'].map((t) => `kiln-test/export-commit:${runId}-${t}`);

const MAKE_LAYERS = [
  'set -e',
  'd=/layers/test_big/big',
  'mkdir -p "$d/bin" "$d/$(printf "a%.0s" $(seq 1 90))/$(printf "b%.0s" $(seq 1 90))"',
  'head -c 700001 /dev/urandom > "$d/bin/blob"',
  'chmod 750 "$d/bin/blob"',
  ': > "$d/empty"',
  'printf "deep" > "$d/$(printf "a%.0s" $(seq 1 90))/$(printf "b%.0s" $(seq 1 90))/$(printf "c%.0s" $(seq 1 60))"',
  'printf "x" > "$d/ünïcödé"',
  'printf "nl" > "$d/new',
  'line"',
  'ln "$d/bin/blob" "$d/hard-link"',
  'ln -s ../bin/blob "$d/sym"',
  'busybox mkfifo "$d/fifo"',
  'mkdir -p /layers/test_big/a-small',
  'printf "small" > /layers/test_big/a-small/file',
  'chown -R 1000:1000 /layers',
  'md5sum "$d/bin/blob" | cut -d" " -f1',
].join('\n');

let blobMd5 = '';
/** A run image with /layers/test_big/big in it already (made by one test; removed in afterAll). */
let occupied = '';

beforeAll(async () => {
  await engine.createVolume(layersVolume, labels);
  await engine.createVolume(appVolume, labels);
  const lines: string[] = [];
  const made = await engine.runContainer({
    image: bases().build,
    cmd: ['sh', '-c', MAKE_LAYERS],
    user: '0:0',
    mounts: [{ type: 'volume', source: layersVolume, target: '/layers' }],
    labels,
    network: 'none',
    onLine: (s, l) => s === 'stdout' && lines.push(l),
  });
  expect(made.exitCode).toBe(0);
  blobMd5 = lines[0] ?? '';
  const rootfs = await makeTar([{ path: 'etc/passwd', content: 'root:x:0:0::/:/nope\n' }]);
  await engine.importImage(rootfs, { ref: shellless, changes: Object.entries(labels).map(([k, v]) => `LABEL ${k}=${v}`) });
});

afterAll(async () => {
  for (const t of [...tags, shellless]) await engine.removeImage(t, { force: true }).catch(() => undefined);
  if (occupied !== '') await engine.removeImage(occupied, { force: true }).catch(() => undefined);
  const filter = { labels: Object.entries(exportLabels).map(([k, v]) => `${k}=${v}`) };
  for (const id of await engine.listImages(filter)) await engine.removeImage(id, { force: true }).catch(() => undefined);
  await engine.removeVolume(layersVolume);
  await engine.removeVolume(appVolume);
});

function context(events: KilnEvent[], over: Partial<PhaseContext> = {}): PhaseContext {
  return { engine, reporter: { emit: (e) => events.push(e) }, labels: exportLabels, ids: { newId: () => 'id' }, ...over };
}

const launchOnly = { types: { launch: true, build: false, cache: false }, metadata: {} };

async function input(tag: string, over: Partial<ExportInput> = {}, runRef = bases().run): Promise<ExportInput> {
  const run = await engine.inspectImage(runRef);
  if (run === undefined) throw new Error('run image missing');
  return {
    tags: [tag],
    runImage: { info: run, reference: run.id, image: runRef, mirrors: [] },
    user: { uid: 1000, gid: 1000 },
    volumes: { layers: layersVolume, app: appVolume },
    helperImage: bases().build,
    group: [{ id: 'test/big', version: '0.0.1', api: '0.10' }],
    groupExtensions: [],
    layerMetadata: { 'test/big': { big: launchOnly } },
    layerBytes: { 'test_big/big': 700_000_000 },
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

/** Runs a script in a container of the image; its stdout lines. */
async function inImage(image: string, script: string): Promise<string[]> {
  const lines: string[] = [];
  const r = await engine.runContainer({ image, cmd: ['sh', '-c', script], user: '0:0', labels, network: 'none', onLine: (s, l) => s === 'stdout' && lines.push(l) });
  expect(r.exitCode).toBe(0);
  return lines;
}

describe('committed export on the daemon', () => {
  let committedId = '';

  it('commits the big layer: owner, modes, mtime, names and content as a layer tar of kiln gives them', async () => {
    const events: KilnEvent[] = [];
    const out = await exportImage(context(events), await input(tags[0] as string));
    committedId = out.imageId;
    expect(debug(events).some((m) => /test_big\/big: committed by the daemon/.test(m))).toBe(true);
    expect(debug(events).some((m) => /instead/.test(m))).toBe(false);
    const run = await engine.inspectImage(bases().run);
    // run image + the big layer, launcher, config, process types (the app and sbom layers are empty here or absent)
    expect(out.layers.slice(0, run?.layers.length)).toEqual(run?.layers);
    const d = '/layers/test_big/big';
    const lines = await inImage(tags[0] as string, [
      `stat -c '%n %u:%g %a %Y' /layers /layers/test_big ${d} ${d}/bin ${d}/bin/blob ${d}/empty ${d}/sym`,
      `md5sum ${d}/bin/blob | cut -d" " -f1`,
      `readlink ${d}/sym`,
      `[ -p ${d}/fifo ] && echo fifo`,
      `cat "${d}/new\nline" "${d}/ünïcödé"; echo`,
      `cat ${d}/a*/b*/c*; echo`,
      `[ "$(stat -c %i ${d}/bin/blob)" = "$(stat -c %i ${d}/hard-link)" ] && echo hard-linked`,
      `[ -e /layers/test_big/a-small ] || echo no-small`,
    ].join('\n'));
    expect(lines.slice(0, 7)).toEqual([
      '/layers 1000:1000 755 315532801',
      '/layers/test_big 1000:1000 755 315532801',
      `${d} 1000:1000 755 315532801`,
      `${d}/bin 1000:1000 755 315532801`,
      `${d}/bin/blob 1000:1000 750 315532801`,
      `${d}/empty 1000:1000 644 315532801`,
      `${d}/sym 1000:1000 777 315532801`,
    ]);
    expect(lines.slice(7)).toEqual([blobMd5, '../bin/blob', 'fifo', 'nlx', 'deep', 'hard-linked', 'no-small']);
  });

  it('gives the same image id when the same dir is committed again', async () => {
    const out = await exportImage(context([]), await input(tags[1] as string));
    expect(out.imageId).toBe(committedId);
  });

  it('loads a new small layer below the big one first, as an intermediate image, and commits on top of it', async () => {
    const events: KilnEvent[] = [];
    const over = { layerMetadata: { 'test/big': { 'a-small': launchOnly, big: launchOnly } }, layerBytes: { 'test_big/a-small': 5, 'test_big/big': 700_000_000 } };
    const out = await exportImage(context(events), await input(tags[2] as string, over));
    expect(debug(events).some((m) => /test_big\/big: committed by the daemon/.test(m))).toBe(true);
    expect(debug(events).some((m) => /test_big\/a-small: \d+ bytes/.test(m))).toBe(false);
    expect(await inImage(tags[2] as string, 'cat /layers/test_big/a-small/file; echo; md5sum /layers/test_big/big/bin/blob | cut -d" " -f1')).toEqual(['small', blobMd5]);
    // The small layer sits right below the big one (the group's layer order), then app, launcher, config, process types.
    const run = await engine.inspectImage(bases().run);
    const n = run?.layers.length ?? 0;
    const committed = /committed by the daemon in \d+ ms \((sha256:[0-9a-f]{64})\)/.exec(debug(events).join('\n'))?.[1];
    expect(out.layers.length).toBe(n + 6);
    expect(out.layers[n + 1]).toBe(committed);
  });

  it('writes the layer to a temp file instead when the run image has no shell, with the temp-file path image id', async () => {
    const events: KilnEvent[] = [];
    const plain = await exportImage(context([]), await input(tags[4] as string, { layerBytes: {} }, shellless));
    const out = await exportImage(context(events), await input(tags[3] as string, {}, shellless));
    expect(debug(events).some((m) => /committing a layer failed: .*"sh": executable file not found.*; writing the layers to temp files instead/s.test(m))).toBe(true);
    expect(out.imageId).toBe(plain.imageId);
    expect((await engine.inspectImage(tags[3] as string))?.id).toBe(plain.imageId);
  });

  it('writes the layer to a temp file instead when its path is in the run image already (the copy script exits 3)', async () => {
    const made = await engine.runContainer({ image: bases().run, cmd: ['sh', '-c', 'mkdir -p /layers/test_big/big'], user: '0:0', labels: exportLabels, network: 'none', commit: true });
    expect(made.exitCode).toBe(0);
    occupied = made.imageId as string;
    const plain = await exportImage(context([]), await input(tags[7] as string, { layerBytes: {} }, occupied));
    const events: KilnEvent[] = [];
    const out = await exportImage(context(events), await input(tags[6] as string, {}, occupied));
    expect(debug(events).some((m) => /committing a layer failed: the copy of test_big\/big exited 3: .*is in the run image already; writing the layers to temp files instead/.test(m))).toBe(true);
    expect(out.imageId).toBe(plain.imageId);
  });

  it('an interrupt while the copy runs ends the export with exit 130, tags nothing and leaves no container', async () => {
    const ac = new AbortController();
    const aborting: ContainerEngine = {
      ...engine,
      runContainer: (spec) => {
        if (spec.commit === true) spec.onLine = () => ac.abort();
        return engine.runContainer(spec.commit === true ? { ...spec, cmd: ['sh', '-c', `echo copying; sleep 5; ${spec.cmd[2] ?? ''}`] } : spec);
      },
    };
    const err = await exportImage(context([], { engine: aborting, signal: ac.signal }), await input(tags[5] as string)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).exitCode).toBe(130);
    expect(await engine.inspectImage(tags[5] as string)).toBeUndefined();
    expect(await engine.listContainers({ labels: Object.entries(exportLabels).map(([k, v]) => `${k}=${v}`) })).toEqual([]);
  });

  it('labels the committed and intermediate images with the context labels and leaves no containers', async () => {
    const filter = { labels: Object.entries(exportLabels).map(([k, v]) => `${k}=${v}`) };
    // Two commits of the first tests, one commit and one intermediate image of the third (the second commit is the same content again, another image).
    expect((await engine.listImages(filter)).length).toBeGreaterThanOrEqual(3);
    expect(await engine.listContainers(filter)).toEqual([]);
  });
});
