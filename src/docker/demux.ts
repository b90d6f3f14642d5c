/**
 * Non-TTY attach/log streams are multiplexed (architecture.md, traps): each frame is an 8-byte header
 * [stream, 0, 0, 0, size(uint32 BE)] followed by `size` bytes. Demultiplex first, then split lines per
 * stream, so a line is never cut by a frame boundary or mixed with the other stream.
 */
import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from '../ports.js';

/** Splits a byte stream into lines (UTF-8 safe across chunks); `flush` emits a last partial line. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly onLine: (line: string) => void) {}

  write(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      const line = this.pending.slice(0, nl);
      this.pending = this.pending.slice(nl + 1);
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      nl = this.pending.indexOf('\n');
    }
  }

  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') {
      const line = this.pending;
      this.pending = '';
      this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
  }
}

/** Parses docker's multiplexed frames; hands each payload to the stdout or stderr sink in order. */
export class Demuxer {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly sink: (stream: OutputStream, payload: Buffer) => void) {}

  write(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 8) {
      const size = this.buffer.readUInt32BE(4);
      if (this.buffer.length < 8 + size) break;
      const type = this.buffer[0];
      const payload = this.buffer.subarray(8, 8 + size);
      this.buffer = this.buffer.subarray(8 + size);
      // 0 is stdin (never attached); 1 stdout; 2 stderr; 3 is the daemon's own error text: treat as stderr.
      if (type === 1) this.sink('stdout', payload);
      else if (type === 2 || type === 3) this.sink('stderr', payload);
    }
  }

  /** Bytes left over that do not form a whole frame (should be 0 at the end of a stream). */
  get leftover(): number {
    return this.buffer.length;
  }
}

/** Demuxer + one LineSplitter per stream, calling onLine for every complete line. */
export function lineDemuxer(onLine: (stream: OutputStream, line: string) => void): { write(chunk: Buffer): void; end(): void } {
  const out = new LineSplitter((l) => onLine('stdout', l));
  const err = new LineSplitter((l) => onLine('stderr', l));
  const demux = new Demuxer((stream, payload) => (stream === 'stdout' ? out : err).write(payload));
  return {
    write: (chunk) => demux.write(chunk),
    end: () => {
      out.flush();
      err.flush();
    },
  };
}
