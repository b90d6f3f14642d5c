/**
 * run.toml ([[images]] image/mirrors, Platform >= 0.12) and the legacy stack.toml ([run-image]),
 * platform.md, "`run.toml` (TOML)".
 */
import { decodeToml, type TableReader } from './decode.js';
import { checkImageAndMirrors } from './image-key.js';
import type { ParseResult, RunFile, RunImageRef, StackFile } from './models.js';
import { stringifyToml } from './toml.js';

function decodeImage(t: TableReader): RunImageRef {
  const ref = { image: t.reqString('image', { nonEmpty: true }), mirrors: t.stringArray('mirrors') };
  checkImageAndMirrors(t.ctx, (k) => t.keyPath(k), ref.image, ref.mirrors);
  return ref;
}

export function parseRunFile(text: string, file: string): ParseResult<RunFile> {
  return decodeToml(text, file, (root) => ({ images: root.tableArray('images', decodeImage) }));
}

/** mirrors are written only when there are some. */
export function stringifyRunFile(r: RunFile): string {
  return stringifyToml({
    images: r.images.map((i) => ({ image: i.image, ...(i.mirrors.length > 0 ? { mirrors: i.mirrors } : {}) })),
  });
}

export function parseStackFile(text: string, file: string): ParseResult<StackFile> {
  return decodeToml(text, file, (root) => {
    const t = root.optTable('run-image');
    if (!t) return {};
    const runImage = decodeImage(t);
    t.finish();
    return { runImage };
  });
}

export function stringifyStackFile(s: StackFile): string {
  if (!s.runImage) return '';
  return stringifyToml({ 'run-image': { image: s.runImage.image, mirrors: s.runImage.mirrors } });
}
