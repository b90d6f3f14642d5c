/**
 * Image archives on podman (issue 19 point 3; README "podman"). kiln loads archives that carry only
 * the layers the daemon lacks (src/image/image-archive.ts): the manifest names a path for every
 * layer, and Docker takes the ones it has from its own store. podman's docker-archive reader wants
 * every file ("Some layer tarfiles are missing in the tarball"), so before a load the adapter copies
 * the archive and appends the missing layer tars, taken out of `GET /images/{id}/get` of images that
 * have them. podman's own `save` writes each layer as `<diffID hex>.tar` (with `<id>/layer.tar`
 * symlinks to it); the port promises `docker save`'s layout, so saved archives are rewritten to
 * `<diffID hex>/layer.tar` files.
 */
import { PassThrough, Readable } from 'node:stream';
import * as tarStream from 'tar-stream';

/** A layer tar to put into an archive: its size up front, its content as a stream. */
export interface LayerTar {
  size: number;
  content: Readable;
}

/**
 * Hands out the tars of `diffIds` one at a time (the callback must consume `content` before it
 * resolves); throws when one cannot be found.
 */
export type LayerSource = (diffIds: string[], each: (diffId: string, layer: LayerTar) => Promise<void>) => Promise<void>;

const MAX_JSON = 16 * 1024 * 1024;

type EntryHeader = Parameters<tarStream.Pack['entry']>[0];

/** The archive path without a leading `./` (tar writers differ). */
const clean = (name: string): string => name.replace(/^(\.\/)+/, '');

interface ManifestEntry {
  Config?: unknown;
  Layers?: unknown;
}

/** Layer paths of the manifest with their diffIDs, from the config it names (index-aligned). */
function layerPaths(manifest: ManifestEntry[], configs: Map<string, Buffer>): Array<{ path: string; diffId: string }> {
  const out: Array<{ path: string; diffId: string }> = [];
  for (const m of manifest) {
    const layers = Array.isArray(m.Layers) ? m.Layers.filter((l): l is string => typeof l === 'string') : [];
    const config = typeof m.Config === 'string' ? configs.get(clean(m.Config)) : undefined;
    if (config === undefined) throw new Error(`the archive's manifest names a config ${String(m.Config)} the archive does not hold`);
    const diffIds = (JSON.parse(config.toString('utf8')) as { rootfs?: { diff_ids?: unknown } }).rootfs?.diff_ids;
    if (!Array.isArray(diffIds) || diffIds.length !== layers.length) throw new Error('the archive\'s manifest and config list different numbers of layers');
    layers.forEach((path, i) => out.push({ path: clean(path), diffId: String(diffIds[i]) }));
  }
  return out;
}

