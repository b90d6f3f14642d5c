/**
 * Tar header bytes for reproducible layer entries, produced by tar-stream's own header codec
 * (headers.js), so a layer re-headered by hand (layer-reheader.ts) has exactly the bytes writeLayerTar's tar-stream packer writes: same diffIDs, same image ids.
 *
 * tar-stream does not export headers.js (its package "exports" lists only the main entry), so it is
 * loaded by file path next to the resolved main module. The unit tests compare this file's output
 * with writeLayerTar's byte for byte; a tar-stream upgrade that changes either side fails them.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { decodeName, encodeName } from './raw-names.js';
import { REPRODUCIBLE_MTIME } from './tar-files.js';

/** The decoded form of one 512-byte header (tar-stream's Headers type, the fields we use). */
export interface DecodedHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  type: string | null;
  linkname: string | null;
  pax: Record<string, string> | null;
}

interface HeaderCodec {
  encode(h: Record<string, unknown>): Buffer | null;
  decode(buf: Buffer, filenameEncoding: string, allowUnknownFormat: boolean): DecodedHeader | null;
  encodePax(opts: { name?: string; linkname?: string | null; pax?: Record<string, string> }): Buffer;
  decodePax(buf: Buffer): Record<string, string>;
  decodeLongPath(buf: Buffer, encoding: string): string;
}

const require = createRequire(import.meta.url);
const codec = require(join(dirname(require.resolve('tar-stream')), 'headers.js')) as HeaderCodec;

/**
 * PAX records decoded with their values' bytes kept: a `path` that is not UTF-8 (a file name from an app
 * or a layer, raw-names.ts) keeps its bytes instead of becoming U+FFFD. Installed into tar-stream's codec
 * too, so its extract (layer-tar.ts, tar-files.ts) reads such names the same way; for UTF-8 values the
 * result is what tar-stream's own decoder gives.
 */
function decodePaxKeepingBytes(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = buf;
  while (rest.length > 0) {
    const sp = rest.indexOf(0x20);
    const len = sp > 0 ? parseInt(rest.subarray(0, sp).toString('latin1'), 10) : NaN;
    if (!(len > 0) || len > rest.length) return out;
    const record = rest.subarray(sp + 1, len - 1);
    const eq = record.indexOf(0x3d);
    if (eq < 0) return out;
    out[record.subarray(0, eq).toString('utf8')] = decodeName(record.subarray(eq + 1));
    rest = rest.subarray(len);
  }
  return out;
}

/** One PAX record; its length prefix counts itself (as tar-stream's addLength). */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/**
 * tar-stream's encodePax with each value written as its exact bytes (encodeName): the same bytes for
 * UTF-8 names, and the original bytes for a name that is not UTF-8 (tar-stream would write U+FFFD).
 */
function encodePaxKeepingBytes(opts: { name?: string; linkname?: string | null; pax?: Record<string, string> }): Buffer {
  const records: Buffer[] = [];
  if (opts.name) records.push(paxRecord('path', encodeName(opts.name)));
  if (opts.linkname) records.push(paxRecord('linkpath', encodeName(opts.linkname)));
  for (const [k, v] of Object.entries(opts.pax ?? {})) records.push(paxRecord(k, encodeName(v)));
  return Buffer.concat(records);
}

codec.decodePax = decodePaxKeepingBytes;
codec.encodePax = encodePaxKeepingBytes;

export const BLOCK = 512;
/** Two zero blocks: tar-stream's finalize() and the end of every layer tar we write. */
export const END_OF_TAR: Buffer = Buffer.alloc(2 * BLOCK);
const ZEROS: Buffer = Buffer.alloc(BLOCK);

