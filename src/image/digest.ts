/**
 * sha256 helpers for image-format identities: layer diffIDs (sha256 of the uncompressed tar, platform.md, "Build Reproducibility"),
 * image ids (sha256 of the config JSON bytes) and chain ids (how the daemon keys a layer on its parents).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';

const DIGEST = /^sha256:([0-9a-f]{64})$/;

/** Lower-case hex sha256 of the bytes (strings are hashed as UTF-8). */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `sha256:<hex>`; a value that already is a digest is returned unchanged. */
export function toDigest(hexOrDigest: string): string {
  if (DIGEST.test(hexOrDigest)) return hexOrDigest;
  if (!/^[0-9a-f]{64}$/.test(hexOrDigest)) throw new Error(`not a sha256 hex value: "${hexOrDigest}"`);
  return `sha256:${hexOrDigest}`;
}

/** The hex part of a `sha256:<hex>` digest (throws on anything else). */
export function digestHex(digest: string): string {
  const m = DIGEST.exec(digest);
  if (m?.[1] === undefined) throw new Error(`not a sha256 digest: "${digest}"`);
  return m[1];
}

export function isDigest(value: string): boolean {
  return DIGEST.test(value);
}

/** The diffID of an uncompressed layer tar on disk, read as a stream. */
export async function diffIdOfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The daemon's chain id of the layer at the top of `diffIds` (bottom to top):
 * chain(L0) = diffID(L0); chain(Ln) = sha256(chain(Ln-1) + " " + diffID(Ln)). docker load keys its
 * "already have this layer" check on it, which is why a layer may only be left out of an archive when
 * the same lower layers sit under it in an image the daemon has (see image-archive.ts).
 */
export function chainId(diffIds: readonly string[]): string {
  if (diffIds.length === 0) throw new Error('chainId of no layers');
  let chain = diffIds[0] as string;
  for (const d of diffIds.slice(1)) chain = `sha256:${sha256Hex(`${chain} ${d}`)}`;
  return chain;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class HashTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  /** `sha256:<hex>` of everything passed through; call once the stream has finished. */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }

  get size(): number {
    return this.bytes;
  }
}
