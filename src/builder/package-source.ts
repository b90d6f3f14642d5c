/**
 * Unpacking a buildpack/extension package (distribution.md, "Buildpackage") for builder.toml: the archive is `docker save`
 * of a package image (<hex>/layer.tar entries), or a `.cnb` file, an OCI image layout (blobs/sha256/*,
 * layers plain or gzip-compressed, as `kiln … package --format file` or pack write it). Every layer's
 * `cnb/<kind>s/<escaped-id>/<version>/` tree is written below `into`; the module dir returned is the
 * only one found, or the one matching the entry's id (and version, when given). OCI blobs are not told
 * apart through the manifest: a blob that is a (gzipped) tar is a layer, config/manifest JSON is not.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import * as tarStream from 'tar-stream';
import { readTar, safeEntryPath } from '../image/tar-files.js';
import type { BuilderModuleEntry, ModuleKind } from '../cnb/models.js';
import { escapeId } from '../cnb/paths.js';

async function writeLayer(layer: Readable, prefix: string, into: string): Promise<void> {
  for (const e of await readTar(layer, { maxBytes: 1024 * 1024 * 1024 })) {
    const rel = safeEntryPath(e.path);
    if (rel === undefined || !rel.startsWith(prefix)) continue;
    const dest = join(into, rel);
    if (e.type === 'directory') await mkdir(dest, { recursive: true });
    else if (e.type === 'file') {
      await mkdir(dirname(dest), { recursive: true });
      await writeFile(dest, e.content, { mode: e.mode & 0o777 });
    } else if (e.type === 'symlink' && e.linkname !== undefined && !existsSync(dest)) {
      await mkdir(dirname(dest), { recursive: true });
      await symlink(e.linkname, dest);
    }
  }
}

/** Unpacks the archive's module trees below `into`; returns the module's directory. */
export async function unpackPackage(archive: Readable, kind: ModuleKind, entry: BuilderModuleEntry, into: string): Promise<string> {
  const prefix = `cnb/${kind}s/`;
  const extract = tarStream.extract();
  archive.on('error', (e: Error) => extract.destroy(e));
  archive.pipe(extract);
  for await (const e of extract) {
    if (e.header.type === 'file' && /(^|\/)layer\.tar$/.test(e.header.name)) await writeLayer(e as unknown as Readable, prefix, into);
    else if (e.header.type === 'file' && /(^|\/)blobs\/sha256\/[0-9a-f]{64}$/.test(e.header.name)) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      let data = Buffer.concat(chunks);
      if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
      if (data.length >= 512 && data.subarray(257, 262).toString() === 'ustar') await writeLayer(Readable.from([data]), prefix, into);
    } else e.resume();
  }
  const root = join(into, 'cnb', `${kind}s`);
  const found: { id: string; version: string; dir: string }[] = [];
  for (const id of existsSync(root) ? await readdir(root) : []) {
    for (const version of await readdir(join(root, id))) {
      if (existsSync(join(root, id, version, `${kind}.toml`))) found.push({ id, version, dir: join(root, id, version) });
    }
  }
  if (found.length === 0) throw new Error(`the package has no ${prefix}<id>/<version>/${kind}.toml`);
  const wanted = entry.id !== '' ? found.filter((f) => f.id === escapeId(entry.id) && (entry.version === '' || f.version === entry.version)) : found;
  const [only] = wanted;
  if (wanted.length !== 1 || only === undefined) {
    throw new Error(`the package holds ${found.map((f) => `${f.id}@${f.version}`).join(', ')}; name the one to use with id (and version) in the entry`);
  }
  return only.dir;
}