/** Bytes of zero padding after `size` bytes of content (0..511). */
export function paddingOf(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** A slice of zeros `n` (< 512) bytes long; shared, never written to. */
export function zeros(n: number): Buffer {
  return ZEROS.subarray(0, n);
}

export type HeaderType = 'file' | 'directory' | 'symlink' | 'link' | 'fifo';

/** What a reproducible entry header holds; mtime and uname/gname are fixed (layer-tar.ts). */
export interface HeaderFields {
  /** Tar path without a trailing slash (directories get one here, as packLayerEntry does). */
  path: string;
  type: HeaderType;
  /** Permission bits; tar-stream writes 0755 (directory) / 0644 for a mode of 0. */
  mode: number;
  uid: number;
  gid: number;
  /** Content size of a file (ignored for other types: tar-stream writes 0). */
  size?: number;
  /** Symlink target or hard-link target path. */
  linkname?: string;
}

/**
 * The header bytes tar-stream's pack writes for this entry: one ustar block, or when the name or link
 * does not fit (non-ASCII, too long to split at a '/', link over 100 bytes) a PaxHeader block, the pax
 * records padded to a block, and the entry's block again. Replicates pack.entry()'s defaults
 * (size 0 for non-files, default modes for 0) and _encodePax.
 */
export function encodeHeader(f: HeaderFields): Buffer {
  const mode = f.mode & 0o7777;
  const header: Record<string, unknown> = {
    name: f.type === 'directory' ? `${f.path}/` : f.path,
    type: f.type,
    mode: mode === 0 ? (f.type === 'directory' ? 0o755 : 0o644) : mode,
    uid: f.uid,
    gid: f.gid,
    size: f.type === 'file' ? (f.size ?? 0) : 0,
    mtime: REPRODUCIBLE_MTIME,
    uname: '',
    gname: '',
  };
  if (f.type === 'symlink' || f.type === 'link') header.linkname = f.linkname ?? '';
  const plain = codec.encode(header);
  if (plain !== null) return plain;
  const linkname = header.linkname as string | undefined;
  const pax = codec.encodePax({ name: header.name as string, linkname });
  const paxHeader = { ...header, name: 'PaxHeader', size: pax.byteLength, type: 'pax-header', linkname: linkname !== undefined && linkname !== '' ? 'PaxHeader' : linkname };
  const first = codec.encode(paxHeader);
  const again = codec.encode({ ...paxHeader, size: header.size, type: header.type });
  if (first === null || again === null) throw new Error(`cannot encode a tar header for ${f.path}`);
  return Buffer.concat([first, pax, zeros(paddingOf(pax.byteLength)), again]);
}

/** The decoded header, or null for a zero block; throws on a bad checksum (tar-stream's decode). */
export function decodeHeader(block: Buffer): DecodedHeader | null {
  return codec.decode(block, 'utf-8', false);
}

export function decodePax(buf: Buffer): Record<string, string> {
  return codec.decodePax(buf);
}

export function decodeLongPath(buf: Buffer): string {
  return codec.decodeLongPath(buf, 'utf-8');
}

/**
 * A pax extended header ('x' entry, padded) whose `path` / `linkpath` records hold raw bytes: for a file
 * name that is not UTF-8 (legal on Linux), which tar-stream cannot encode. Docker's reader (Go's
 * archive/tar) and GNU tar take the bytes as they are. The entry's own header follows it.
 */
export function encodeRawNamePax(names: { path?: Buffer; linkname?: Buffer }, owner: { uid: number; gid: number }): Buffer {
  const records: Buffer[] = [];
  if (names.path !== undefined) records.push(paxRecord('path', names.path));
  if (names.linkname !== undefined) records.push(paxRecord('linkpath', names.linkname));
  const body = Buffer.concat(records);
  const header = codec.encode({ name: 'PaxHeader', type: 'pax-header', mode: 0o644, uid: owner.uid, gid: owner.gid, size: body.length, mtime: REPRODUCIBLE_MTIME, uname: '', gname: '' });
  if (header === null) throw new Error('cannot encode a pax header');
  return Buffer.concat([header, body, zeros(paddingOf(body.length))]);
}
