/** Issue 14 point 13: app file names that are not UTF-8 (legal on Linux) keep their bytes into the tar. */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeName, encodeName, fsPath, hasRawBytes } from '../../../src/image/raw-names.js';
import { makeTar, readTar } from '../../../src/image/tar-files.js';
import { appSourceTar } from '../../../src/lifecycle/app-source.js';

const LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // "café.txt" in latin-1
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('raw file names', () => {
  it('round-trip any bytes; UTF-8 names stay plain strings', () => {
    for (const bytes of [LATIN1, Buffer.from([0xff, 0xfe, 0x2f, 0x80]), Buffer.from('naïve-😀', 'utf8'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])]) {
      expect(encodeName(decodeName(bytes)).equals(bytes)).toBe(true);
    }
    expect(decodeName(Buffer.from('naïve-😀', 'utf8'))).toBe('naïve-😀');
    expect(hasRawBytes('naïve-😀')).toBe(false);
    expect(hasRawBytes(decodeName(LATIN1))).toBe(true);
    expect(fsPath('plain')).toBe('plain');
  });

  it('a tar entry with a raw name carries the exact bytes (PAX path); plain tars are unchanged', async () => {
    const tar = await makeTar([{ path: `dir/${decodeName(LATIN1)}`, content: 'x' }]);
    expect(tar.includes(Buffer.concat([Buffer.from(' path=dir/'), LATIN1, Buffer.from('\n')]))).toBe(true);
    const plain = await makeTar([{ path: 'dir/a.txt', content: 'x' }]);
    expect(plain.includes(Buffer.from('PaxHeader'))).toBe(false);
  });

  it('the app source reads a latin-1 file name, its content and a link to it', async () => {
    const d = await mkdtemp(join(tmpdir(), 'kiln-rawname-'));
    dirs.push(d);
    await writeFile(Buffer.concat([Buffer.from(`${d}/`), LATIN1]), 'latin-1 content\n');
    await symlink(LATIN1, Buffer.concat([Buffer.from(`${d}/`), Buffer.from('link-'), LATIN1]));
    // Read back through tar-files (whose pax decoding keeps raw bytes, tar-header.ts).
    const entries = await readTar(await appSourceTar(d, { uid: 1000, gid: 1000 }));
    const file = entries.find((e) => e.type !== 'symlink' && encodeName(e.path).equals(LATIN1));
    expect(file?.content?.toString()).toBe('latin-1 content\n');
    const link = entries.find((e) => e.type === 'symlink');
    expect(encodeName(link?.linkname ?? '').equals(LATIN1)).toBe(true);
  });
});
