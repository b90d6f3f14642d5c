/**
 * The fast path of a reproducible layer from a container's archive stream (issue 5): a Transform
 * that parses the source tar's 512-byte headers itself, maps each entry with the same EntryMapper as
 * normaliseTarStream, writes the header bytes tar-stream's packer would write (tar-header.ts), and
 * passes file content through as slices of the incoming chunks: no per-byte work besides sha256.
 * Its output is byte-identical to writeLayerTar(normaliseTarStream(source, opts)), so diffIDs and
 * image ids do not depend on which path made a layer; unit tests hold the two side by side.
 *
 * Parsing follows tar-stream's extract (same header codec): zero blocks are skipped; pax ('x')
 * records give path, linkpath and size, merged over the last global ('g') records; GNU 'L'/'K' give
 * long names and link names; a directory's size is not read as content; a stream that ends inside
 * an entry is an error ("Unexpected end of data").
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EntryMapper, type TarStreamOptions } from './layer-normalise.js';
import { BLOCK, decodeHeader, decodeLongPath, decodePax, encodeHeader, END_OF_TAR, paddingOf, zeros, type DecodedHeader } from './tar-header.js';

/** Output is pushed in buffers of at least this size (see release()). */
const BATCH = 256 * 1024;
/** tar-stream's limit for one pax or GNU long-name record. */
const MAX_LONG_HEADER = 4 * 1024 * 1024;

export interface ReheadResult {
  /** `sha256:<hex>` of the output tar. */
  diffId: string;
  /** Output size in bytes. */
  size: number;
}

export class LayerReheader extends Transform {
  private readonly mapper: EntryMapper;
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private started = false;
  private digest: string | undefined;
  /** A header split over chunks. */
  private readonly head = Buffer.alloc(BLOCK);
  private headFill = 0;
  /** Content bytes of the current entry still to come, and whether they go to the output. */
  private content = 0;
  private emitting = false;
  private outPad = 0;
  /** Input padding still to skip. */
  private skip = 0;
  /** A pax or GNU long-name record being collected. */
  private longType: string | null = null;
  private longMissing = 0;
  private longChunks: Buffer[] = [];
  private pax: Record<string, string> | null = null;
  private paxGlobal: Record<string, string> | null = null;
  private gnuLongPath: string | null = null;
  private gnuLongLinkPath: string | null = null;

  constructor(opts: TarStreamOptions) {
    super();
    this.mapper = new EntryMapper(opts);
  }

  /** diffID and size of the output; only after the stream has ended. */
  result(): ReheadResult {
    if (this.digest === undefined) throw new Error('the layer tar is not complete');
    return { diffId: this.digest, size: this.bytes };
  }

  /** Output bytes so far. */
  get written(): number {
    return this.bytes;
  }

  /** Output pieces not pushed yet (slices of the input, headers, padding), `batched` bytes in all. */
  private batch: Buffer[] = [];
  private batched = 0;

  private out(buf: Buffer): void {
    this.hash.update(buf);
    this.bytes += buf.length;
    this.batch.push(buf);
    this.batched += buf.length;
  }

