/**
 * A tar written as it is read: entries come from an iterator (e.g. a directory walk), host files are
 * opened only when their turn comes and streamed in 1 MiB pieces, small entries are joined into pieces
 * of about 256 KiB. Memory stays bounded whatever the sizes (a file over 2 GiB, or a million files), and
 * the consumer's pace drives the reads (backpressure). For the app source (app-source.ts) and anything
 * else copied into a volume; reproducible headers (fixed mtime, no user names) from tar-header.ts.
 *
 * Host files are read with synchronous calls, a batch at a time: for many small files that is several
 * times faster than one thread-pool round trip per call, and the event loop gets control back after
 * every piece. A file is opened with O_NOFOLLOW | O_NONBLOCK, so a path swapped for a link or a FIFO after
 * the walk is refused instead of followed or waited on.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { encodeHeader, encodeRawNamePax, END_OF_TAR, paddingOf, zeros, type HeaderType } from './tar-header.js';

export interface PackEntry {
  /** Path inside the tar, '/'-separated; raw bytes for a name that may not be UTF-8. */
  path: string | Buffer;
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (a host file's come from hostFileMode when it has none). */
  mode?: number;
  uid: number;
  gid: number;
  linkname?: string | Buffer;
  /** Content of a file held in memory. */
  content?: Buffer | string;
  /** A host file whose bytes are the content (opened when written). */
  hostPath?: string | Buffer;
}

/** What has been written so far (updated as the tar is read). */
export interface PackProgress {
  /** Regular files written. */
  files: number;
  bytes: number;
}

export interface PackOptions {
  /** The mode written for a host file, from its own st_mode (default: its permission bits). */
  hostFileMode?: (stMode: number) => number;
  progress?: PackProgress;
  signal?: AbortSignal;
  /** An error for a host file that cannot be read (default: the system error). */
  readError?: (hostPath: string, cause: string) => Error;
}

const PIECE = 256 * 1024;
const READ = 1024 * 1024;

function text(p: string | Buffer): string {
  return typeof p === 'string' ? p : p.toString(isUtf8(p) ? 'utf8' : 'latin1');
}

/** ASCII stand-in for a raw name in the ustar block (the pax record before it is what readers use). */
function standIn(p: Buffer, max: number): string {
  return p.toString('latin1').replace(/[^\x20-\x7e]/g, '_').slice(-max);
}

/** The header bytes of one entry: tar-header.ts's, behind a raw-bytes pax header for non-UTF-8 names. */
export function packHeader(e: PackEntry, size: number, mode: number): Buffer {
  const rawPath = typeof e.path !== 'string' && !isUtf8(e.path) ? e.path : undefined;
  const rawLink = e.linkname !== undefined && typeof e.linkname !== 'string' && !isUtf8(e.linkname) ? e.linkname : undefined;
  const fields = { type: e.type as HeaderType, mode, uid: e.uid, gid: e.gid, size };
  if (rawPath === undefined && rawLink === undefined) {
    return encodeHeader({ ...fields, path: text(e.path), ...(e.linkname !== undefined ? { linkname: text(e.linkname) } : {}) });
  }
  const pax = encodeRawNamePax({ ...(rawPath !== undefined ? { path: e.type === 'directory' ? Buffer.concat([rawPath, Buffer.from('/')]) : rawPath } : {}), ...(rawLink !== undefined ? { linkname: rawLink } : {}) }, e);
  const path = rawPath !== undefined ? standIn(rawPath, 99) : text(e.path);
  const linkname = rawLink !== undefined ? standIn(rawLink, 100) : e.linkname !== undefined ? text(e.linkname) : undefined;
  return Buffer.concat([pax, encodeHeader({ ...fields, path, ...(linkname !== undefined ? { linkname } : {}) })]);
}

function systemMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === 'ELOOP' ? 'it was replaced by a symlink while kiln read the app' : err.message;
}

async function* pieces(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>, opts: PackOptions): AsyncGenerator<Buffer> {
  const progress = opts.progress ?? { files: 0, bytes: 0 };
  const failure = (host: string | Buffer, cause: string): Error => (opts.readError ?? ((h, c) => new Error(`cannot read ${h}: ${c}`)))(text(host), cause);
  let batch: Buffer[] = [];
  let batched = 0;
  const add = (b: Buffer): void => {
    batch.push(b);
    batched += b.length;
    progress.bytes += b.length;
  };
  const take = (): Buffer => {
    const out = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
    batch = [];
    batched = 0;
    return out;
  };
  const stopIfAborted = (): void => {
    if (opts.signal?.aborted === true) throw new Error('interrupted while the tar was being written');
  };
  for await (const e of entries) {
    stopIfAborted();
    if (e.type === 'file') progress.files += 1;
    if (e.type !== 'file' || e.hostPath === undefined) {
      const body = e.type === 'file' ? (typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0))) : Buffer.alloc(0);
      add(packHeader(e, body.length, e.mode ?? 0));
      if (body.length > 0) add(body);
      add(zeros(paddingOf(body.length)));
    } else {
      let fd: number;
      try {
        fd = openSync(e.hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      } catch (err) {
        throw failure(e.hostPath, systemMessage(err));
      }
      try {
        const st = fstatSync(fd);
        if (!st.isFile()) throw failure(e.hostPath, 'it is no longer a regular file');
        const size = st.size;
        add(packHeader(e, size, e.mode ?? (opts.hostFileMode ?? ((m) => m & 0o7777))(st.mode)));
        let done = 0;
        while (done < size) {
          const want = Math.min(READ, size - done);
          const buf = Buffer.allocUnsafe(want);
          let got = 0;
          try {
            got = readSync(fd, buf, 0, want, done);
          } catch (err) {
            throw failure(e.hostPath, systemMessage(err));
          }
          if (got === 0) throw failure(e.hostPath, `it shrank while kiln read it (${done} of ${size} bytes)`);
          add(got === want ? buf : buf.subarray(0, got));
          done += got;
          if (batched >= PIECE) {
            yield take();
            stopIfAborted();
          }
        }
        add(zeros(paddingOf(size)));
      } finally {
        closeSync(fd);
      }
    }
    if (batched >= PIECE) yield take();
  }
  add(END_OF_TAR);
  yield take();
}

/** The tar of `entries` as a stream; it fails (destroys itself) on an entry that cannot be read. */
export function packTarStream(entries: Iterable<PackEntry> | AsyncIterable<PackEntry>, opts: PackOptions = {}): Readable {
  return Readable.from(pieces(entries, opts), { objectMode: false, highWaterMark: PIECE });
}
