/**
 * A minimal tar writer for image archives whose members are streamed into docker load (a layer's temp
 * file is not read into memory). Each member's size is declared in its header up front; the content
 * must come to exactly that many bytes (a temp file that changed after it was sized). When it does
 * not, the archive fails with SizeMismatchError BEFORE the member is complete: the last chunk is held
 * back until the total is known to be right, so a reader of the output (the daemon's load) always
 * sees a truncated archive, never a well-formed one with wrong content.
 *
 * Content is piped (stream to stream, no promise per chunk): a 1 GiB layer is some 50 000 chunks.
 */
import { PassThrough, Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { encodeHeader, END_OF_TAR, paddingOf, zeros } from './tar-header.js';

export type MemberContent = Buffer | (() => Readable | Promise<Readable>);

export interface ArchiveMember {
  /** Path in the archive, e.g. `<hex>/layer.tar` or `manifest.json`; its parent dirs get entries. */
  name: string;
  size: number;
  content: MemberContent;
}

export class SizeMismatchError extends Error {
  constructor(
    readonly member: string,
    readonly expected: number,
    readonly actual: number,
    complete: boolean,
  ) {
    super(`archive member ${member}: ${complete ? '' : 'at least '}${actual} bytes instead of the ${expected} declared`);
    this.name = 'SizeMismatchError';
  }
}

/** Passes exactly `size` bytes, holding the last chunk back until the total is known to be right. */
class SizeGuard extends Transform {
  private total = 0;
  private held: Buffer | undefined;

  constructor(
    private readonly member: string,
    private readonly size: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length === 0) return cb();
    this.total += chunk.length;
    if (this.total > this.size) return cb(new SizeMismatchError(this.member, this.size, this.total, false));
    const out = this.held;
    this.held = chunk;
    cb(null, out);
  }

  override _flush(cb: TransformCallback): void {
    if (this.total !== this.size) return cb(new SizeMismatchError(this.member, this.size, this.total, true));
    cb(null, this.held);
  }
}

/** Resolves once `out` takes more; rejects when it closes or fails first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error): void => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', done);
      if (e !== undefined) reject(e);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error('the archive stream was closed'));
    out.on('drain', onDrain);
    out.on('close', onClose);
    out.on('error', done);
  });
}

async function put(out: Writable, buf: Buffer): Promise<void> {
  if (out.destroyed) throw new Error('the archive stream was closed');
  if (!out.write(buf)) await drained(out);
}

/** Pipes `src` into `out` without ending it; a failure on either side destroys `src` and rejects. */
function copyInto(src: Readable, out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      src.off('error', fail);
      src.off('end', onEnd);
      out.off('close', onClose);
      src.unpipe(out);
    };
    const fail = (e: Error): void => {
      cleanup();
      src.on('error', () => undefined); // it is being torn down; the error is ours to report
      src.destroy();
      reject(e);
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => fail(new Error('the archive stream was closed'));
    src.on('error', fail);
    src.once('end', onEnd);
    out.once('close', onClose);
    src.pipe(out, { end: false });
  });
}

async function writeMember(out: Writable, m: ArchiveMember): Promise<void> {
  await put(out, encodeHeader({ path: m.name, type: 'file', mode: 0o644, uid: 0, gid: 0, size: m.size }));
  if (Buffer.isBuffer(m.content)) {
    if (m.content.length !== m.size) throw new SizeMismatchError(m.name, m.size, m.content.length, true);
    if (m.size > 0) await put(out, m.content);
  } else {
    const src = await m.content();
    const guard = new SizeGuard(m.name, m.size);
    src.on('error', (e: Error) => guard.destroy(e));
    guard.once('close', () => {
      if (!src.readableEnded) src.destroy();
    });
    await copyInto(src.pipe(guard), out);
  }
  const pad = paddingOf(m.size);
  if (pad > 0) await put(out, zeros(pad));
}

/**
 * The archive as a stream: for each member its parent directories (once), header, content, padding;
 * members are taken one at a time, the next only once the previous one is written. Any failure
 * (a size mismatch, a content stream's error, the members' iterator throwing) destroys the stream
 * with that error; destroying the stream stops the writing and destroys the current content stream.
 */
export function archiveStream(members: AsyncIterable<ArchiveMember> | Iterable<ArchiveMember>): Readable {
  const out = new PassThrough();
  const write = async (): Promise<void> => {
    const dirs = new Set<string>();
    for await (const m of members) {
      const parts = m.name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (dirs.has(dir)) continue;
        dirs.add(dir);
        await put(out, encodeHeader({ path: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0 }));
      }
      await writeMember(out, m);
    }
    await put(out, END_OF_TAR);
    out.end();
  };
  write().catch((e: unknown) => out.destroy(e instanceof Error ? e : new Error(String(e))));
  return out;
}
