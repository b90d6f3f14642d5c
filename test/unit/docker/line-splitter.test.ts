import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Demuxer, lineDemuxer } from '../../../src/docker/demux.js';
import { followJsonStream, JSON_LINE_CAP_BYTES } from '../../../src/docker/json-stream.js';
import { cutMarker, LINE_CAP_BYTES, LineSplitter } from '../../../src/docker/line-splitter.js';
import type { OutputStream } from '../../../src/ports.js';

const MiB = 1024 * 1024;

describe('LineSplitter: linear, with a cap on one line (issue 14, point 8)', () => {
  it('takes 100 MiB without a newline in 64 KiB chunks, never holds more than the cap, and marks the cut line', () => {
    const lines: Array<[string, number | undefined]> = [];
    const s = new LineSplitter((l, cut) => lines.push([l, cut]));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let most = 0;
    for (let sent = 0; sent < 100 * MiB; sent += chunk.length) {
      s.write(chunk);
      most = Math.max(most, s.buffered);
    }
    expect(most).toBeLessThanOrEqual(LINE_CAP_BYTES);
    expect(lines).toHaveLength(0);
    s.write(Buffer.from('\nnext line\n'));
    expect(s.buffered).toBe(0);
    expect(lines).toHaveLength(2);
    const [cut, total] = lines[0] as [string, number];
    expect(total).toBe(100 * MiB);
    expect(cut).toBe('x'.repeat(LINE_CAP_BYTES) + cutMarker(100 * MiB, LINE_CAP_BYTES));
    expect(cut).toContain(`${100 * MiB} bytes long`);
    expect(lines[1]).toEqual(['next line', undefined]);
  });

  it('cuts a long last line on flush too, and a line of exactly the cap is not cut', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), { maxBytes: 8 });
    s.write(Buffer.from('12345678\n123456789'));
    s.flush();
    expect(lines).toEqual(['12345678', `12345678${cutMarker(9, 8)}`]);
  });

  it('never cuts inside a UTF-8 character', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l), { maxBytes: 4 });
    s.write(Buffer.from('aé€b\n'));
    // 'a' (1) + 'é' (2) = 3 bytes; the 3-byte '€' does not fit in the 4th byte, so it is not shown.
    expect(lines).toEqual([`aé${cutMarker(7, 4)}`]);
  });

  it('splits many short lines given byte by byte', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    for (const b of Buffer.from('one\r\ntwo\n\nthree')) s.write(Buffer.from([b]));
    s.flush();
    expect(lines).toEqual(['one', 'two', '', 'three']);
  });
});

function header(type: number, size: number): Buffer {
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(size, 4);
  return h;
}

describe('Demuxer with large frames', () => {
  it('passes a 100 MiB frame on as it arrives instead of holding it', () => {
    let got = 0;
    const d = new Demuxer((_s, p) => (got += p.length));
    d.write(header(1, 100 * MiB));
    const chunk = Buffer.alloc(64 * 1024, 'y');
    d.write(chunk);
    expect(got).toBe(chunk.length);
    for (let sent = chunk.length; sent < 100 * MiB; sent += chunk.length) d.write(chunk);
    expect(got).toBe(100 * MiB);
    expect(d.leftover).toBe(0);
  });

  it('lineDemuxer: 100 MiB of stdout without a newline becomes one cut line, stderr lines stay whole', () => {
    const seen: Array<[OutputStream, string]> = [];
    const d = lineDemuxer((s, l) => seen.push([s, l.length > 100 ? `${l.slice(0, 3)}…${l.slice(LINE_CAP_BYTES)}` : l]));
    const chunk = Buffer.alloc(32 * 1024, 'z');
    for (let sent = 0; sent < 100 * MiB; sent += chunk.length) {
      d.write(Buffer.concat([header(1, chunk.length), chunk]));
      if (sent === 50 * MiB) d.write(Buffer.concat([header(2, 5), Buffer.from('half\n')]));
    }
    d.end();
    expect(seen).toEqual([
      ['stderr', 'half'],
      ['stdout', `zzz…${cutMarker(100 * MiB, LINE_CAP_BYTES)}`],
    ]);
  });
});

describe('followJsonStream with over-long messages', () => {
  it('turns a message over the cap into a note and keeps following', async () => {
    const stream = new PassThrough();
    const seen: string[] = [];
    const done = followJsonStream(stream, (m) => seen.push(m.stream ?? ''), { keep: false });
    stream.write('{"stream":"before\\n"}\n');
    const big = Buffer.alloc(64 * 1024, 'a');
    stream.write('{"stream":"');
    for (let sent = 0; sent < 2 * JSON_LINE_CAP_BYTES; sent += big.length) stream.write(big);
    stream.write('"}\n{"stream":"after\\n"}\n');
    stream.end();
    expect(await done).toEqual([]);
    expect(seen[0]).toBe('before\n');
    expect(seen[1]).toContain('dropped');
    expect(seen[2]).toBe('after\n');
  });
});
