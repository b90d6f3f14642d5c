/**
 * How a changed launch layer reaches the daemon: the one place that decides it (docs/architecture.md,
 * "Export: how layers reach the daemon", has the measurements behind it).
 *
 * - `file` (the default, and the fallback): kiln tars the dir itself (image/layer-reheader.ts) into a
 *   temp file, and the load ships it. The bytes are kiln's reproducible tar (platform.md, "Build
 *   Reproducibility"), so the diffID depends on the content only.
 * - `commit` (the fast path): a launch layer of at least COMMIT_THRESHOLD bytes (the build's count of
 *   its files, so the choice depends on the content only) is copied into a container of the run image
 *   and committed by the daemon (export/commit.ts); its bytes never pass through kiln. The diffID is
 *   the daemon's tar of that change: the same for the same content on the same daemon, but not the
 *   `file` path's diffID.
 *
 * A committed layer falls back to `file` only when the run image cannot host the copy (no `sh`, a tool
 * of the copy script missing, the path in the run image already): that depends on the images, not on
 * the run, so the same input takes the same path every time.
 */
import { sha256Hex } from '../../image/digest.js';
import type { TarStreamOptions } from '../../image/layer-tar.js';

export type Transport = 'file' | 'commit';

/**
 * Launch layers this big (bytes of their files) are committed. Below it, the fixed cost of a commit
 * (a container, a commit, often an intermediate image) is more than what the temp file costs.
 */
export const COMMIT_THRESHOLD = 32 * 1024 * 1024;

/** The transport of a changed launch layer, given the build's byte count of its files (undefined: not counted). */
export function transportOf(bytes: number | undefined): Transport {
  return bytes !== undefined && bytes >= COMMIT_THRESHOLD ? 'commit' : 'file';
}

/** A launch layer to commit: its diffID is known only once the daemon has committed it. */
export interface CommitLayer {
  /** Path of the layer dir in the layers volume ("<bp>/<layer>"). */
  volumePath: string;
  placement: TarStreamOptions;
  /** Stands in for the diffID in plans made before the layer is committed. */
  placeholder: string;
}

/** The stand-in diffID of a layer to commit (never a real diffID: it is no sha256 of a tar). */
export function placeholderOf(volumePath: string): string {
  return `sha256:${sha256Hex(`kiln committed layer ${volumePath}`)}`;
}
