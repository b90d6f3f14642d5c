import { describe, expect, it } from 'vitest';
import { Demuxer, LineSplitter, lineDemuxer } from '../../../src/docker/demux.js';
import type { OutputStream } from '../../../src/ports.js';

function frame(type: number, text: string | Buffer): Buffer {
  const payload = typeof text === 'string' ? Buffer.from(text) : text;
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('LineSplitter', () => {
  it('splits across chunks, strips \\r, keeps empty lines and flushes a partial last line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.write(Buffer.from('a\r\nb'));
    s.write(Buffer.from('c\n\nlast'));
    expect(lines).toEqual(['a', 'bc', '']);
    s.flush();
    expect(lines).toEqual(['a', 'bc', '', 'last']);
    s.flush();
    expect(lines).toHaveLength(4);
  });

  it('does not break a UTF-8 character split between chunks', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('héllo\n');
    s.write(bytes.subarray(0, 2));
    s.write(bytes.subarray(2));
    expect(lines).toEqual(['héllo']);
  });
});

describe('Demuxer', () => {
  it('hands payloads to their streams in order, also when frames and headers are cut anywhere', () => {
    const all = Buffer.concat([frame(1, 'out1\n'), frame(2, 'err1\n'), frame(1, ''), frame(1, 'out2\n'), frame(3, 'daemon\n'), frame(0, 'stdin')]);
    for (let cut = 1; cut < all.length; cut++) {
      const seen: Array<[OutputStream, string]> = [];
      const d = new Demuxer((s, p) => seen.push([s, p.toString()]));
      d.write(all.subarray(0, cut));
      d.write(all.subarray(cut));
      expect(seen.filter(([, t]) => t !== '')).toEqual([
        ['stdout', 'out1\n'],
        ['stderr', 'err1\n'],
        ['stdout', 'out2\n'],
        ['stderr', 'daemon\n'],
      ]);
      expect(d.leftover).toBe(0);
    }
  });
});

describe('lineDemuxer', () => {
  it('gives complete lines per stream, never mixing a stdout line with stderr text', () => {
    const seen: Array<[OutputStream, string]> = [];
    const d = lineDemuxer((s, l) => seen.push([s, l]));
    d.write(Buffer.concat([frame(1, 'hal'), frame(2, 'oops\n'), frame(1, 'f\nnext'), frame(2, 'tail')]));
    d.end();
    expect(seen).toEqual([
      ['stderr', 'oops'],
      ['stdout', 'half'],
      ['stdout', 'next'],
      ['stderr', 'tail'],
    ]);
  });
});
