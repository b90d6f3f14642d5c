/**
 * The one line splitter for everything kiln reads line by line from a process or the daemon: module
 * and container output (demux.ts), the daemon's JSON progress streams (json-stream.ts) and the text of
 * Dockerfile builds (image-ops.ts).
 *
 * Linear and bounded: each byte is scanned once, and a line is only joined when its newline arrives.
 * A line longer than the cap (LINE_CAP_BYTES, 64 KiB, unless the caller sets another) is cut: its first
 * `cap` bytes are kept, the rest is counted and dropped until the next newline, and the line is then
 * passed on once with a marker saying how long it was. So output without any newline (a module printing
 * 100 MiB on one line) costs at most `cap` bytes of memory and time proportional to its size.
 *
 * Lines are split on `\n` only (a `\r` right before it is dropped) and decoded as UTF-8 once whole, so a
 * character split between chunks stays intact (0x0A never occurs inside a UTF-8 sequence).
 */

/** Default cap on one line, in bytes (module output, build output). */
export const LINE_CAP_BYTES = 64 * 1024;

/** How a cut line ends: the text people see after the kept part. */
export function cutMarker(totalBytes: number, cap: number): string {
  return ` [kiln: line cut, ${totalBytes} bytes long, only the first ${cap} bytes are shown]`;
}

export interface LineSplitterOptions {
  /** Bytes kept of one line (default LINE_CAP_BYTES). */
  maxBytes?: number;
}

/**
 * Called once per line, without its newline. `cutFrom` is set when the line was cut: it is the line's
 * whole length in bytes (the line passed already ends with cutMarker).
 */
export type OnLine = (line: string, cutFrom?: number) => void;

/** The length of `buf` without a UTF-8 sequence that its end cuts short. */
function wholeChars(buf: Buffer): number {
  const end = buf.length;
  let i = end - 1;
  // Continuation bytes are 10xxxxxx; a sequence is at most 4 bytes long.
  while (i > 0 && end - i < 4 && ((buf[i] as number) & 0xc0) === 0x80) i--;
  if (i < 0) return end;
  const lead = buf[i] as number;
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + len > end ? i : end;
}

export class LineSplitter {
  private readonly cap: number;
  /** Pieces of the current line (their total is at most cap). */
  private pieces: Buffer[] = [];
  private held = 0;
  /** Bytes of the current line seen so far, held or dropped. */
  private seen = 0;

  constructor(
    private readonly onLine: OnLine,
    opts: LineSplitterOptions = {},
  ) {
    this.cap = Math.max(1, opts.maxBytes ?? LINE_CAP_BYTES);
  }

  /** Bytes held for the current, unfinished line (never more than the cap). */
  get buffered(): number {
    return this.held;
  }

  write(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.add(chunk.subarray(start, nl));
      this.emit();
      start = nl + 1;
    }
    if (start < chunk.length) this.add(chunk.subarray(start));
  }

  /** Passes on a last line that has no newline (if any). */
  flush(): void {
    if (this.seen > 0) this.emit();
  }

  private add(part: Buffer): void {
    this.seen += part.length;
    const room = this.cap - this.held;
    if (room <= 0 || part.length === 0) return;
    // Copied: the caller may reuse its chunk, and a small slice must not pin a large one.
    const kept = part.length <= room ? part : part.subarray(0, room);
    this.pieces.push(Buffer.from(kept));
    this.held += kept.length;
  }

  private emit(): void {
    let bytes = this.pieces.length === 1 ? (this.pieces[0] as Buffer) : Buffer.concat(this.pieces, this.held);
    const total = this.seen;
    this.pieces = [];
    this.held = 0;
    this.seen = 0;
    if (total > bytes.length) {
      bytes = bytes.subarray(0, wholeChars(bytes));
      this.onLine(bytes.toString('utf8') + cutMarker(total, this.cap), total);
      return;
    }
    const n = bytes.length;
    this.onLine(bytes.toString('utf8', 0, n > 0 && bytes[n - 1] === 13 ? n - 1 : n));
  }
}
