import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/image/digest.js';
import { filterLayerToFile, isUnder, layerEntryPath, whitedOutPath } from '../../../src/image/layer-filter.js';
import { readTar } from '../../../src/image/tar-files.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

type EntryHeader = Parameters<ReturnType<typeof tarStream.pack>['entry']>[0];

async function layer(entries: EntryHeader[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const h of entries) {
    if (h.type === 'file') pack.entry(h, 'x'.repeat(h.size ?? 0));
    else pack.entry(h);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('extension layer filter (writes under <app>, <layers>, <platform> are not persisted)', () => {
  it('recognises paths, whiteouts and roots', () => {
    expect(layerEntryPath('./workspace/')).toBe('workspace');
    expect(whitedOutPath('workspace/.wh.f')).toBe('workspace/f');
    expect(whitedOutPath('.wh.layers')).toBe('layers');
    expect(whitedOutPath('opt/.wh..wh..opq')).toBe('opt/.wh..wh..opq');
    expect(isUnder('workspace', ['/workspace'])).toBe(true);
    expect(isUnder('workspace/a/b', ['/workspace'])).toBe(true);
    expect(isUnder('workspaces', ['/workspace'])).toBe(false);
  });

  it('drops entries under the roots, their whiteouts and hard links to them; keeps the rest with owners and modes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-layer-filter-'));
    dirs.push(dir);
    const src = await layer([
      { name: 'opt/', type: 'directory', mode: 0o755 },
      { name: 'opt/keep', type: 'file', size: 3, mode: 0o640, uid: 1001, gid: 1000 },
      { name: 'workspace/', type: 'directory', mode: 0o755 },
      { name: 'workspace/app.txt', type: 'file', size: 2, mode: 0o644 },
      { name: 'layers/x/f', type: 'file', size: 1, mode: 0o644 },
      { name: '.wh.platform', type: 'file', size: 0, mode: 0o644 },
      { name: 'opt/link', type: 'link', linkname: 'workspace/app.txt', mode: 0o644 },
      { name: 'opt/.wh.gone', type: 'file', size: 0, mode: 0o644 },
    ]);
    const dest = join(dir, 'out.tar');
    const r = await filterLayerToFile(Readable.from([src]), dest, ['/workspace', '/layers', '/platform']);
    expect(r.dropped).toBe(5);
    const out = await readFile(dest);
    expect(r.diffId).toBe(`sha256:${sha256Hex(out)}`);
    const entries = await readTar(out);
    expect(entries.map((e) => e.path)).toEqual(['opt', 'opt/keep', 'opt/.wh.gone']);
    const keep = entries.find((e) => e.path === 'opt/keep');
    expect([keep?.mode, keep?.uid, keep?.gid]).toEqual([0o640, 1001, 1000]);
  });
});