  /**
   * Pushes the pieces of one input chunk as one buffer of at least BATCH bytes (a copy, but
   * every stream hop, HTTP chunk and syscall downstream then handles a few hundred KiB instead of
   * the ~20 KiB slices the daemon's HTTP response arrives in).
   */
  private release(all: boolean): void {
    if (this.batched === 0 || (!all && this.batched < BATCH)) return;
    this.push(this.batch.length === 1 ? this.batch[0] : Buffer.concat(this.batch, this.batched));
    this.batch = [];
    this.batched = 0;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    for (const p of this.mapper.parents()) this.out(encodeHeader(p));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.start();
      this.consume(chunk);
      this.release(false);
      cb();
    } catch (e) {
      cb(e instanceof Error ? e : new Error(String(e)));
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.start();
      if (this.content > 0 || this.skip > 0 || this.longMissing > 0 || this.headFill > 0) throw new Error('Unexpected end of data');
      this.out(END_OF_TAR);
      this.release(true);
      this.digest = `sha256:${this.hash.digest('hex')}`;
      cb();
    } catch (e) {
      cb(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private consume(chunk: Buffer): void {
    const n = chunk.length;
    let off = 0;
    while (off < n) {
      if (this.content > 0) {
        const take = Math.min(this.content, n - off);
        if (this.emitting) this.out(chunk.subarray(off, off + take));
        off += take;
        this.content -= take;
        if (this.content === 0 && this.emitting && this.outPad > 0) this.out(zeros(this.outPad));
      } else if (this.longMissing > 0) {
        const take = Math.min(this.longMissing, n - off);
        this.longChunks.push(chunk.subarray(off, off + take));
        off += take;
        this.longMissing -= take;
        if (this.longMissing === 0) this.longRecord(Buffer.concat(this.longChunks));
      } else if (this.skip > 0) {
        const take = Math.min(this.skip, n - off);
        off += take;
        this.skip -= take;
      } else if (this.headFill === 0 && n - off >= BLOCK) {
        this.header(chunk.subarray(off, off + BLOCK));
        off += BLOCK;
      } else {
        const take = Math.min(BLOCK - this.headFill, n - off);
        chunk.copy(this.head, this.headFill, off, off + take);
        off += take;
        this.headFill += take;
        if (this.headFill === BLOCK) {
          this.headFill = 0;
          this.header(this.head);
        }
      }
    }
  }

  private longRecord(buf: Buffer): void {
    this.longChunks = [];
    const type = this.longType;
    this.longType = null;
    if (type === 'gnu-long-path') this.gnuLongPath = decodeLongPath(buf);
    else if (type === 'gnu-long-link-path') this.gnuLongLinkPath = decodeLongPath(buf);
    else if (type === 'pax-global-header') this.paxGlobal = decodePax(buf);
    else if (type === 'pax-header') this.pax = this.paxGlobal === null ? decodePax(buf) : { ...this.paxGlobal, ...decodePax(buf) };
  }

  private applyLongHeaders(h: DecodedHeader): void {
    if (this.gnuLongPath !== null) {
      h.name = this.gnuLongPath;
      this.gnuLongPath = null;
    }
    if (this.gnuLongLinkPath !== null) {
      h.linkname = this.gnuLongLinkPath;
      this.gnuLongLinkPath = null;
    }
    if (this.pax !== null) {
      if (this.pax.path) h.name = this.pax.path;
      if (this.pax.linkpath) h.linkname = this.pax.linkpath;
      if (this.pax.size) h.size = parseInt(this.pax.size, 10);
      this.pax = null;
    }
  }

  private header(block: Buffer): void {
    const h = decodeHeader(block);
    if (h === null) return; // a zero block (the end-of-archive marker, or padding after it)
    switch (h.type) {
      case 'gnu-long-path':
      case 'gnu-long-link-path':
      case 'pax-global-header':
      case 'pax-header':
        if (h.size > MAX_LONG_HEADER) throw new Error('Header exceeds max size');
        // A record of size 0 is never decoded by tar-stream either.
        this.longType = h.size > 0 ? h.type : null;
        this.longMissing = h.size;
        this.skip = paddingOf(h.size);
        return;
    }
    this.applyLongHeaders(h);
    if (!(h.size >= 0)) throw new Error('Invalid header');
    // tar-stream reads no content for a directory, whatever its size field says.
    const size = h.type === 'directory' ? 0 : h.size;
    const entry = this.mapper.map(h);
    if (entry !== undefined) this.out(encodeHeader(entry));
    this.content = size;
    this.emitting = entry?.type === 'file';
    this.outPad = paddingOf(size);
    this.skip = paddingOf(size);
  }
}

/** The re-headered layer written to `dest` (removed again on failure). */
export async function reheadToFile(source: Readable, opts: TarStreamOptions, dest: string): Promise<ReheadResult> {
  const reheader = new LayerReheader(opts);
  try {
    await pipeline(source, reheader, createWriteStream(dest));
  } catch (e) {
    await rm(dest, { force: true });
    throw e;
  }
  return reheader.result();
}
