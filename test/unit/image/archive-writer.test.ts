import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { archiveStream, SizeMismatchError, type ArchiveMember } from '../../../src/image/archive-writer.js';
import { readTar } from '../../../src/image/tar-files.js';

async function written(members: ArchiveMember[]): Promise<{ out: Buffer; error?: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of archiveStream(members)) chunks.push(c as Buffer);
    return { out: Buffer.concat(chunks) };
  } catch (error) {
    return { out: Buffer.concat(chunks), error };
  }
}

function pieces(...parts: string[]): Readable {
  return Readable.from(parts.map((p) => Buffer.from(p)));
}

describe('archiveChunks', () => {
  it('writes a tar docker load and tar-stream can read: parent dirs once, members in order', async () => {
    const { out, error } = await written([
      { name: 'a/layer.tar', size: 6, content: () => pieces('abc', 'def') },
      { name: 'a/other', size: 0, content: Buffer.alloc(0) },
      { name: 'manifest.json', size: 2, content: Buffer.from('[]') },
    ]);
    expect(error).toBeUndefined();
    const entries = await readTar(out);
    expect(entries.map((e) => `${e.type}:${e.path}:${e.content.toString()}`)).toEqual(['directory:a:', 'file:a/layer.tar:abcdef', 'file:a/other:', 'file:manifest.json:[]']);
  });

  it('throws before a member is complete when its content is longer or shorter than declared', async () => {
    for (const [size, parts] of [
      [5, ['abc', 'def']],
      [7, ['abc', 'def']],
      [6, ['abcdef', 'g']],
    ] as const) {
      const { out, error } = await written([{ name: 'l/layer.tar', size, content: () => pieces(...parts) }, { name: 'manifest.json', size: 2, content: Buffer.from('[]') }]);
      expect(error).toBeInstanceOf(SizeMismatchError);
      // two headers (dir + file) and less than the declared content: a reader sees a truncated member
      expect(out.length).toBeLessThan(1024 + size);
    }
  });
});
