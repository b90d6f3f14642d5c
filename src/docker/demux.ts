/**
 * Non-TTY attach/log streams are multiplexed (docs/architecture.md, "Known traps"): each frame is an 8-byte header
 * [stream, 0, 0, 0, size(uint32 BE)] followed by `size` bytes. Demultiplex first, then split lines per
 * stream, so a line is never cut by a frame boundary or mixed with the other stream.
 */
import type { OutputStream } from '../ports.js';
import { LineSplitter } from './line-splitter.js';

export { LineSplitter } from './line-splitter.js';

/** A frame up to this size is handed on whole; a larger one in pieces, as its bytes arrive. */
const WHOLE_FRAME_BYTES = 64 * 1024;

/**
 * Parses docker's multiplexed frames; hands each payload to the stdout or stderr sink in order. Linear
 * and bounded: a frame's bytes are joined once (small frames) or passed on as they come (large ones), so
 * a frame header announcing gigabytes never makes it hold them.
 */
export class Demuxer {
  private header: Buffer = Buffer.alloc(0);
  /** Payload bytes of the current frame still to come (0: a header is next). */
  private remaining = 0;
  private stream: OutputStream | undefined;
  private pieces: Buffer[] = [];
  private held = 0;
  private whole = false;

  constructor(private readonly sink: (stream: OutputStream, payload: Buffer) => void) {}

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining === 0) {
        const need = 8 - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (this.header.length < 8) return;
        const type = this.header[0];
        this.remaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        // 0 is stdin (never attached); 1 stdout; 2 stderr; 3 is the daemon's own error text: treat as stderr.
        this.stream = type === 1 ? 'stdout' : type === 2 || type === 3 ? 'stderr' : undefined;
        this.whole = this.remaining <= WHOLE_FRAME_BYTES;
        if (this.remaining === 0) this.deliver(Buffer.alloc(0));
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      const part = chunk.subarray(at, at + take);
      at += take;
      this.remaining -= take;
      if (!this.whole) {
        this.deliver(part);
        continue;
      }
      this.pieces.push(part);
      this.held += part.length;
      if (this.remaining === 0) {
        const payload = this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.held);
        this.pieces = [];
        this.held = 0;
        this.deliver(payload);
      }
    }
  }

  private deliver(payload: Buffer): void {
    if (this.stream !== undefined) this.sink(this.stream, payload);
  }

  /** Bytes of an unfinished frame: header bytes, held payload, payload still announced (0 at a clean end). */
  get leftover(): number {
    return this.header.length + this.held + this.remaining;
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

/**
 * The lines of an attached process's multiplexed output stream (a container's attach, an exec's start).
 * A throwing `onLine` must not become an uncaught exception inside a stream event: its first error is
 * kept (`error()`) for the caller to rethrow once the process is done. `ended` resolves when the stream
 * ends, closes or fails; `end()` flushes the last unterminated lines.
 */
export function attachedLines(stream: NodeJS.ReadableStream, onLine: (stream: OutputStream, line: string) => void = () => undefined): { ended: Promise<void>; end(): void; error(): unknown } {
  let lineError: unknown;
  const lines = lineDemuxer((s, line) => {
    if (lineError !== undefined) return;
    try {
      onLine(s, line);
    } catch (e) {
      lineError = e ?? new Error('onLine threw');
    }
  });
  const ended = new Promise<void>((resolve) => {
    stream.on('data', (chunk: Buffer) => lines.write(chunk));
    stream.on('end', () => resolve());
    stream.on('close', () => resolve());
    stream.on('error', () => resolve());
  });
  return { ended, end: () => lines.end(), error: () => lineError };
}