async function readAll(entry: AsyncIterable<Buffer>, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    n += c.length;
    if (n > limit) throw new Error(`${name} in the image archive is larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

function putEntry(pack: tarStream.Pack, header: EntryHeader, content?: Readable | Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (Buffer.isBuffer(content)) {
      pack.entry(header, content, (err) => (err ? reject(err) : resolve()));
      return;
    }
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()));
    if (content !== undefined) {
      content.on('error', (e: Error) => sink.destroy(e));
      content.pipe(sink as unknown as NodeJS.WritableStream);
    }
    // Entries without content (directories, links) are written and finished by tar-stream itself.
  });
}

/**
 * A new tar streamed out of `input`: `body` reads the entries of `extract` and writes entries to `pack`,
 * and the pack is finalized when it resolves. A failure destroys the returned stream, so whoever reads
 * it sees a truncated archive fail rather than end.
 */
function repack(input: Readable, body: (extract: tarStream.Extract, pack: tarStream.Pack) => Promise<void>): Readable {
  const out = new PassThrough();
  const pack = tarStream.pack();
  const extract = tarStream.extract();
  pack.on('error', (e: Error) => out.destroy(e));
  pack.pipe(out);
  input.on('error', (e: Error) => extract.destroy(e));
  input.pipe(extract);
  body(extract, pack).then(
    () => pack.finalize(),
    (e: unknown) => {
      extract.destroy();
      out.destroy(e instanceof Error ? e : new Error(String(e)));
    },
  );
  return out;
}

/**
 * The archive with every layer file the manifest names: entries are copied as they come; at
 * manifest.json (docker-archive readers take members in any order) the missing layers are appended
 * from `source`, then the manifest. Failures destroy the returned stream, so the load fails on a
 * truncated archive and loads nothing.
 */
export function completeImageArchive(archive: Readable | Buffer, source: LayerSource): Readable {
  return repack(Buffer.isBuffer(archive) ? Readable.from([archive]) : archive, async (extract, pack) => {
    const seen = new Set<string>();
    const jsons = new Map<string, Buffer>();
    let manifest: Buffer | undefined;
    for await (const entry of extract) {
      const name = clean(entry.header.name);
      if (name === 'manifest.json') {
        manifest = await readAll(entry as unknown as AsyncIterable<Buffer>, MAX_JSON, name);
        continue;
      }
      seen.add(name);
      if (entry.header.type === 'file' && name.endsWith('.json') && (entry.header.size ?? 0) <= MAX_JSON) {
        const body = await readAll(entry as unknown as AsyncIterable<Buffer>, MAX_JSON, name);
        jsons.set(name, body);
        await putEntry(pack, entry.header, body);
      } else if (entry.header.type === 'file') await putEntry(pack, entry.header, entry as unknown as Readable);
      else {
        entry.resume();
        await putEntry(pack, entry.header);
      }
    }
    if (manifest === undefined) throw new Error('the image archive has no manifest.json');
    const missing = new Map<string, string[]>();
    for (const { path, diffId } of layerPaths(JSON.parse(manifest.toString('utf8')) as ManifestEntry[], jsons)) {
      if (seen.has(path)) continue;
      seen.add(path);
      missing.set(diffId, [...(missing.get(diffId) ?? []), path]);
    }
    if (missing.size > 0) {
      await source([...missing.keys()], async (diffId, layer) => {
        const paths = missing.get(diffId) ?? [];
        const [first, ...others] = paths;
        if (first === undefined) {
          layer.content.resume();
          return;
        }
        await putEntry(pack, { name: first, type: 'file', mode: 0o644, size: layer.size, mtime: new Date(0) }, layer.content);
        for (const p of others) await putEntry(pack, { name: p, type: 'symlink', linkname: relativeTo(p, first), mtime: new Date(0) });
        missing.delete(diffId);
      });
      if (missing.size > 0) throw new Error(`the daemon has no image holding layer ${[...missing.keys()].join(', ')}`);
    }
    await putEntry(pack, { name: 'manifest.json', type: 'file', mode: 0o644, size: manifest.length, mtime: new Date(0) }, manifest);
  });
}

/** A symlink target for `from` pointing at `to`, both archive paths. */
function relativeTo(from: string, to: string): string {
  const depth = from.split('/').length - 1;
  return `${'../'.repeat(depth)}${to}`;
}

const LAYER_FILE = /^([0-9a-f]{64})\.tar$/;

/** A podman layer file name (`<hex>.tar`) the Docker way (`<hex>/layer.tar`); other names unchanged. */
export function dockerLayerPath(name: string): string {
  const m = LAYER_FILE.exec(clean(name));
  return m?.[1] !== undefined ? `${m[1]}/layer.tar` : clean(name);
}

/**
 * podman's `save` output in `docker save`'s layout: `<hex>.tar` layer files become `<hex>/layer.tar`,
 * podman's legacy `<id>/` directories (symlinks to the layer files, json, VERSION) and `repositories`
 * are dropped, and the manifest's layer paths follow. Streamed entry by entry (layers can be large).
 */
export function dockerSaveLayout(saved: Readable): Readable {
  return repack(saved, async (extract, pack) => {
    const dirs = new Set<string>();
    for await (const entry of extract) {
      const name = clean(entry.header.name);
      if (name === 'manifest.json') {
        const manifest = JSON.parse((await readAll(entry as unknown as AsyncIterable<Buffer>, MAX_JSON, name)).toString('utf8')) as ManifestEntry[];
        const body = Buffer.from(JSON.stringify(manifest.map((m) => ({ ...m, Layers: Array.isArray(m.Layers) ? m.Layers.map((l) => (typeof l === 'string' ? dockerLayerPath(l) : l)) : m.Layers }))));
        await putEntry(pack, { name, type: 'file', mode: 0o644, size: body.length, mtime: new Date(0) }, body);
        continue;
      }
      const renamed = dockerLayerPath(name);
      if (renamed !== name && entry.header.type === 'file') {
        const dir = renamed.slice(0, renamed.indexOf('/'));
        if (!dirs.has(dir)) {
          dirs.add(dir);
          await putEntry(pack, { name: `${dir}/`, type: 'directory', mode: 0o755, mtime: new Date(0) });
        }
        await putEntry(pack, { ...entry.header, name: renamed }, entry as unknown as Readable);
      } else if ((name.includes('/') && !(entry.header.type === 'file' && name.endsWith('/layer.tar'))) || name === 'repositories') {
        entry.resume();
      } else if (entry.header.type === 'file') await putEntry(pack, entry.header, entry as unknown as Readable);
      else {
        entry.resume();
        await putEntry(pack, entry.header);
      }
    }
  });
}
